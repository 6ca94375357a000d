"""Sequencing depth: binomial thinning of raw counts.

Each UMI of a cell is kept with probability ``fraction``, independently: the
counts a shallower run of the same library would give. The benchmark thins a
query to see whether labels, confidence and Unknown hold at lower depth;
:func:`thinned_copies` adds thinned copies of reference cells so that a model
sees shallow cells of every type while it trains.
"""

from __future__ import annotations

import numpy as np

from omicsgat.errors import OmicsInputError
from omicsgat.pp import counts_source


def thin_counts(X, fraction: float, seed: int = 0):
    """``X`` (cells x genes, non-negative integer counts, dense or sparse) with each count kept w.p. ``fraction``."""
    import scipy.sparse as sp

    if not 0.0 < fraction <= 1.0:
        raise OmicsInputError(f"The thinning fraction must be in (0, 1] (got {fraction}).")
    rng = np.random.default_rng(seed)
    if sp.issparse(X):
        out = sp.csr_matrix(X, dtype=np.float32, copy=True)
        values = out.data
    else:
        out = np.array(X, dtype=np.float32, copy=True)
        values = out.reshape(-1)
    if values.size and (values.min() < 0 or not np.allclose(values, np.round(values))):
        raise OmicsInputError("Thinning needs raw counts (non-negative integers); this matrix holds other values.")
    values[:] = rng.binomial(np.round(values).astype(np.int64), fraction).astype(np.float32)
    if sp.issparse(out):
        out.eliminate_zeros()
    return out


def thinned(adata, fraction: float, seed: int = 0):
    """A copy of ``adata`` whose counts (``layers["counts"]``, else ``X``) are thinned; other layers dropped."""
    import anndata as ad

    counts, _ = counts_source(adata)
    if counts is None:
        raise OmicsInputError("Thinning needs raw counts in X or layers['counts']; this data set holds neither.")
    return ad.AnnData(X=thin_counts(counts, fraction, seed), obs=adata.obs.copy(), var=adata.var.copy())


def thinned_copies(adata, copies: int = 1, fractions: tuple = (0.1, 0.5), seed: int = 0):
    """``adata`` followed by ``copies`` thinned copies of every cell (names suffixed ``-thin<k>``).

    Each copied cell keeps a share of its counts drawn uniformly from ``fractions`` (low, high), so one copy
    covers a range of depths. A data set without raw counts is returned unchanged: log-normalized values
    cannot be thinned honestly.
    """
    import anndata as ad
    import scipy.sparse as sp

    counts, _ = counts_source(adata)
    if counts is None or copies < 1:
        return adata
    low, high = fractions
    if not 0.0 < low <= high <= 1.0:
        raise OmicsInputError(f"Thinning fractions must satisfy 0 < low <= high <= 1 (got {fractions}).")
    rng = np.random.default_rng(seed)
    counts = sp.csr_matrix(counts, dtype=np.float32)
    parts = [ad.AnnData(X=counts, obs=adata.obs.copy(), var=adata.var[[]].copy())]
    for k in range(copies):
        share = rng.uniform(low, high, size=adata.n_obs).astype(np.float32)
        part = counts.copy()
        part.data = rng.binomial(np.round(part.data).astype(np.int64), np.repeat(share, np.diff(part.indptr)))
        part.data = part.data.astype(np.float32)
        part.eliminate_zeros()
        piece = ad.AnnData(X=part, obs=adata.obs.copy(), var=adata.var[[]].copy())
        piece.obs_names = [f"{c}-thin{k}" for c in adata.obs_names]
        parts.append(piece)
    return ad.concat(parts, merge="first")


def depth_matched(reference, query, seed: int = 0):
    """``(reference, fraction)``: the reference thinned to the query's median counts per cell when it is deeper.

    The fraction is the ratio of the two medians (counts over the genes both have), capped at 1; a reference no
    deeper than the query, or either side without raw counts, is returned as it is (fraction 1.0).
    """
    ref_counts, _ = counts_source(reference)
    qry_counts, _ = counts_source(query)
    if ref_counts is None or qry_counts is None:
        return reference, 1.0
    shared = reference.var_names.intersection(query.var_names)
    if not len(shared):
        return reference, 1.0
    ref_depth = np.median(np.asarray(ref_counts[:, reference.var_names.get_indexer(shared)].sum(axis=1)).ravel())
    qry_depth = np.median(np.asarray(qry_counts[:, query.var_names.get_indexer(shared)].sum(axis=1)).ravel())
    fraction = float(min(1.0, qry_depth / max(ref_depth, 1e-9)))
    if fraction >= 0.95:
        return reference, 1.0
    return thinned(reference, fraction, seed), fraction
