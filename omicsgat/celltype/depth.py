"""Sequencing depth: binomial thinning of raw counts, and how a reference is made to fit a query's depth.

Each UMI of a cell is kept with probability ``fraction``, independently: the
counts a shallower run of the same library would give. The benchmark thins a
query to see whether labels, confidence and Unknown hold at lower depth;
:func:`thinned_copies` adds thinned copies of reference cells so that a model
sees shallow cells of every type while it trains; :func:`depth_matched` thins
a deeper reference cell by cell so that its depths follow the query's. :func:`reference_for_query_depth`
chooses between them from the data (the ratio of the two median depths over
the genes both have) and says why.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

from omicsgat.config import DEPTH_MODES
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


def _thinned_rows(counts, share: np.ndarray, rng: np.random.Generator):
    """A CSR copy of ``counts`` whose row *i* keeps each count with probability ``share[i]``."""
    import scipy.sparse as sp

    out = sp.csr_matrix(counts, dtype=np.float32, copy=True)
    kept = rng.binomial(np.round(out.data).astype(np.int64), np.repeat(share, np.diff(out.indptr)))
    out.data = kept.astype(np.float32)
    out.eliminate_zeros()
    return out


def _raw_counts(adata):
    """``adata``'s raw counts (``layers["counts"]``, else ``X``), or a clear error when it holds none."""
    counts, _ = counts_source(adata)
    if counts is None:
        raise OmicsInputError("Thinning needs raw counts in X or layers['counts']; this data set holds neither.")
    return counts


def thinned(adata, fraction: float, seed: int = 0):
    """A copy of ``adata`` whose counts (``layers["counts"]``, else ``X``) are thinned; other layers dropped."""
    import anndata as ad

    return ad.AnnData(X=thin_counts(_raw_counts(adata), fraction, seed), obs=adata.obs.copy(), var=adata.var.copy())


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
    parts = [ad.AnnData(X=counts, obs=adata.obs.copy(), var=adata.var.copy())]
    for k in range(copies):
        share = rng.uniform(low, high, size=adata.n_obs).astype(np.float32)
        piece = ad.AnnData(X=_thinned_rows(counts, share, rng), obs=adata.obs.copy(), var=adata.var.copy())
        piece.obs_names = [f"{c}-thin{k}" for c in adata.obs_names]
        parts.append(piece)
    return ad.concat(parts, merge="same")


def shared_depths(
    reference, query, reference_gene_symbols: Optional[str] = None, query_gene_symbols: Optional[str] = None
) -> Optional[tuple[np.ndarray, np.ndarray]]:
    """``(reference, query)`` counts per cell over the genes both have (matched by symbol); None when either side
    has no raw counts or they share no gene."""
    from omicsgat.io.genes import gene_ids

    ref_counts, _ = counts_source(reference)
    qry_counts, _ = counts_source(query)
    if ref_counts is None or qry_counts is None:
        return None
    ref_symbols = gene_ids(reference, reference_gene_symbols, "the reference").symbols
    qry_symbols = gene_ids(query, query_gene_symbols, "the query").symbols
    shared = ref_symbols.intersection(qry_symbols)
    if not len(shared):
        return None

    def per_cell(counts, symbols) -> np.ndarray:
        cols = np.flatnonzero(symbols.isin(shared))
        return np.asarray(counts[:, cols].sum(axis=1), dtype=np.float64).ravel()

    return per_cell(ref_counts, ref_symbols), per_cell(qry_counts, qry_symbols)


def depth_ratio(
    reference, query, reference_gene_symbols: Optional[str] = None, query_gene_symbols: Optional[str] = None
) -> Optional[tuple[float, float, float]]:
    """``(query median / reference median, reference median, query median)`` of counts per cell over the genes
    both have (matched by symbol); None when either side has no raw counts or they share no gene."""
    found = shared_depths(reference, query, reference_gene_symbols, query_gene_symbols)
    if found is None:
        return None
    ref_depth, qry_depth = float(np.median(found[0])), float(np.median(found[1]))
    return qry_depth / max(ref_depth, 1e-9), ref_depth, qry_depth


def thinned_to_depths(adata, depths: np.ndarray, targets: np.ndarray, seed: int = 0):
    """A copy of ``adata`` whose cell *i* keeps a share ``targets[i] / depths[i]`` (at most 1) of its counts.

    Thinning every cell by one factor gives the reference the query's median depth but keeps the reference's
    own spread around it; a target per cell gives it the query's spread as well.
    """
    import anndata as ad

    share = np.clip(np.asarray(targets, float) / np.maximum(np.asarray(depths, float), 1.0), 0.0, 1.0)
    out = _thinned_rows(_raw_counts(adata), share, np.random.default_rng(seed))
    return ad.AnnData(X=out, obs=adata.obs.copy(), var=adata.var.copy())


