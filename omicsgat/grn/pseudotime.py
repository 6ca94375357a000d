"""Pseudotime in GRN inference: regulators precede their targets along a trajectory.

With a pseudotime (one ``obs`` column per trajectory, NaN where a cell is not on it) the steady-state run is
unchanged (the attention model on metacells, :mod:`omicsgat.grn.infer`) and a time-aware score is computed on the
single cells beside it: how genes *now* explain other genes *a little later*, which is asymmetric (A now explains
B later; B now explains A later worse), unlike co-expression in the same cells. How far the ranking leans on it is
decided from the data; weight 0 is exactly the run without a pseudotime. Fixed rules, one default for every data set:

1. **Windows.** The cells of each trajectory are ordered by pseudotime and
   averaged in equal-count windows, about sqrt(cells) of them (``n_windows``:
   2,000 cells give 45 windows of ~44 cells). Cells off a trajectory are not
   windows of it.
2. **Lags.** Window ``b`` is paired with window ``b + lag`` of the same
   trajectory for every lag from 1 to an eighth of the windows (``max_lag``,
   ``LAG_FRACTION``; 45 windows: lags 1..6), stacked, so no single lag is chosen.
3. **Direct lagged effect** (``direct_effects``). For every trajectory and lag,
   a ridge regression of every gene's standardised window mean a lag later on
   all genes' standardised means now (a linear vector autoregression; penalty
   ``RIDGE`` = 0.1 x pairs, on standardised values); ``D[i, j]`` is the mean
   |coefficient| of i in j's regression over the lags, averaged over
   trajectories weighted by their cells. Each coefficient is conditional on
   every gene's present value, the target's own included (Granger-style: a
   regulator scores for what it adds to the target's own past), so two targets
   of a common cause do not regulate each other and an indirect path
   ``i -> k -> j`` is mostly explained by ``k`` at short lags.
4. **Held-out time evidence** (``time_evidence``). Per trajectory, the share of
   genes whose change over held-out window pairs is predicted better from all
   genes' present values than from their own alone (``genes_gaining``).
5. **Weight** (``decide_time_weight``). The larger of two ramps: one on the
   agreement of ``D`` with the steady-state score over the candidate edges (a
   lower confidence bound of their Spearman correlation), one on
   ``genes_gaining``. The edge score is ``weight`` x percentile rank of ``D`` +
   (1 - ``weight``) x percentile rank of the steady-state score (``D`` itself
   at weight 1); from weight 0.5 the edge's sign is the sign of the direct effect.

The lag range, the ridge penalty and the ramps are constants, never set per data set; how they were chosen is in
docs/grn-beeline.md.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from omicsgat.errors import OmicsInputError

MIN_WINDOWS = 8
LAG_FRACTION = 1 / 8
RIDGE = 0.1
AGREEMENT_RAMP = (0.0, 0.1)
AGREEMENT_Z = 1.645
GAIN_RAMP = (0.7, 0.9)


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
        values = pd.to_numeric(adata.obs[c], errors="coerce")
        text = adata.obs[c][values.isna() & adata.obs[c].notna()]
        if len(text):
            raise OmicsInputError(
                f"Pseudotime column {c!r} holds a non-numeric value ({text.iloc[0]!r} at cell {str(text.index[0])!r}); "
                "it must be numbers (empty where a cell is not on the trajectory)."
            )
        out[:, k] = values.to_numpy(dtype=float)
        out[~np.isfinite(out[:, k]), k] = np.nan
        if np.isfinite(out[:, k]).sum() < 2 * MIN_WINDOWS:
            raise OmicsInputError(
                f"Pseudotime column {c!r} has {int(np.isfinite(out[:, k]).sum())} cells with a value; "
                f"a trajectory needs at least {2 * MIN_WINDOWS}."
            )
    return out


def n_windows(n_cells: int) -> int:
    """Windows per trajectory: about sqrt(cells), so windows and cells per window grow alike."""
    return int(max(MIN_WINDOWS, round(np.sqrt(n_cells))))


def max_lag(n_win: int) -> int:
    """Longest lag (in windows) paired: an eighth of the windows (45 windows: lags 1..6)."""
    return max(1, int(round(n_win * LAG_FRACTION)))


def trajectory_windows(X: np.ndarray, times: np.ndarray) -> list[tuple[np.ndarray, int]]:
    """Per trajectory: (windows x genes) means of equal-count windows in pseudotime order, and its cell count."""
    out = []
    for k in range(times.shape[1]):
        on = np.flatnonzero(np.isfinite(times[:, k]))
        order = on[np.argsort(times[on, k], kind="mergesort")]
        out.append((np.stack([X[chunk].mean(0) for chunk in np.array_split(order, n_windows(order.size))]), on.size))
    return out


def direct_effects(
    X: np.ndarray, times: np.ndarray, ridge: float = RIDGE, edge_index: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Direct lagged effect ``D[i, j]`` of regulator i on target j's later expression, and its direction.

    For every trajectory and lag 1..max_lag, a ridge regression of all genes' standardised window
    means a lag later on all genes' standardised means now (a linear vector autoregression,
    penalty ``ridge`` x pairs on standardised inputs); ``D[i, j]`` is the mean |coefficient| over
    the lags, averaged over trajectories weighted by their cells. Unlike the lagged correlation,
    a coefficient is conditional on every other gene's present value, so an indirect path
    ``i -> k -> j`` is mostly explained by ``k`` and a common cause does not make its two targets
    regulate each other.

    Solved in the dual form ``W = A^T (A A^T + lambda I)^-1 B`` (the same ridge solution: a
    windows x windows system instead of genes x genes), so thousands of genes cost little.
    Returns ``(magnitude, signed)``: the mean |coefficient| (the score) and the mean signed
    coefficient (the direction of the effect, for the edge's sign), both from the same solves;
    (genes x genes) matrices with a zero diagonal, or with ``edge_index`` (2 x E: regulator,
    target) only those edges' values (E,), without a genes x genes matrix.
    """

    def z(a):
        return (a - a.mean(0)) / np.maximum(a.std(0), 1e-9)

    n = X.shape[1]
    shape = (n, n) if edge_index is None else (edge_index.shape[1],)
    magnitude, signed = np.zeros(shape), np.zeros(shape)
    weight = 0.0
    for means, n_cells in trajectory_windows(np.asarray(X, dtype=float), times):
        abs_sum, signed_sum = np.zeros(shape), np.zeros(shape)
        lags = range(1, max_lag(len(means)) + 1)
        for lag in lags:
            now, later = z(means[:-lag]), z(means[lag:])
            solved = np.linalg.solve(now @ now.T + ridge * len(now) * np.eye(len(now)), later)  # (pairs x genes)
            if edge_index is None:
                coef = now.T @ solved
            else:
                coef = np.einsum("pe,pe->e", now[:, edge_index[0]], solved[:, edge_index[1]])
            abs_sum += np.abs(coef)
            signed_sum += coef
        magnitude += n_cells * abs_sum / len(lags)
        signed += n_cells * signed_sum / len(lags)
        weight += n_cells
    magnitude, signed = magnitude / max(weight, 1.0), signed / max(weight, 1.0)
    for out in (magnitude, signed):
        if edge_index is None:
            np.fill_diagonal(out, 0.0)
        else:
            out[edge_index[0] == edge_index[1]] = 0.0
    return magnitude, signed


