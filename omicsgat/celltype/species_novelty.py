"""Unknown across species: the distance and probability tests calibrated on the query's own anchored cells.

Within one species a query cell of a known type is exchangeable with held-out reference cells, and the
split-conformal tests of :mod:`omicsgat.celltype.novelty` are calibrated on those. Across species no query cell
is: every ortholog's level differs, so every query cell lies farther from the reference, and is classified
less surely, than the reference's own cells, and tests calibrated on reference cells call much of a known type
Unknown. The query cells that have a mutual nearest reference neighbour in the mapped space (MNN anchors,
Haghverdi et al. 2018, the pairs the mapping itself is built on) are cells of types both species share; their
scores say how far from the reference, and how unsure, a known type of *this* query is. Here each cell's
score is also tested against the anchored query cells of its predicted type (the anchors of every type when a
type has too few), and a cell is Unknown by distance or probability only when both calibrations say so; the
mixing test (is the cell's neighbourhood made of query cells only) is kept as it is, since it is calibrated on
the query's own bulk already.
"""

from __future__ import annotations

import numpy as np

from omicsgat.celltype.mapping import knn_graph, mnn_pairs
from omicsgat.celltype.novelty import conformal_pvalues, distance_novelty, mixing_novelty, probability_novelty

ANCHOR_K = 20  # neighbours searched each way for mutual nearest neighbours (as in the mapping)
SPREAD_K = 15  # query neighbours an anchor passes its anchoring on to (the query's graph size)
MIN_ANCHORS = 20  # fewer anchored cells of a predicted type: calibrate on the anchors of every type


def anchored_cells(
    ref_space: np.ndarray, query_space: np.ndarray, k: int = ANCHOR_K, spread: int = SPREAD_K
) -> np.ndarray:
    """Bool per query cell: it, or one of its ``spread`` nearest query cells, has a mutual nearest neighbour
    among the reference cells.

    Mutual pairs form on the side of a population that faces the reference; its far side would otherwise be
    missing from the calibration, and be called Unknown for being what a known type of this query looks like.
    A population without a single mutual pair (a type the reference lacks) stays unanchored.
    """
    import scipy.sparse as sp

    _, qi = mnn_pairs(ref_space, query_space, k)
    paired = np.zeros(len(query_space), bool)
    paired[np.unique(qi)] = True
    if not spread or len(query_space) <= spread:
        return paired
    indptr, indices = knn_graph(query_space.astype(np.float32), spread)
    n = len(query_space)
    graph = sp.csr_matrix((np.ones(len(indices)), indices, indptr), shape=(n, n))
    return paired | (graph @ paired.astype(np.float64) > 0)


def anchored_novelty(scores: np.ndarray, predicted: np.ndarray, anchored: np.ndarray, alpha: float) -> np.ndarray:
    """alpha / p per cell, p the split-conformal p-value of its score among the anchored cells of its predicted
    type (above 1 = beyond what the known types of this query show)."""
    out = np.zeros(len(scores))
    if not anchored.any():
        return np.full(len(scores), np.inf)  # nothing pairs with the reference: no calibration lowers the call
    for c in np.unique(predicted):
        rows = predicted == c
        cal = anchored & rows
        if cal.sum() < MIN_ANCHORS:
            cal = anchored
        out[rows] = alpha / conformal_pvalues(scores[cal], scores[rows])
    return out


def cross_species_novelty(
    prep, y: np.ndarray, proba: np.ndarray, *, alpha: float, seed: int, held_out=None, k: int = 10, cal_fraction=0.2
) -> tuple[np.ndarray, np.ndarray, dict]:
    """(distance novelty, probability novelty, info) of every cell without a label in ``y`` (NaN elsewhere).

    ``prep``: :class:`omicsgat.celltype.prepare.Prepared` of a reference run (reference cells first);
    ``held_out``: top probabilities of held-out reference cells (None: no probability test).
    """
    dist, prob = np.full(len(y), np.nan), np.full(len(y), np.nan)
    targets = np.flatnonzero(y < 0)
    if not targets.size:
        return dist, prob, {}
    space = prep.aligned[:, : max(2, len(prep.classes))]
    reference = np.flatnonzero(~prep.is_query)
    anchored = anchored_cells(space[reference], space[targets])
    predicted = proba[targets].argmax(1)
    by_reference, parts = distance_novelty(space, y, targets, k=k, cal_fraction=cal_fraction, alpha=alpha, seed=seed)
    by_query = np.zeros(len(targets))
    for part in parts.values():
        by_query = np.maximum(by_query, anchored_novelty(part["score"], predicted, anchored, alpha))
    mixing = mixing_novelty(prep.z, y, targets, seed=seed)[0]
    dist[targets] = np.maximum(np.minimum(by_reference, by_query), mixing)
    if held_out is not None and len(held_out):
        conf = proba[targets].max(1)
        prob_reference = probability_novelty(held_out, conf, alpha=alpha)[0]
        prob[targets] = np.minimum(prob_reference, anchored_novelty(1.0 - conf, predicted, anchored, alpha))
    info = {"n_anchored_query_cells": int(anchored.sum()), "unknown_calibration": "reference and anchored query cells"}
    return dist, prob, info
