"""Preprocessing shared by the analyses (scanpy does the work).

The analyses want log-normalized expression. Users hand us raw counts,
log-normalized values or scaled values in ``X``, sometimes with raw counts in
``layers["counts"]`` or ``raw``. :func:`detect_x_kind` says which, and
:func:`log_normalized` returns a new AnnData with log-normalized ``X``
without touching the caller's object.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from omicsgat.errors import OmicsInputError

XKind = Literal["counts", "log-normalized", "scaled", "unknown"]


def _sample_values(X, n: int = 200_000) -> np.ndarray:
    import scipy.sparse as sp

    if sp.issparse(X):
        data = X.data if hasattr(X, "data") else X.tocsr().data
        total = X.shape[0] * X.shape[1]
        vals = np.asarray(data[:n], dtype=np.float64)
        n_zero = int(min(n, total - X.nnz) * (len(vals) / max(1, min(n, X.nnz))))
        return np.concatenate([vals, np.zeros(max(0, n_zero))])
    arr = np.asarray(X[: max(1, n // max(1, X.shape[1]) + 1)], dtype=np.float64)
    return arr.ravel()[:n]


def detect_x_kind(X) -> XKind:
    """Guess what a matrix holds from its values.

    ``counts``: non-negative integers. ``log-normalized``: non-negative,
    non-integer, max below ~50 (log1p of normalized counts). ``scaled``: has
    negative values (z-scores after ``sc.pp.scale``). Otherwise ``unknown``.
    """
    vals = _sample_values(X)
    vals = vals[np.isfinite(vals)]
    if vals.size == 0:
        return "unknown"
    if (vals < 0).any():
        return "scaled"
    if np.allclose(vals, np.round(vals)):
        return "counts"
    if vals.max() < 50:
        return "log-normalized"
    return "unknown"


def counts_source(adata) -> tuple[object, str]:
    """Return (matrix of raw counts or None, where it came from)."""
    if "counts" in adata.layers and detect_x_kind(adata.layers["counts"]) == "counts":
        return adata.layers["counts"], 'layers["counts"]'
    if detect_x_kind(adata.X) == "counts":
        return adata.X, "X"
    return None, ""


def log_normalized(adata, target_sum: float = 1e4):
    """A new AnnData (same obs/var) whose ``X`` is log1p(normalized counts), float32.

    Uses ``layers["counts"]``, count-valued ``X`` or count-valued ``.raw``
    (normalized over all its genes) when available; keeps
    log-normalized ``X`` as is; accepts scaled ``X`` as is (the kind is
    recorded in ``uns["omicsgat_x_kind"]``). NaN/Inf or negative counts are
    an :class:`OmicsInputError`.
    """
    import anndata as ad
    import scanpy as sc
    import scipy.sparse as sp

    counts, where = counts_source(adata)
    raw = getattr(adata, "raw", None)
    if (
        counts is None
        and raw is not None
        and detect_x_kind(raw.X) == "counts"
        and adata.var_names.isin(raw.var_names).all()
    ):
        # CELLxGENE and many atlases: log-normalized X, raw counts (of the same or more genes) in .raw
        full = ad.AnnData(
            X=sp.csr_matrix(raw.X, dtype=np.float32) if sp.issparse(raw.X) else np.array(raw.X, dtype=np.float32),
            obs=adata.obs[[]].copy(),
            var=raw.var[[]].copy(),
        )
        sc.pp.normalize_total(full, target_sum=target_sum)
        sc.pp.log1p(full)
        out = full[:, adata.var_names].copy() if list(full.var_names) != list(adata.var_names) else full
        out.var = adata.var[[]].copy()
        out.uns["omicsgat_x_kind"] = "counts (from raw), log-normalized here"
        return out
    if counts is not None:
        X = counts.copy() if not sp.issparse(counts) else counts.tocsr(copy=True)
        out = ad.AnnData(X=X.astype(np.float32), obs=adata.obs[[]].copy(), var=adata.var[[]].copy())
        sc.pp.normalize_total(out, target_sum=target_sum)
        sc.pp.log1p(out)
        kind = f"counts (from {where}), log-normalized here"
    else:
        X = adata.X
        X = X.tocsr(copy=True) if sp.issparse(X) else np.array(X, dtype=np.float32, copy=True)
        out = ad.AnnData(X=X.astype(np.float32), obs=adata.obs[[]].copy(), var=adata.var[[]].copy())
        kind = detect_x_kind(adata.X)
    data = out.X.data if sp.issparse(out.X) else out.X
    if not np.isfinite(data).all():
        raise OmicsInputError("The expression matrix holds NaN or infinite values; remove or impute them first.")
    out.uns["omicsgat_x_kind"] = kind
    return out
