"""The main window: menus, tabs (Data + one per analysis), log pane, status bar."""

from __future__ import annotations

import datetime as _dt
import re
from pathlib import Path
from typing import Callable, Optional

from PySide6.QtCore import QByteArray, QEvent, QObject, QThread, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QTabWidget,
)

from omicsgat.errors import OmicsInputError
from omicsgat.progress import clock_text
from omicsgat_gui import settings
from omicsgat_gui.data_panel import DataPanel
from omicsgat_gui.errors import for_gui, guarded, show_input_error
from omicsgat_gui.panels import CellTypePanel, GRNPanel, PrognosisPanel
from omicsgat_gui.worker import TaskRunner

ANNDATA_FILTERS = (
    "Single-cell data (*.h5ad *.h5 *.loom *.h5mu *.mtx *.mtx.gz *.csv *.tsv *.txt *.csv.gz *.tsv.gz *.txt.gz);;"
    "AnnData (*.h5ad);;BEELINE expression (ExpressionData.csv);;10x HDF5 (*.h5);;Matrix Market (*.mtx *.mtx.gz);;"
    "GEO count matrix (*.csv *.tsv *.txt *.csv.gz *.tsv.gz *.txt.gz);;Loom (*.loom);;MuData (*.h5mu);;All files (*)"
)
ANNDATA_SUFFIXES = (".h5ad", ".h5", ".loom", ".h5mu", ".mtx", ".gz")
TABLE_SUFFIXES = (".csv", ".tsv", ".tab", ".txt", ".parquet", ".pq", ".xlsx")


class DeviceProbe(QThread):
    """Resolves the device off the GUI thread (importing torch takes a moment)."""

    resolved = Signal(str)

    def __init__(self, choice: str, parent=None) -> None:
        super().__init__(parent)
        self.choice = choice

    def run(self) -> None:
        try:
            from omicsgat.device import describe_device, resolve_device

            self.resolved.emit(describe_device(resolve_device(self.choice)))
        except OmicsInputError:
            self.resolved.emit(f"{self.choice} (not available)")
        except Exception as exc:  # torch missing or broken: say so, keep going
            self.resolved.emit(f"unknown ({type(exc).__name__})")


class MenuShortcutsInFields(QObject):
    """The window's menu shortcuts work while a text or number field has the focus.

    A line edit claims some Ctrl+letter keys for editing (on X11 Ctrl+E moves to the end of the line), so
    Qt hands it the key instead of the menu. A key press that reaches a field of this window and equals an
    enabled menu action's shortcut triggers that action instead; the field never sees it. Dialogs are
    left alone.
    """

    def __init__(self, window: QMainWindow) -> None:
        super().__init__(window)
        self.window = window

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt override
        if event.type() != QEvent.KeyPress or not event.modifiers() & _control():
            return False
        if not hasattr(obj, "window") or obj.window() is not self.window:
            return False
        pressed = QKeySequence(event.keyCombination())
        for action in self.window.findChildren(QAction):
            if action.isEnabled() and not action.shortcut().isEmpty() and action.shortcut() == pressed:
                action.trigger()
                return True
        return False


def _control():
    from PySide6.QtCore import Qt

    return Qt.ControlModifier


