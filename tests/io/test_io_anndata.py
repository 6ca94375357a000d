"""Single-cell readers: each format loads the same values, files stay untouched, problems are named."""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from omicsgat.errors import OmicsInputError
from omicsgat.io import describe, read_anndata

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def tiny():
    import anndata as ad

    rng = np.random.default_rng(1)
    X = rng.poisson(1.0, size=(30, 12)).astype(np.float32)
    X[:, 0] += 1  # no all-zero gene
    return ad.AnnData(
        X=sp.csr_matrix(X),
        obs=pd.DataFrame(index=[f"AAAC-{i}" for i in range(30)]),
        var=pd.DataFrame({"gene_ids": [f"ENSG{j:05d}" for j in range(12)]}, index=[f"G{j}" for j in range(12)]),
    )


def _dense(adata):
    return adata.X.toarray() if sp.issparse(adata.X) else np.asarray(adata.X)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _write_10x_h5(adata, path):
    import h5py

    m = sp.csc_matrix(adata.X.T)  # genes x cells, as Cell Ranger stores it
    with h5py.File(path, "w") as fh:
        g = fh.create_group("matrix")
        g["barcodes"] = np.array(adata.obs_names, dtype="S")
        g["data"], g["indices"], g["indptr"] = m.data.astype(np.int32), m.indices, m.indptr
        g["shape"] = np.array(m.shape)
        f = g.create_group("features")
        f["id"] = np.array(adata.var["gene_ids"], dtype="S")
        f["name"] = np.array(adata.var_names, dtype="S")
        f["feature_type"] = np.array(["Gene Expression"] * adata.n_vars, dtype="S")
        f["genome"] = np.array(["GRCh38"] * adata.n_vars, dtype="S")


def _write_10x_folder(adata, folder):
    from scipy.io import mmwrite

    folder.mkdir()
    mmwrite(folder / "matrix.mtx", sp.coo_matrix(adata.X.T).astype(np.int64), field="integer")
    (folder / "matrix.mtx.gz").write_bytes(gzip.compress((folder / "matrix.mtx").read_bytes()))
    (folder / "matrix.mtx").unlink()
    (folder / "barcodes.tsv.gz").write_bytes(gzip.compress(("\n".join(adata.obs_names) + "\n").encode()))
    feats = "\n".join(f"{i}\t{n}\tGene Expression" for i, n in zip(adata.var["gene_ids"], adata.var_names)) + "\n"
    (folder / "features.tsv.gz").write_bytes(gzip.compress(feats.encode()))


@pytest.mark.filterwarnings("ignore:Cannot join columns with the same name")
def test_every_format_loads_the_same_matrix_without_touching_the_file(tmp_path, tiny):
    import mudata

    tiny.write_h5ad(tmp_path / "a.h5ad")
    _write_10x_h5(tiny, tmp_path / "a.h5")
    _write_10x_folder(tiny, tmp_path / "mtx")
    tiny.write_loom(tmp_path / "a.loom")
    other = tiny[:, :5].copy()
    mudata.MuData({"atac": other, "rna": tiny}).write(tmp_path / "a.h5mu")
    paths = [tmp_path / n for n in ("a.h5ad", "a.h5", "mtx", "mtx/matrix.mtx.gz", "a.loom", "a.h5mu")]
    sums = {p: _sha(p) for p in paths if p.is_file()}
    for path in paths:
        adata, report = read_anndata(path)
        assert adata.shape == (30, 12), path
        np.testing.assert_array_equal(_dense(adata), tiny.X.toarray(), err_msg=str(path))
        assert list(adata.var_names) == list(tiny.var_names) and list(adata.obs_names) == list(tiny.obs_names)
        assert any("X holds raw counts" in m for m in report.infos), report.to_text()
        assert not report.warnings, report.to_text()
    assert "using 'rna'" in read_anndata(tmp_path / "a.h5mu")[1].to_text()
    assert {p: _sha(p) for p in sums} == sums


def test_backed_h5ad_is_read_only_and_reports_counts_layer(tmp_path, tiny):
    a = tiny.copy()
    a.layers["counts"] = a.X.copy()
    a.X = sp.csr_matrix(np.log1p(a.X.toarray()))
    a.write_h5ad(tmp_path / "b.h5ad")
    before = _sha(tmp_path / "b.h5ad")
    adata, report = read_anndata(tmp_path / "b.h5ad", backed=True)
    assert adata.isbacked and adata.file._filemode == "r"
    text = report.to_text()
    assert "X holds log-normalized values" in text and 'raw counts found in layers["counts"]' in text
    np.testing.assert_allclose(adata.X[:].toarray(), a.X.toarray())
    adata.file.close()
    assert _sha(tmp_path / "b.h5ad") == before


