"""The bad-input corpus (tests/data/bad/MANIFEST.tsv) through the GUI: a dialog or a report, never a crash.

Each row names a file, the loader that meets it, the expected outcome
(error / warning / info) and a piece of the message. The GUI must show
that message: errors in a dialog (or the cohort dialog's problem pane),
warnings in the load report. Input files are never modified.
"""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import pytest

BAD = Path(__file__).resolve().parents[1] / "data" / "bad"
ROWS = list(csv.DictReader(open(BAD / "MANIFEST.tsv", encoding="utf-8"), delimiter="\t"))


def rows(*loaders):
    return [pytest.param(r, id=f"{r['file']}-{r['outcome']}-{i}") for i, r in enumerate(ROWS) if r["loader"] in loaders]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("row", rows("read_anndata"))
def test_single_cell_files(window, qtbot, dialogs, row):
    path = BAD / row["file"]
    before = digest(path)
    with qtbot.waitSignal(window.runner.idle, timeout=60000):
        window.open_anndata(str(path))
    if row["outcome"] == "error":
        assert len(dialogs) == 1 and dialogs[0][0] == "critical"
        assert row["message"].lower() in dialogs[0][2].lower()
        assert window.adata is None
    else:
        assert dialogs == []
        assert row["message"] in window.data_panel.report.toPlainText()
        if row["outcome"] == "warning":
            assert "warning" in window.data_panel.info_tabs.tabText(1)
    assert digest(path) == before
    assert window.isVisible()


@pytest.mark.parametrize("row", rows("annotate_cells"))
def test_cell_typing_inputs(window, qtbot, dialogs, row, load):
    kwargs = json.loads(row["kwargs"])
    load(window, qtbot, BAD / row["file"])
    panel = window.celltype_panel
    panel.label_key.setEditText(kwargs["label_key"])
    panel.epochs.setValue(kwargs["epochs"])
    if "reference" in kwargs:
        panel.reference.edit.setText(str(BAD / kwargs["reference"]))
    with qtbot.waitSignal(window.runner.idle, timeout=60000):
        panel.run_button.click()
    assert [d[0] for d in dialogs] == ["critical"]
    assert row["message"] in dialogs[0][2]
    assert panel.result is None and panel.run_button.isEnabled()


@pytest.fixture
def cohort_dialog(qtbot):
    from omicsgat_gui.cohort_dialog import CohortDialog

    d = CohortDialog()
    qtbot.addWidget(d)
    return d


@pytest.mark.parametrize("row", [r for r in rows("read_table") if r.values[0]["outcome"] == "error"])
def test_omics_tables(cohort_dialog, row):
    kwargs = json.loads(row["kwargs"])
    cohort_dialog.add_table(str(BAD / row["file"]), name="omics", transpose=kwargs.get("transpose", False))
    cohort_dialog.set_clinical(str(BAD / "cohort_clinical.csv"))
    assert not cohort_dialog.check()
    assert row["message"] in cohort_dialog.problems.toPlainText()


@pytest.mark.parametrize("row", rows("read_clinical", "read_cohort"))
def test_clinical_tables_and_cohorts(cohort_dialog, row):
    kwargs = json.loads(row["kwargs"])
    for name, file in kwargs.get("omics", {"mRNA": "cohort_full_miRNA.csv"}).items():
        cohort_dialog.add_table(str(BAD / file), name=name)
    cohort_dialog.set_clinical(str(BAD / row["file"]))
    if cohort_dialog.time_col.findText(kwargs["time_col"]) < 0:
        # the dialog offers only the file's own columns, so a missing column cannot be chosen
        assert "no survival time column" in row["message"]
        assert cohort_dialog.time_col.currentText() == "survival_months"  # guessed from the name
        return
    cohort_dialog.time_col.setCurrentText(kwargs["time_col"])
    cohort_dialog.event_col.setCurrentText(kwargs["event_col"])
    for value, code in kwargs.get("event_map", {}).items():
        for r in range(cohort_dialog.event_values.rowCount()):
            if cohort_dialog.event_values.item(r, 0).text() == value:
                cohort_dialog.event_values.cellWidget(r, 2).setCurrentText("1 = event" if code == 1 else "0 = censored")
    if row["loader"] == "read_clinical":
        # the clinical table alone is read as soon as the columns are chosen
        from html import unescape

        assert row["message"] in unescape(cohort_dialog.mapping.text())
    else:
        ok = cohort_dialog.check()
        assert ok == (row["outcome"] != "error")
        assert row["message"] in cohort_dialog.problems.toPlainText()
