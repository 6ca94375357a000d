"""The cell-typing cases of the bad-input corpus through `omicsgat celltype`: exit 2, message on stderr."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

BAD = Path(__file__).resolve().parents[1] / "data" / "bad"
MANIFEST = pd.read_csv(BAD / "MANIFEST.tsv", sep="\t", quoting=csv.QUOTE_NONE, keep_default_na=False)
CASES = MANIFEST[MANIFEST["loader"] == "annotate_cells"]


@pytest.mark.parametrize("row", CASES.to_dict("records"), ids=list(CASES["file"]))
def test_celltype_cli_refuses_corpus_case(row, tmp_path):
    kwargs = json.loads(row["kwargs"])
    args = [
        sys.executable,
        "-m",
        "omicsgat",
        "celltype",
        str(BAD / row["file"]),
        "--label-key",
        kwargs["label_key"],
        "--out",
        str(tmp_path / "labels.tsv"),
        "--epochs",
        "1",
        "--quiet",
    ]
    if "reference" in kwargs:
        args += ["--reference", str(BAD / kwargs["reference"])]
    before = {p.name: p.read_bytes() for p in BAD.iterdir()}
    r = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert r.returncode == 2, r.stderr
    assert row["message"] in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "labels.tsv").exists()
    assert {p.name: p.read_bytes() for p in BAD.iterdir()} == before
