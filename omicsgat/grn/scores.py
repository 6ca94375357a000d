"""Steady-state edge scores that do not come from the attention model.

The attention model spreads a target's weight over regulators that are correlated with each other, and
marginal correlation ranks every co-regulated gene of a module as a regulator. A per-target ridge regression
on all of a target's candidate regulators at once scores what each regulator adds given the others
(conditional dependence), which is what a direct edge should show. How much the regression is shrunk
towards marginal association is decided per target by the data: the penalty with the best leave-one-out
prediction of that target's held-out cells.
"""

from __future__ import annotations

import numpy as np

#: penalties tried per target, as multiples of the number of (meta)cells (standardised inputs: 0.01 is nearly
#: unshrunk, 1000 nearly proportional to marginal correlation)
PENALTIES = (0.01, 0.1, 1.0, 10.0, 100.0, 1000.0)


def conditional_dependence(values: np.ndarray, edge_index: np.ndarray) -> tuple[np.ndarray, np.ndarray, dict]:
    """Per-edge |ridge coefficient| of the regulator in its target's regression on all its candidate regulators.

    ``values``: (cells, genes), standardised (rank-Gauss or z-scored) so coefficients compare across
    regulators; single cells rather than metacells (averaging cells blurs what each regulator adds). The
    penalty of each target is the one with the lowest generalized cross-validation error (the rotation-invariant
    form of leave-one-out prediction of held-out cells). Everything is solved from the genes' cross-product
    matrix, so the cost does not grow with cells beyond one matrix product. Returns (score, signed coefficient,
    record); the record says which penalties the targets chose, so a run can say what it did.
    """
    x = np.asarray(values, dtype=np.float64)
    x = x - x.mean(0)
    n = x.shape[0]
    gram = x.T @ x
    src, dst = np.asarray(edge_index[0]), np.asarray(edge_index[1])
    coef = np.zeros(len(src))
    penalties = np.asarray(PENALTIES) * n
    chosen = []
    for target in np.unique(dst):
        rows = np.flatnonzero(dst == target)
        regs = src[rows]
        eigval, eigvec = np.linalg.eigh(gram[np.ix_(regs, regs)])
        eigval = np.clip(eigval, 0.0, None)
        proj = eigvec.T @ gram[regs, target]
        shrink = eigval[None, :] + penalties[:, None]  # (penalties, regulators)
        fitted = (proj**2 / shrink).sum(1)  # b'X'y
        explained = (eigval * proj**2 / shrink**2).sum(1)  # b'X'Xb
        rss = gram[target, target] - 2 * fitted + explained
        dof = (eigval[None, :] / shrink).sum(1)
        best = int(np.argmin(rss / np.maximum(n - 1 - dof, 1.0) ** 2))
        coef[rows] = eigvec @ (proj / shrink[best])
        chosen.append(PENALTIES[best])
    picked, counts = np.unique(chosen, return_counts=True)
    record = {
        "penalties_tried": list(PENALTIES),
        "penalty_chosen_per_target": {f"{p:g}": int(c) for p, c in zip(picked, counts)},
        "penalty_median": float(np.median(chosen)) if chosen else None,
        "why": "per target, the ridge penalty (x cells) with the lowest generalized cross-validation error",
    }
    return np.abs(coef), coef, record


#: a target is called nonlinear when the attention model explains more than this share of what a linear
#: regression on the same regulators leaves unexplained
NONLINEAR_GAIN = 0.3


def linear_r2(values: np.ndarray, edge_index: np.ndarray, penalty: float = 0.01) -> np.ndarray:
    """Per gene (NaN without candidate regulators): R^2 of a lightly penalised linear regression on its candidates.

    Fitted on the (meta)cells the attention model reconstructs, so it is the linear counterpart of the model's
    own reconstruction R^2.
    """
    x = np.asarray(values, dtype=np.float64)
    x = x - x.mean(0)
    gram = x.T @ x
    src, dst = np.asarray(edge_index[0]), np.asarray(edge_index[1])
    r2 = np.full(x.shape[1], np.nan)
    for target in np.unique(dst):
        regs = src[dst == target]
        cross = gram[regs, target]
        coef = np.linalg.solve(gram[np.ix_(regs, regs)] + penalty * x.shape[0] * np.eye(len(regs)), cross)
        total = max(gram[target, target], 1e-12)
        r2[target] = 1.0 - (total - 2 * coef @ cross + coef @ gram[np.ix_(regs, regs)] @ coef) / total
    return r2


def adaptive_score(
    conditional: np.ndarray, model_score: np.ndarray, model_r2: np.ndarray, linear: np.ndarray, edge_index: np.ndarray
) -> tuple[np.ndarray, np.ndarray, dict]:
    """Per target, the attention model's score where the target looks nonlinear in its regulators, else the
    conditional score; both as percentile ranks over all edges so they share one scale. Returns (score, whether
    each edge's target took the model's score, record).

    Nonlinear means the model's reconstruction R^2 exceeds the linear regression's by more than ``NONLINEAR_GAIN``
    of what the linear one leaves unexplained (Boolean AND/NOT logic; a linear fit of it spreads the effect over
    correlated genes, while for graded responses the linear conditional coefficient is the sharper evidence).
    """
    from scipy.stats import rankdata

    dst = np.asarray(edge_index[1])
    gain = np.clip(np.nan_to_num(model_r2 - linear), 0.0, None) / np.clip(1.0 - np.nan_to_num(linear), 1e-6, None)
    nonlinear_targets = np.flatnonzero(gain > NONLINEAR_GAIN)
    use_model = np.isin(dst, nonlinear_targets)
    n = max(len(dst), 1)
    score = np.where(use_model, rankdata(model_score) / n, rankdata(conditional) / n)
    targets = np.unique(dst)
    record = {
        "targets": int(len(targets)),
        "targets_scored_by_model": int(np.isin(targets, nonlinear_targets).sum()),
        "nonlinear_gain_threshold": NONLINEAR_GAIN,
        "nonlinear_gain_median": float(np.median(gain[targets])) if len(targets) else None,
        "why": "per target: the attention model's score where its reconstruction R^2 beats a linear regression's "
        f"by more than {NONLINEAR_GAIN:g} of the linear residual, the conditional score elsewhere",
    }
    return score, use_model, record
