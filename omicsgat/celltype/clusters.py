"""Optional per-cluster majority vote over the query's cells, with per-cluster confidence and Unknown share.

Per-cell calls scatter at the edges of a population; a population, not a cell, is what a user names. The
query's cells are clustered in the mapped space (Leiden on their kNN graph, as CellTypist's majority
voting does; k-means with a fixed seed when leidenalg is not installed), and each cluster gets the
most common call of its cells that were not called Unknown. A cluster most of whose cells are Unknown is
Unknown as a whole (``unknown_reason`` "cluster" for the cells no other test called).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from omicsgat.celltype.calls import UNKNOWN
from omicsgat.celltype.mapping import knn_graph

CLUSTER_UNKNOWN_SHARE = 0.5  # a cluster with at least this share of Unknown cells is Unknown as a whole


def cluster_cells(
    space: np.ndarray, seed: int = 0, n_neighbors: int = 15, resolution: float = 1.0
) -> tuple[np.ndarray, str]:
    """Cluster ids per row of ``space`` and the method used (deterministic for a seed)."""
    if len(space) < 3:
        return np.zeros(len(space), np.int64), "one cluster (too few cells)"
    indptr, indices = knn_graph(np.ascontiguousarray(space, dtype=np.float32), n_neighbors)
    try:
        import igraph as ig
        import leidenalg
    except ImportError:
        from sklearn.cluster import KMeans

        k = int(max(1, min(len(space) // 50, 30)))
        ids = KMeans(k, n_init=4, random_state=seed).fit_predict(space)
        return ids.astype(np.int64), f"k-means (k={k}; leidenalg not installed)"
    rows = np.repeat(np.arange(len(space)), np.diff(indptr))
    keep = rows < indices  # each undirected edge once
    graph = ig.Graph(n=len(space), edges=np.column_stack([rows[keep], indices[keep]]).tolist())
    part = leidenalg.find_partition(
        graph, leidenalg.RBConfigurationVertexPartition, resolution_parameter=resolution, seed=int(seed)
    )
    return np.asarray(part.membership, dtype=np.int64), f"Leiden (resolution {resolution}, {n_neighbors}-NN graph)"


def cluster_vote(labels: pd.DataFrame, clusters: np.ndarray) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(labels with ``cluster``, ``cluster_label``, ``cluster_unknown``; one row per cluster).

    ``labels`` holds the query cells' per-cell calls (``label``, ``predicted``, ``confidence``) in the order
    of ``clusters``. Per cluster: its cells, its majority type and the share of its called cells that carry
    it, the mean confidence, the share called Unknown and whether it is Unknown as a whole.
    """
    out = labels.copy()
    out["cluster"] = clusters
    rows, majority, whole = [], {}, {}
    for c in np.unique(clusters):
        part = out[out["cluster"] == c]
        unknown_share = float((part["label"] == UNKNOWN).mean())
        called = part.loc[part["label"] != UNKNOWN, "label"]
        votes = called.value_counts() if len(called) else part["predicted"].value_counts()
        top = votes.sort_index().sort_values(ascending=False, kind="stable")  # ties: alphabetical, deterministic
        majority[c], whole[c] = str(top.index[0]), unknown_share >= CLUSTER_UNKNOWN_SHARE
        rows.append(
            {
                "cluster": int(c),
                "n_cells": len(part),
                "majority_type": majority[c],
                "majority_share": float(top.iloc[0] / max(1, top.sum())),
                "mean_confidence": float(part["confidence"].mean()),
                "unknown_share": unknown_share,
                "cluster_label": UNKNOWN if whole[c] else majority[c],
            }
        )
    out["cluster_label"] = out["cluster"].map(majority).astype(object)
    out["cluster_unknown"] = out["cluster"].map(whole).astype(bool)
    return out, pd.DataFrame(rows)
