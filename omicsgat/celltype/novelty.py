"""Calls "Unknown" for cells that fit no reference type.

Two criteria, both calibrated on labelled reference cells:

* confidence (the top class probability) below a threshold, by default a low
  quantile of the confidences of held-out cells that the model got right;
* distance: a cell whose distance to its ``k``-th nearest training cell of its
  predicted type (in the shared PCA space) is larger, relative to that type's
  typical spacing, than for nearly all labelled cells. The classifier's softmax
  is confident even for a type it never saw; this distance is not.
"""

from __future__ import annotations

import numpy as np


def probability_threshold(proba: np.ndarray, y: np.ndarray, quantile: float = 0.01) -> float:
    """A low quantile of the confidences of correctly classified held-out cells (0 when none)."""
    conf = proba.max(1)
    correct = proba.argmax(1) == y
    if not correct.any():
        return 0.0
    return float(np.quantile(conf[correct], quantile))


class DistanceCheck:
    """Per-type k-nearest-neighbour distances to the training cells, in units of that type's spacing."""

    def __init__(self, space: np.ndarray, y: np.ndarray, train_idx: np.ndarray, k: int = 5) -> None:
        from sklearn.neighbors import NearestNeighbors

        self.k = k
        self.index, self.scale = {}, {}
        self.train_ratio = []
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
        self.train_ratio = np.concatenate(self.train_ratio) if self.train_ratio else np.zeros(0)

    def ratio(self, space: np.ndarray, pred: np.ndarray) -> np.ndarray:
        """Distance ratio of each row to its predicted type (NaN when the type has too few cells)."""
        out = np.full(len(space), np.nan)
        for c, (nn, kk) in self.index.items():
            rows = np.flatnonzero(pred == c)
            if rows.size:
                out[rows] = nn.kneighbors(space[rows], n_neighbors=kk)[0][:, kk - 1] / self.scale[c]
        return out

    def cutoff(self, held_out_ratio: np.ndarray, quantile: float = 0.995, margin: float = 1.0) -> float:
        """The ``quantile`` of labelled cells' ratios (held-out and leave-one-out), times ``margin``."""
        pooled = np.concatenate([self.train_ratio, held_out_ratio[np.isfinite(held_out_ratio)]])
        return float(np.quantile(pooled, quantile) * margin) if pooled.size else np.inf
