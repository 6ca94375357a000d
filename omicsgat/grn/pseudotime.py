"""Time-aware GRN inference: regulators precede their targets along pseudotime.

When cells carry a pseudotime (one ``obs`` column per trajectory, NaN where a
cell is not on it), the unsupervised model does not reconstruct a gene from
its regulators *in the same cells* (which is symmetric: A predicts B as well as
B predicts A) but predicts each gene's expression a little *later* from the
regulators' expression *now*:

1. the cells of each trajectory are ordered by pseudotime and averaged in
   equal-count windows ("lagged metacells"; about sqrt(cells) windows per
   trajectory, so each window averages about as many cells as there are windows);
2. every window ``b`` is paired with the window ``b + lag`` of the same
   trajectory, for every lag from 1 to a tenth of the windows (no single lag to
   choose: all short lags are stacked as training pairs);
3. the attention model reconstructs target ``x_j(b + lag)`` from regulators
   ``x_i(b)`` (the target's own value is never an input), and its edge features
   are the lagged |correlations| ``corr(x_i(b), x_j(b + lag))``.

A regulator that changes before its target explains the target's future;
a target that follows its regulator explains the regulator's future worse, so
the score of ``i -> j`` differs from ``j -> i``.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from omicsgat.errors import OmicsInputError

MIN_WINDOWS = 8


def pseudotime_matrix(adata, columns: str | Sequence[str]) -> np.ndarray:
    """(cells x trajectories) pseudotime from ``adata.obs`` columns (NaN: not on that trajectory), validated."""
    cols = [c.strip() for c in columns.split(",")] if isinstance(columns, str) else [str(c) for c in columns]
    cols = [c for c in cols if c]
    if not cols:
        raise OmicsInputError("No pseudotime column given: name one or more obs columns (comma-separated).")
    missing = [c for c in cols if c not in adata.obs.columns]
    if missing:
        shown = ", ".join(map(str, list(adata.obs.columns)[:10])) or "none"
        raise OmicsInputError(f"Pseudotime column(s) {missing} are not in the cell annotations (obs columns: {shown}).")
    out = np.empty((adata.n_obs, len(cols)))
    for k, c in enumerate(cols):
        import pandas as pd

        values = pd.to_numeric(adata.obs[c], errors="coerce")
        text = adata.obs[c][values.isna() & adata.obs[c].notna()]
        if len(text):
            raise OmicsInputError(
                f"Pseudotime column {c!r} holds a non-numeric value ({text.iloc[0]!r} at cell {str(text.index[0])!r}); "
                "it must be numbers (empty where a cell is not on the trajectory).")
        out[:, k] = values.to_numpy(dtype=float)
        out[~np.isfinite(out[:, k]), k] = np.nan
        if np.isfinite(out[:, k]).sum() < 2 * MIN_WINDOWS:
            raise OmicsInputError(
                f"Pseudotime column {c!r} has {int(np.isfinite(out[:, k]).sum())} cells with a value; "
                f"a trajectory needs at least {2 * MIN_WINDOWS}.")
    return out


def n_windows(n_cells: int) -> int:
    """Windows per trajectory: about sqrt(cells), so windows and cells per window grow alike."""
    return int(max(MIN_WINDOWS, round(np.sqrt(n_cells))))


def lagged_pairs(X: np.ndarray, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(inputs, targets): window means now and a lag later, stacked over trajectories and lags 1..windows/10."""
    inputs, targets = [], []
    for k in range(times.shape[1]):
        on = np.flatnonzero(np.isfinite(times[:, k]))
        order = on[np.argsort(times[on, k], kind="mergesort")]
        n_win = n_windows(order.size)
        means = np.stack([X[chunk].mean(0) for chunk in np.array_split(order, n_win)])
        for lag in range(1, max(1, n_win // 10) + 1):
            inputs.append(means[:-lag])
            targets.append(means[lag:])
    return np.concatenate(inputs).astype(np.float32), np.concatenate(targets).astype(np.float32)


def weigh_by_explained(frame, r2: np.ndarray, edge_index: np.ndarray):
    """Scale each edge's score by the share of its target's future the regulators explain (R^2, floored at 0).

    Attention and contribution are shares *within* a target: every target spreads
    them over its candidates, even a gene that nothing regulates (the start of a
    cascade), whose future its candidate regulators explain poorly. Weighing by
    the target's explained share makes scores comparable across targets, which
    is what orients ``A -> B`` over ``B -> A``.
    """
    out = frame.copy()
    out["target_r2"] = np.clip(np.asarray(r2, dtype=float)[edge_index[1]], 0.0, 1.0)
    out["score"] = out["score"] * out["target_r2"]
    return out
