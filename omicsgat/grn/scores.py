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
