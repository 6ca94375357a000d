"""Shared preprocessing for cell typing: labels, gene matching, normalization, PCA, kNN graph.

Within one data set the labelled and unlabelled cells are already on one scale.
For reference -> query the genes are matched by name, each data set is
log-normalized on its own, the model's genes are the reference's most variable
among those both files have, and the query is mapped onto the reference
(:mod:`omicsgat.celltype.mapping`), so one PCA and one kNN graph span both.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import numpy as np
import pandas as pd

from omicsgat.celltype.mapping import knn_graph, map_query
from omicsgat.errors import OmicsInputError
from omicsgat.io.genes import match_genes, symbol_view
from omicsgat.pp import detect_x_kind, log_normalized

MIN_SHARED_GENES = 50
MIN_SHARED_FRACTION = 0.10
MIN_SEPARATION = 0.5  # shared genes must take the reference's out-of-fold balanced accuracy halfway from chance to 1
CLIP = 10.0


@dataclass
class Prepared:
    """What the model and the Unknown calls need, for every cell (reference first)."""

    z: np.ndarray  # cells x genes, standardized log expression, the query mapped onto the reference (float32)
    genes: list
    cells: pd.Index  # names of all cells (reference cells first when there is a reference)
    y: np.ndarray  # class index per cell, -1 where unlabelled
    classes: list
    is_query: np.ndarray  # bool: the cells to predict
    pca: np.ndarray  # cells x n_pcs
    indptr: np.ndarray  # CSR kNN adjacency (symmetric, no self loops)
    indices: np.ndarray
    info: dict = field(default_factory=dict)
    gene_ids: dict = field(default_factory=dict)  # symbol -> the data's own ID, when genes were renamed
    aligned: np.ndarray | None = None  # cells x PCs: the mapped query in the reference's PCA (the mapping test)

    @property
    def n_cells(self) -> int:
        return self.z.shape[0]


def _missing(values: pd.Series) -> np.ndarray:
    s = values.astype(object)
    return (s.isna() | s.astype(str).str.strip().isin(["", "nan", "NaN", "None", "NA"])).to_numpy()


def read_labels(adata, label_key: str, where: str = "the data") -> tuple[pd.Series, np.ndarray]:
    """The label column as strings and a mask of missing labels; clear errors otherwise."""
    if label_key not in adata.obs.columns:
        cols = ", ".join(map(str, adata.obs.columns)) or "(none)"
        raise OmicsInputError(f"The label column {label_key!r} is not in obs of {where}; available columns: {cols}.")
    raw = adata.obs[label_key]
    missing = _missing(raw)
    labels = raw.astype(object).where(~missing, None).map(lambda v: None if v is None else str(v).strip())
    return labels, missing


def _expression(adata):
    """Log-normalized AnnData; a scaled X with a log-normalized ``.raw`` uses ``.raw``."""
    import anndata as ad

    if (
        detect_x_kind(adata.X) == "scaled"
        and adata.raw is not None
        and detect_x_kind(adata.raw.X) in ("log-normalized", "counts")
    ):
        raw = ad.AnnData(X=adata.raw.X, obs=adata.obs[[]], var=adata.raw.var[[]])
        return log_normalized(raw), "raw"
    return log_normalized(adata), "X"


def _renamed(expr, names):
    """A copy of ``expr`` (an AnnData of expression values) with var_names replaced by ``names``."""
    import anndata as ad

    return ad.AnnData(X=expr.X, obs=expr.obs[[]], var=pd.DataFrame(index=pd.Index(list(names), dtype=object)))


def _dense(X) -> np.ndarray:
    import scipy.sparse as sp

    return np.asarray(X.toarray() if sp.issparse(X) else X, dtype=np.float32)


def _standardize(X) -> np.ndarray:
    """Per-gene z-score within one data set, clipped; constant genes become 0."""
    X = _dense(X)
    mean = X.mean(axis=0)
    # a block of genes at a time: X.std makes a temporary as large as X (400 MB at 50,000 cells x 2,000
    # genes); the column sums are the same either way
    sd = np.concatenate([X[:, s : s + 256].std(axis=0) for s in range(0, X.shape[1], 256)])
    sd[sd == 0] = 1.0
    X -= mean
    X /= sd
    np.clip(X, -CLIP, CLIP, out=X)
    return X


def _select_genes(expr, max_genes: int) -> list:
    """All genes when few; else the most variable ones (scanpy's Seurat flavour)."""
    import scanpy as sc

    if expr.n_vars <= max_genes:
        return list(expr.var_names)
    tmp = expr.copy()
    sc.pp.highly_variable_genes(tmp, n_top_genes=max_genes, flavor="seurat")
    return list(tmp.var_names[tmp.var["highly_variable"].to_numpy()])


def _check_genes(adata, where: str) -> None:
    if adata.n_obs == 0 or adata.n_vars == 0:
        raise OmicsInputError(f"{where} is empty ({adata.n_obs} cells x {adata.n_vars} genes).")
    if not adata.var_names.is_unique:
        dup = adata.var_names[adata.var_names.duplicated()][:5].tolist()
        raise OmicsInputError(
            f"{where} has duplicated gene names (e.g. {dup}); make them unique (adata.var_names_make_unique())."
        )
    if not adata.obs_names.is_unique:
        dup = adata.obs_names[adata.obs_names.duplicated()][:5].tolist()
        raise OmicsInputError(
            f"{where} has duplicated cell names (e.g. {dup}); make them unique (adata.obs_names_make_unique())."
        )


def check_shared_genes_separate(
    ref_z: np.ndarray, y: np.ndarray, n_shared: int, n_reference: int, seed: int, info: dict, max_cells: int = 3000
) -> float:
    """Refuse a reference/query pair whose shared genes cannot tell the reference's types apart.

    Another lab's file often holds fewer or other genes (a reduced matrix, a targeted panel); what matters is
    not how many of the reference's genes are missing but whether the genes both files have still separate
    the reference's types. Measured as the balanced accuracy of a 3-fold logistic regression on the reference
    alone, restricted to the genes the model will use (a stratified subsample of ``max_cells`` cells).
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    rng = np.random.default_rng([seed, 104729])
    rows = np.arange(len(y))
    if len(rows) > max_cells:
        take = {c: max(3, int(max_cells * np.mean(y == c))) for c in np.unique(y)}
        rows = np.sort(np.concatenate([rng.permutation(np.flatnonzero(y == c))[:n] for c, n in take.items()]))
    yy = y[rows]
    counts = np.bincount(yy)
    folds = int(min(3, counts[counts > 0].min()))
    if folds < 2:
        return float("nan")
    clf = LogisticRegression(max_iter=300, C=0.1, class_weight="balanced")
    pred = cross_val_predict(clf, ref_z[rows], yy, cv=StratifiedKFold(folds, shuffle=True, random_state=seed))
    present = np.unique(yy)
    accuracy = float(np.mean([np.mean(pred[yy == c] == c) for c in present]))
    chance = 1.0 / len(present)
    needed = chance + MIN_SEPARATION * (1.0 - chance)
    info.update(shared_genes_reference_accuracy=accuracy, shared_genes_accuracy_needed=needed)
    if accuracy < needed:
        raise OmicsInputError(
            f"The {n_shared} genes the reference ({n_reference} genes) and the query share cannot tell the reference's "
            f"{len(present)} types apart: on the reference alone, a classifier on them reaches a balanced accuracy of "
            f"{accuracy:.0%} out of fold (at least {needed:.0%} needed; chance {chance:.0%}). Use a query with more "
            "genes (not only its own highly variable genes), or a reference measured on a similar gene panel."
        )
    return accuracy


def _pca(z: np.ndarray, n_pcs: int, seed: int) -> np.ndarray:
    from sklearn.decomposition import PCA

    n = int(min(n_pcs, z.shape[0] - 1, z.shape[1]))
    solver = "randomized" if min(z.shape) > 500 else "full"
    return PCA(n_components=n, svd_solver=solver, random_state=seed).fit_transform(z).astype(np.float32)


def _classes(labels: pd.Series, known: np.ndarray, where: str, label_key: str) -> list:
    present = labels[known]
    if present.empty:
        raise OmicsInputError(
            f"No cell in {where} has a label in obs[{label_key!r}]: label at least two cell types "
            "(or pass a labelled reference)."
        )
    classes = sorted(present.unique().tolist())
    if len(classes) < 2:
        raise OmicsInputError(
            f"obs[{label_key!r}] of {where} holds a single cell type ({classes[0]!r}); "
            "cell typing needs at least two labelled types."
        )
    return classes


def prepare(
    adata,
    label_key: str,
    reference=None,
    *,
    max_genes: int = 2000,
    n_pcs: int = 50,
    n_neighbors: int = 15,
    seed: int = 0,
    gene_symbols: Optional[str] = None,
    reference_gene_symbols: Optional[str] = None,
    all_labelled_ok: bool = False,
) -> Prepared:
    """Labels, matched genes, standardized expression, PCA and the (joint) kNN graph.

    Genes are named by symbol (``gene_symbols``: the var column, automatic when
    unambiguous); a reference and a query are matched by the identifier they
    share best (see :func:`omicsgat.io.genes.match_genes`), reported in ``info``.
    ``all_labelled_ok``: within one data set, every cell may be labelled (out-of-fold prediction predicts them).
    """
    info: dict = {}
    gene_ids: dict = {}
    if reference is None:
        adata, ids = symbol_view(adata, gene_symbols)
        if ids.symbol_column is not None:
            gene_ids = dict(zip(adata.var_names, adata.var["gene_id"]))
            info["gene_symbols"] = ids.symbol_column
        _check_genes(adata, "the data")
        labels, missing = read_labels(adata, label_key)
        classes = _classes(labels, ~missing, "the data", label_key)
        if not missing.any() and not all_labelled_ok:
            raise OmicsInputError(
                f"Every cell has a label in obs[{label_key!r}], so there is nothing to predict: "
                "check the labels out of fold (holdout=5, --holdout 5, or 'Out-of-fold check' in the app), "
                "leave the labels of the cells to predict empty, or pass them as the query with a labelled reference."
            )
        expr, source = _expression(adata)
        info["expression_source"] = source
        genes = _select_genes(expr, max_genes)
        z = _standardize(expr[:, genes].X)
        cells = adata.obs_names.copy()
        lab = labels.to_numpy()
        is_query = missing.copy()
    else:
        _check_genes(reference, "the reference")
        _check_genes(adata, "the query")
        labels, missing = read_labels(reference, label_key, "the reference")
        classes = _classes(labels, ~missing, "the reference", label_key)
        match = match_genes(reference, adata, reference_gene_symbols, gene_symbols)
        n_shared = len(match.symbols)
        smaller = min(reference.n_vars, adata.n_vars)
        info.update(
            n_shared_genes=n_shared,
            n_reference_genes=reference.n_vars,
            n_query_genes=adata.n_vars,
            gene_match_route=match.route,
            **{f"n_genes_matched_by_{r}": n for r, n in match.counts.items()},
        )
        if n_shared < MIN_SHARED_GENES or n_shared < MIN_SHARED_FRACTION * smaller:
            routes = "; ".join(f"{n} by {r}" for r, n in match.counts.items())
            raise OmicsInputError(
                f"The reference and the query share {n_shared} gene names (matched {routes}; reference {reference.n_vars}, "
                f"query {adata.n_vars}); at least {MIN_SHARED_GENES} and {MIN_SHARED_FRACTION:.0%} of the smaller "
                "gene set are needed. Check that both are of one species, and when they use different gene identifiers "
                "(symbols vs Ensembl IDs) name the gene-symbol column of each (--gene-symbols / --reference-gene-symbols)."
            )
        ref_expr, ref_src = _expression(reference[~missing])
        qry_expr, qry_src = _expression(adata)
        info.update(expression_source=ref_src, query_expression_source=qry_src)
        overlap = int(reference.obs_names[~missing].isin(adata.obs_names).sum())
        info["n_query_cells_in_reference"] = overlap  # > 0: some query cells were trained on (same cell names)
        # the shared genes in reference order, named by symbol on both sides
        ref_expr = _renamed(ref_expr[:, match.reference_names], match.symbols)
        qry_expr = _renamed(qry_expr[:, match.query_names], match.symbols)
        gene_ids = dict(zip(match.symbols, match.query_names))
        # the most variable genes of the reference among those both files have
        genes = _select_genes(ref_expr, max_genes)
        # the query placed in the reference's scale before the network or any Unknown test sees it
        mapped = map_query(
            _dense(ref_expr[:, genes].X),
            _dense(qry_expr[:, genes].X),
            n_pcs=min(30, n_pcs, max(2, len(classes))),
            seed=seed,
        )
        z = np.vstack([mapped.ref_z, mapped.query_z])
        index = {c: i for i, c in enumerate(classes)}
        ref_y = np.array([index[v] for v in labels.to_numpy()[~missing]], dtype=np.int64)
        check_shared_genes_separate(mapped.ref_z, ref_y, n_shared, reference.n_vars, seed, info)
        aligned = np.vstack([mapped.ref_space, mapped.query_space])
        info.update(mapped.info)
        ref_names = reference.obs_names[~missing]
        cells = pd.Index([f"ref:{c}" for c in ref_names]).append(adata.obs_names)
        lab = np.concatenate([labels.to_numpy()[~missing], np.array([None] * adata.n_obs, dtype=object)])
        is_query = np.concatenate([np.zeros(len(ref_names), bool), np.ones(adata.n_obs, bool)])
    index = {c: i for i, c in enumerate(classes)}
    y = np.array([index.get(v, -1) if v is not None else -1 for v in lab], dtype=np.int64)
    pca = _pca(z, n_pcs, seed)
    indptr, indices = knn_graph(pca, n_neighbors)
    if reference is None:  # one data set: its own PCA is already one space
        aligned = pca[:, : min(30, pca.shape[1])]
    info.update(n_genes_used=len(genes), n_cells=int(z.shape[0]), n_query=int(is_query.sum()))
    return Prepared(
        z=z,
        genes=genes,
        cells=cells,
        y=y,
        classes=classes,
        is_query=is_query,
        pca=pca,
        indptr=indptr,
        indices=indices,
        info=info,
        gene_ids=gene_ids,
        aligned=aligned,
    )


def standardized_for(adata, genes: list, gene_symbols: Optional[str] = None) -> tuple[np.ndarray, int]:
    """Standardized expression of ``genes`` (symbols) in ``adata`` (missing genes are 0) and the number present."""
    adata, _ = symbol_view(adata, gene_symbols)
    expr, _ = _expression(adata)
    present = [g for g in genes if g in set(expr.var_names)]
    if len(present) == len(genes):  # every gene, in order: no second cells x genes matrix
        return _standardize(expr[:, present].X), len(present)
    z = np.zeros((adata.n_obs, len(genes)), dtype=np.float32)
    if present:
        pos = [genes.index(g) for g in present]
        z[:, pos] = _standardize(expr[:, present].X)
    return z, len(present)
