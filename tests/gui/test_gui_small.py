"""The small defects of a first run (#16 items 3b, 12, 15), each through the real window."""

from __future__ import annotations


def test_title_start_message_and_file_pickers(window, qtbot, scrna_file, load):
    from omicsgat_gui import cohort_dialog, main_window

    first = window.log_view.toPlainText().splitlines()[0]
    assert not first.endswith("….") and not first.endswith("..")
    assert "OmicsGAT" not in window.windowTitle()  # Qt adds the application name once
    load(window, qtbot, scrna_file)
    assert window.windowTitle() == scrna_file.name
    assert "*.xlsx" in cohort_dialog.TABLE_FILES and ".xlsx" in main_window.TABLE_SUFFIXES


def test_loading_is_busy_not_100_percent_and_runs_show_elapsed_time(window, qtbot, scrna_file):
    fractions = []
    window.runner.progressed.connect(lambda f, m: fractions.append(f))
    with qtbot.waitSignal(window.data_loaded, timeout=60000):
        assert window.open_anndata(str(scrna_file))
        assert window.progress.maximum() == 0  # an indeterminate (busy) bar while the file is read
        assert window.eta_label.text().startswith("elapsed 0:0")
    assert all(f < 1.0 for f in fractions)
    assert "finished in 0:" in window.log_view.toPlainText()
    assert window.eta_label.isHidden() and window.progress.maximum() == 1000


def test_gui_progress_shows_the_estimate(window):
    window._task_started("Prognosis")
    window._watch.started -= 42
    window._task_progress(0.375, "fold 2/5")
    assert window.eta_label.text() == "elapsed 0:42, about 1:10 left"
    assert window.progress.maximum() == 1000 and window.progress.value() == 375
    window._task_idle()


def test_cell_typing_forgets_the_previous_data_sets_reference_and_threshold(window, qtbot, scrna_file, load):
    load(window, qtbot, scrna_file)
    panel = window.celltype_panel
    panel.reference.edit.setText(str(scrna_file))
    panel.unknown_mode.setCurrentText("Below a confidence of")
    panel.threshold.setValue(0.4)
    load(window, qtbot, scrna_file)
    assert panel.reference.path() is None and panel.unknown_mode.currentText() == "Automatic"
    assert panel.unknown_threshold() is None and not panel.threshold.isEnabled()


def test_recent_menu_reopens_a_cohort(window, qtbot, cohort_files, monkeypatch):
    from omicsgat_gui.cohort_dialog import CohortDialog

    def fill_and_accept(dialog):
        dialog.add_table(cohort_files["mRNA"], "mRNA")
        dialog.set_clinical(cohort_files["clinical"])
        dialog.time_unit.setCurrentText("days")
        assert dialog.check()
        dialog.accept()
        return 1

    monkeypatch.setattr(CohortDialog, "exec", fill_and_accept)
    window.open_cohort_action.trigger()
    assert window.cohort is not None
    window.cohort = None
    window._fill_recent()
    actions = [a for a in window.recent_menu.actions() if a.text().startswith("Cohort: ")]
    assert [a.text() for a in actions] == ["Cohort: mRNA + clinical.csv"]
    with qtbot.waitSignal(window.data_loaded, timeout=60000):
        actions[0].trigger()
    assert window.cohort.modalities == ["mRNA"] and window.cohort.time_unit == "days"
    assert window.prognosis_panel.cohort is window.cohort
