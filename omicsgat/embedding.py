"""A 2-D embedding for viewing data that ships without one (the GUI's data panel)."""

from __future__ import annotations

import numpy as np

from omicsgat.errors import OmicsInputError
from omicsgat.pp import log_normalized
from omicsgat.progress import as_progress


def pca_embedding(adata, n_comps: int = 2, *, seed: int = 0, progress=None, cancel=None) -> np.ndarray:
    """PCA (scanpy) of the log-normalized data: an ``n_cells x n_comps`` float32 array.

    The caller's AnnData is not modified (:func:`omicsgat.pp.log_normalized` copies).
    """
    import scanpy as sc

    step = as_progress(progress, cancel)
    if adata.n_obs < 3 or adata.n_vars < 2:
        raise OmicsInputError(
            f"A PCA needs at least 3 cells and 2 genes; this data has {adata.n_obs} x {adata.n_vars}."
        )
    step(0.0, "Normalizing")
    work = log_normalized(adata)
    step(0.4, "PCA")
    n = int(min(n_comps, adata.n_obs - 1, adata.n_vars - 1))
    sc.pp.pca(work, n_comps=n, random_state=seed)
    step(1.0, "PCA done")
    return np.asarray(work.obsm["X_pca"], dtype=np.float32)
