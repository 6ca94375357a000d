"""Alternatives to the pseudotime rule, measured on BEELINE beside the default (design record, not a default set run).

For every BEELINE set with a pseudotime, the steady-state score of the default run without a pseudotime
(``score="adaptive"``) is computed once; then each way of using the time ordering ranks the same candidate
edges and is scored as :mod:`benchmarks.grn_beeline` scores (AUPRC ratio against the edge density):

* ``steady-state (weight 0)``: the run without a pseudotime;
* ``default rule``: :func:`omicsgat.grn.pseudotime.decide_time_weight` on one data-set weight (what
  ``infer_grn(..., pseudotime=...)`` ranks by);
* ``default rule, weight at most 0.8``: never more than 0.8 on the direct effect (always combined);
* ``default rule, agreement bound at z=1.0``: the agreement's lower bound at z = 1.0 instead of 1.645;
* ``direct effect only`` / ``lagged marginal only``: the conditional direct effect at weight 1, and the
  marginal lagged |correlation| over the same windows and lags;
* ``direct + lagged (combined)``: the default weight, its time part the mean percentile of both;
* ``weight per trajectory``: the default rule judged on each trajectory's own windows, trajectories' parts
  added by cells;
* ``weight per target``: the data-set weight times the share of trajectories (by cells) where the target's
  held-out change gains from other genes;
* ``direct or lagged per target``: per target, the direct effect or the lagged marginal score, whichever's two
  strongest regulators predict the target's held-out window change better (scores from the training window
  pairs), under the default weight.

``python -m benchmarks grn_time_alternatives [--beeline DIR[,DIR...]] [--replicates R,...] [--name TABLE]``
(default DIRs as grn_beeline; replicates 0 and 1 are development, 2 the untouched check, reported apart).
"""

from __future__ import annotations

from unittest import mock

import numpy as np
from scipy.stats import rankdata

from benchmarks._common import Table
from benchmarks.grn_beeline import run_alternatives
from omicsgat.grn import pseudotime as pt

TOP_REGULATORS = 2
WEIGHT_CAP = 0.8
LOOSER_AGREEMENT_Z = 1.0


def _pct(x: np.ndarray) -> np.ndarray:
    return rankdata(x) / len(x)


def _z(a: np.ndarray) -> np.ndarray:
    return (a - a.mean(0)) / np.maximum(a.std(0), 1e-9)


def _blend(weight: float, time_part: np.ndarray, steady: np.ndarray) -> np.ndarray:
    if weight == 0.0:
        return steady
    return time_part if weight == 1.0 else weight * _pct(time_part) + (1 - weight) * _pct(steady)


def _lagged_marginal(X, times, edge_index) -> np.ndarray:
    """Mean |lagged correlation| over the direct effect's windows and lags, trajectories weighted by cells."""
    total, cells = np.zeros(edge_index.shape[1]), 0
    for means, n in pt.trajectory_windows(X, times):
        lags = range(1, pt.max_lag(len(means)) + 1)
        part = sum(
            np.abs((_z(means[:-g]).T @ _z(means[g:]) / (len(means) - g))[edge_index[0], edge_index[1]]) for g in lags
        )
        total, cells = total + n * part / len(lags), cells + n
    return total / max(cells, 1)


def _heldout_error(now, later, test, regulators, j) -> float:
    cols = [j, *regulators]
    A, y = now[:, cols], later[:, j] - now[:, j]
    A = (A - A[~test].mean(0)) / np.maximum(A[~test].std(0), 1e-9)
    y = (y - y[~test].mean()) / max(y[~test].std(), 1e-9)
    a = A[~test]
    w = np.linalg.solve(a.T @ a + pt.RIDGE * len(a) * np.eye(len(cols)), a.T @ y[~test])
    return float(((y[test] - A[test] @ w) ** 2).mean())


