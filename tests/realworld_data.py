"""Small files shaped like public data: a CELLxGENE-like .h5ad, a mouse file, a GEO-style CSV.

Built from :func:`omicsgat.simulate.simulate_scrna` (so the planted network
and cell types are known) with the names and layout of real files:
regulators get real TF symbols of the species, genes get Ensembl-like IDs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def _symbols(adata, species: str) -> list:
    from omicsgat.io.genes import shipped_tfs

    t = iter(shipped_tfs(species)[:200])
    out = []
    for g in adata.var_names:
        g = str(g)
        if g.startswith("REG"):
            out.append(next(t))
        elif species == "human":
            out.append(g.replace("GENE", "TGT").replace("MARK_", "MK").replace("_", ""))
        else:
            out.append(g.replace("GENE", "Tgt").replace("MARK_", "Mk").replace("_", "").capitalize())
    return out


def _dense(X) -> np.ndarray:
    return np.asarray(X.toarray() if hasattr(X, "toarray") else X, dtype=np.float32)


def true_network(adata, species: str = "human") -> pd.DataFrame:
    """The planted edges of ``adata`` named as in :func:`cellxgene_like` / :func:`mouse_file`."""
    from omicsgat.simulate import true_network as planted

    rename = dict(zip(map(str, adata.var_names), _symbols(adata, species)))
    net = planted(adata).copy()
    net["regulator"] = net["regulator"].map(rename)
    net["target"] = net["target"].map(rename)
    return net


def _ensembl(n: int, species: str, versions: bool) -> list:
    prefix = "ENSG" if species == "human" else "ENSMUSG"
    return [f"{prefix}{100000 + i:011d}" + (f".{1 + i % 7}" if versions else "") for i in range(n)]


def simulated(seed: int = 3, n_cells: int = 300, n_genes: int = 80, n_regulators: int = 10, n_cell_types: int = 3):
    from omicsgat.simulate import simulate_scrna

    return simulate_scrna(
        n_cells=n_cells,
        n_genes=n_genes,
        n_regulators=n_regulators,
        n_cell_types=n_cell_types,
        n_markers_per_type=3,
        seed=seed,
    )


def cellxgene_like(adata=None, species: str = "human"):
    """Ensembl IDs with versions as var_names, symbols in var["feature_name"], log-normalized X, counts in .raw."""
    import anndata as ad
    import scanpy as sc
    import scipy.sparse as sp

    adata = simulated() if adata is None else adata
    symbols = _symbols(adata, species)
    ids = _ensembl(adata.n_vars, species, versions=True)
    var = pd.DataFrame(
        {
            "feature_name": pd.Categorical(symbols),
            "feature_is_filtered": False,
            "feature_reference": "NCBITaxon:9606" if species == "human" else "NCBITaxon:10090",
        },
        index=pd.Index(ids),
    )
    counts = sp.csr_matrix(_dense(adata.X))
    out = ad.AnnData(X=counts.copy(), obs=adata.obs.copy(), var=var)
    out.raw = out.copy()
    sc.pp.normalize_total(out, target_sum=1e4)
    sc.pp.log1p(out)
    out.uns["truth_symbols"] = np.asarray(symbols, dtype=object)
    return out


def mouse_file(adata=None):
    """Mouse symbols as var_names (Trp53 style), raw counts in X."""
    import anndata as ad

    adata = simulated(seed=5) if adata is None else adata
    out = ad.AnnData(X=_dense(adata.X), obs=adata.obs.copy(), var=pd.DataFrame(index=_symbols(adata, "mouse")))
    return out


def geo_csv(path, adata=None, genes_by_cells: bool = True, sep: str = ","):
    """A GEO supplementary matrix: first column gene symbols, then one column per cell (or transposed)."""
    adata = simulated(seed=4) if adata is None else adata
    frame = pd.DataFrame(_dense(adata.X).astype(np.int64), index=adata.obs_names, columns=_symbols(adata, "human"))
    if genes_by_cells:
        frame = frame.T
        frame.index.name = "gene"
    else:
        frame.index.name = "cell"
    frame.to_csv(path, sep=sep)
    return frame
