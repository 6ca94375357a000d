"""The multi-omics dialog: previews, event mapping, alignment problems, then the cohort."""

from __future__ import annotations

from html import unescape

import pandas as pd
import pytest
from PySide6.QtWidgets import QDialog, QDialogButtonBox

from omicsgat_gui.cohort_dialog import CohortDialog


@pytest.fixture
def dialog(qtbot):
    d = CohortDialog()
    qtbot.addWidget(d)
    return d


def ok_button(d):
    return d.buttons.button(QDialogButtonBox.Ok)


def test_preview_mapping_and_accept(dialog, cohort_files):
    dialog.add_table(cohort_files["mRNA"])
    dialog.add_table(cohort_files["miRNA"], name="micro")
    assert dialog.omics() == {"mRNA": cohort_files["mRNA"], "micro": cohort_files["miRNA"]}
    # the selected table is previewed (first rows, sample IDs in the first column)
    assert len(dialog.preview.frame) == 5
    assert "miRNA.csv" in dialog.preview_label.text()
    dialog.set_clinical(cohort_files["clinical"])
    assert dialog.time_col.currentText() == "OS_time" and dialog.event_col.currentText() == "OS_event"
    values = {dialog.event_values.item(r, 0).text() for r in range(dialog.event_values.rowCount())}
    assert values == {"dead", "alive"}
    # the engine's mapping is shown
    mapping = unescape(dialog.mapping.text())
    assert "'dead' -> 1" in mapping and "'alive' -> 0" in mapping
    assert ok_button(dialog).isEnabled() and "Checks the alignment" in ok_button(dialog).toolTip()
    assert dialog.check()
    assert ok_button(dialog).isEnabled()
    assert dialog.cohort.modalities == ["mRNA", "micro"] and dialog.cohort.n_samples == 60
    assert "60 samples" in dialog.problems.toPlainText()
    # any change needs a new check (Open runs it)
    dialog.event_col.setCurrentText("OS_time")
    assert dialog.cohort is None


def test_open_cohort_checks_first_and_the_unit_comes_from_the_column_name(dialog, cohort_files, tmp_path):
    clinical = pd.read_csv(cohort_files["clinical"]).rename(columns={"OS_time": "OS_months"})
    clinical.to_csv(tmp_path / "clinical_months.csv", index=False)
    assert not ok_button(dialog).isEnabled() and "omics table" in ok_button(dialog).toolTip()
    dialog.add_table(cohort_files["mRNA"])
    dialog.set_clinical(str(tmp_path / "clinical_months.csv"))
    assert dialog.time_unit.currentText() == "months"
    dialog.time_col.setCurrentText("age") if dialog.time_col.findText("age") >= 0 else None
    dialog.time_col.setCurrentText("OS_months")
    assert dialog.time_unit.currentText() == "months"
    dialog.time_unit.setCurrentText("weeks")  # the user's choice stays
    ok_button(dialog).click()  # no Check alignment pressed: Open checks, then opens
    assert dialog.result() == 1 and dialog.cohort is not None and dialog.cohort.time_unit == "weeks"


def test_overriding_an_event_value(dialog, cohort_files):
    dialog.add_table(cohort_files["mRNA"])
    dialog.set_clinical(cohort_files["clinical"])
    rows = {dialog.event_values.item(r, 0).text(): r for r in range(dialog.event_values.rowCount())}
    dialog.event_values.cellWidget(rows["alive"], 2).setCurrentText("1 = event")
    assert dialog.event_map() == {"alive": 1}
    assert "'alive' -> 1" in unescape(dialog.mapping.text())
    assert dialog.check()
    assert dialog.cohort.event.all()


def test_alignment_problems_are_shown_before_accepting(dialog, cohort_files, tmp_path):
    table = pd.read_csv(cohort_files["miRNA"], index_col=0)
    table.iloc[:-7].to_csv(tmp_path / "short.csv")  # 7 clinical samples missing from this table
    dialog.add_table(cohort_files["mRNA"])
    dialog.add_table(str(tmp_path / "short.csv"))
    dialog.set_clinical(cohort_files["clinical"])
    assert dialog.check()
    text = dialog.problems.toPlainText()
    assert "short.csv" in text and "7 of 60 clinical samples are missing" in text
    assert dialog.cohort.n_samples == 53


