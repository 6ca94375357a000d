"""scanpy-shaped plots of the results stored by :mod:`omicsgat.tl`: AnnData and a key in, a Figure out.

Each function accepts ``ax=`` (draw into an existing Axes) and returns the
matplotlib Figure; nothing goes through pyplot's global state.
"""

from __future__ import annotations

from typing import Optional

import numpy as np
import pandas as pd

from omicsgat.anndata_keys import stored_table
from omicsgat.errors import OmicsInputError
from omicsgat.pl.embedding import plot_embedding, stored_palette
from omicsgat.pl.network import plot_network
from omicsgat.pl.ranking import plot_ranking

GRN_KEY = "omicsgat_grn"
CELLTYPE_KEY = "omicsgat_celltype"


def _basis(adata, basis: Optional[str]) -> str:
    if basis is not None:
        key = basis if basis in adata.obsm else f"X_{basis}"
        if key not in adata.obsm:
            raise OmicsInputError(f"No embedding {basis!r} in obsm (there: {', '.join(adata.obsm.keys()) or 'none'}).")
        return key
    for key in ("X_umap", "X_tsne", "X_pca"):
        if key in adata.obsm:
            return key
    raise OmicsInputError(
        "No embedding in obsm (X_umap, X_tsne or X_pca): compute one first, e.g. sc.pp.pca(adata) "
        "or sc.tl.umap(adata), or pass basis=."
    )


def _scatter(adata, values: pd.Series, basis: Optional[str], title: str, ax, palette=None, cmap="viridis"):
    key = _basis(adata, basis)
    name = key.removeprefix("X_").upper()
    return plot_embedding(
        np.asarray(adata.obsm[key])[:, :2],
        values,
        ax=ax,
        title=title,
        xlabel=f"{name}1",
        ylabel=f"{name}2",
        palette=palette,
        cmap=cmap,
    )


def celltype(adata, key: str = CELLTYPE_KEY, basis: Optional[str] = None, ax=None):
    """Cells on an embedding coloured by the types in ``obs[key]``, in the colours of ``uns[f"{key}_colors"]``."""
    if key not in adata.obs:
        raise OmicsInputError(f"No obs[{key!r}]: run omicsgat.tl.celltype first (or pass the key it used as key=).")
    return _scatter(adata, adata.obs[key].astype(str), basis, key, ax, palette=stored_palette(adata, key))


def celltype_markers(adata, cell_type: str, key: str = CELLTYPE_KEY, n: int = 20, ax=None):
    """Bar plot of the top ``n`` marker genes of ``cell_type`` from ``uns[f"{key}_markers"]``."""
    store = adata.uns.get(f"{key}_markers")
    if store is None:
        raise OmicsInputError(f"No uns[{key + '_markers'!r}]: run omicsgat.tl.celltype first (or pass its key=).")
    groups = list(store["names"].dtype.names)
    if cell_type not in groups:
        raise OmicsInputError(f"No cell type {cell_type!r} in the markers; the types are {', '.join(groups)}.")
    frame = pd.DataFrame(
        {
            "gene": np.asarray(store["names"][cell_type]).astype(str),
            "score": np.asarray(store["scores"][cell_type], dtype=float),
        }
    )
    return plot_ranking(frame, "gene", "score", n=n, ax=ax, title=f"Markers of {cell_type}")


def _grn_edges(adata, key: str) -> pd.DataFrame:
    return stored_table(adata, "grn", key, "edges")


def grn_network(adata, key: str = GRN_KEY, n_edges: int = 50, ax=None):
    """The top ``n_edges`` edges of the GRN stored under ``key`` (regulators as squares, red activating, blue repressing)."""
    edges = _grn_edges(adata, key)
    hubs = stored_table(adata, "grn", key, "hubs")
    regulators = hubs.loc[hubs["is_regulator"].astype(bool), "gene"].astype(str).tolist()
    return plot_network(edges, n_edges=n_edges, ax=ax, regulators=regulators)


def grn_hubs(adata, key: str = GRN_KEY, n: int = 20, ax=None):
    """The ``n`` regulators with the highest hub score of the GRN stored under ``key``."""
    hubs = stored_table(adata, "grn", key, "hubs")
    return plot_ranking(hubs, "gene", "hub_score", n=n, ax=ax, title="Hub regulators")


def tf_activity(adata, regulator: str, key: str = GRN_KEY, basis: Optional[str] = None, ax=None):
    """Cells on an embedding coloured by a regulator's activity (``obsm[f"{key}_activity"]``, decoupler ulm)."""
    scores = activity_frame(adata, key)
    if regulator not in scores.columns:
        shown = ", ".join(list(scores.columns)[:10])
        raise OmicsInputError(
            f"No activity for {regulator!r}; regulators with an activity: {shown}"
            + (" ..." if scores.shape[1] > 10 else "")
            + "."
        )
    return _scatter(adata, scores[regulator].reset_index(drop=True), basis, f"{regulator} activity", ax, cmap="RdBu_r")


def activity_frame(adata, key: str = GRN_KEY) -> pd.DataFrame:
    """``obsm[f"{key}_activity"]`` as a DataFrame (cells x regulators)."""
    store = adata.obsm.get(f"{key}_activity") if hasattr(adata.obsm, "get") else None
    if store is None:
        raise OmicsInputError(f"No obsm[{key + '_activity'!r}]: run omicsgat.tl.grn(adata, activity=True) first.")
    if isinstance(store, pd.DataFrame):
        return store
    raise OmicsInputError(f"obsm[{key + '_activity'!r}] is not a table of regulators (it has no column names).")
