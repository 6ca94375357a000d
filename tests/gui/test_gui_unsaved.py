"""Results are not silently discarded: quitting or opening other data asks first (#16 item 2)."""

from __future__ import annotations

from PySide6.QtWidgets import QFileDialog, QMessageBox


def _grn_result(window, qtbot, scrna_file, load):
    load(window, qtbot, scrna_file)
    panel = window.grn_panel
    panel.genes.setValue(30)
    panel.epochs.setValue(2)
    panel.device.setCurrentText("cpu")
    with qtbot.waitSignal(window.runner.idle, timeout=120000):
        panel.run_button.click()
    assert panel.result is not None, panel.status.text()
    return panel


def test_quit_and_open_ask_before_discarding_unsaved_results(
    window, qtbot, scrna_file, tmp_path, dialogs, load, monkeypatch
):
    panel = _grn_result(window, qtbot, scrna_file, load)
    result = panel.result
    dialogs.clear()
    dialogs.answer = QMessageBox.Cancel
    window.quit_action.trigger()  # Ctrl+Q
    assert window.isVisible(), "Cancel must keep the window open"
    assert [d[0] for d in dialogs] == ["question"] and "GRN inference" in dialogs[0][2]
    # opening another data set asks too, and Cancel keeps the result on screen and exportable
    assert not window.open_anndata(str(scrna_file))
    assert panel.result is result and panel.edges.frame is not None and len(panel.edges.frame) > 0
    assert any(k.startswith("GRN inference") for k in window.exportables())
    assert len(dialogs) == 2
    # once saved, nothing is asked
    target = tmp_path / "grn_results"
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(target))
    panel.save_button.click()
    assert (target / "edges.tsv").exists() and not panel.unsaved
    dialogs.clear()
    window.quit_action.trigger()
    assert not window.isVisible()
    assert dialogs == []


def test_discard_answer_quits(window, qtbot, scrna_file, dialogs, load):
    _grn_result(window, qtbot, scrna_file, load)
    dialogs.clear()
    dialogs.answer = QMessageBox.Discard
    window.close()
    assert not window.isVisible()
    assert len(dialogs) == 1