def _direct_beats_lagged(X, times) -> np.ndarray:
    """Per gene: held-out error with the lagged-marginal top regulators minus with the direct-effect ones."""
    n = X.shape[1]
    diff, cells = np.zeros(n), 0
    for means, n_cells in pt.trajectory_windows(X, times):
        part, used = np.zeros(n), 0
        for lag in range(1, pt.max_lag(len(means)) + 1):
            now, later = means[:-lag], means[lag:]
            test = pt._heldout_pairs(len(now))
            if test.sum() < 2 or (~test).sum() < 3:
                continue
            zn, zl = _z(now[~test]), _z(later[~test])
            D = np.abs(zn.T @ np.linalg.solve(zn @ zn.T + pt.RIDGE * len(zn) * np.eye(len(zn)), zl))
            L = np.abs(zn.T @ zl / len(zn))
            np.fill_diagonal(D, 0.0)
            np.fill_diagonal(L, 0.0)
            for j in range(n):
                top_d, top_l = np.argsort(-D[:, j])[:TOP_REGULATORS], np.argsort(-L[:, j])[:TOP_REGULATORS]
                if set(top_d) != set(top_l):
                    part[j] += _heldout_error(now, later, test, top_l, j) - _heldout_error(now, later, test, top_d, j)
            used += 1
        if used:
            diff, cells = diff + n_cells * part / used, cells + n_cells
    return diff / max(cells, 1)


def alternatives(X: np.ndarray, times: np.ndarray, edge_index: np.ndarray, steady: np.ndarray) -> dict:
    """Edge scores of every alternative (name -> (E,) scores) and the default rule's weight."""
    evidence = pt.time_evidence(X, times)
    direct, _ = pt.direct_effects(X, times, edge_index=edge_index)
    weight = pt.decide_time_weight(dict(evidence), direct, steady)["weight"]
    with mock.patch.object(pt, "AGREEMENT_Z", LOOSER_AGREEMENT_Z):
        looser = pt.decide_time_weight(dict(evidence), direct, steady)["weight"]
    lagged = _lagged_marginal(X, times, edge_index)
    per_traj, traj_weight, cells = np.zeros(len(steady)), 0.0, np.isfinite(times).sum(0)
    gains = np.zeros(X.shape[1])
    for k in range(times.shape[1]):
        one = times[:, [k]]
        ev_k = pt.time_evidence(X, one)
        d_k, _ = pt.direct_effects(X, one, edge_index=edge_index)
        w_k = pt.decide_time_weight(dict(ev_k), d_k, steady)["weight"]
        share = cells[k] / cells.sum()
        per_traj, traj_weight = per_traj + share * w_k * _pct(d_k), traj_weight + share * w_k
        for means, _n in pt.trajectory_windows(X, one):
            full, own = [], []
            for lag in range(1, pt.max_lag(len(means)) + 1):
                test = pt._heldout_pairs(len(means) - lag)
                if test.sum() >= 2 and (~test).sum() >= 3:
                    f, o = pt._ridge_r2(means[:-lag], means[lag:] - means[:-lag], test, pt.RIDGE)
                    full.append(f)
                    own.append(o)
            if full:
                gains += share * (np.mean(full, 0) > np.mean(own, 0))
    target_weight = weight * gains[edge_index[1]]
    choose_direct = _direct_beats_lagged(X, times)[edge_index[1]] >= 0
    return {
        "weight": weight,
        "steady-state (weight 0)": steady,
        "default rule": _blend(weight, direct, steady),
        f"default rule, weight at most {WEIGHT_CAP}": _blend(min(weight, WEIGHT_CAP), direct, steady),
        f"default rule, agreement bound at z={LOOSER_AGREEMENT_Z}": _blend(looser, direct, steady),
        "direct effect only": direct,
        "lagged marginal only": lagged,
        "direct + lagged (combined)": _blend(weight, _pct(direct) + _pct(lagged), steady),
        "weight per trajectory": steady if traj_weight == 0 else per_traj + (1 - traj_weight) * _pct(steady),
        "weight per target": steady
        if weight == 0
        else target_weight * _pct(direct) + (1 - target_weight) * _pct(steady),
        "direct or lagged per target": _blend(weight, np.where(choose_direct, _pct(direct), _pct(lagged)), steady),
    }


def main(quick: bool = False, argv: list[str] | None = None) -> Table:
    def score_set(adata, plain, edge_index):
        times = adata.obs[list(adata.uns["beeline_pseudotime"])].to_numpy(dtype=float)
        scored = alternatives(np.asarray(adata.X, dtype=float), times, edge_index, plain["score"].to_numpy())
        return scored, {"weight": scored.pop("weight")}

    return run_alternatives(list(argv or []), quick, "grn_time_alternatives", score_set, needs_pseudotime=True)
