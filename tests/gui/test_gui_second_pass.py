"""What the screen shows is what was computed: edge colours, captions, controls and files after a run."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox


def run(window, qtbot, panel, timeout=120000):
    with qtbot.waitSignal(window.runner.idle, timeout=timeout):
        panel.run_button.click()
    assert panel.result is not None, panel.status.text()
    return panel.result


def _grn(window, qtbot, tmp_path, load):
    """A GRN result in seconds: the tiny BEELINE folder of test_gui_beeline, expression only."""
    from test_gui_beeline import write_beeline_folder

    load(window, qtbot, write_beeline_folder(tmp_path / "beeline"))
    panel = window.grn_panel
    panel.set_pseudotime_columns([])
    panel.epochs.setValue(2)
    panel.device.setCurrentText("cpu")
    return panel, run(window, qtbot, panel)


def test_network_colours_follow_the_results_sign_and_new_data_resets_the_panel(
    window, qtbot, scrna_file, load, tmp_path, dialogs
):
    from matplotlib.colors import to_hex
    from matplotlib.patches import FancyArrowPatch

    from omicsgat.pl.network import ACTIVATING, REPRESSING

    panel, result = _grn(window, qtbot, tmp_path, load)
    assert panel.score.currentText().startswith("Adaptive per target")  # what ranked them (no pseudotime)
    # the colour of each edge is the result's sign, whatever the correlation says: flip every sign and redraw
    flipped = result.edges.copy()
    flipped["sign"] = -np.sign(flipped["sign"].replace(0, 1))
    result.edges = flipped
    shown = panel.network.figure
    panel.n_edges.setValue(10)
    qtbot.waitUntil(lambda: panel.network.figure is not shown, timeout=10000)
    arrows = [p for p in panel.network.figure.axes[0].patches if isinstance(p, FancyArrowPatch)]
    top = flipped.nlargest(10, "score")
    assert len(arrows) == len(top) > 0
    expected = [ACTIVATING if s > 0 else REPRESSING for s in top["sign"]]
    assert [to_hex(a.get_edgecolor()) for a in arrows] == [to_hex(c) for c in expected]
    # the previous data set's files, slider and score note do not survive opening other data
    panel.regulators.setCurrentText("From a file (one gene per line)…")
    panel.regulators_file.edit.setText(str(tmp_path / "regulators.txt"))
    panel.prior.edit.setText(str(tmp_path / "prior.tsv"))
    panel.reference.edit.setText(str(tmp_path / "ref.tsv"))
    load(window, qtbot, scrna_file)
    assert panel.regulators.currentIndex() == 0 and panel.regulators_file.path() is None
    assert panel.prior.path() is None and panel.reference.path() is None
    assert panel.n_edges.value() == 30 and panel.n_edges_label.text() == "30 edges"
    assert "ranked by" not in panel.score.toolTip()


def test_cell_typing_reports_known_types_and_absent_types_apart_and_unknown_can_be_off(
    window, qtbot, scrna_file, tmp_path, dialogs, load, monkeypatch
):
    import anndata as ad

    full = ad.read_h5ad(scrna_file)
    reference, query = full[::2].copy(), full[1::2].copy()
    absent = str(reference.obs["cell_type"].cat.categories[-1])
    reference = reference[reference.obs["cell_type"].astype(str) != absent].copy()
    query.obs = query.obs.rename(columns={"cell_type": "true_type"}).drop(columns=["partial_label"])
    reference.write_h5ad(tmp_path / "reference.h5ad")
    query.write_h5ad(tmp_path / "query.h5ad")
    load(window, qtbot, tmp_path / "query.h5ad")
    panel = window.celltype_panel
    panel.reference.edit.setText(str(tmp_path / "reference.h5ad"))
    panel.truth.setCurrentText("true_type")
    panel.epochs.setValue(1)
    panel.device.setCurrentText("cpu")
    assert panel.unknown_mode.currentText() == "Automatic" and "calibrated" in panel.unknown_note.text()
    result = run(window, qtbot, panel)
    assert dialogs == []
    truth = query.obs["true_type"].astype(str).reindex(result.labels.index)
    known = truth != absent
    calls = result.labels["label"].astype(str)
    accuracy = float((calls[known] == truth[known]).mean())
    unknown_share = float((calls[~known] == "Unknown").mean())
    note = panel.confusion_note.text()
    assert f"accuracy {accuracy:.3f}" in note  # on the types the model learned only
    assert f"{int((~known).sum())} cells of types absent" in note and absent in note
    assert f"{unknown_share:.1%} called Unknown" in note
    # the matrix shows each fraction with its number of cells
    cells = [t.get_text() for t in panel.confusion.figure.axes[0].texts]
    assert cells and sum(int(t.split("(")[1].rstrip(")")) for t in cells) == int(truth.notna().sum())
    # Off: no Unknown at all, and the engine is told so (no threshold, no distance test)
    seen = {}
    from omicsgat import celltype

    real = celltype.annotate_cells
    monkeypatch.setattr(celltype, "annotate_cells", lambda *a, **k: seen.update(k) or real(*a, **k))
    panel.unknown_mode.setCurrentText("Off")
    assert not panel.threshold.isEnabled() and "nothing is called Unknown" in panel.unknown_note.text()
    result = run(window, qtbot, panel)
    assert seen["unknown_threshold"] == 0.0 and seen["novelty"] is False
    assert (result.labels["label"].astype(str) != "Unknown").all()


def test_gene_box_matches_case_insensitively_when_unique(window, qtbot, scrna_file, load, dialogs):
    load(window, qtbot, scrna_file)
    data = window.data_panel
    gene = str(window.adata.var_names[3])
    data.gene.setText(gene.lower())
    data._gene_entered()
    assert dialogs == []
    assert data.gene.text() == gene and gene in data.embedding.figure.axes[0].get_title()
    data.gene.setText("no-such-gene")
    data._gene_entered()
    assert dialogs and "not in this data set" in dialogs[-1][2]


def test_engine_messages_use_the_apps_words():
    from omicsgat_gui.errors import for_gui

    message = for_gui(
        "Every cell has a label in obs['bulk_labels'], so there is nothing to predict: check the labels "
        "out of fold (holdout=5, --holdout 5, or 'Out-of-fold check' in the app), or give a reference. "
        "Check the gene naming (symbols in a var column: --gene-symbols)."
    )
    assert "--" not in message and "obs[" not in message and "holdout=" not in message
    assert "the cell column 'bulk_labels'" in message and "Out-of-fold check" in message
    assert "Gene symbols" in message


def test_failed_run_shows_the_apps_words(window, qtbot, scrna_file, load, dialogs):
    load(window, qtbot, scrna_file)
    panel = window.celltype_panel
    panel.label_key.setCurrentText("cell_type")  # every cell labelled, no reference, out-of-fold check off
    panel.holdout.setValue(0)
    panel.epochs.setValue(1)
    with qtbot.waitSignal(window.runner.idle, timeout=60000):
        panel.run_button.click()
    assert dialogs and dialogs[-1][0] == "critical"
    assert "--holdout" not in dialogs[-1][2] and "obs[" not in dialogs[-1][2]


def test_menu_shortcuts_work_while_a_field_has_focus(window, qtbot, monkeypatch):
    """On X11 a line edit claims Ctrl+E (end of line); the shortcut override below stands in for that binding."""
    from PySide6.QtCore import QEvent, QObject

    class ClaimsCtrlE(QObject):  # what QLineEdit does under the X11 key bindings
        def eventFilter(self, obj, event):
            if event.type() == QEvent.ShortcutOverride and event.key() == Qt.Key_E:
                event.accept()
                return True
            return False

    from omicsgat_gui.export_dialog import ExportDialog

    opened = []
    monkeypatch.setattr(ExportDialog, "exec", lambda self: opened.append(1) or 0)
    field = window.grn_panel.prior.edit
    claim = ClaimsCtrlE(field)
    field.installEventFilter(claim)
    window.tabs.setCurrentWidget(window.grn_panel)
    field.setFocus()
    qtbot.waitUntil(field.hasFocus, timeout=2000)
    qtbot.keyClick(field, Qt.Key_E, Qt.ControlModifier)
    assert opened == [1]
    spin = window.grn_panel.epochs
    spin.setFocus()
    qtbot.keyClick(spin, Qt.Key_E, Qt.ControlModifier)
    assert opened == [1, 1]


def test_where_analyses_run_is_a_preference_the_next_run_uses(window, qtbot, scrna_file, load, monkeypatch):
    from PySide6.QtWidgets import QDialogButtonBox

    from omicsgat_gui import settings
    from omicsgat_gui.scheduler_dialog import SchedulerDialog

    def choose(dialog):
        dialog.remote.setChecked(True)
        dialog.address.setText("not an address")
        dialog.buttons.button(QDialogButtonBox.Ok).click()
        assert dialog.isVisible() is False and "tcp://host:port" in dialog.error.text()  # refused, says how
        dialog.processes.setChecked(True)
        dialog.n_processes.setValue(1)
        dialog.accept()
        return dialog.result()

    monkeypatch.setattr(SchedulerDialog, "exec", choose)
    window.scheduler_action.trigger()
    assert settings.scheduler_choice() == "processes:1"
    assert window.scheduler_label.text() == "Runs: local cluster, 1 worker"
    load(window, qtbot, scrna_file)
    seen = {}
    from omicsgat import grn

    monkeypatch.setattr(
        grn,
        "infer_grn",
        lambda adata, **k: (
            seen.update(k) or (_ for _ in ()).throw(__import__("omicsgat.errors", fromlist=["Cancelled"]).Cancelled())
        ),
    )
    with qtbot.waitSignal(window.runner.idle, timeout=30000):
        window.grn_panel.run_button.click()
    assert seen["scheduler"] == "processes:1"
    dialog = SchedulerDialog("processes:1")
    assert dialog.processes.isChecked() and dialog.n_processes.value() == 1  # reopened as chosen
    dialog.in_process.setChecked(True)
    assert dialog.choice() == ""


def test_unsaved_results_dialog_can_save(window, qtbot, scrna_file, load, dialogs, monkeypatch, tmp_path):
    from PySide6.QtWidgets import QFileDialog

    panel, _ = _grn(window, qtbot, tmp_path, load)
    dialogs.answer = QMessageBox.Save
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(tmp_path / "kept"))
    window.quit_action.trigger()
    assert not window.isVisible() and (tmp_path / "kept" / "edges.tsv").exists() and not panel.unsaved
    assert "kept" in window.statusBar().currentMessage()


def test_window_fits_a_small_screen_and_parameter_forms_are_not_clipped(window):
    from PySide6.QtWidgets import QScrollArea

    assert window.minimumSizeHint().width() <= 1024  # long placeholder hints wrap instead of widening the window
    for panel in window.panels:
        scroll = panel.findChild(QScrollArea)
        assert scroll.minimumWidth() >= scroll.widget().minimumSizeHint().width()  # no horizontal scrollbar


def test_showing_a_wide_cohort_does_not_measure_every_value(window, monkeypatch):
    """Reopening the sample cohort (200 samples x 600 features) froze the window: fitting the preview tables'
    columns asked the model for every value on the GUI thread. Counted, not timed."""
    from pathlib import Path

    from omicsgat.io import read_cohort
    from omicsgat_gui.table import DataFrameModel

    folder = Path(__file__).resolve().parents[2] / "sample_data" / "cohort"
    cohort = read_cohort(
        {m: folder / f"{m}.csv" for m in ("mRNA", "miRNA", "methylation")},
        folder / "clinical.csv",
        time_col="OS_time",
        event_col="OS_event",
    )
    asked = []
    real = DataFrameModel.data
    monkeypatch.setattr(DataFrameModel, "data", lambda self, *a: asked.append(1) or real(self, *a))
    window.set_cohort(cohort, "sample cohort")
    assert window.data_panel.cohort_tabs.count() == 4  # clinical + three omics previews
    assert len(asked) < 50_000  # every shown value of every preview column would be ~800,000 requests