def depth_matched(
    reference,
    query,
    seed: int = 0,
    reference_gene_symbols: Optional[str] = None,
    query_gene_symbols: Optional[str] = None,
    augment: bool = False,
):
    """``(reference, fraction)``: a deeper reference thinned cell by cell to the query's depths.

    Each reference cell keeps a share of its counts that brings it to the depth of a query cell drawn at random
    (counts over the genes both have; never more than it has), so the reference's depths follow the query's
    distribution, not only its median. ``fraction`` is the median share kept. A reference no deeper than the
    query (median ratio ``MATCH_BELOW`` or more), or either side without raw counts, is returned as it is (1.0).
    ``augment``: every cell also gets one copy (named ``-thin0``) at another drawn query depth times a share from
    ``AUGMENT_SHARES``, a second independent draw, so each reference cell is seen at two depths.
    """
    import anndata as ad

    found = shared_depths(reference, query, reference_gene_symbols, query_gene_symbols)
    if found is None:
        return reference, 1.0
    ref_depths, qry_depths = found
    if np.median(qry_depths) / max(float(np.median(ref_depths)), 1e-9) >= MATCH_BELOW:
        return reference, 1.0
    rng = np.random.default_rng(seed)
    targets = rng.choice(qry_depths, size=len(ref_depths))
    fraction = float(np.median(np.clip(targets / np.maximum(ref_depths, 1.0), 0.0, 1.0)))
    matched = thinned_to_depths(reference, ref_depths, targets, seed=seed + 1)
    if not augment:
        return matched, fraction
    lower = rng.choice(qry_depths, size=len(ref_depths)) * rng.uniform(*AUGMENT_SHARES, size=len(ref_depths))
    copy = thinned_to_depths(reference, ref_depths, lower, seed=seed + 2)
    copy.obs_names = [f"{c}-thin0" for c in reference.obs_names]
    return ad.concat([matched, copy], merge="same"), fraction


MATCH_BELOW = 0.95  # a reference is "deeper" when the query has less than this share of its median counts
AUGMENT_SHARES = (0.1, 0.5)  # each augmented copy keeps a share of a cell's counts drawn from this range


@dataclass
class DepthChoice:
    """What was done to the reference's depth, and the evidence it was decided on."""

    mode: str  # none, match, augment or match+augment
    ratio: Optional[float]  # query median / reference median counts per cell over the shared genes
    reference_median: Optional[float]
    query_median: Optional[float]
    fraction: float  # median share of counts a reference cell kept (1.0: not thinned)
    reason: str

    def params(self) -> dict:
        return {
            "depth_handling": self.mode,
            "depth_ratio": self.ratio,
            "reference_median_counts": self.reference_median,
            "query_median_counts": self.query_median,
            "reference_thinned_to": self.fraction,
            "depth_reason": self.reason,
        }

    def describe(self) -> str:
        return f"depth: {self.mode} ({self.reason})"


def reference_for_query_depth(
    reference,
    query,
    mode: str = "auto",
    *,
    cross_species: bool = False,
    seed: int = 0,
    reference_gene_symbols: Optional[str] = None,
    query_gene_symbols: Optional[str] = None,
):
    """``(reference, DepthChoice)``: the reference made to fit the query's sequencing depth.

    ``auto`` decides from the ratio of median counts per cell over the genes both have: a reference deeper than
    the query (ratio below ``MATCH_BELOW``) is thinned cell by cell to the query's depths
    (:func:`depth_matched`), and every cell gets one more copy at another query cell's depth times a share from
    ``AUGMENT_SHARES``, so the model also sees cells shallower than the query's; a reference no deeper than the
    query is kept, with the thinned copies only across species (the reference's cells then cover the other
    species' spread of depths and capture poorly). Without raw counts on both sides nothing can be thinned
    honestly and the reference is kept as it is.
    """
    from omicsgat.errors import OmicsInputError

    if mode not in DEPTH_MODES:
        raise OmicsInputError(f"depth must be one of {', '.join(DEPTH_MODES)} (got {mode!r}).")
    found = depth_ratio(reference, query, reference_gene_symbols, query_gene_symbols)
    ratio, ref_med, qry_med = (None, None, None) if found is None else found
    if found is None:
        if mode not in ("auto", "none"):
            raise OmicsInputError(
                f"depth={mode!r} thins the reference's raw counts, but the reference or the query holds no raw "
                "counts (X or layers['counts']) over shared genes; use depth='none' or give raw counts."
            )
        return reference, DepthChoice("none", None, None, None, 1.0, "no raw counts on both sides to compare")
    deeper = ratio < MATCH_BELOW
    if mode == "auto":
        mode = "match+augment" if deeper else "augment" if cross_species else "none"
        how = f"query/reference median counts {ratio:.2f}"
        reason = (
            f"{how}: reference deeper, each cell thinned to a query cell's depth, plus thinned copies"
            if deeper
            else f"{how}: across species, thinned copies of the reference"
            if cross_species
            else f"{how}: reference no deeper than the query, kept"
        )
    else:
        reason = f"asked (query/reference median counts {ratio:.2f})"
    fraction = 1.0
    if "match" in mode and deeper:
        reference, fraction = depth_matched(
            reference, query, seed, reference_gene_symbols, query_gene_symbols, augment="augment" in mode
        )
    elif "augment" in mode:
        reference = thinned_copies(reference, 1, AUGMENT_SHARES, seed=seed)
    return reference, DepthChoice(mode, float(ratio), ref_med, qry_med, fraction, reason)
