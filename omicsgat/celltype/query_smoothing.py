"""Borrowing strength from the query's own neighbours before a cell's type is called.

A reference model sees each query cell alone; a shallow cell (a few hundred counts over a few thousand genes)
carries too few counts to tell close types apart (NK from T, B from T), and across species the model's
genes are not those that separate the query's types best. The query's own structure still does: its cells
cluster by type in a PCA of its own most variable genes even at low depth. So the label of a query cell is
called from its class probabilities mixed with the mean over itself and its nearest query cells in that
space (:func:`smoothed_probabilities`). Only the label and its confidence use the mixed probabilities: the
tests of whether a cell is like any reference cell at all (:mod:`omicsgat.celltype.novelty`) keep the
cell's own ones, so a small population unlike the reference is not averaged into its neighbours' verdict.
Used across species only: within one species the reference's types often include fine ones (naive / memory
CD4 T) that a neighbourhood mean blurs, and the model already transfers well there. The graph is the query's
alone (never the reference's cells) and unweighted, so the mix depends on nothing the reference decides. Measured against no mixing, and the weight chosen: docs/celltype-species.md.
"""

from __future__ import annotations

from typing import Optional

import numpy as np

QUERY_PCS = 30  # PCs of the query's own most variable genes in which its neighbours are found


def query_graph(
    adata, n_neighbors: int, max_genes: int, seed: int = 0, gene_symbols: Optional[str] = None
) -> tuple[np.ndarray, np.ndarray]:
    """The query's own kNN graph (CSR arrays, symmetric, no self loops): its log-normalized expression of its
    ``max_genes`` most variable genes, z-scored on itself, in ``QUERY_PCS`` PCs (the same neighbours as the
    model's own graph, ``n_neighbors``)."""
    from omicsgat.celltype.mapping import knn_graph
    from omicsgat.celltype.prepare import _expression, _pca, _select_genes, _standardize
    from omicsgat.io.genes import symbol_view

    adata, _ = symbol_view(adata, gene_symbols)
    expr, _ = _expression(adata)
    genes = _select_genes(expr, max_genes)
    return knn_graph(_pca(_standardize(expr[:, genes].X), QUERY_PCS, seed), n_neighbors)


def smoothed_probabilities(proba: np.ndarray, indptr: np.ndarray, indices: np.ndarray, weight: float) -> np.ndarray:
    """``(1 - weight) * proba + weight * (mean of proba over each cell and its graph neighbours)``; rows sum to 1."""
    from omicsgat.celltype.mapping import smooth_on_graph

    if weight <= 0.0:
        return proba
    neighbourhood = np.column_stack([smooth_on_graph(proba[:, j], indptr, indices) for j in range(proba.shape[1])])
    return ((1.0 - weight) * proba + weight * neighbourhood).astype(proba.dtype)
