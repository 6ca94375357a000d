"""``omicsgat prognosis`` in a subprocess on a small cohort written to CSV files."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest


def _run(*args, timeout=300):
    return subprocess.run(
        [sys.executable, "-m", "omicsgat", "prognosis", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    from omicsgat.simulate import simulate_survival_cohort

    cohort = simulate_survival_cohort(n_samples=80, n_features={"mRNA": 40, "miRNA": 20}, seed=1)
    return cohort.save(tmp_path_factory.mktemp("cohort"))


def test_cli_writes_the_documented_outputs(files, tmp_path):
    out = tmp_path / "res"
    proc = _run(
        "--omics",
        f"mRNA={files['mRNA']}",
        "--omics",
        f"miRNA={files['miRNA']}",
        "--clinical",
        files["clinical"],
        "--time",
        "OS_time",
        "--event",
        "OS_event",
        "--out",
        out,
        "--folds",
        3,
        "--ensemble",
        1,
        "--epochs",
        40,
        "--groups",
        "tertiles",
        "--seed",
        5,
    )
    assert proc.returncode == 0, proc.stderr
    assert "device cpu" in proc.stderr and "C-index" in proc.stderr
    risk = pd.read_csv(out / "risk.tsv", sep="\t")
    assert list(risk.columns[:4]) == ["sample", "risk", "group", "fold"]
    assert len(risk) == 80 and set(risk["group"]) == {"low", "intermediate", "high"} and set(risk["fold"]) == {1, 2, 3}
    genes = pd.read_csv(out / "genes_miRNA.tsv", sep="\t")
    assert len(genes) == 20 and list(genes.columns[:4]) == ["feature", "attention", "rank", "topk_frequency"]
    assert {"cox_hr", "cox_p", "cox_fdr"} <= set(genes.columns)
    summary = json.loads((out / "summary.json").read_text())
    assert len(summary["c_index_per_fold"]) == 3 and summary["groups"] == "tertiles" and summary["wide"] == "blend"
    assert (
        len(summary["enet_features"]) == 3 and min(summary["enet_features"]) > 0
    )  # each member fitted its elastic net
    assert {"c_index", "logrank_p", "hazard_ratio"} <= set(summary)
    for ext in ("png", "svg", "pdf"):
        assert (out / f"km.{ext}").stat().st_size > 1000


def test_cli_bad_input_exits_2_with_one_clear_line(files, tmp_path):
    clinical = pd.read_csv(files["clinical"], index_col=0).assign(OS_event=0)
    no_events = tmp_path / "clinical_no_events.csv"
    clinical.to_csv(no_events)
    proc = _run(
        "--omics",
        f"mRNA={files['mRNA']}",
        "--clinical",
        no_events,
        "--time",
        "OS_time",
        "--event",
        "OS_event",
        "--out",
        tmp_path / "o",
        "--quiet",
    )
    assert proc.returncode == 2
    assert "error" in proc.stderr and "event" in proc.stderr.lower() and "Traceback" not in proc.stderr
    proc = _run(
        "--omics",
        str(files["mRNA"]),
        "--clinical",
        files["clinical"],
        "--time",
        "OS_time",
        "--event",
        "OS_event",
        "--out",
        tmp_path / "o",
        "--quiet",
    )
    assert proc.returncode == 2 and "NAME=FILE" in proc.stderr
    assert not (tmp_path / "o").exists()


def test_cli_wide_option_reaches_the_model(files, tmp_path):
    out = tmp_path / "learned"
    proc = _run(
        "--omics",
        f"mRNA={files['mRNA']}",
        "--clinical",
        files["clinical"],
        "--time",
        "OS_time",
        "--event",
        "OS_event",
        "--out",
        out,
        "--folds",
        2,
        "--ensemble",
        1,
        "--epochs",
        10,
        "--wide",
        "learned",
        "--quiet",
    )
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["wide"] == "learned" and summary["enet_features"] == [
        0,
        0,
    ]  # the networks alone: no elastic net fitted
    proc = _run(
        "--omics",
        f"mRNA={files['mRNA']}",
        "--clinical",
        files["clinical"],
        "--time",
        "OS_time",
        "--event",
        "OS_event",
        "--out",
        tmp_path / "x",
        "--wide",
        "lasso",
        "--quiet",
    )
    assert proc.returncode == 2 and "--wide" in proc.stderr
