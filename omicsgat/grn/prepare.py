"""Turn an AnnData and the user's choices into what the GRN model needs.

Steps: log-normalize (without touching the caller's object), choose genes
(highly variable genes + regulators + prior genes, or an explicit list),
aggregate cells into metacells (k-means on PCA, averaged expression) when
there are many cells, z-score each gene, and list the candidate edges
regulator -> target (all regulators, or the top-k per target by absolute
Spearman correlation on the metacells).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Optional, Sequence

import numpy as np
import pandas as pd

from omicsgat.compute import one_thread
from omicsgat.errors import OmicsInputError
from omicsgat.io.genes import check_list_species, list_species, shipped_tfs, strip_version
from omicsgat.pp import log_normalized

SHIPPED_TF_LISTS = {"human": "tfs_human.txt", "mouse": "tfs_mouse.txt"}


def _names(items: Sequence[str], n: int = 8) -> str:
    items = list(items)
    shown = ", ".join(map(str, items[:n]))
    return shown + (f" ... ({len(items)} in all)" if len(items) > n else "")


def read_gene_list(path: str | Path) -> List[str]:
    """One gene per line; blank lines and ``#`` comments skipped."""
    path = Path(path)
    if not path.is_file():
        raise OmicsInputError(f"Gene list file {str(path)!r} does not exist.")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise OmicsInputError(
            f"Gene list file {str(path)!r} is not UTF-8 text: save it as plain UTF-8, one gene per line."
        ) from exc
    genes = [line.strip().split("\t")[0] for line in text.splitlines()]
    genes = [g for g in genes if g and not g.startswith("#")]
    if not genes:
        raise OmicsInputError(f"Gene list file {str(path)!r} holds no gene names (expected one per line).")
    return genes


def shipped_regulators(species: str) -> List[str]:
    """The transcription factor list shipped for ``"human"`` or ``"mouse"`` (see omicsgat/data/README.md)."""
    return shipped_tfs(species)


def _lookup(var_names: pd.Index, lookup: Optional[dict]) -> dict:
    if lookup is not None:
        return lookup
    table = {strip_version(str(g)): str(g) for g in var_names}
    table.update({str(g): str(g) for g in var_names})
    return table


def _resolve(wanted: Sequence[str], table: dict) -> tuple[List[str], List[str]]:
    found, missing = [], []
    for g in wanted:
        hit = table.get(g) or table.get(strip_version(g))
        (found if hit is not None else missing).append(hit if hit is not None else g)
    return found, missing


def resolve_regulators(
    regulators, var_names: pd.Index, *, species: Optional[str] = None, lookup: Optional[dict] = None
) -> tuple[Optional[List[str]], List[str]]:
    """Return (regulators present in the data or None for 'all genes', warnings).

    Genes match exactly, on symbols, IDs or IDs without their version suffix
    (``lookup``: every accepted spelling -> var_name, from
    :func:`omicsgat.io.genes.lookup_table`). A shipped list ("human"/"mouse")
    keeps its genes present in the data; a list of one species against data
    of another (``species``, detected from the data's identifiers) is refused
    instead of being matched by ignoring case. A user list naming genes absent
    from the data is refused, naming them, so that a typo or a wrong species
    never silently shrinks the network.
    """
    if regulators is None:
        return None, []
    table = _lookup(var_names, lookup)
    warnings: List[str] = []
    if isinstance(regulators, str) and regulators.lower() in SHIPPED_TF_LISTS:
        kind = regulators.lower()
        tfs = shipped_regulators(kind)
        check_list_species(kind, species, f"The shipped {kind} transcription-factor list")
        found, _ = _resolve(tfs, table)
        found = [g for g in var_names if g in set(found)]  # data order
        if not found:
            upper = {t.upper() for t in tfs}
            by_case = [g for g in table if str(g).upper() in upper]
            hint = (
                (
                    f" {len(by_case)} gene(s) match only when case is ignored (e.g. {_names(by_case[:3])}): "
                    f"the data is probably not {kind}; use the list of its species."
                )
                if by_case
                else ""
            )
            raise OmicsInputError(
                f"None of the {len(tfs)} shipped {kind} transcription factors is a gene of this data "
                f"(genes look like {_names(var_names[:5])}). Check the species, or the gene naming: if the symbols "
                f"are in a var column, name it with --gene-symbols (gene_symbols=).{hint}"
            )
        warnings.append(f"{len(found)} of {len(tfs)} shipped {kind} TFs are in the data.")
        return found, warnings
    if isinstance(regulators, (str, Path)):
        source = f"regulator file {str(regulators)!r}"
        wanted = read_gene_list(regulators)
    else:
        source = "the regulator list"
        wanted = [str(g).strip() for g in regulators]
    if not wanted:
        raise OmicsInputError("The regulator list is empty: give at least one gene name, or None to use every gene.")
    check_list_species(list_species(wanted), species, f"The {source}")
    found, missing = _resolve(list(dict.fromkeys(wanted)), table)
    if missing:
        raise OmicsInputError(
            f"{len(missing)} regulator(s) from {source} are not genes of the data: {_names(missing)}. "
            "Remove them from the list or check the gene naming (symbols in a var column: --gene-symbols)."
        )
    return list(dict.fromkeys(found)), warnings


