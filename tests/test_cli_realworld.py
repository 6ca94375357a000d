"""The CLI on real-world-shaped files: Ensembl var_names, --gene-symbols, .h5mu written back, GEO CSV.

Run in-process through ``omicsgat.cli.main`` (the subprocess start-up is
already covered by the other CLI tests), exit codes and stderr as a user sees them.
"""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd
import pytest
from realworld_data import cellxgene_like, geo_csv, simulated


@pytest.fixture
def _run(capsys):
    from omicsgat.cli import main

    def run(*args, cwd=None):
        capsys.readouterr()
        code = main([str(a) for a in args])
        captured = capsys.readouterr()
        return SimpleNamespace(returncode=code, stdout=captured.out, stderr=captured.err)

    return run


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("realworld")
    sim = simulated(seed=3, n_cells=200, n_genes=60)
    cxg = cellxgene_like(sim)
    cxg.var["gene_name"] = cxg.var["feature_name"].astype(str)  # two symbol columns, as some atlases have
    cxg.write_h5ad(folder / "cxg.h5ad")
    return folder, sim, cxg


def test_grn_on_cellxgene_file_with_human_tfs(files, tmp_path, _run):
    folder, sim, cxg = files
    out, net = tmp_path / "edges.tsv", tmp_path / "net.tsv"
    proc = _run(
        "grn",
        folder / "cxg.h5ad",
        "--regulators",
        "human",
        "--gene-symbols",
        "gene_name",
        "--out",
        out,
        "--network",
        net,
        "--epochs",
        "5",
        "--genes",
        "40",
        "--device",
        "cpu",
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert "var['gene_name']" in proc.stderr  # the load report says where the symbols came from
    edges = pd.read_csv(out, sep="\t")
    assert edges["regulator"].isin(cxg.var["feature_name"].astype(str)).all()
    assert edges["regulator_id"].str.startswith("ENSG").all()
    assert list(pd.read_csv(net, sep="\t").columns) == ["source", "target", "weight"]


def test_bad_gene_symbols_column_exit_2(files, tmp_path, _run):
    folder, _, _ = files
    proc = _run(
        "grn",
        folder / "cxg.h5ad",
        "--gene-symbols",
        "nope",
        "--out",
        tmp_path / "e.tsv",
        "--device",
        "cpu",
        cwd=tmp_path,
    )
    assert proc.returncode == 2 and "'nope'" in proc.stderr and "feature_name" in proc.stderr


def test_celltype_h5mu_results_written_back(files, tmp_path, _run):
    import mudata

    folder, sim, cxg = files
    rna = cxg.copy()
    rna.obs["partial"] = rna.obs["cell_type"].astype(object)
    rna.obs.loc[rna.obs_names[::4], "partial"] = None
    rna.obs["partial"] = rna.obs["partial"].astype(str).replace("None", "")
    other = rna[:, :5].copy()
    other.var_names = [f"prot{i}" for i in range(5)]
    src = tmp_path / "data.h5mu"
    mudata.MuData({"rna": rna, "prot": other}).write_h5mu(src)
    from omicsgat.io import obs_columns

    assert "partial" in obs_columns(src) and "partial" in obs_columns(src, modality="rna")
    out = tmp_path / "out.h5mu"
    proc = _run(
        "celltype",
        src,
        "--label-key",
        "partial",
        "--out",
        tmp_path / "labels.tsv",
        "--save-h5ad",
        out,
        "--epochs",
        "3",
        "--device",
        "cpu",
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    back = mudata.read_h5mu(out)
    assert set(back.mod) == {"rna", "prot"}
    assert "omicsgat_celltype" in back.mod["rna"].obs and "omicsgat_celltype_colors" in back.mod["rna"].uns
    assert "omicsgat_celltype" not in back.mod["prot"].obs


def test_celltype_key_taken_names_the_option(files, tmp_path, _run):
    folder, _, cxg = files
    data = cxg.copy()
    data.obs["partial"] = data.obs["cell_type"].astype(str)
    data.obs.loc[data.obs_names[::4], "partial"] = ""
    data.obs["mine"] = "x"
    data.write_h5ad(tmp_path / "q.h5ad")
    proc = _run(
        "celltype",
        tmp_path / "q.h5ad",
        "--label-key",
        "partial",
        "--out",
        tmp_path / "l.tsv",
        "--save-h5ad",
        tmp_path / "o.h5ad",
        "--key-added",
        "mine",
        "--epochs",
        "2",
        "--device",
        "cpu",
        cwd=tmp_path,
    )
    assert proc.returncode == 2 and "--key-added" in proc.stderr


def test_geo_csv_through_grn(tmp_path, _run):
    sim = simulated(seed=4, n_cells=150, n_genes=50)
    path = tmp_path / "GSE_counts.csv"
    geo_csv(path, sim)
    proc = _run(
        "grn",
        path,
        "--regulators",
        "human",
        "--out",
        tmp_path / "e.tsv",
        "--epochs",
        "3",
        "--genes",
        "40",
        "--device",
        "cpu",
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert "genes x cells text matrix" in proc.stderr
