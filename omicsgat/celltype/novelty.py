"""Calls "Unknown" for cells that fit no reference type.

The default rule, in the space the query is mapped into (:mod:`omicsgat.celltype.mapping`): the mixing test
(``mixing_novelty``: does a cell's neighbourhood hold reference cells at all, compared with the query's own
bulk) for populations the reference lacks, a distance test with a split-conformal cut-off (``distance_novelty``)
for lone cells like no cell of either data set, and the probability test (``probability_novelty``) for cells
the classifier cannot place. The ``unknown_rule="neighbourhood"`` rule has two criteria,
both calibrated on labelled reference cells:

* confidence (the top class probability, temperature-scaled on held-out cells)
  below a threshold, by default a low quantile of the confidences of held-out
  cells that the model got right, at most a cap;
* distance: a cell whose distance to its ``k``-th nearest training cell of its
  predicted type (in the shared PCA space), relative to that type's typical
  spacing and averaged over the cell and its kNN-graph neighbours, is larger
  than for all labelled cells. The classifier's softmax is confident even for a
  type it never saw; this distance is not. Averaging over the neighbourhood
  keeps single stray cells of a known type (the tail of any distance) from
  being called Unknown, while a population the reference lacks stays far as a
  whole.
"""

from __future__ import annotations

from typing import Optional

import numpy as np

from omicsgat.celltype.mapping import knn_distance, knn_graph, smooth_on_graph

NOVELTY_MARGIN = 1.1  # the cut-off is this much above the farthest labelled neighbourhood (at quantile 1)
# robust z over the query's bulk a lone cell needs before the distance test calls it: far beyond the tail that a
# batch effect gives known types (docs/celltype.md)
LONE_CELL_GUARD = 8.0


def probability_threshold(proba: np.ndarray, y: np.ndarray, quantile: float = 0.01, cap: float = 1.0) -> float:
    """A low quantile of the confidences of correctly classified held-out cells, at most ``cap`` (0 when none)."""
    conf = proba.max(1)
    correct = proba.argmax(1) == y
    if not correct.any():
        return 0.0
    return float(min(cap, np.quantile(conf[correct], quantile)))


class DistanceCheck:
    """Per-type k-nearest-neighbour distances to the training cells, in units of that type's spacing."""

    def __init__(self, space: np.ndarray, y: np.ndarray, train_idx: np.ndarray, k: int = 5) -> None:
        from sklearn.neighbors import NearestNeighbors

        self.k = k
        self.index, self.scale = {}, {}
        self.train_ratio, self.train_rows = [], []
        for c in np.unique(y[train_idx]):
            rows = train_idx[y[train_idx] == c]
            kk = int(min(k, len(rows) - 1))
            if kk < 1:
                continue
            nn = NearestNeighbors(n_neighbors=kk + 1).fit(space[rows])
            d = nn.kneighbors(space[rows])[0][:, kk]  # leave one out: column 0 is the cell itself
            scale = float(np.median(d)) or 1.0
            self.index[int(c)], self.scale[int(c)] = (nn, kk), scale
            self.train_ratio.append(d / scale)
            self.train_rows.append(rows)
        self.train_ratio = np.concatenate(self.train_ratio) if self.train_ratio else np.zeros(0)
        self.train_rows = np.concatenate(self.train_rows) if self.train_rows else np.zeros(0, np.int64)

    def ratio(self, space: np.ndarray, pred: np.ndarray) -> np.ndarray:
        """Distance ratio of each row to its predicted type (NaN when the type has too few cells)."""
        out = np.full(len(space), np.nan)
        for c, (nn, kk) in self.index.items():
            rows = np.flatnonzero(pred == c)
            if rows.size:
                out[rows] = nn.kneighbors(space[rows], n_neighbors=kk)[0][:, kk - 1] / self.scale[c]
        return out


