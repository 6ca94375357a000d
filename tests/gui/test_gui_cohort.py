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
    assert not ok_button(dialog).isEnabled()
    assert dialog.check()
    assert ok_button(dialog).isEnabled()
    assert dialog.cohort.modalities == ["mRNA", "micro"] and dialog.cohort.n_samples == 60
    assert "60 samples" in dialog.problems.toPlainText()
    # any change needs a new check
    dialog.event_col.setCurrentText("OS_time")
    assert not ok_button(dialog).isEnabled() and dialog.cohort is None


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
    assert "negative survival time" in dialog.problems.toPlainText() and "clinical_bad.csv" in dialog.problems.toPlainText()
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
