"""GEO-style count matrices: CSV/TSV(.gz) in either orientation, and Matrix Market with its gene/barcode files."""

from __future__ import annotations

import gzip

import numpy as np
import pandas as pd
import pytest
import scipy.io
import scipy.sparse as sp
from realworld_data import geo_csv, simulated

from omicsgat.errors import OmicsInputError


@pytest.fixture(scope="module")
def sim():
    return simulated(seed=4, n_cells=120, n_genes=60)


@pytest.mark.parametrize("genes_by_cells", [True, False])
def test_geo_csv_orientation_detected(sim, tmp_path, genes_by_cells):
    from omicsgat.io import read_anndata

    path = tmp_path / "GSE1_counts.csv"
    frame = geo_csv(path, sim, genes_by_cells=genes_by_cells)
    before = path.read_bytes()
    adata, report = read_anndata(path)
    assert adata.shape == (sim.n_obs, sim.n_vars)
    assert list(adata.obs_names) == list(sim.obs_names)
    cells_by_genes = frame.T if genes_by_cells else frame
    assert np.array_equal(adata.X.toarray(), cells_by_genes.to_numpy(dtype=np.float32))
    expected = "genes x cells" if genes_by_cells else "cells x genes"
    assert any(f"a {expected} text matrix" in m for m in report.infos)
    assert path.read_bytes() == before


def test_gzipped_tsv_and_forced_orientation(sim, tmp_path):
    from omicsgat.io import read_anndata

    plain = tmp_path / "m.tsv"
    geo_csv(plain, sim, genes_by_cells=True, sep="\t")
    gz = tmp_path / "m.tsv.gz"
    gz.write_bytes(gzip.compress(plain.read_bytes()))
    adata, _ = read_anndata(gz)
    assert adata.shape == (sim.n_obs, sim.n_vars)
    forced, report = read_anndata(gz, orientation="cells x genes")  # the user's word wins
    assert forced.shape == (sim.n_vars, sim.n_obs) and any("as asked" in m for m in report.infos)


def test_r_style_header_and_bad_value_named(tmp_path):
    from omicsgat.io import read_anndata

    path = tmp_path / "r.csv"
    genes = ["SPI1", "GATA1", "TAL1", "KLF1", "FLI1", "RUNX1"]
    lines = [",".join(f"c{j}" for j in range(4))] + [
        ",".join([g] + [str((i + j) % 5) for j in range(4)]) for i, g in enumerate(genes)
    ]
    path.write_text("\n".join(lines) + "\n")
    adata, _ = read_anndata(path, orientation="genes x cells")
    assert list(adata.obs_names) == ["c0", "c1", "c2", "c3"] and list(adata.var_names) == genes
    lines[3] = lines[3].replace(",2,", ",two,", 1)
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(OmicsInputError, match="row 'TAL1', column 'c.*'two'"):
        read_anndata(path)


def _write_mtx(folder, prefix, counts, genes, cells, gz=True):
    mtx = folder / f"{prefix}matrix.mtx"
    scipy.io.mmwrite(str(mtx), sp.coo_matrix(counts.T))  # 10x: genes x cells
    feats = pd.DataFrame({"id": [f"ENSG{i:011d}" for i in range(len(genes))], "sym": genes, "type": "Gene Expression"})
    if gz:
        for src, name in ((mtx, f"{prefix}matrix.mtx.gz"),):
            (folder / name).write_bytes(gzip.compress(src.read_bytes()))
        mtx.unlink()
        (folder / f"{prefix}features.tsv.gz").write_bytes(
            gzip.compress(feats.to_csv(sep="\t", header=False, index=False).encode())
        )
        (folder / f"{prefix}barcodes.tsv.gz").write_bytes(gzip.compress(("\n".join(cells) + "\n").encode()))
        return folder / f"{prefix}matrix.mtx.gz"
    feats.to_csv(folder / f"{prefix}features.tsv", sep="\t", header=False, index=False)
    (folder / f"{prefix}barcodes.tsv").write_text("\n".join(cells) + "\n")
    return mtx


def test_matrix_market_with_geo_prefix(sim, tmp_path):
    from omicsgat.io import read_anndata

    counts = np.asarray(sim.X.toarray() if sp.issparse(sim.X) else sim.X)
    genes = [f"G{i}" for i in range(sim.n_vars)]
    path = _write_mtx(tmp_path, "GSM42_", counts, genes, list(sim.obs_names))
    adata, report = read_anndata(path)
    assert adata.shape == counts.shape and np.array_equal(adata.X.toarray(), counts)
    assert list(adata.var_names) == genes and adata.var["gene_ids"].iloc[0] == "ENSG00000000000"
    assert any("Matrix Market, genes x cells" in m for m in report.infos)
    folder, _ = read_anndata(tmp_path)  # the folder itself works too
    assert folder.shape == counts.shape


def test_matrix_market_missing_barcodes_named(sim, tmp_path):
    from omicsgat.io import read_anndata

    counts = np.asarray(sim.X.toarray() if sp.issparse(sim.X) else sim.X)
    path = _write_mtx(tmp_path, "", counts, [f"G{i}" for i in range(sim.n_vars)], list(sim.obs_names), gz=False)
    (tmp_path / "barcodes.tsv").unlink()
    with pytest.raises(OmicsInputError, match="barcodes"):
        read_anndata(path)