def neighbourhood_novelty(
    space: np.ndarray,
    y: np.ndarray,
    pred: np.ndarray,
    train_idx: np.ndarray,
    indptr,
    indices,
    quantile: float = 1.0,
    margin: float = NOVELTY_MARGIN,
) -> tuple[np.ndarray, float]:
    """Per cell: its neighbourhood's distance ratio over the cut-off (above 1 = novel), and the cut-off.

    Training cells use their leave-one-out ratio to their own type, every other
    cell the ratio to its predicted type; the cut-off is the ``quantile`` of the
    labelled cells' smoothed ratios times ``margin``.
    """
    check = DistanceCheck(space, y, train_idx)
    others = np.setdiff1d(np.arange(len(space)), check.train_rows)
    ratio = np.full(len(space), np.nan)
    ratio[others] = check.ratio(space[others], pred[others])
    ratio[check.train_rows] = check.train_ratio
    smooth = smooth_on_graph(ratio, indptr, indices)
    labelled = smooth[(y >= 0) & np.isfinite(smooth)]
    cut = float(np.quantile(labelled, quantile) * margin) if labelled.size else np.inf
    return smooth / cut, cut


# --- distance to the reference in the mapped space, with a conformal cut-off ---------------------------------------


def conformal_pvalues(calibration: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """Split-conformal p-values: (1 + #calibration scores >= s) / (n + 1) (Vovk et al.; Bates et al. 2023).

    For a cell exchangeable with the calibration cells (a known type, no shift),
    P(p <= alpha) <= alpha: calling Unknown below ``alpha`` mislabels at most that
    share of such cells.
    """
    cal = np.sort(np.asarray(calibration, dtype=np.float64))
    above = len(cal) - np.searchsorted(cal, np.asarray(scores, dtype=np.float64), side="left")
    return (1.0 + above) / (len(cal) + 1.0)


def calibration_split(y: np.ndarray, labelled: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Stratified reference cells kept out of the distance index, to calibrate the cut-off (index, calibration)."""
    rng = np.random.default_rng([seed, 7919])
    index, cal = [], []
    for c in np.unique(y[labelled]):
        rows = labelled[y[labelled] == c]
        rows = rows[rng.permutation(len(rows))]
        n_cal = int(round(fraction * len(rows))) if len(rows) >= 5 else 0
        cal.append(rows[:n_cal])
        index.append(rows[n_cal:])
    return np.sort(np.concatenate(index)), np.sort(np.concatenate(cal))


def bulk(values: np.ndarray) -> Optional[tuple[float, float]]:
    """(median, 1.4826 MAD) of a data set's scores; None when too few cells to know their bulk."""
    if len(values) < 20:
        return None
    med = float(np.median(values))
    return med, float(1.4826 * np.median(np.abs(values - med))) or 1e-12


def robust_z(values: np.ndarray, center: Optional[tuple[float, float]] = None) -> np.ndarray:
    """(value - median) / (1.4826 MAD): how far above the bulk of its own data set a score lies.

    ``center``: that bulk, when it was measured on more of the data set than ``values`` (a chunk of a query).
    Without a bulk the z is infinite: the conformal test decides alone.
    """
    center = bulk(values) if center is None else center
    if center is None:
        return np.full(len(values), np.inf)
    return (values - center[0]) / center[1]


def distance_novelty(
    space: np.ndarray,
    y: np.ndarray,
    targets: np.ndarray,
    *,
    k: int = 10,
    cal_fraction: float = 0.2,
    alpha: float = 0.02,
    guard: float = LONE_CELL_GUARD,
    seed: int = 0,
) -> tuple[np.ndarray, dict]:
    """Novelty of single ``targets`` far from every labelled cell: above 1 = Unknown.

    The score of a cell is its mean distance to the ``k`` nearest labelled
    cells of the index (the labelled cells minus a stratified ``cal_fraction``
    kept out to calibrate), tested with a split-conformal p-value against the
    calibration cells at level ``alpha``. The score must also stand far out
    from the targets' own bulk (robust z above ``guard``): a batch effect moves
    every query cell away from the reference and widens the tail of known
    types, so this test is kept for lone cells like no cell of either data
    set; a population the reference lacks is the mixing test's
    (:func:`mixing_novelty`), which compares each cell's neighbourhood with the
    query's own. Returns min(alpha / p, z / guard) per target and the parts.
    """
    labelled = np.flatnonzero(y >= 0)
    index, cal = calibration_split(y, labelled, cal_fraction, seed)
    if cal.size == 0 or targets.size == 0:
        return np.zeros(len(targets)), {}
    s_cal = knn_distance(space[index], space[cal], k)
    s_q = knn_distance(space[index], space[targets], k)
    p = conformal_pvalues(s_cal, s_q)
    z = robust_z(s_q)
    return np.minimum(alpha / p, z / guard), {"raw": {"p": p, "z": z, "score": s_q}}


def probability_novelty(
    calibration_conf: np.ndarray,
    conf: np.ndarray,
    *,
    alpha: float = 0.02,
    guard: float = 3.0,
    center: Optional[tuple[float, float]] = None,
) -> tuple[np.ndarray, dict]:
    """Novelty of cells from the classifier's top probability: above 1 = Unknown.

    Score 1 - top probability; split-conformal p-value against held-out
    labelled cells (``calibration_conf``: their top probabilities under a model
    that never trained on them). As in ``distance_novelty``, the score must also
    stand out from the targets' own bulk (robust z above ``guard``), so a query
    whose every cell is less certain (a batch effect) is not called Unknown
    wholesale (``center``: the targets' bulk of 1 - top probability, when measured on more cells than ``conf``).
    Returns min(alpha / p, z / guard) per cell and the parts.

    When most targets are sure (top probability ~1, the usual case) the MAD of their scores is ~0 and the guard
    passes every cell above their median: the test is then the conformal test alone. That is what lets a small
    population the classifier is only slightly less sure of (inside a known type's spread) be called; the guard
    acts only on a query whose bulk is itself unsure (the variants measured: docs/celltype.md, "Fourth pass").

    The distance rule misses a population sitting inside the reference's
    spread (a sub-type, or real data whose known types have heavy-tailed
    distances); the classifier sees it as split between two types.
    """
    s_cal = 1.0 - np.asarray(calibration_conf, dtype=np.float64)
    s_q = 1.0 - np.asarray(conf, dtype=np.float64)
    if s_cal.size == 0 or s_q.size == 0:
        return np.zeros(len(s_q)), {}
    p = conformal_pvalues(s_cal, s_q)
    z = robust_z(s_q, center)
    return np.minimum(alpha / p, z / guard), {"p": p, "z": z, "score": s_q}


def mixing_novelty(
    z: np.ndarray,
    y: np.ndarray,
    targets: np.ndarray,
    *,
    n_pcs: int = 10,
    k: int = 10,
    smooth_k: int = 15,
    guard: float = 3.0,
    seed: int = 0,
) -> tuple[np.ndarray, dict]:
    """Novelty of the ``targets`` from whether their neighbourhood holds labelled cells at all: above 1 = Unknown.

    The reference's own PCs cannot see a type the reference lacks when that type differs along axes the
    reference does not vary on. Here the space is a PCA of the (mapped) expression fitted on as many target
    as labelled cells, so the query's own axes count. Per target: log of its distance to the ``k``-th nearest
    labelled cell over its distance to the ``k``-th nearest other target (each ``k`` scaled by the group's
    size, so two samples of one population score 0), averaged over its ``smooth_k`` nearest targets. A
    population the reference lacks has only query cells around it; a known type across a batch, or a
    shifted state, still has reference cells among its neighbours. Called when the score stands out from the
    targets' own bulk (robust z over ``guard``); returns z / guard and the parts.
    """
    from sklearn.decomposition import PCA
    from sklearn.neighbors import NearestNeighbors

    labelled = np.flatnonzero(y >= 0)
    if targets.size <= max(k, smooth_k) or labelled.size <= k:
        return np.zeros(len(targets)), {}
    m = int(min(labelled.size, targets.size))
    rng = np.random.default_rng([seed, 7907])
    fit_rows = np.concatenate([rng.permutation(labelled)[:m], rng.permutation(targets)[:m]])
    n = int(min(n_pcs, z.shape[1] - 1, 2 * m - 1))
    pca = PCA(n_components=n, random_state=seed).fit(z[fit_rows])
    ref, qry = pca.transform(z[labelled]), pca.transform(z[targets])
    k_ref = max(1, round(k * labelled.size / m))
    k_qry = max(1, round(k * targets.size / m))
    d_ref = NearestNeighbors(n_neighbors=min(k_ref, len(ref))).fit(ref).kneighbors(qry)[0][:, -1]
    d_qry = NearestNeighbors(n_neighbors=min(k_qry + 1, len(qry))).fit(qry).kneighbors(qry)[0][:, -1]
    score = np.log(np.maximum(d_ref, 1e-12) / np.maximum(d_qry, 1e-12))
    qi, qj = knn_graph(qry.astype(np.float32), smooth_k)
    smoothed = smooth_on_graph(score, qi, qj)
    z_score = robust_z(smoothed)
    return z_score / guard, {"score": smoothed, "z": z_score}