def test_unusable_inputs_are_explained(dialog, cohort_files, tmp_path):
    assert not dialog.check()
    assert "at least one omics table" in dialog.problems.toPlainText()
    dialog.add_table(cohort_files["mRNA"])
    bad = tmp_path / "clinical_bad.csv"
    clinical = pd.read_csv(cohort_files["clinical"])
    clinical.loc[3, "OS_time"] = -5
    clinical.to_csv(bad, index=False)
    dialog.set_clinical(str(bad))
    assert "negative survival time" in dialog.mapping.text()
    assert not dialog.check()
    assert (
        "negative survival time" in dialog.problems.toPlainText()
        and "clinical_bad.csv" in dialog.problems.toPlainText()
    )
    assert not ok_button(dialog).isEnabled()


def test_window_opens_the_cohort_through_the_dialog(window, cohort_files, monkeypatch):
    def fake_exec(d):
        d.add_table(cohort_files["mRNA"])
        d.add_table(cohort_files["miRNA"])
        d.set_clinical(cohort_files["clinical"])
        assert d.check()
        return QDialog.Accepted

    monkeypatch.setattr(CohortDialog, "exec", fake_exec)
    window.open_cohort_action.trigger()
    assert window.cohort is not None and window.cohort.n_samples == 60
    assert window.prognosis_panel.selected_modalities() == ["mRNA", "miRNA"]
    assert window.data_panel.cohort_tabs.count() == 3
    assert "60 samples" in window.data_panel.summary.text()


def test_no_event_column_is_said_with_candidates(dialog, cohort_files, tmp_path):
    """#16 item 13: no event column is never silently the time column; the candidates are listed."""
    clinical = pd.read_csv(cohort_files["clinical"], index_col=0)
    path = tmp_path / "no_event.csv"
    clinical.rename(columns={"OS_event": "vstatus_x"}).rename(columns={"vstatus_x": "outcome"}).to_csv(path)
    dialog.add_table(cohort_files["mRNA"], "mRNA")
    dialog.set_clinical(str(path))
    assert dialog.time_col.currentText() == "OS_time"
    assert dialog.event_col.currentText() != dialog.time_col.currentText()
    text = dialog.mapping.text()
    assert "No event column found" in text and "outcome" in text and "same" not in text
    assert not dialog.check()
    assert "No event column found" in dialog.problems.toPlainText()
    dialog.event_col.setCurrentText("outcome")
    assert "mapped as" in dialog.mapping.text()
    assert dialog.check()


def test_messages_use_the_apps_words_and_stale_errors_go(dialog, cohort_files, tmp_path):
    clinical = pd.read_csv(cohort_files["clinical"], index_col=0)
    clinical["OS_event"] = clinical["OS_event"].map({"dead": "DOD", "alive": "NED"})
    path = tmp_path / "codes.csv"
    clinical.to_csv(path)
    dialog.add_table(cohort_files["mRNA"], "mRNA")
    dialog.set_clinical(str(path))
    text = unescape(dialog.mapping.text())
    assert "NED" in text and "--event-map" not in text and "Event values table" in text, text
    bad = tmp_path / "bad.csv"
    bad.write_text("not,a\ntable")
    dialog.add_table(str(bad), "bad")
    for r in range(dialog.event_values.rowCount()):
        value = dialog.event_values.item(r, 0).text()
        dialog.event_values.cellWidget(r, 2).setCurrentText("1 = event" if value == "DOD" else "0 = censored")
    assert "mapped as" in dialog.mapping.text()
    assert not dialog.check()
    assert dialog.problems.toPlainText()
    dialog.tables.selectRow(1)
    dialog._remove_selected()
    assert dialog.problems.toPlainText() == ""  # the error was about the removed file


def test_time_unit_is_asked_once_and_reaches_the_cohort(dialog, cohort_files):
    dialog.add_table(cohort_files["mRNA"], "mRNA")
    dialog.set_clinical(cohort_files["clinical"])
    dialog.time_unit.setCurrentText("months")
    assert dialog.check()
    dialog.accept()
    assert dialog.cohort.time_unit == "months"
