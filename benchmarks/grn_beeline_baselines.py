"""Baselines for the BEELINE benchmark, each scoring every ordered pair of distinct genes.

* GRNBoost2: arboreto's per-target stochastic gradient boosting, reproduced with
  scikit-learn (arboreto 0.1.6 does not import with current dask): its
  ``SGBM_KWARGS`` (learning rate 0.01, 5,000 trees, max_features 0.1,
  subsample 0.9) and its ``EarlyStopMonitor`` (stop when the mean out-of-bag
  improvement over the last 25 trees is below 0); importance x number of trees,
  as ``arboreto.core.to_feature_importances``; every other gene is a regulator,
  values as given (no scaling), as arboreto does.
* GENIE3: random forest per target (arboreto's ``RF_KWARGS``: max_features
  'sqrt'), with fewer trees than its 1,000 (``GENIE3_TREES``) to fit 2 loaded cores.
* |Pearson|, |Spearman|: symmetric, both directions get the same score.
* Lagged |Pearson| along pseudotime (a time-aware baseline): cells of each
  trajectory are ordered by pseudotime and averaged in equal-count bins; the
  score of i -> j is the largest |corr(x_i(bin b), x_j(bin b + lag))| over lags of
  1..5 bins, averaged over the trajectories (weighted by their cells).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

GENIE3_TREES = 300
LAG_BINS = 40
MAX_LAG = 5


def _all_pairs(n: int):
    src = np.repeat(np.arange(n), n)
    dst = np.tile(np.arange(n), n)
    keep = src != dst
    return src[keep], dst[keep]


def _frame(genes, src, dst, scores) -> pd.DataFrame:
    g = np.asarray(genes, dtype=object)
    return pd.DataFrame({"regulator": g[src], "target": g[dst], "score": np.asarray(scores, dtype=float)})


def pearson(X: np.ndarray, genes) -> pd.DataFrame:
    src, dst = _all_pairs(len(genes))
    C = np.corrcoef(X.T)
    return _frame(genes, src, dst, np.abs(np.nan_to_num(C[src, dst])))


def spearman(X: np.ndarray, genes) -> pd.DataFrame:
    from scipy.stats import rankdata

    return pearson(rankdata(X, axis=0), genes)


class _EarlyStopMonitor:
    """arboreto.core.EarlyStopMonitor: stop when the mean OOB improvement of the last ``window`` trees is < 0."""

    def __init__(self, window: int = 25):
        self.window = window

    def __call__(self, current_round, regressor, _locals):
        if current_round >= self.window - 1:
            return bool(np.mean(regressor.oob_improvement_[current_round - self.window + 1 : current_round + 1]) < 0)
        return False


def _per_target(X: np.ndarray, genes, fit_importance) -> pd.DataFrame:
    n = len(genes)
    rows = []
    for t in range(n):
        feats = np.array([i for i in range(n) if i != t])
        rows.append(_frame(genes, feats, np.full(len(feats), t), fit_importance(X[:, feats], X[:, t])))
    return pd.concat(rows, ignore_index=True)


def grnboost2(X: np.ndarray, genes, seed: int = 0) -> pd.DataFrame:
    from sklearn.ensemble import GradientBoostingRegressor

    def fit(features, target):
        model = GradientBoostingRegressor(
            learning_rate=0.01, n_estimators=5000, max_features=0.1, subsample=0.9, random_state=seed
        )
        model.fit(features, target, monitor=_EarlyStopMonitor(25))
        return model.feature_importances_ * len(model.estimators_)

    return _per_target(X, genes, fit)


def genie3(X: np.ndarray, genes, seed: int = 0, n_trees: int = GENIE3_TREES) -> pd.DataFrame:
    from sklearn.ensemble import RandomForestRegressor

    def fit(features, target):
        model = RandomForestRegressor(n_estimators=n_trees, max_features="sqrt", random_state=seed, n_jobs=1)
        model.fit(features, target)
        return model.feature_importances_ * n_trees

    return _per_target(X, genes, fit)


def binned_trajectories(X: np.ndarray, pseudotime: np.ndarray, n_bins: int = LAG_BINS):
    """Per trajectory (column of ``pseudotime``, NaN off the trajectory): (bins x genes) means in pseudotime order, cells."""
    out = []
    for k in range(pseudotime.shape[1]):
        on = np.flatnonzero(np.isfinite(pseudotime[:, k]))
        if on.size < 2 * n_bins:
            continue
        order = on[np.argsort(pseudotime[on, k], kind="mergesort")]
        chunks = np.array_split(order, n_bins)
        out.append((np.stack([X[c].mean(0) for c in chunks]), on.size))
    return out


def lagged_pearson(X: np.ndarray, genes, pseudotime: np.ndarray) -> pd.DataFrame:
    n = len(genes)
    total = np.zeros((n, n))
    weight = 0.0
    for B, n_cells in binned_trajectories(X, pseudotime):
        best = np.zeros((n, n))
        for lag in range(1, MAX_LAG + 1):
            a, b = B[:-lag], B[lag:]
            za = (a - a.mean(0)) / np.maximum(a.std(0), 1e-9)
            zb = (b - b.mean(0)) / np.maximum(b.std(0), 1e-9)
            best = np.maximum(best, np.abs(za.T @ zb / len(a)))
        total += n_cells * best
        weight += n_cells
    src, dst = _all_pairs(n)
    return _frame(genes, src, dst, (total / max(weight, 1.0))[src, dst])