def read_prior(
    prior, var_names: pd.Index, *, species: Optional[str] = None, lookup: Optional[dict] = None
) -> Optional[pd.DataFrame]:
    """Read a prior network (DataFrame or TSV/CSV path) with columns regulator, target[, sign].

    Genes are matched like regulators (symbols, IDs, IDs without version) and
    renamed to the data's var_names; a prior of another species is refused.
    """
    if prior is None:
        return None
    where = "the prior network"
    if isinstance(prior, (str, Path)):
        path = Path(prior)
        where = f"prior network file {str(path)!r}"
        if not path.is_file():
            raise OmicsInputError(f"The {where} does not exist.")
        sep = "," if path.suffix.lower() == ".csv" else "\t"
        try:
            frame = pd.read_csv(path, sep=sep, dtype=str, encoding="utf-8-sig")
        except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
            raise OmicsInputError(
                f"Could not read the {where}: {exc}. Expected a tab-separated table with columns regulator, target[, sign]."
            ) from exc
    elif isinstance(prior, pd.DataFrame):
        frame = prior.copy()
    else:
        raise OmicsInputError(
            "prior must be a DataFrame or the path of a TSV file with columns regulator, target[, sign]."
        )
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    missing_cols = [c for c in ("regulator", "target") if c not in frame.columns]
    if missing_cols:
        raise OmicsInputError(
            f"The {where} has no column(s) {missing_cols} (columns found: {list(frame.columns)}); "
            "it needs regulator, target and optionally sign."
        )
    frame = frame.dropna(subset=["regulator", "target"])
    frame["regulator"] = frame["regulator"].astype(str).str.strip()
    frame["target"] = frame["target"].astype(str).str.strip()
    frame = frame[frame["regulator"] != frame["target"]].drop_duplicates(["regulator", "target"])
    if frame.empty:
        raise OmicsInputError(f"The {where} holds no edges between two different genes.")
    table = _lookup(var_names, lookup)
    genes = list(pd.unique(pd.concat([frame["regulator"], frame["target"]])))
    check_list_species(list_species(genes), species, f"The {where}")
    _, unknown = _resolve(genes, table)
    frame["regulator"] = [table.get(g) or table.get(_strip(g)) or g for g in frame["regulator"]]
    frame["target"] = [table.get(g) or table.get(_strip(g)) or g for g in frame["target"]]
    if unknown:
        raise OmicsInputError(
            f"The {where} names {len(unknown)} gene(s) that are not in the data: {_names(unknown)}. "
            "Filter the prior to the genes of this data set first."
        )
    if "sign" in frame.columns:
        sign = pd.to_numeric(
            frame["sign"].replace({"+": 1, "-": -1, "activation": 1, "repression": -1}), errors="coerce"
        )
        frame["sign"] = np.sign(sign).fillna(0).astype(int)
    else:
        frame["sign"] = 0
    return frame[["regulator", "target", "sign"]].reset_index(drop=True)


def _strip(name: str) -> str:
    return strip_version(name)


@dataclass
class Prepared:
    """Expression on the chosen genes, ready for the model."""

    genes: List[str]  # node order
    regulators: List[str]  # subset of genes
    expr: np.ndarray  # (n_metacells, n_genes) float32, z-scored per gene
    raw: np.ndarray  # (n_metacells, n_genes) float32, log-normalized, not scaled
    n_cells: int
    n_metacells: int
    warnings: List[str] = field(default_factory=list)

    @property
    def regulator_index(self) -> np.ndarray:
        pos = {g: i for i, g in enumerate(self.genes)}
        return np.array([pos[r] for r in self.regulators], dtype=np.int64)


