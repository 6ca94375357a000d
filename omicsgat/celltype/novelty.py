"""Calls "Unknown" for cells that fit no reference type.

Two criteria, both calibrated on labelled reference cells:

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

import numpy as np

NOVELTY_MARGIN = 1.1  # the cut-off is this much above the farthest labelled neighbourhood (at quantile 1)


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


def smooth_on_graph(values: np.ndarray, indptr: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """Mean of each cell's value and its graph neighbours' values (NaNs ignored; NaN when all are NaN)."""
    import scipy.sparse as sp

    n = len(values)
    A = sp.csr_matrix((np.ones(len(indices), np.float64), indices, indptr), shape=(n, n)) + sp.identity(n, format="csr")
    ok = np.isfinite(values)
    total = A @ np.where(ok, values, 0.0)
    count = A @ ok.astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def neighbourhood_novelty(space: np.ndarray, y: np.ndarray, pred: np.ndarray, train_idx: np.ndarray, indptr, indices,
                          quantile: float = 1.0, margin: float = NOVELTY_MARGIN) -> tuple[np.ndarray, float]:
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