class MainWindow(QMainWindow):
    data_loaded = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.setWindowTitle("")  # Qt shows the application display name, "OmicsGAT", after a title
        self.setAcceptDrops(True)
        self.adata = None
        self.adata_path: Optional[Path] = None
        self.cohort = None
        self.device_text = "auto (checking…)"
        self._on_success: Optional[Callable] = None
        self._panel = None
        self._logged_steps: set[str] = set()

        self.runner = TaskRunner(self)
        self.runner.started.connect(self._task_started)
        self.runner.progressed.connect(self._task_progress)
        self.runner.finished.connect(self._task_finished)
        self.runner.failed.connect(self._task_failed)
        self.runner.cancelled.connect(self._task_cancelled)
        self.runner.idle.connect(self._task_idle)

        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.data_panel = DataPanel()
        self.data_panel.compute_embedding_requested.connect(self.compute_embedding)
        self.grn_panel = GRNPanel()
        self.celltype_panel = CellTypePanel()
        self.prognosis_panel = PrognosisPanel()
        self.panels = (self.grn_panel, self.celltype_panel, self.prognosis_panel)
        self.data_panel.gene_symbols_changed.connect(self.grn_panel.set_gene_symbols)
        self.data_panel.gene_symbols_changed.connect(self.celltype_panel.set_gene_symbols)
        self.grn_panel.activity_ready.connect(self.data_panel.set_activity)
        self.tabs.addTab(self.data_panel, "Data")
        for panel in self.panels:
            self.tabs.addTab(panel, panel.title)
            panel.run_requested.connect(lambda p=panel: self.run_panel(p))
            panel.cancel_requested.connect(self.runner.cancel)
            panel.saved.connect(self._saved)
        self.setCentralWidget(self.tabs)

        self.log_view = QPlainTextEdit(readOnly=True)
        self.log_view.setMaximumBlockCount(5000)
        self.log_dock = QDockWidget("Log", self)
        self.log_dock.setObjectName("log")
        self.log_dock.setWidget(self.log_view)
        self.addDockWidget(self._bottom(), self.log_dock)

        self._build_status_bar()
        self._build_menus()
        self.menu_shortcuts = MenuShortcutsInFields(self)
        QApplication.instance().installEventFilter(self.menu_shortcuts)
        from omicsgat_gui.tooltips import WrapTooltips, wrap_tooltips

        wrap_tooltips(self)
        self.tooltip_wrapper = WrapTooltips(self)
        QApplication.instance().installEventFilter(self.tooltip_wrapper)
        self._restore()
        self.log("OmicsGAT ready. Open data with File ▸ Open AnnData… or File ▸ Open multi-omics cohort…")
        self.probe = DeviceProbe(settings.device_choice(), self)
        self.probe.resolved.connect(self._device_resolved)
        self._closed = False
        QTimer.singleShot(300, self._start_probe)  # after the first paint: importing torch takes a moment

    @staticmethod
    def _bottom():
        from PySide6.QtCore import Qt

        return Qt.BottomDockWidgetArea

    # --- building ------------------------------------------------------
    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.task_label = QLabel("Idle")
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setMaximumWidth(260)
        self.progress.setTextVisible(True)
        self.progress.setFormat("%p%")
        self.progress.hide()
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop the running task (Esc)")
        self.cancel_button.clicked.connect(self.runner.cancel)
        self.cancel_button.hide()
        self.device_label = QLabel(f"Device: {self.device_text}")
        self.scheduler_label = QLabel()
        self.update_scheduler_label()
        self.memory_label = QLabel()
        bar.addWidget(self.task_label, 1)
        bar.addWidget(self.progress)
        bar.addWidget(self.cancel_button)
        bar.addPermanentWidget(self.device_label)
        bar.addPermanentWidget(self.scheduler_label)
        bar.addPermanentWidget(self.memory_label)
        # elapsed time and an estimate of the remainder, refreshed every second while a task runs
        self.eta_label = QLabel()
        self.eta_label.setToolTip("Time since the task started, and the remainder at the average pace so far")
        self.eta_label.hide()
        bar.addWidget(self.eta_label)
        self._watch = None
        self._fraction = 0.0
        self.eta_timer = QTimer(self, interval=1000)
        self.eta_timer.timeout.connect(self._show_eta)
        self.memory_timer = QTimer(self, interval=2000)
        self.memory_timer.timeout.connect(self._update_memory)
        self.memory_timer.start()
        self._update_memory()

    def _action(self, menu, text: str, slot, shortcut=None, tip: str = "") -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        if tip:
            action.setStatusTip(tip)
            action.setToolTip(tip)
        action.triggered.connect(lambda *_: slot())
        menu.addAction(action)
        return action

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file = bar.addMenu("&File")
        self.open_action = self._action(
            file,
            "&Open AnnData…",
            self.open_anndata_dialog,
            QKeySequence.Open,
            "Open single-cell data (.h5ad, 10x .h5 or folder, .loom, .h5mu)",
        )
        self.open_beeline_action = self._action(
            file,
            "Open &BEELINE folder…",
            self.open_beeline_dialog,
            "Ctrl+Shift+B",
            "Open a BEELINE input folder (ExpressionData.csv, optional PseudoTime.csv "
            "and refNetwork.csv) for GRN inference",
        )
        self.open_cohort_action = self._action(
            file,
            "Open &multi-omics cohort…",
            self.open_cohort_dialog,
            "Ctrl+Shift+O",
            "Open omics tables and a clinical table with survival",
        )
        self.open_model_action = self._action(
            file,
            "Open mo&del…",
            self.open_model_dialog,
            None,
            "Show a saved model's card and apply it to the open data",
        )
        self.recent_menu = file.addMenu("Open &Recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        self._fill_recent()
        file.addSeparator()
        self.save_action = self._action(
            file,
            "&Save annotated AnnData As…",
            self.save_anndata_dialog,
            "Ctrl+Shift+S",
            "Write a new .h5ad with the GRN and cell-typing results",
        )
        self.export_action = self._action(
            file, "&Export…", self.export_dialog, "Ctrl+E", "Export tables (CSV, TSV, Excel) and plots (PNG, SVG, PDF)"
        )
        file.addSeparator()
        self.quit_action = self._action(file, "&Quit", self.close, QKeySequence.Quit)

        analysis = bar.addMenu("&Analysis")
        self.analysis_actions = {}
        for panel, key in zip(self.panels, ("Ctrl+G", "Ctrl+L", "Ctrl+P")):
            self.analysis_actions[panel.task_name] = self._action(
                analysis, f"{panel.title}…", lambda p=panel: self.tabs.setCurrentWidget(p), key, panel.idle_text
            )
        analysis.addSeparator()
        self.run_action = self._action(analysis, "&Run current analysis", self.run_current, "Ctrl+R")
        self.cancel_action = self._action(analysis, "&Cancel running task", self.runner.cancel, "Esc")
        analysis.addSeparator()
        self.scheduler_action = self._action(
            analysis,
            "&Where analyses run…",
            self.scheduler_dialog,
            None,
            "In this process, in local worker processes, or on a Dask scheduler",
        )

        view = bar.addMenu("&View")
        for i, name in enumerate(["Data", *[p.title for p in self.panels]]):
            self._action(view, name, lambda i=i: self.tabs.setCurrentIndex(i), f"Ctrl+{i + 1}")
        view.addSeparator()
        toggle = self.log_dock.toggleViewAction()
        toggle.setText("Log pane")
        view.addAction(toggle)

        help_menu = bar.addMenu("&Help")
        self._action(help_menu, "User &guide", self.show_guide, QKeySequence.HelpContents)
        self._action(help_menu, "&About OmicsGAT", self.show_about)

    def _restore(self) -> None:
        geometry = settings.settings().value("geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        else:
            self.resize(1280, 800)
        state = settings.settings().value("windowState")
        if isinstance(state, QByteArray) and not state.isEmpty():
            self.restoreState(state)
        else:  # a short log pane leaves the plots room at 1280x800
            from PySide6.QtCore import Qt

            self.resizeDocks([self.log_dock], [120], Qt.Vertical)

    def update_scheduler_label(self) -> None:
        """Where analyses run: the scheduler preference (or $OMICSGAT_SCHEDULER), see omicsgat.compute."""
        from omicsgat.compute import describe

        self.scheduler_label.setText(f"Runs: {describe(settings.scheduler_choice() or None)}")

    def scheduler_dialog(self):
        """Analysis ▸ Where analyses run…: keep the choice; the next GRN or prognosis run uses it."""
        from omicsgat_gui.scheduler_dialog import SchedulerDialog

        dialog = SchedulerDialog(settings.scheduler_choice(), self)
        if dialog.exec():
            settings.set_scheduler_choice(dialog.chosen)
            self.update_scheduler_label()
            self.log(f"Analyses will run: {self.scheduler_label.text().removeprefix('Runs: ')}")
        return dialog

    # --- logging and status ---------------------------------------------
    def log(self, message: str) -> None:
        self.log_view.appendPlainText(f"{_dt.datetime.now():%H:%M:%S}  {message}")

    def _update_memory(self) -> None:
        import sys

        import psutil

        text = f"Memory: {psutil.Process().memory_info().rss / 2**20:,.0f} MB"
        # Only once the probe has resolved a CUDA device: torch may be half-imported by a worker before that.
        if self.device_text.startswith("cuda"):
            torch = sys.modules["torch"]
            if torch.cuda.is_initialized():
                text += f" · GPU: {torch.cuda.memory_allocated() / 2**20:,.0f} MB"
        self.memory_label.setText(text)

    def _start_probe(self) -> None:
        if not self._closed:
            self.probe.start()

    def _device_resolved(self, text: str) -> None:
        self.device_text = text
        self.device_label.setText(f"Device: {text}")

    # --- running tasks ---------------------------------------------------
    def start_task(self, name: str, fn, on_success: Callable, panel=None) -> bool:
        """Run ``fn(progress, cancel)`` in the worker; refuse while another task runs."""
        if self.runner.busy:
            QMessageBox.information(
                self,
                "A task is running",
                f"“{self.runner.current}” is still running. Wait for it to finish or cancel it first.",
            )
            return False
        self._on_success, self._panel = on_success, panel
        return self.runner.start(name, fn)

    def run_panel(self, panel) -> bool:
        try:
            task = panel.make_task()
        except OmicsInputError as exc:
            show_input_error(self, panel.title, str(exc))
            return False
        params = ", ".join(f"{k}={v!r}" for k, v in getattr(task, "params", {}).items())
        started = self.start_task(panel.title, task, panel.accept_result, panel)
        if started:
            self.log(f"{panel.title}: started ({params})")
        return started

    def run_current(self) -> None:
        panel = self.tabs.currentWidget()
        if panel in self.panels:
            self.run_panel(panel)

    def _saved(self, message: str) -> None:
        self.log(message)
        self.statusBar().showMessage(message, 15000)

    def _task_started(self, name: str) -> None:
        from omicsgat.progress import Stopwatch

        self.task_label.setText(f"{name}: starting…")
        self.progress.setRange(0, 0)  # busy until the task reports a fraction (a file read has none)
        self.progress.setValue(0)
        self.progress.show()
        self.cancel_button.show()
        self._watch, self._fraction = Stopwatch(), 0.0
        self._show_eta()
        self.eta_label.show()
        self.eta_timer.start()
        self._logged_steps: set[str] = set()
        if self._panel is not None:
            self._panel.set_running(True)
            self._panel.status.setText("Running…")

    def _show_eta(self) -> str:
        text = self._watch.text(self._fraction) if self._watch is not None else ""
        self.eta_label.setText(text)
        return text

    def _task_progress(self, fraction: float, message: str) -> None:
        if fraction > 0 and self.progress.maximum() == 0:
            self.progress.setRange(0, 1000)
        self._fraction = fraction
        self.progress.setValue(int(round(fraction * 1000)))
        text = f"{self.runner.current}: {message}" if message else self.runner.current
        self.task_label.setText(text)
        eta = self._show_eta()
        if self._panel is not None and message:
            self._panel.status.setText(f"{message}\n{eta}")
        # the log keeps each step once (e.g. once per fold), not every epoch
        step = re.sub(r"epoch.*", "epoch", message)
        if message and step not in self._logged_steps:
            self._logged_steps.add(step)
            self.log(text)

    def _task_finished(self, name: str, result) -> None:
        callback = self._on_success
        with guarded(self, name):
            if callback is not None:
                callback(result)
            took = f" in {clock_text(self._watch.elapsed)}" if self._watch is not None else ""
            self.log(f"{name}: finished{took}")
            self.task_label.setText(f"{name}: finished{took}")

    def _task_failed(self, name: str, kind: str, message: str) -> None:
        self.log(f"{name}: failed: {message.splitlines()[0]}")
        self.task_label.setText(f"{name}: failed")
        if self._panel is not None:
            self._panel.status.setText("Failed: " + message.splitlines()[0])
        title = name if kind == "input" else f"{name}: internal error"
        QMessageBox.critical(self, title, for_gui(message) if kind == "input" else message)

    def _task_cancelled(self, name: str) -> None:
        self.log(f"{name}: cancelled")
        self.task_label.setText(f"{name}: cancelled")
        if self._panel is not None:
            self._panel.status.setText("Cancelled.")

    def _task_idle(self) -> None:
        self.eta_timer.stop()
        self.eta_label.hide()
        self._watch = None
        self.progress.setRange(0, 1000)
        self.progress.hide()
        self.cancel_button.hide()
        if self._panel is not None:
            self._panel.set_running(False)
        self._on_success = self._panel = None

    # --- opening data ----------------------------------------------------
    def open_anndata_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open single-cell data", settings.last_folder(), ANNDATA_FILTERS)
        if path:
            self.open_anndata(path)

    def open_model_dialog(self, folder: Optional[str] = None):
        from omicsgat_gui.model_dialog import ModelDialog

        self.model_dialog = ModelDialog(self, folder)
        self.model_dialog.show()
        return self.model_dialog

    def open_beeline_dialog(self) -> None:
        """A BEELINE folder (the engine reads ExpressionData.csv, PseudoTime.csv and refNetwork.csv in it)."""
        folder = QFileDialog.getExistingDirectory(self, "Open a BEELINE folder", settings.last_folder())
        if folder:
            self.open_anndata(folder)

    # --- unsaved results ---------------------------------------------------
    def confirm_discard(self, panels, doing: str) -> bool:
        """Ask before ``doing`` throws away results of ``panels`` that were never saved; True to go ahead."""
        unsaved = [p for p in panels if p.result is not None and p.unsaved]
        if not unsaved:
            return True
        names = ", ".join(p.title for p in unsaved)
        answer = QMessageBox.question(
            self,
            "Discard unsaved results?",
            f"{doing} discards the {names} results, which have not been saved.\n\n"
            "Save asks for a folder for each and writes every table and plot; Discard goes ahead without them.",
            QMessageBox.Save | QMessageBox.Discard | QMessageBox.Cancel,
            QMessageBox.Save,
        )
        if answer == QMessageBox.Save:
            return all(panel.save_dialog() for panel in unsaved)
        return answer == QMessageBox.Discard

    def choose_modality(self, path: str) -> Optional[str]:
        """For an .h5mu with several modalities, ask which one to analyse ("" when cancelled)."""
        from PySide6.QtWidgets import QInputDialog

        from omicsgat.io.anndata_io import default_modality, h5mu_modalities

        with guarded(self, "Cannot open the file"):
            mods = h5mu_modalities(path)
            if len(mods) < 2:
                return None
            choice, ok = QInputDialog.getItem(
                self,
                "Choose a modality",
                f"{Path(path).name} holds several modalities; analyse:",
                mods,
                mods.index(default_modality(mods)),
                False,
            )
            return choice if ok else ""
        return ""

    def open_anndata(self, path: str) -> bool:
        """Read ``path`` with the engine's reader in the worker (after asking to discard unsaved results)."""
        path = str(path)
        if not self.confirm_discard((self.grn_panel, self.celltype_panel), f"Opening {Path(path).name}"):
            return False
        modality = self.choose_modality(path) if path.lower().endswith(".h5mu") else None
        if modality == "":
            return False

        def task(progress, cancel):
            from omicsgat.io import read_anndata

            progress(0.0, f"Reading {Path(path).name}")  # no fraction to report: the bar stays busy, never 100 %
            return read_anndata(path, modality=modality)

        settings.remember_folder(path)
        return self.start_task(f"Open {Path(path).name}", task, lambda out: self._anndata_loaded(path, *out))

    def _anndata_loaded(self, path: str, adata, report) -> None:
        self.adata, self.adata_path = adata, Path(path).resolve()  # a loaded cohort stays for Prognosis
        self.adata_modality = getattr(report, "modality", None)  # set when read from an .h5mu
        self.data_panel.set_anndata(adata, report, path)
        self.grn_panel.set_data(adata)
        self.celltype_panel.set_data(adata)
        settings.add_recent_file(path)
        self._fill_recent()
        self.setWindowTitle(Path(path).name)  # shown as "cells.h5ad — OmicsGAT"
        self.tabs.setCurrentWidget(self.data_panel)
        n_warn = len(report.warnings) if report is not None else 0
        self.log(
            f"Loaded {path}: {adata.n_obs:,} cells × {adata.n_vars:,} genes"
            + (f", {n_warn} warning(s)" if n_warn else "")
        )
        self.data_loaded.emit()

    def open_cohort_dialog(self, files: Optional[list[str]] = None):
        from omicsgat_gui.cohort_dialog import CohortDialog

        if not self.confirm_discard((self.prognosis_panel,), "Opening another cohort"):
            return None
        dialog = CohortDialog(self, files=files)
        if dialog.exec() and dialog.cohort is not None:
            self.set_cohort(dialog.cohort, ", ".join(dialog.omics()))
            settings.add_recent_cohort(dialog.spec())
            self._fill_recent()
        return dialog

    def open_recent_cohort(self, spec: dict) -> bool:
        """Reopen a cohort from File ▸ Open Recent with the inputs it was opened with (read in the worker)."""
        if not self.confirm_discard((self.prognosis_panel,), "Opening another cohort"):
            return False
        spec = dict(spec)
        unit = spec.pop("time_unit", None)

        def task(progress, cancel):
            from omicsgat.io import read_cohort

            progress(0.0, "Reading the cohort")
            cohort = read_cohort(**spec)
            cohort.time_unit = unit
            return cohort

        def done(cohort) -> None:
            self.set_cohort(cohort, ", ".join(spec["omics"]))
            settings.add_recent_cohort({**spec, "time_unit": unit})
            self._fill_recent()

        return self.start_task("Open cohort", task, done)

    def set_cohort(self, cohort, source: str = "") -> None:
        self.cohort = cohort  # loaded single-cell data stays for GRN / cell typing and saving
        self.data_panel.set_cohort(cohort, source)
        self.prognosis_panel.set_cohort(cohort)
        self.setWindowTitle(f"cohort ({source})")
        self.log(f"Cohort loaded: {cohort.summary().splitlines()[0]}")
        self.tabs.setCurrentWidget(self.data_panel)
        self.data_loaded.emit()

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        files = settings.recent_files()
        for path in files:
            action = self.recent_menu.addAction(path)
            action.triggered.connect(lambda *_, p=path: self.open_anndata(p))
        cohorts = settings.recent_cohorts()
        if files and cohorts:
            self.recent_menu.addSeparator()
        for spec in cohorts:
            label = f"Cohort: {', '.join(spec['omics'])} + {Path(spec['clinical']).name}"
            action = self.recent_menu.addAction(label)
            action.setToolTip("; ".join([*spec["omics"].values(), spec["clinical"]]))
            action.triggered.connect(lambda *_, s=spec: self.open_recent_cohort(s))
        files = files or cohorts
        if not files:
            self.recent_menu.addAction("(none)").setEnabled(False)
        else:
            self.recent_menu.addSeparator()
            self.recent_menu.addAction("Clear list").triggered.connect(lambda *_: settings.clear_recent_files())

    def compute_embedding(self) -> None:
        adata = self.adata
        if adata is None:
            return

        def task(progress, cancel):
            from omicsgat.embedding import pca_embedding

            return pca_embedding(adata, progress=progress, cancel=cancel)

        def done(coords) -> None:
            self.adata.obsm["X_pca"] = coords
            self.data_panel.refresh_bases()

        self.start_task("PCA", task, done)

    # --- saving and exporting --------------------------------------------
    def save_anndata_dialog(self) -> None:
        if self.adata is None:
            show_input_error(self, "Nothing to save", "Load single-cell data first (File ▸ Open AnnData…).")
            return
        stem = self.adata_path.stem if self.adata_path else "data"
        folder = Path(settings.output_folder())
        h5mu = getattr(self, "adata_modality", None) is not None  # an .h5mu modality can go back into its file
        path, _ = QFileDialog.getSaveFileName(
            self,
            "Save annotated AnnData As",
            str(folder / f"{stem}_omicsgat.{'h5mu' if h5mu else 'h5ad'}"),
            "MuData (*.h5mu);;AnnData (*.h5ad)" if h5mu else "AnnData (*.h5ad)",
        )
        if path:
            self.save_anndata(path)

    def save_anndata(self, path: str) -> bool:
        """Write a new .h5ad with the results (atomic); refuses the input file's own path."""
        target = Path(path if path.lower().endswith((".h5ad", ".h5mu")) else path + ".h5ad")
        source, modality = self.adata_path, getattr(self, "adata_modality", None)
        if self.adata_path is not None and target.resolve() == self.adata_path:
            show_input_error(
                self,
                "Choose another file name",
                f"{target.name} is the file the data was loaded from; OmicsGAT never overwrites its input. "
                "Choose a new file name.",
            )
            return False
        adata = self.adata
        results = [p.result for p in (self.grn_panel, self.celltype_panel) if p.result is not None]

        def task(progress, cancel):
            from omicsgat.io.mudata_io import save_annotated

            progress(0.0, "Adding the results")
            out = adata.copy()
            for result in results:
                result.write_to(out)
            progress(0.5, f"Writing {target.name}")
            return save_annotated(out, target, source, modality)

        settings.remember_output_folder(target)
        return self.start_task(f"Save {target.name}", task, lambda p: self.log(f"Wrote {p}"))

    def exportables(self) -> dict:
        items = {}
        if self.data_panel.embedding.figure is not None:
            items["Data: embedding (plot)"] = self.data_panel.embedding
        for panel in self.panels:
            items.update(panel.exportables())
        return items

    def export_dialog(self):
        from omicsgat_gui.export_dialog import ExportDialog

        dialog = ExportDialog(self.exportables(), self)
        dialog.exec()
        return dialog

    # --- help ------------------------------------------------------------
    def show_about(self) -> None:
        from omicsgat_gui.help import about_text

        QMessageBox.about(self, "About OmicsGAT", about_text(self.device_text))

    def show_guide(self) -> None:
        from omicsgat_gui.help import GuideDialog

        GuideDialog(self).exec()

    # --- drag and drop ----------------------------------------------------
    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasUrls() and all(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        paths = [u.toLocalFile() for u in event.mimeData().urls()]
        event.acceptProposedAction()
        QTimer.singleShot(0, lambda: self.open_paths(paths))

    def open_paths(self, paths: list[str]) -> None:
        """Dropped files: single-cell files open directly; tables go to the cohort dialog."""
        from omicsgat.io.beeline import is_beeline_path

        tables = [
            p
            for p in paths
            if not is_beeline_path(p)
            and (Path(p).suffix.lower() in TABLE_SUFFIXES or p.lower().endswith((".csv.gz", ".tsv.gz")))
        ]
        others = [p for p in paths if p not in tables]
        if others:
            self.open_anndata(others[0])
        elif tables:
            self.open_cohort_dialog(tables)

    # --- closing -----------------------------------------------------------
    def closeEvent(self, event) -> None:
        if not self.confirm_discard(self.panels, "Quitting"):
            event.ignore()
            return
        self._closed = True
        if self.runner.busy:
            self.log("Closing: stopping the running task…")
        QApplication.setOverrideCursor(self._wait_cursor())
        try:  # every worker thread ends before the window (their signals' receiver) goes
            self.runner.shutdown()
            self.probe.wait()  # importing torch cannot be interrupted; a QThread must never be destroyed running
        finally:
            QApplication.restoreOverrideCursor()
        for timer in (self.memory_timer, self.eta_timer):
            timer.stop()
        QApplication.instance().removeEventFilter(self.menu_shortcuts)
        QApplication.instance().removeEventFilter(self.tooltip_wrapper)
        s = settings.settings()
        s.setValue("geometry", self.saveGeometry())
        s.setValue("windowState", self.saveState())
        s.sync()
        super().closeEvent(event)

    @staticmethod
    def _wait_cursor():
        from PySide6.QtCore import Qt

        return Qt.WaitCursor
