"""The main window: File > Open through the real action, data panel, errors, settings, worker."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
from PySide6.QtWidgets import QFileDialog

from omicsgat.errors import OmicsInputError

#: Signal waits are hang guards, generous for a loaded machine; no test asserts how fast anything is.
WAIT_MS = 60_000


@pytest.fixture
def captured(dialogs):
    return dialogs


def test_window_starts_without_heavy_libraries():
    code = (
        "import sys; from PySide6.QtWidgets import QApplication; app = QApplication([]);"
        "from omicsgat_gui.main_window import MainWindow; w = MainWindow(); w.show(); app.processEvents();"
        "print(sorted(m for m in ('scanpy', 'torch_geometric', 'anndata', 'matplotlib.backends.backend_qtagg')"
        " if m in sys.modules)); w.probe.wait(60000)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        env={**__import__("os").environ, "QT_QPA_PLATFORM": "offscreen"},
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_file_open_action_loads_and_shows_data(window, qtbot, scrna_file, monkeypatch):
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(scrna_file), ""))
    with qtbot.waitSignal(window.data_loaded, timeout=60000):
        window.open_action.trigger()
    assert window.adata.shape == (240, 60)
    summary = window.data_panel.summary.text()
    assert "240 cells × 60 genes" in summary and "counts" in summary
    columns = set(window.data_panel.obs_table.frame["column"])
    assert {"cell_type", "batch", "partial_label"} <= columns
    partial = window.data_panel.obs_table.frame.set_index("column").loc["partial_label"]
    assert partial["missing"] == window.adata.obs["partial_label"].isna().sum() > 0
    # embedding drawn from obsm, coloured by the cell type column
    assert window.data_panel.basis.currentText() == "X_umap"
    assert window.data_panel.color.currentText() == "cell_type"
    fig = window.data_panel.embedding.figure
    assert fig is not None and len(fig.axes[0].collections) == 3  # one scatter per type
    # colour by a gene: a colour bar appears
    window.data_panel.color.setCurrentText("(gene…)")
    window.data_panel.gene.setText("REG000")
    window.data_panel.redraw()
    assert len(window.data_panel.embedding.figure.axes) == 2
    # panels know the data; recent files remember it
    assert window.celltype_panel.label_key.findText("partial_label") >= 0
    from omicsgat_gui import settings

    assert settings.recent_files()[0] == str(scrna_file.resolve())
    assert window.recent_menu.actions()[0].text() == str(scrna_file.resolve())


def test_unknown_gene_is_an_error_dialog(window, qtbot, scrna_file, captured, load):
    load(window, qtbot, scrna_file)
    window.data_panel.color.setCurrentText("(gene…)")
    window.data_panel.gene.setText("NOT_A_GENE")
    window.data_panel.redraw()
    assert captured and "NOT_A_GENE" in captured[-1][2]


def test_broken_file_shows_the_engine_message(window, qtbot, tmp_path, captured):
    broken = tmp_path / "broken.h5ad"
    broken.write_text("this is not HDF5")
    with qtbot.waitSignal(window.runner.idle, timeout=30000):
        window.open_anndata(str(broken))
    assert len(captured) == 1
    kind, title, text = captured[0]
    assert kind == "critical" and "broken.h5ad" in text and "HDF5" in text
    assert window.adata is None and window.isVisible()


def test_compute_pca_when_the_file_has_no_embedding(window, qtbot, tmp_path, load):
    from omicsgat.simulate import simulate_scrna

    path = tmp_path / "plain.h5ad"
    simulate_scrna(n_cells=80, n_genes=30, n_regulators=5, n_cell_types=2, seed=1).write_h5ad(path)
    load(window, qtbot, path)
    assert window.data_panel.compute_button.isVisibleTo(window.data_panel)
    assert window.data_panel.embedding.figure is None
    with qtbot.waitSignal(window.runner.idle, timeout=60000):
        window.data_panel.compute_button.click()
    assert window.adata.obsm["X_pca"].shape == (80, 2)
    assert window.data_panel.basis.currentText() == "X_pca"
    assert window.data_panel.embedding.figure is not None


def _slow_task(seconds: float):
    def task(progress, cancel):
        start = time.monotonic()
        i = 0
        while time.monotonic() - start < seconds:
            progress(min(1.0, (time.monotonic() - start) / seconds), f"epoch {i}")
            i += 1
            time.sleep(0.02)
        return "done"

    return task


def test_cancel_stops_the_worker_and_second_task_is_refused(window, qtbot, captured):
    results = []
    assert window.start_task("slow", _slow_task(30), results.append)
    with qtbot.waitSignal(window.runner.progressed, timeout=WAIT_MS):
        pass
    assert window.progress.isVisible() and window.cancel_button.isVisible()
    assert not window.start_task("second", _slow_task(1), results.append)
    assert captured[-1][0] == "information" and "slow" in captured[-1][2]
    thread = window.runner.thread
    # a generous hang guard, not a latency check: cancel latency is measured in benchmarks/gui_cancel.py
    with qtbot.waitSignal(window.runner.cancelled, timeout=WAIT_MS):
        window.cancel_button.click()
    assert not window.runner.busy
    assert thread.wait(WAIT_MS) and results == []
    assert "cancelled" in window.task_label.text()
    assert "slow: cancelled" in window.log_view.toPlainText()


def test_a_bug_in_a_task_is_logged_and_the_app_keeps_running(window, qtbot, captured, _log_dir):
    def buggy(progress, cancel):
        raise ZeroDivisionError("oops")

    with qtbot.waitSignal(window.runner.idle, timeout=WAIT_MS):
        window.start_task("buggy", buggy, lambda r: None)
    kind, title, text = captured[-1]
    assert "internal error" in title and "ZeroDivisionError: oops" in text
    logs = list(_log_dir.glob("*.log"))
    assert logs and "ZeroDivisionError" in logs[0].read_text()
    results = []
    with qtbot.waitSignal(window.runner.finished, timeout=WAIT_MS):
        window.start_task("after", lambda p, c: 42, results.append)
    assert results == [42]


def test_input_error_in_a_task_shows_its_message(window, qtbot, captured):
    def bad(progress, cancel):
        raise OmicsInputError("column 'x' is missing: choose another")

    with qtbot.waitSignal(window.runner.idle, timeout=WAIT_MS):
        window.start_task("bad", bad, lambda r: None)
    assert captured[-1] == ("critical", "bad", "column 'x' is missing: choose another")


def test_closing_mid_run_stops_the_worker(qtbot):
    from omicsgat_gui.main_window import MainWindow

    w = MainWindow()
    qtbot.addWidget(w)
    w.show()
    w.start_task("slow", _slow_task(60), lambda r: None)
    thread = w.runner.thread
    qtbot.waitSignal(w.runner.progressed, timeout=WAIT_MS).wait()
    w.close()  # returns once the worker has stopped: a 60 s task still running here would fail the next line
    assert not thread.isRunning()


def test_save_annotated_anndata_never_overwrites_the_input(window, qtbot, scrna_file, tmp_path, captured, load):
    import anndata as ad

    load(window, qtbot, scrna_file)
    before = scrna_file.read_bytes()
    assert not window.save_anndata(str(scrna_file))
    assert "never overwrites" in captured[-1][2]
    assert scrna_file.read_bytes() == before
    target = tmp_path / "annotated.h5ad"
    with qtbot.waitSignal(window.runner.finished, timeout=30000):
        assert window.save_anndata(str(target))
    back = ad.read_h5ad(target)
    assert back.shape == (240, 60) and "partial_label" in back.obs
    assert not list(tmp_path.glob(".*tmp*"))


def test_settings_persist_geometry_and_device(qtbot):
    from omicsgat_gui import settings
    from omicsgat_gui.main_window import MainWindow

    w = MainWindow()
    qtbot.addWidget(w)
    w.resize(760, 560)
    w.grn_panel.device.setCurrentText("cpu")
    w.grn_panel.common_kwargs()
    w.close()
    assert settings.device_choice() == "cpu"
    w2 = MainWindow()
    qtbot.addWidget(w2)
    assert (w2.width(), w2.height()) == (760, 560)
    assert w2.prognosis_panel.device.currentText() == "cpu"
    w2.close()


def test_about_names_versions_and_device(window, qtbot, dialogs):
    from omicsgat.device import describe_device, resolve_device

    expected = describe_device(resolve_device("auto"))
    qtbot.waitUntil(lambda: window.device_text == expected, timeout=60000)
    assert window.device_label.text() == f"Device: {expected}"
    window.show_about()
    text = dialogs[-1][2]
    assert f"Active device: <b>{expected}</b>" in text and "PySide6" in text and "PyTorch" in text
    help_actions = [a.text() for a in window.menuBar().actions()]
    assert help_actions == ["&File", "&Analysis", "&View", "&Help"]


def test_dropping_tables_opens_the_cohort_dialog(window, monkeypatch, cohort_files):
    seen = []
    monkeypatch.setattr(type(window), "open_cohort_dialog", lambda self, files=None: seen.append(files))
    window.open_paths([cohort_files["mRNA"], cohort_files["miRNA"]])
    assert seen == [[cohort_files["mRNA"], cohort_files["miRNA"]]]


def test_main_opens_the_file_given_on_the_command_line(qtbot, scrna_file, monkeypatch):
    from PySide6.QtWidgets import QApplication

    from omicsgat_gui import app
    from omicsgat_gui.main_window import MainWindow

    opened, created = [], []

    class Recorded(MainWindow):
        def __init__(self):
            super().__init__()
            created.append(self)

    monkeypatch.setattr("omicsgat_gui.main_window.MainWindow", Recorded)

    def fake_exec():
        (window,) = created  # not handed to qtbot: main() itself tears the window down after the event loop
        opened.append((window.isVisible(), window.runner.current))
        qtbot.waitUntil(lambda: window.adata is not None, timeout=60000)
        window.close()
        return 0

    monkeypatch.setattr(QApplication, "exec", staticmethod(fake_exec))
    monkeypatch.setattr("sys.excepthook", __import__("sys").excepthook)  # main() installs its own; restore after
    assert app.main([str(scrna_file)]) == 0
    assert opened == [(True, "Open cells.h5ad")]
    from shiboken6 import isValid

    # threads joined and the window deleted before main() returns, not left to interpreter teardown
    assert not isValid(created[0])


def test_dropping_a_file_on_the_window_opens_it(window, qtbot, scrna_file):
    from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
    from PySide6.QtGui import QDragEnterEvent, QDropEvent

    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(scrna_file))])
    enter = QDragEnterEvent(window.rect().center(), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    window.dragEnterEvent(enter)
    assert enter.isAccepted()
    drop = QDropEvent(QPointF(window.rect().center()), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    with qtbot.waitSignal(window.data_loaded, timeout=60000):
        window.dropEvent(drop)
    assert window.adata is not None and window.adata_path == scrna_file.resolve()


def test_uncaught_exception_in_a_slot_is_logged_not_fatal(dialogs, _log_dir, monkeypatch):
    from omicsgat_gui.errors import install_excepthook

    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    install_excepthook()
    try:
        raise KeyError("missing thing")
    except KeyError as exc:
        sys.excepthook(type(exc), exc, exc.__traceback__)
    assert dialogs[-1][0] == "critical" and "KeyError" in dialogs[-1][2]
    assert any("missing thing" in p.read_text() for p in _log_dir.glob("*.log"))
    sys.excepthook(OmicsInputError, OmicsInputError("bad column 'x'"), None)
    assert dialogs[-1][2] == "bad column 'x'"


def test_user_guide_opens(window, monkeypatch):
    from omicsgat_gui.help import GuideDialog

    shown = []
    monkeypatch.setattr(GuideDialog, "exec", lambda self: shown.append(self.browser.toPlainText()))
    window.show_guide()
    assert "Open AnnData" in shown[0] and "Cancel" in shown[0]
