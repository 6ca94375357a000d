"""`omicsgat info` on the sample data and on mistakes in the command line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data"


def info(*args, cwd=SAMPLE):
    return subprocess.run(
        [sys.executable, "-m", "omicsgat", "info", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_info_on_a_single_cell_file():
    proc = info("simulated_grn.h5ad")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "cells:        1000" in out and "genes:        200" in out and "X holds:      counts" in out
    assert "obs columns:  cell_type, batch, library_size" in out
    assert "[info] simulated_grn.h5ad: 1000 cells x 200 genes; X holds raw counts." in out


def test_info_on_a_whole_cohort_counts_the_mapped_events():
    proc = info(
        "cohort/clinical.csv",
        "--time-col",
        "OS_time",
        "--event-col",
        "OS_event",
        "--omics",
        "mRNA=cohort/mRNA.csv",
        "--omics",
        "miRNA=cohort/miRNA.csv,methylation=cohort/methylation.csv",
    )
    assert proc.returncode == 0, proc.stderr
    n_dead = int((pd.read_csv(SAMPLE / "cohort" / "clinical.csv")["OS_event"] == "dead").sum())
    assert "samples (in every table): 200" in proc.stdout
    assert f"events:                   {n_dead} " in proc.stdout
    assert "mRNA: 300 features" in proc.stdout and "methylation: 200 features" in proc.stdout
    assert f"'dead' -> 1 ({n_dead} samples)" in proc.stdout


def test_info_on_a_clinical_table_without_columns_suggests_them():
    proc = info("cohort/clinical.csv")
    assert proc.returncode == 0, proc.stderr
    assert "text columns:  OS_event, stage" in proc.stdout
    assert "survival-like: time OS_time; event OS_event" in proc.stdout


def test_info_mistakes_exit_2_with_one_line(tmp_path):
    missing = info(tmp_path / "absent.h5ad")
    assert missing.returncode == 2 and "absent.h5ad: file not found" in missing.stderr
    bad_map = info("cohort/clinical.csv", "--time-col", "OS_time", "--event-col", "OS_event", "--event-map", "dead=yes")
    assert bad_map.returncode == 2 and "--event-map values must be 0 or 1" in bad_map.stderr
    for proc in (missing, bad_map):
        assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr and proc.stdout == ""
