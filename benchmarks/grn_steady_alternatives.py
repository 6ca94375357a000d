"""Alternatives to the steady-state score (no pseudotime), measured on BEELINE beside the default (design record,
not a default set run).

For every BEELINE set the default run without a pseudotime (``score="adaptive"``) ranks all ordered gene pairs;
then each alternative ranks the same pairs from the rank-Gauss single cells and is scored as
:mod:`benchmarks.grn_beeline` scores (AUPRC ratio against the edge density):

* ``default (adaptive)``: what ``infer_grn(..., score="adaptive")`` ranks by;
* ``conditional (ridge)``: :func:`omicsgat.grn.scores.conditional_dependence` alone;
* ``marginal |r|``: absolute correlation of the rank-Gauss values (|Spearman|-like);
* ``extra trees``: per target, impurity importance of a small extremely randomized tree ensemble
  (``TREES`` trees, ``min_samples_leaf=LEAF``, fixed seed, at most ``TREE_CELLS`` cells taken evenly);
* ``trees or ridge by held-out error``: per target, the trees where their 3-fold held-out error is below a
  linear ridge's, else the ridge (reported: how many targets took the trees);
* ``trees where the gain > 0.3``: as the default's nonlinearity rule, trees in place of the attention model;
* ``ridge + trees (mean)``: mean percentile rank of both;
* ``best top-3 per target``: per target, the ridge, trees or marginal score, whichever's three strongest
  regulators predict the target's held-out cells best (quadratic ridge, generalized cross-validation).

``python -m benchmarks grn_steady_alternatives [--beeline DIR[,DIR...]] [--replicates R,...] [--name TABLE]``
(default DIRs as grn_beeline; replicates 0 and 1 are development, 2 the untouched check, reported apart).
"""

from __future__ import annotations

import numpy as np
from scipy.stats import rankdata

from benchmarks._common import Table
from benchmarks.grn_beeline import run_alternatives
from omicsgat.grn.scores import _heldout_r2, conditional_dependence

TREES = 30
LEAF = 5
TREE_CELLS = 1000
FOLDS = 3
TOP_REGULATORS = 3
GAIN = 0.3


def _pct(x: np.ndarray) -> np.ndarray:
    return rankdata(x) / len(x)


def _trees(values: np.ndarray, edge_index: np.ndarray):
    """Per-edge tree importance, and per target the held-out R^2 of the trees and of a linear ridge (3-fold)."""
    from sklearn.ensemble import ExtraTreesRegressor
    from sklearn.model_selection import KFold

    src, dst = edge_index
    cells = values[np.linspace(0, len(values) - 1, min(len(values), TREE_CELLS)).astype(int)]
    importance = np.zeros(len(src))
    r2_trees, r2_linear = np.full(values.shape[1], np.nan), np.full(values.shape[1], np.nan)
    for target in np.unique(dst):
        rows = np.flatnonzero(dst == target)
        x, y = cells[:, src[rows]], cells[:, target]
        model = ExtraTreesRegressor(n_estimators=TREES, max_features="sqrt", min_samples_leaf=LEAF, random_state=0)
        tree_pred, linear_pred = np.zeros(len(y)), np.zeros(len(y))
        for train, test in KFold(FOLDS, shuffle=True, random_state=0).split(x):
            tree_pred[test] = model.fit(x[train], y[train]).predict(x[test])
            a = np.c_[x[train], np.ones(len(train))]
            b = np.linalg.solve(a.T @ a + 1e-3 * len(train) * np.eye(a.shape[1]), a.T @ y[train])
            linear_pred[test] = np.c_[x[test], np.ones(len(test))] @ b
        total = max(float(((y - y.mean()) ** 2).sum()), 1e-12)
        r2_trees[target] = 1 - ((y - tree_pred) ** 2).sum() / total
        r2_linear[target] = 1 - ((y - linear_pred) ** 2).sum() / total
        importance[rows] = model.fit(x, y).feature_importances_
    return importance, r2_trees, r2_linear


def _best_top(values: np.ndarray, edge_index: np.ndarray, candidates: dict) -> tuple[np.ndarray, dict]:
    """Per target, the candidate score whose strongest regulators best predict the target's held-out cells."""
    src, dst = edge_index
    ranked = {name: _pct(s) for name, s in candidates.items()}
    out, chosen = np.zeros(len(src)), {}
    for target in np.unique(dst):
        rows = np.flatnonzero(dst == target)

        def heldout(name):
            regs = src[rows[np.argsort(-candidates[name][rows], kind="stable")[:TOP_REGULATORS]]]
            lin = values[:, regs]
            pairs = np.triu_indices(len(regs))
            return _heldout_r2(np.concatenate([lin, lin[:, pairs[0]] * lin[:, pairs[1]]], 1), values[:, target])

        best = max(candidates, key=heldout)
        chosen[best] = chosen.get(best, 0) + 1
        out[rows] = ranked[best][rows]
    return out, chosen


def alternatives(X: np.ndarray, edge_index: np.ndarray, default: np.ndarray) -> tuple[dict, dict]:
    """Score name -> per-edge score for the same candidate edges; and what the per-target choices took."""
    from omicsgat.grn.prepare import rank_gauss

    values = rank_gauss(X)
    src, dst = edge_index
    ridge, _, _ = conditional_dependence(values, edge_index)
    marginal = np.abs(np.nan_to_num(np.corrcoef(values.T)))[src, dst]
    trees, r2_trees, r2_linear = _trees(values, edge_index)
    gain = (r2_trees - r2_linear) / np.maximum(1 - r2_linear, 1e-6)
    better = np.isin(dst, np.flatnonzero(r2_trees > r2_linear))
    gained = np.isin(dst, np.flatnonzero(np.nan_to_num(gain, nan=-np.inf) > GAIN))
    top, chosen = _best_top(values, edge_index, {"ridge": ridge, "trees": trees, "marginal": marginal})
    scores = {
        "default (adaptive)": default,
        "conditional (ridge)": ridge,
        "marginal |r|": marginal,
        "extra trees": trees,
        "trees or ridge by held-out error": np.where(better, _pct(trees), _pct(ridge)),
        f"trees where the gain > {GAIN:g}": np.where(gained, _pct(trees), _pct(ridge)),
        "ridge + trees (mean)": _pct(ridge) + _pct(trees),
        f"best top-{TOP_REGULATORS} per target": top,
    }
    targets = np.unique(dst)
    record = {
        "targets": int(len(targets)),
        "trees_better_heldout": int((r2_trees[targets] > r2_linear[targets]).sum()),
        "tree_gain_median": float(np.nanmedian(gain[targets])),
        "best_top_chose": chosen,
    }
    return scores, record


def main(quick: bool = False, argv: list[str] | None = None) -> Table:
    def score_set(adata, plain, edge_index):
        scored, record = alternatives(np.asarray(adata.X, dtype=float), edge_index, plain["score"].to_numpy())
        return scored, {"choice": record}

    return run_alternatives(list(argv or []), quick, "grn_steady_alternatives", score_set)