def select_genes(adata_log, genes, regulators: Optional[List[str]], prior: Optional[pd.DataFrame]) -> List[str]:
    """Highly variable genes (scanpy, on log data) + regulators + prior genes, or an explicit list."""
    var_names = adata_log.var_names
    extra: List[str] = list(regulators or [])
    if prior is not None:
        extra += list(prior["regulator"]) + list(prior["target"])
    if isinstance(genes, (int, np.integer)) and not isinstance(genes, bool):
        if genes < 1:
            raise OmicsInputError(f"genes={genes}: ask for at least 1 highly variable gene.")
        if genes >= adata_log.n_vars:
            chosen = list(var_names)
        else:
            import scanpy as sc

            frame = sc.pp.highly_variable_genes(adata_log, n_top_genes=int(genes), flavor="seurat", inplace=False)
            frame.index = var_names
            chosen = list(frame.index[frame["highly_variable"].to_numpy()])
    else:
        chosen = [str(g) for g in genes]
        if not chosen:
            raise OmicsInputError(
                "The gene list is empty: give at least two genes, or a number of highly variable genes."
            )
        missing = [g for g in dict.fromkeys(chosen) if g not in set(var_names)]
        if missing:
            raise OmicsInputError(f"{len(missing)} gene(s) of the gene list are not in the data: {_names(missing)}.")
    keep = set(chosen) | set(extra)
    return [g for g in var_names if g in keep]  # data order, deterministic


def metacells(X: np.ndarray, n_metacells: int, seed: int) -> np.ndarray:
    """Average cells within k-means clusters of their top principal components (denoises dropout).

    On one thread: the PCA's and k-means' sums change with the BLAS/OpenMP thread count, which the thread
    budget sets from the machine's load, and at 3,000 cells x 1,000 genes 1 vs 2 threads gave 597 vs 598
    metacells, so the same seed gave other edges on a busy machine (and in-process vs on a cluster).
    """
    from sklearn.cluster import MiniBatchKMeans
    from sklearn.decomposition import PCA

    n_comp = int(min(30, X.shape[1] - 1, X.shape[0] - 1))
    with one_thread():
        emb = PCA(n_components=max(1, n_comp), random_state=seed).fit_transform(X) if n_comp >= 1 else X
        km = MiniBatchKMeans(n_clusters=n_metacells, random_state=seed, n_init=1, batch_size=4096)
        labels = km.fit_predict(emb)
    sums = np.zeros((n_metacells, X.shape[1]), dtype=np.float64)
    np.add.at(sums, labels, X)
    counts = np.bincount(labels, minlength=n_metacells)
    used = counts > 0
    return (sums[used] / counts[used, None]).astype(np.float32)


def prepare(
    adata,
    *,
    genes=500,
    regulators=None,
    prior=None,
    cells_per_metacell: int = 5,
    max_metacells: int = 1000,
    seed: int = 0,
    species: Optional[str] = None,
    lookup: Optional[dict] = None,
) -> tuple[Prepared, Optional[pd.DataFrame]]:
    """Log-normalize, pick genes, aggregate metacells; returns (Prepared, prior restricted to the genes).

    ``species`` and ``lookup`` (from :mod:`omicsgat.io.genes`) say how gene
    lists are matched to ``adata``'s var_names (see :func:`resolve_regulators`).
    """
    import scipy.sparse as sp

    if adata.n_obs < 3 or adata.n_vars < 2:
        raise OmicsInputError(
            f"The data has {adata.n_obs} cells and {adata.n_vars} genes; GRN inference needs at least 3 cells and 2 genes."
        )
    if not adata.var_names.is_unique:
        dup = adata.var_names[adata.var_names.duplicated()].unique()
        raise OmicsInputError(
            f"Gene names are duplicated: {_names(dup)}. Make them unique (e.g. adata.var_names_make_unique())."
        )
    regs, warnings = resolve_regulators(regulators, adata.var_names, species=species, lookup=lookup)
    prior_frame = read_prior(prior, adata.var_names, species=species, lookup=lookup)
    if not isinstance(genes, (int, np.integer)) or isinstance(genes, bool):
        found, missing = _resolve([str(g) for g in genes], _lookup(adata.var_names, lookup))
        genes = found + missing  # missing ones are named by select_genes
    log = log_normalized(adata)
    chosen = select_genes(log, genes, regs, prior_frame)
    sub = log[:, chosen]
    X = sub.X.toarray() if sp.issparse(sub.X) else np.asarray(sub.X)
    X = X.astype(np.float32)
    sd = X.std(axis=0)
    constant = [g for g, s in zip(chosen, sd) if not s > 0]
    if constant:
        warnings.append(f"Dropped {len(constant)} gene(s) with constant expression: {_names(constant)}.")
        keep = sd > 0
        X = X[:, keep]
        chosen = [g for g, k in zip(chosen, keep) if k]
    if len(chosen) < 2:
        raise OmicsInputError(
            "Fewer than 2 genes with varying expression are left after gene selection; "
            "choose more genes or check that the data is not empty."
        )
    reg_list = [g for g in chosen if regs is None or g in set(regs)]
    if not reg_list:
        raise OmicsInputError("No regulator has varying expression in the selected genes; give other regulators.")
    if prior_frame is not None:
        gene_set = set(chosen)
        prior_frame = prior_frame[
            prior_frame["regulator"].isin(gene_set) & prior_frame["target"].isin(gene_set)
        ].reset_index(drop=True)
    per_cell = Prepared(chosen, reg_list, _zscore(X), X, X.shape[0], X.shape[0], warnings)
    return aggregated(per_cell, cells_per_metacell, seed=seed, max_metacells=max_metacells), prior_frame


