"""scanpy-shaped entry points: AnnData in, results under ``key_added``, ``copy=`` like scanpy.

    import omicsgat as og
    og.tl.grn(adata, regulators="human")            # uns["omicsgat"]["grn"], obsm["omicsgat_grn_activity"]
    og.tl.celltype(adata, "cell_type", reference=ref)  # obs["omicsgat_celltype"], ...
    og.pl.celltype(adata); sc.pl.umap(adata, color="omicsgat_celltype")

They wrap :func:`omicsgat.grn.infer_grn` and :func:`omicsgat.celltype.annotate_cells`
(which stay the entry points that return the Result objects) and write with
the Results' own ``write_to``; an existing key that OmicsGAT did not write is
never overwritten (the error names ``key_added``).
"""

from __future__ import annotations

from typing import Optional

from omicsgat.config import CellTypeConfig

_CT = CellTypeConfig()
GRN_KEY = "omicsgat_grn"
CELLTYPE_KEY = "omicsgat_celltype"


def grn(
    adata,
    *,
    key_added: str = GRN_KEY,
    copy: bool = False,
    activity: bool = True,
    activity_edges: Optional[int] = None,
    activity_tmin: int = 3,
    gene_symbols: Optional[str] = None,
    **kwargs,
):
    """Infer a GRN (``omicsgat.grn.infer_grn``; its keyword arguments pass through) and store it.

    Writes ``uns["omicsgat"]["grn"]`` (``uns["omicsgat"][key_added]`` for another key; ``edges``,
    ``hubs``, ``network`` in decoupler's
    source/target/weight layout, ``params`` as JSON, ``device``) and, with
    ``activity``, the regulon activity per cell (decoupler's ulm over the top
    ``activity_edges`` edges, default 3 x genes; regulators with at least
    ``activity_tmin`` targets) in ``obsm[f"{key_added}_activity"]``.
    Returns the AnnData when ``copy`` is true, else None (``adata`` is updated).
    """
    from omicsgat.grn import infer_grn

    adata = adata.copy() if copy else adata
    result = infer_grn(adata, gene_symbols=gene_symbols, **kwargs)
    scores = result.activity(adata, n_edges=activity_edges, tmin=activity_tmin) if activity else None
    result.write_to(adata, key_added=key_added, activity=scores)
    return adata if copy else None


def celltype(
    adata,
    label_key: str,
    reference=None,
    *,
    key_added: str = CELLTYPE_KEY,
    copy: bool = False,
    gene_symbols: Optional[str] = None,
    reference_gene_symbols: Optional[str] = None,
    unknown_threshold: Optional[float] = _CT.unknown_threshold,
    epochs: int = _CT.epochs,
    max_genes: int = _CT.max_genes,
    n_pcs: int = _CT.n_pcs,
    n_neighbors: int = _CT.n_neighbors,
    novelty: bool = _CT.novelty,
    unknown_rule: str = _CT.unknown_rule,
    novelty_alpha: float = _CT.novelty_alpha,
    graph: bool = _CT.graph,
    holdout=None,
    device="auto",
    seed: int = _CT.seed,
    progress=None,
    cancel=None,
):
    """Predict cell types (``omicsgat.celltype.annotate_cells``, whose settings these are) and store them.

    Writes ``obs[key_added]`` (types + Unknown, with ``uns[f"{key_added}_colors"]``),
    the confidence (``obs["omicsgat_confidence"]``, or ``obs[f"{key_added}_confidence"]``
    for another key), ``obsm[f"{key_added}_proba"]``, the markers in scanpy's
    ``rank_genes_groups`` layout in ``uns[f"{key_added}_markers"]`` (use
    ``sc.pl.rank_genes_groups(adata, key=...)``), and the run in ``uns["omicsgat"]["celltype"]``.
    """
    from omicsgat.celltype import annotate_cells

    adata = adata.copy() if copy else adata
    result = annotate_cells(
        adata,
        label_key,
        reference,
        gene_symbols=gene_symbols,
        reference_gene_symbols=reference_gene_symbols,
        unknown_threshold=unknown_threshold,
        epochs=epochs,
        max_genes=max_genes,
        n_pcs=n_pcs,
        n_neighbors=n_neighbors,
        novelty=novelty,
        unknown_rule=unknown_rule,
        novelty_alpha=novelty_alpha,
        graph=graph,
        holdout=holdout,
        device=device,
        seed=seed,
        progress=progress,
        cancel=cancel,
    )
    result.write_to(adata, key_added=key_added)
    return adata if copy else None
