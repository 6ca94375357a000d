"""`omicsgat grn` in a subprocess: outputs read back, device printed, bad input -> exit 2."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest


@pytest.fixture(scope="module")
def tiny_h5ad(tmp_path_factory):
    from omicsgat.simulate import simulate_scrna

    folder = tmp_path_factory.mktemp("grn_cli")
    adata = simulate_scrna(n_cells=150, n_genes=40, n_regulators=6, n_cell_types=2, n_markers_per_type=2, seed=2)
    path = folder / "data.h5ad"
    adata.write_h5ad(path)
    regs = folder / "regs.txt"
    regs.write_text("\n".join(adata.var_names[:6]) + "\n", encoding="utf-8")
    return path, regs


def _run(*args, cwd):
    return subprocess.run(
        [sys.executable, "-m", "omicsgat", "grn", *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=300
    )


def test_cli_writes_ranked_edges_and_h5ad(tiny_h5ad, tmp_path):
    import anndata as ad

    data, regs = tiny_h5ad
    before = data.read_bytes()
    out = tmp_path / "edges.tsv"
    proc = _run(
        data,
        "--out",
        out,
        "--regulators",
        regs,
        "--epochs",
        "10",
        "--genes",
        "30",
        "--device",
        "cpu",
        "--seed",
        "1",
        "--save-h5ad",
        tmp_path / "out.h5ad",
        "--save-model",
        tmp_path / "model",
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert "device cpu" in proc.stderr
    edges = pd.read_csv(out, sep="\t")
    assert list(edges.columns[:4]) == ["regulator", "target", "score", "rank"]
    assert edges["rank"].tolist() == list(range(1, len(edges) + 1))
    assert edges["score"].is_monotonic_decreasing
    assert set(edges["regulator"]) <= set(regs.read_text().split())
    written = ad.read_h5ad(tmp_path / "out.h5ad")
    assert written.uns["omicsgat"]["grn"]["edges"]["regulator"][0] == edges["regulator"][0]
    assert (tmp_path / "model" / "model.safetensors").is_file()
    assert data.read_bytes() == before  # the input file is never modified


def test_cli_bad_regulator_exit_2(tiny_h5ad, tmp_path):
    data, _ = tiny_h5ad
    bad = tmp_path / "bad.txt"
    bad.write_text("REG000\nNOT_A_GENE\n", encoding="utf-8")
    proc = _run(data, "--out", tmp_path / "e.tsv", "--regulators", bad, "--device", "cpu", "--quiet", cwd=tmp_path)
    assert proc.returncode == 2
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "NOT_A_GENE" in lines[0]
    assert not (tmp_path / "e.tsv").exists()


def test_cli_linear_combination_is_recorded(tiny_h5ad, tmp_path):
    import json

    import anndata as ad

    data, regs = tiny_h5ad
    proc = _run(
        data,
        "--out",
        tmp_path / "e.tsv",
        "--regulators",
        regs,
        "--epochs",
        "5",
        "--genes",
        "30",
        "--device",
        "cpu",
        "--combine",
        "linear",
        "--quiet",
        "--save-h5ad",
        tmp_path / "out.h5ad",
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    params = ad.read_h5ad(tmp_path / "out.h5ad").uns["omicsgat"]["grn"]["params"]
    assert json.loads(params)["combine"] == "linear"
    bad = _run(data, "--out", tmp_path / "f.tsv", "--combine", "cubic", "--device", "cpu", "--quiet", cwd=tmp_path)
    assert bad.returncode == 2 and "cubic" in bad.stderr


def test_cli_score_choice_ranks_by_that_column(tiny_h5ad, tmp_path):
    import pandas as pd

    data, regs = tiny_h5ad
    proc = _run(
        data,
        "--out",
        tmp_path / "e.tsv",
        "--regulators",
        regs,
        "--epochs",
        "5",
        "--genes",
        "30",
        "--device",
        "cpu",
        "--score",
        "attention",
        "--quiet",
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    edges = pd.read_csv(tmp_path / "e.tsv", sep="\t")
    assert (edges["score"] == edges["attention"]).all()
    assert edges["attention"].is_monotonic_decreasing
    bad = _run(data, "--out", tmp_path / "f.tsv", "--score", "pagerank", "--device", "cpu", "--quiet", cwd=tmp_path)
    assert bad.returncode == 2 and "pagerank" in bad.stderr


def test_cli_adaptive_score_says_what_it_chose(tiny_h5ad, tmp_path):
    data, regs = tiny_h5ad
    args = ("--regulators", regs, "--epochs", "5", "--genes", "30", "--device", "cpu", "--score", "adaptive")
    proc = _run(data, "--out", tmp_path / "e.tsv", *args, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    line = next(x for x in proc.stderr.splitlines() if x.startswith("omicsgat grn: ranked by per target"))
    assert "targets by the attention model" in line and "chosen per target by cross-validation" in line
    edges = pd.read_csv(tmp_path / "e.tsv", sep="\t")
    assert "model_score" in edges.columns and edges["score"].is_monotonic_decreasing


def test_cli_supervised_says_how_far_it_trusted_the_prior(tiny_h5ad, tmp_path):
    import anndata as ad

    from omicsgat.simulate import true_network

    data, regs = tiny_h5ad
    prior = tmp_path / "prior.tsv"
    true_network(ad.read_h5ad(data))[["regulator", "target"]].to_csv(prior, sep="\t", index=False)
    args = ("--mode", "supervised", "--prior", prior, "--regulators", regs, "--epochs", "20", "--device", "cpu")
    proc = _run(data, "--out", tmp_path / "e.tsv", "--genes", "40", *args, "--reference-network", prior, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    line = next(x for x in proc.stderr.splitlines() if x.startswith("omicsgat grn: supervised: weight"))
    assert "validation" in line
    assert any("the prior's own edges included" in x for x in proc.stderr.splitlines())
    held = next(x for x in proc.stderr.splitlines() if x.startswith("omicsgat grn: on the "))
    assert "held-out test pairs only" in held and 0.0 <= float(held.split("AUROC ")[1].split(",")[0]) <= 1.0
    edges = pd.read_csv(tmp_path / "e.tsv", sep="\t")
    assert {"learned_score", "steady_state_score", "split"} <= set(edges.columns)
    assert edges["score"].is_monotonic_decreasing
