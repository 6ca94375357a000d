"""Every bad input in tests/data/bad/ gives a clear error or an explained warning, in the engine and in `omicsgat info`."""

from __future__ import annotations

import csv
import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from omicsgat.errors import OmicsInputError

BAD = Path(__file__).resolve().parents[1] / "data" / "bad"
MANIFEST = pd.read_csv(BAD / "MANIFEST.tsv", sep="\t", quoting=csv.QUOTE_NONE, keep_default_na=False)
IO_LOADERS = ("read_anndata", "read_table", "read_clinical", "read_cohort")
IO_ROWS = MANIFEST[MANIFEST["loader"].isin(IO_LOADERS)]
CLI_ROWS = MANIFEST[MANIFEST["cli"] != ""]


def _ids(frame):
    return [f"{r.file}-{r.outcome}-{i}" for i, r in zip(frame.index, frame.itertuples())]


def _digest(folder: Path) -> dict:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


@pytest.fixture(scope="module", autouse=True)
def corpus_unchanged():
    """No loader or CLI call may modify an input file."""
    before = _digest(BAD)
    yield
    assert _digest(BAD) == before


def load(row):
    import omicsgat.io as oio

    kwargs = json.loads(row.kwargs)
    if row.loader == "read_cohort":
        omics = {k: BAD / v for k, v in kwargs.pop("omics").items()}
        cohort = oio.read_cohort(omics, BAD / row.file, **kwargs)
        return cohort.report
    _value, report = getattr(oio, row.loader)(BAD / row.file, **kwargs)
    return report


def test_manifest_lists_every_corpus_file_and_is_complete():
    files = {p.name for p in BAD.iterdir()} - {"MANIFEST.tsv"}
    listed = set(MANIFEST["file"])
    for kwargs in MANIFEST["kwargs"]:
        kw = json.loads(kwargs)
        listed |= set(kw.get("omics", {}).values()) | ({kw["reference"]} if "reference" in kw else set())
    assert files == listed
    assert set(MANIFEST["outcome"]) <= {"error", "warning", "info"}
    assert (MANIFEST["message"] != "").all()


@pytest.mark.parametrize("row", list(IO_ROWS.itertuples()), ids=_ids(IO_ROWS))
def test_engine_outcome(row):
    if row.outcome == "error":
        with pytest.raises(OmicsInputError) as info:
            load(row)
        message = str(info.value)
        assert row.file in message, message
        assert row.message in message, message
    else:
        report = load(row)
        entries = report.warnings if row.outcome == "warning" else report.infos
        assert any(row.message in e for e in entries), report.to_text()


def test_celltype_corpus_files_are_valid_anndata():
    """The cell-typing cases are well-formed files: their problem is for annotate_cells to report."""
    import omicsgat.io as oio

    for name in ("one_class_labels.h5ad", "no_shared_genes_query.h5ad", "no_shared_genes_reference.h5ad"):
        adata, report = oio.read_anndata(BAD / name)
        assert adata.n_obs == 40 and not report.warnings


DRIVER = r"""
import contextlib, io, json, shlex, sys
from omicsgat.cli import main
out = []
for args in json.loads(sys.stdin.read()):
    so, se = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(so), contextlib.redirect_stderr(se):
        rc = main(["info", *shlex.split(args)])
    out.append({"rc": rc, "stdout": so.getvalue(), "stderr": se.getvalue()})
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def cli_results():
    """`omicsgat info` on every corpus case, in one child process (one interpreter start, not 40)."""
    args = list(CLI_ROWS["cli"])
    proc = subprocess.run(
        [sys.executable, "-c", DRIVER], input=json.dumps(args), cwd=BAD, capture_output=True, text=True, timeout=240
    )
    assert proc.returncode == 0, proc.stderr
    return dict(zip(CLI_ROWS.index, json.loads(proc.stdout.strip().splitlines()[-1])))


@pytest.mark.parametrize("row", list(CLI_ROWS.itertuples()), ids=_ids(CLI_ROWS))
def test_cli_outcome(row, cli_results):
    res = cli_results[row.Index]
    if row.outcome == "error":
        assert res["rc"] == 2, res
        assert res["stderr"].startswith("omicsgat info: error: ") and res["stderr"].count("\n") == 1, res
        assert row.message in res["stderr"]
        assert "Traceback" not in res["stderr"] + res["stdout"]
    else:
        assert res["rc"] == 0, res
        assert row.message in res["stdout"]


@pytest.mark.parametrize(
    "args,needle",
    [
        (["truncated.h5ad"], "truncated or damaged"),
        (["mixed_types.csv"], "column 'g1', row 'S07'"),
        (["clinical_no_events.csv", "--time-col", "OS_time", "--event-col", "OS_event"], "no events"),
    ],
)
def test_cli_entry_point_exits_2_with_one_line(args, needle):
    """The real command line, one process per call, for a few cases."""
    proc = subprocess.run(
        [sys.executable, "-m", "omicsgat", "info", *args], cwd=BAD, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 2
    assert needle in proc.stderr and args[0] in proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""
