"""Steady-state edge scores that do not come from the attention model.

The attention model spreads a target's weight over regulators that are correlated with each other, and
marginal correlation ranks every co-regulated gene of a module as a regulator. A per-target ridge regression
on all of a target's candidate regulators at once scores what each regulator adds given the others
(conditional dependence), which is what a direct edge should show. How much the regression is shrunk
towards marginal association is decided per target by the data: the penalty with the best leave-one-out
prediction of that target's held-out cells. Where a target follows Boolean-like logic of its regulators (shown
by a nonlinear fit predicting its held-out cells clearly better than a linear one), a linear coefficient misleads
and the attention model's own score is used for that target instead (``adaptive_score``).
"""

from __future__ import annotations

import numpy as np

#: penalties tried per target, as multiples of the number of (meta)cells (standardised inputs: 0.01 is nearly
#: unshrunk, 1000 nearly proportional to marginal correlation)
PENALTIES = (0.01, 0.1, 1.0, 10.0, 100.0, 1000.0)


def _ridge_path(xtx: np.ndarray, xty: np.ndarray, yty: float, n: int):
    """Ridge fits at every penalty of ``PENALTIES`` (x ``n`` cells) from the cross-products of centred data.

    Returns (eigenvectors, projection of X'y on them, shrinkage per penalty and eigenvalue, residual sum of squares
    and effective degrees of freedom per penalty): what a generalized cross-validation criterion needs, from one
    eigendecomposition.
    """
    eigval, eigvec = np.linalg.eigh(xtx)
    eigval = np.clip(eigval, 0.0, None)
    proj = eigvec.T @ xty
    shrink = eigval[None, :] + np.asarray(PENALTIES)[:, None] * n  # (penalties, regulators)
    fitted = (proj**2 / shrink).sum(1)  # b'X'y
    explained = (eigval * proj**2 / shrink**2).sum(1)  # b'X'Xb
    rss = yty - 2 * fitted + explained
    dof = (eigval[None, :] / shrink).sum(1)
    return eigvec, proj, shrink, rss, dof


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
    chosen = []
    for target in np.unique(dst):
        rows = np.flatnonzero(dst == target)
        regs = src[rows]
        eigvec, proj, shrink, rss, dof = _ridge_path(
            gram[np.ix_(regs, regs)], gram[regs, target], gram[target, target], n
        )
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


#: a target is called nonlinear when a quadratic expansion of its regulators (squares and pairwise products: AND /
#: NOT logic) predicts its held-out cells better than a linear regression on the same regulators by more than this
#: share of the linear regression's held-out error
NONLINEAR_GAIN = 0.3
#: the nonlinearity test reads each target's strongest regulators (by either score) and at most this many cells,
#: so its cost does not grow with the candidate list or the data set
NONLINEAR_TEST_REGULATORS = 12
NONLINEAR_TEST_CELLS = 2000


def _heldout_r2(features: np.ndarray, y: np.ndarray) -> float:
    """R^2 of a ridge regression on held-out cells (generalized cross-validation), at the best of ``PENALTIES``."""
    f = features - features.mean(0)
    y = y - y.mean()
    n, total = len(y), max(float(y @ y), 1e-12)
    _, _, _, rss, dof = _ridge_path(f.T @ f, f.T @ y, total, n)
    return float(1.0 - (rss / np.maximum(1.0 - dof / n, 1e-6) ** 2).min() / total)


def nonlinear_gain(
    values: np.ndarray, edge_index: np.ndarray, conditional: np.ndarray, model_score: np.ndarray
) -> np.ndarray:
    """Per gene (NaN without candidate regulators): the share of a linear regression's held-out error on the
    target that a quadratic expansion of the same regulators removes.

    ``values``: single cells, standardised (rank-Gauss). Both regressions are ridge fits scored on held-out
    cells (generalized cross-validation), so the richer one gains only where the target really is nonlinear
    in its regulators, not because it has more terms. The regulators are the target's strongest by the
    conditional and the model's score together (percentile ranks summed); cells are taken evenly through the
    data when there are more than ``NONLINEAR_TEST_CELLS``.
    """
    from scipy.stats import rankdata

    x = np.asarray(values, dtype=np.float64)
    if len(x) > NONLINEAR_TEST_CELLS:
        x = x[np.linspace(0, len(x) - 1, NONLINEAR_TEST_CELLS).astype(int)]
    src, dst = np.asarray(edge_index[0]), np.asarray(edge_index[1])
    strength = rankdata(conditional) + rankdata(model_score)
    gain = np.full(x.shape[1], np.nan)
    for target in np.unique(dst):
        rows = np.flatnonzero(dst == target)
        regs = src[rows[np.argsort(-strength[rows], kind="stable")[:NONLINEAR_TEST_REGULATORS]]]
        linear = x[:, regs]
        pairs = np.triu_indices(len(regs))
        quadratic = np.concatenate([linear, linear[:, pairs[0]] * linear[:, pairs[1]]], axis=1)
        r2_linear, r2_quadratic = _heldout_r2(linear, x[:, target]), _heldout_r2(quadratic, x[:, target])
        gain[target] = (r2_quadratic - r2_linear) / max(1.0 - r2_linear, 1e-6)
    return gain


def adaptive_score(
    conditional: np.ndarray, model_score: np.ndarray, values: np.ndarray, edge_index: np.ndarray
) -> tuple[np.ndarray, np.ndarray, dict]:
    """Per target, the attention model's score where the target is nonlinear in its regulators, else the
    conditional score; both as percentile ranks over all edges so they share one scale. Returns (score, whether
    each edge's target took the model's score, record).

    Nonlinear (:func:`nonlinear_gain`, on the single cells ``values``): a quadratic expansion of the regulators
    removes more than ``NONLINEAR_GAIN`` of a linear regression's held-out error (Boolean AND / NOT logic). There
    a linear fit spreads the effect over genes that share the target's on/off states, so the conditional
    coefficient misses true regulators; for graded responses the conditional coefficient is the sharper evidence.
    """
    from scipy.stats import rankdata

    dst = np.asarray(edge_index[1])
    gain = nonlinear_gain(values, edge_index, conditional, model_score)
    nonlinear_targets = np.flatnonzero(np.nan_to_num(gain, nan=-np.inf) > NONLINEAR_GAIN)
    use_model = np.isin(dst, nonlinear_targets)
    n = max(len(dst), 1)
    score = np.where(use_model, rankdata(model_score) / n, rankdata(conditional) / n)
    targets = np.unique(dst)
    record = {
        "targets": int(len(targets)),
        "targets_scored_by_model": int(np.isin(targets, nonlinear_targets).sum()),
        "nonlinear_gain_threshold": NONLINEAR_GAIN,
        "nonlinear_gain_median": float(np.median(gain[targets])) if len(targets) else None,
        "why": "per target: the attention model's score where a quadratic ridge on the target's strongest "
        f"{NONLINEAR_TEST_REGULATORS} regulators removes more than {NONLINEAR_GAIN:g} of a linear ridge's error on "
        "held-out cells (nonlinear), the conditional score elsewhere",
    }
    return score, use_model, record