def _zscore(X: np.ndarray) -> np.ndarray:
    return ((X - X.mean(axis=0)) / np.maximum(X.std(axis=0), 1e-6)).astype(np.float32)


def aggregated(per_cell: Prepared, cells_per_metacell: int, *, seed: int = 0, max_metacells: int = 1000) -> Prepared:
    """The same genes averaged into metacells of about ``cells_per_metacell`` cells (unchanged when that is 1 or
    fewer than 50 metacells would result); lets a pseudotime run look at single cells first and fall back to the
    steady-state model's metacells without preparing twice."""
    n_meta = min(max_metacells, per_cell.n_cells // max(1, cells_per_metacell))
    if cells_per_metacell <= 1 or n_meta < 50:
        return per_cell
    X = metacells(per_cell.raw, n_meta, seed)
    return Prepared(
        per_cell.genes, per_cell.regulators, _zscore(X), X, per_cell.n_cells, X.shape[0], list(per_cell.warnings)
    )


def rank_gauss(X: np.ndarray) -> np.ndarray:
    """Each column replaced by the normal quantiles of its ranks, then z-scored (robust to outliers and monotone nonlinearity)."""
    from scipy.stats import norm, rankdata

    R = rankdata(X, axis=0) / (X.shape[0] + 1)
    G = norm.ppf(R)
    return ((G - G.mean(0)) / np.maximum(G.std(0), 1e-6)).astype(np.float32)


def candidate_edges(prep: Prepared, top_k: Optional[int] = None) -> np.ndarray:
    """Candidate edges as a (2, E) array of gene indices (row 0 regulator, row 1 target).

    All regulator -> target pairs except self-edges, or for each target the
    ``top_k`` regulators with the largest absolute Spearman correlation.
    """
    from scipy.stats import rankdata

    reg_idx = prep.regulator_index
    n_genes = len(prep.genes)
    if top_k is None or top_k >= len(reg_idx):
        src = np.repeat(reg_idx, n_genes)
        dst = np.tile(np.arange(n_genes), len(reg_idx))
        keep = src != dst
        return np.stack([src[keep], dst[keep]])
    R = rankdata(prep.raw, axis=0).astype(np.float32)
    R = (R - R.mean(0)) / np.maximum(R.std(0), 1e-6)
    corr = np.abs(R[:, reg_idx].T @ R / R.shape[0])  # (n_regs, n_genes)
    for j, r in enumerate(reg_idx):
        corr[j, r] = -1.0  # no self-edges
    k = int(top_k)
    top = np.argpartition(-corr, kth=k - 1, axis=0)[:k]  # (k, n_genes)
    src = reg_idx[top].ravel(order="F")
    dst = np.repeat(np.arange(n_genes), k)
    keep = src != dst
    order = np.lexsort((src[keep], dst[keep]))
    return np.stack([src[keep][order], dst[keep][order]])