def _heldout_pairs(n_pairs: int) -> np.ndarray:
    """Held-out window pairs: every other block of about a fifth of the pairs (contiguous, so neighbours of a
    held-out window are not all in training)."""
    block = max(1, n_pairs // 5)
    return (np.arange(n_pairs) // block) % 2 == 1


def _ridge_r2(now: np.ndarray, change: np.ndarray, test: np.ndarray, ridge: float) -> tuple[np.ndarray, np.ndarray]:
    """Held-out R^2 per gene of its change from every gene's present value, and from its own present value only."""
    mu, sd = now[~test].mean(0), np.maximum(now[~test].std(0), 1e-9)
    A = (now - mu) / sd
    B = (change - change[~test].mean(0)) / np.maximum(change[~test].std(0), 1e-9)
    a, b = A[~test], B[~test]
    lam = ridge * len(a)
    full = A[test] @ (a.T @ np.linalg.solve(a @ a.T + lam * np.eye(len(a)), b))
    own = A[test] * ((a * b).sum(0) / ((a * a).sum(0) + lam))
    total = ((B[test] - B[test].mean(0)) ** 2).sum(0) + 1e-9
    return 1 - ((B[test] - full) ** 2).sum(0) / total, 1 - ((B[test] - own) ** 2).sum(0) / total


def time_evidence(X: np.ndarray, times: np.ndarray, ridge: float = RIDGE) -> dict:
    """Held-out window evidence that the time ordering carries regulation, per trajectory.

    For each trajectory and lag, every gene's change between a window and the one a lag later is
    predicted on held-out window pairs (:func:`_heldout_pairs`) from all genes' present values (the
    vector autoregression behind :func:`direct_effects`) and from its own present value only (decay,
    no regulation). Where the ordering reflects regulation, other genes' present values predict a
    gene's change: most genes gain. ``genes_gaining`` (per trajectory, and their cell-weighted mean)
    is one of the two pieces of evidence :func:`decide_time_weight` turns into the blend weight.
    """
    rows = []
    for k, (means, n_cells) in enumerate(trajectory_windows(np.asarray(X, dtype=float), times)):
        full, own = [], []
        for lag in range(1, max_lag(len(means)) + 1):
            now, later = means[:-lag], means[lag:]
            test = _heldout_pairs(len(now))
            if test.sum() < 2 or (~test).sum() < 3:
                continue
            f, o = _ridge_r2(now, later - now, test, ridge)
            full.append(f)
            own.append(o)
        if full:
            f, o = np.mean(full, 0), np.mean(own, 0)
            gaining = float(np.mean(f > o))
        else:
            f = o = np.full(X.shape[1], np.nan)
            gaining = 0.0
        rows.append(
            {
                "trajectory": k,
                "cells": int(n_cells),
                "windows": int(len(means)),
                "heldout_r2_all_genes": float(np.nanmedian(f)),
                "heldout_r2_own_only": float(np.nanmedian(o)),
                "genes_gaining": round(gaining, 3),
            }
        )
    cells = sum(r["cells"] for r in rows)
    gaining = sum(r["cells"] * r["genes_gaining"] for r in rows) / max(cells, 1)
    return {"trajectories": rows, "genes_gaining": round(float(gaining), 3)}


def _ramp(value: float, low: float, high: float) -> float:
    return float(np.clip((value - low) / (high - low), 0.0, 1.0))


def decide_time_weight(evidence: dict, direct: np.ndarray, steady: np.ndarray) -> dict:
    """How much the edge ranking leans on the direct lagged effect, from two kinds of evidence in the data.

    * **Agreement** (Spearman correlation over the candidate edges of the direct effect with the
      steady-state score, taken at its one-sided 95 % lower bound ``rho - AGREEMENT_Z / sqrt(edges - 3)``
      so that a few genes' chance agreement does not count): where the time ordering reflects regulation, the edges it finds are also
      supported by the cells' co-expression; where the windows mostly show which branch a cell took
      (cells settle in steady states quickly) or the ordering is noise, the two rankings are
      unrelated and the direct effect ranks an unrelated, spurious structure.
    * **Held-out gain** (``genes_gaining`` of :func:`time_evidence`): a strong majority of genes whose
      held-out change is predicted better from other genes' present values.

    ``weight`` = the larger of two linear ramps, ``AGREEMENT_RAMP`` and ``GAIN_RAMP`` on the agreement's lower bound and on ``genes_gaining`` (0 below the
    first value, 1 above the second): either kind of clear evidence is enough, weak or contradictory
    evidence gives 0, the steady-state fallback. Returns ``evidence`` with ``agreement``, ``weight``
    and ``decision`` added.
    """
    from scipy.stats import spearmanr

    direct, steady = np.asarray(direct, dtype=float), np.asarray(steady, dtype=float)
    agreement = (
        float(spearmanr(direct, steady)[0]) if len(direct) > 2 and direct.std() > 0 and steady.std() > 0 else 0.0
    )
    agreement = 0.0 if not np.isfinite(agreement) else agreement
    lower = agreement - AGREEMENT_Z / np.sqrt(max(len(direct) - 3, 1))
    weight = max(_ramp(lower, *AGREEMENT_RAMP), _ramp(evidence["genes_gaining"], *GAIN_RAMP))
    why = (
        f"direct effect vs steady-state score agreement rho={agreement:.2f}, lower bound {lower:.2f} "
        f"(ramp {AGREEMENT_RAMP[0]}-"
        f"{AGREEMENT_RAMP[1]}), held-out genes gaining {evidence['genes_gaining']:.2f} (ramp {GAIN_RAMP[0]}-"
        f"{GAIN_RAMP[1]}) over {len(evidence['trajectories'])} trajectories"
    )
    if weight == 1.0:
        decision = f"time-aware: {why}; edges ranked by the pseudotime direct effect"
    elif weight == 0.0:
        decision = f"steady-state fallback: time evidence weak or contradictory ({why}); pseudotime not used"
    else:
        decision = (
            f"blend: {why}; edges ranked by {weight:.2f} x pseudotime direct effect + "
            f"{1 - weight:.2f} x steady-state score (percentile ranks)"
        )
    return {
        **evidence,
        "agreement": round(agreement, 3),
        "agreement_lower_bound": round(float(lower), 3),
        "weight": round(weight, 3),
        "decision": decision,
    }