def test_negative_counts_layer_and_scaled_x(tmp_path, tiny):
    a = tiny.copy()
    counts = a.X.toarray()
    counts[4, 7] = -1
    a.layers["counts"] = sp.csr_matrix(counts)
    a.X = (a.X.toarray() - 1.0) / 2.0  # scaled, negatives are fine here
    a.write_h5ad(tmp_path / "neg.h5ad")
    with pytest.raises(
        OmicsInputError,
        match=r"""neg.h5ad: layers\["counts"\] looks like counts .* 1 negative value\(s\), first at cell 'AAAC-4', gene 'G7'""",
    ):
        read_anndata(tmp_path / "neg.h5ad")


def test_unsupported_and_missing_paths(tmp_path):
    (tmp_path / "x.rds").write_bytes(b"RDX3")
    with pytest.raises(OmicsInputError, match=r"x.rds: unsupported single-cell format '.rds'"):
        read_anndata(tmp_path / "x.rds")
    with pytest.raises(OmicsInputError, match="gone.h5ad: file not found"):
        read_anndata(tmp_path / "gone.h5ad")
    (tmp_path / "folder").mkdir()
    with pytest.raises(OmicsInputError, match="not a 10x matrix folder"):
        read_anndata(tmp_path / "folder")


def test_sample_data_h5ad_files_describe_their_content():
    folder = ROOT / "sample_data"
    sums = {p: _sha(p) for p in folder.glob("*.h5ad")}
    pbmc = describe(folder / "pbmc68k_reduced.h5ad")
    assert "cells:        700" in pbmc and "genes:        765" in pbmc and "X holds:      scaled" in pbmc
    assert "bulk_labels" in pbmc and "raw:          yes (765 genes)" in pbmc
    grn = describe(folder / "simulated_grn.h5ad")
    assert "cells:        1000" in grn and "X holds:      counts" in grn
    adata, _ = read_anndata(folder / "simulated_grn.h5ad")
    from omicsgat.simulate import true_network

    net = true_network(adata)
    prior = pd.read_csv(folder / "simulated_grn_prior.tsv", sep="\t")
    regs = (folder / "simulated_grn_regulators.txt").read_text().split()
    assert len(prior) == len(net) // 2 and set(map(tuple, prior[["regulator", "target"]].to_numpy())) <= set(
        map(tuple, net[["regulator", "target"]].to_numpy())
    )
    assert regs == list(adata.var_names[adata.var["is_regulator"].to_numpy()])
    ref, _ = read_anndata(folder / "celltype_reference.h5ad")
    query, _ = read_anndata(folder / "celltype_query.h5ad")
    assert set(query.obs["true_cell_type"]) - set(ref.obs["cell_type"]) == {"type_E"}
    shared = ref.var_names.intersection(query.var_names)
    assert 0.7 * query.n_vars < len(shared) < query.n_vars
    assert {p: _sha(p) for p in sums} == sums


def test_backed_file_refused_by_validation_is_closed(tmp_path):
    import h5py

    bad = ROOT / "tests" / "data" / "bad" / "nan_in_x.h5ad"
    copy = tmp_path / "nan.h5ad"
    copy.write_bytes(bad.read_bytes())
    with pytest.raises(OmicsInputError, match="NaN or infinite"):
        read_anndata(copy, backed=True)
    with h5py.File(copy, "r+"):  # would fail if a read handle were still open
        pass


def test_obs_columns_lists_annotations_without_loading_or_changing_the_file(tmp_path, tiny):
    from omicsgat.io import obs_columns

    adata = tiny.copy()
    adata.obs["cell_type"] = "T"
    adata.obs["batch"] = 1
    path = tmp_path / "ref.h5ad"
    adata.write_h5ad(path)
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    assert {"cell_type", "batch"} <= set(obs_columns(path))
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    assert obs_columns(tmp_path / "missing.h5ad") == []
    assert obs_columns(tmp_path / "table.csv") == []
    bad = tmp_path / "bad.h5ad"
    bad.write_text("cell,type\n")
    with pytest.raises(OmicsInputError, match="bad.h5ad"):
        obs_columns(bad)
