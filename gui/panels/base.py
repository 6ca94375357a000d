"""What every analysis panel shares: the form, Run/Cancel, results tabs, export hooks."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Optional

import pandas as pd
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from omicsgat_gui import settings
from omicsgat_gui.figure_view import FigureView
from omicsgat_gui.table import TableView

DEVICES = ("auto", "cpu", "cuda", "mps")
EXPORT_DPI = 300  # PNG resolution of saved plots, as File ▸ Export offers by default


def slug(title: str) -> str:
    """A file name stem for a plot or table title: "GRN evaluation curves" -> grn_evaluation_curves."""
    import re

    return re.sub(r"[^0-9a-z]+", "_", title.lower()).strip("_") or "plot"


def plain_text(text: str) -> str:
    """A label's text without its HTML (summary.txt)."""
    if "<" not in text:
        return text
    from PySide6.QtGui import QTextDocumentFragment

    return QTextDocumentFragment.fromHtml(text.replace("<br>", "\n")).toPlainText()


def spin(value: int, low: int, high: int, tip: str, step: int = 1) -> QSpinBox:
    box = QSpinBox()
    box.setRange(low, high)
    box.setValue(value)
    box.setSingleStep(step)
    box.setToolTip(tip)
    box.setAccelerated(True)
    return box


def picker_page(label: str, chooser: QComboBox, content: QWidget) -> QWidget:
    """A results page: a labelled chooser above the content it selects."""
    row = QHBoxLayout()
    row.addWidget(QLabel(label))
    row.addWidget(chooser, 1)
    page = QWidget()
    layout = QVBoxLayout(page)
    layout.addLayout(row)
    layout.addWidget(content, 1)
    return page


class PathField(QWidget):
    """A line edit with a Browse… button for an optional input file."""

    def __init__(self, placeholder: str, tip: str, filters: str = "All files (*)", parent=None) -> None:
        super().__init__(parent)
        self.filters = filters
        self.edit = QLineEdit(placeholderText=placeholder)
        self.edit.setToolTip(tip)
        self.edit.setClearButtonEnabled(True)
        button = QPushButton("Browse…")
        button.clicked.connect(self.browse)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.edit, 1)
        layout.addWidget(button)

    def browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Choose a file", settings.last_folder(), self.filters)
        if path:
            settings.remember_folder(path)
            self.edit.setText(path)

    def path(self) -> Optional[str]:
        text = self.edit.text().strip()
        return text or None


class ResultPane(QSplitter):
    """A ranking table beside its bar plot."""

    def __init__(self, title: str, parent=None) -> None:
        super().__init__(Qt.Horizontal, parent)
        self.table = TableView(title)
        self.figure = FigureView(title)
        self.addWidget(self.table)
        self.addWidget(self.figure)
        self.setStretchFactor(0, 1)
        self.setStretchFactor(1, 1)


class AnalysisPanel(QWidget):
    """Base panel. Subclasses add their fields in ``build_form`` and implement
    ``make_task`` (returns ``fn(progress, cancel) -> Result``) and ``show_result``."""

    title = "Analysis"
    task_name = "analysis"
    run_requested = Signal()
    cancel_requested = Signal()
    saved = Signal(str)  # "Saved N files to FOLDER", for the log and the status bar

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.result: Any = None
        self.unsaved = False  # a result not yet written with "Save all results…": ask before discarding it
        self.form = QFormLayout()
        self.form.setFieldGrowthPolicy(QFormLayout.AllNonFixedFieldsGrow)
        self.build_form()
        self.epochs = spin(self.default_epochs, 1, 100000, "Training epochs: more can fit better but take longer")
        self.device = QComboBox(toolTip="Where to train: auto = CUDA GPU, then Apple MPS, then CPU")
        self.device.addItems(DEVICES)
        self.device.setCurrentText(settings.device_choice())
        self.seed = spin(0, 0, 2**31 - 1, "Random seed: the same seed on the same device gives the same result")
        self.form.addRow("Epochs", self.epochs)
        self.form.addRow("Device", self.device)
        self.form.addRow("Seed", self.seed)

        self.run_button = QPushButton(f"Run {self.title}")
        self.run_button.setDefault(True)
        self.run_button.setToolTip("Start the analysis (Ctrl+R); it runs in the background")
        self.run_button.clicked.connect(self.run_requested)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop the running analysis (Esc)")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel_requested)
        self.save_button = QPushButton("Save all results…")
        self.save_button.setToolTip(
            "Write every table and plot of this result into a folder you choose: the "
            "command line's files, each plot shown (PNG) and summary.txt with the numbers "
            "shown on screen"
        )
        self.save_button.setEnabled(False)
        self.save_button.clicked.connect(self.save_dialog)
        self.status = QLabel(self.idle_text)
        self.status.setWordWrap(True)
        self.status.setStyleSheet("color: #555;")

        params = QGroupBox("Parameters")
        params.setLayout(self.form)
        buttons = QHBoxLayout()
        buttons.addWidget(self.run_button, 1)
        buttons.addWidget(self.cancel_button)
        left = QWidget()
        lv = QVBoxLayout(left)
        lv.addWidget(params)
        lv.addLayout(buttons)
        lv.addWidget(self.status)
        lv.addWidget(self.save_button)
        lv.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidget(left)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        # wide enough for the form's widest row: nothing clipped, no horizontal scrollbar
        needed = left.minimumSizeHint().width() + scroll.verticalScrollBar().sizeHint().width() + 6
        scroll.setMinimumWidth(max(330, needed))
        scroll.setMaximumWidth(max(460, needed))

        self.results = QTabWidget()
        self.build_results()
        splitter = QSplitter(Qt.Horizontal)
        splitter.addWidget(scroll)
        splitter.addWidget(self.results)
        splitter.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)

    # --- for subclasses ------------------------------------------------
    default_epochs = 100
    idle_text = ""

    def build_form(self) -> None:
        raise NotImplementedError

    def build_results(self) -> None:
        raise NotImplementedError

    def make_task(self) -> Callable:
        raise NotImplementedError

    def show_result(self, result) -> None:
        raise NotImplementedError

    def result_files(self, folder: Path) -> list[Path]:
        """The result's own files, as the command line writes them (subclasses)."""
        raise NotImplementedError

    #: plots already among :meth:`result_files` (by FigureView title), not written again as PNG
    figures_in_result_files: tuple[str, ...] = ()

    def summary_text(self) -> str:
        """What the panel states in words (status, metrics, captions), for summary.txt."""
        return self.status.text()

    def save_result(self, path: str) -> list[Path]:
        """Everything the panel shows: the result's files, every plot drawn (PNG, 300 dpi), summary.txt."""
        from omicsgat.io.atomic import write_text_atomic

        folder = Path(path)
        folder.mkdir(parents=True, exist_ok=True)
        written = [Path(p) for p in self.result_files(folder)]
        for view in self.findChildren(FigureView):
            if view.figure is not None and view.title not in self.figures_in_result_files:
                target = folder / f"{slug(view.title)}.png"
                view.export(str(target), dpi=EXPORT_DPI)
                written.append(target)
        written.append(write_text_atomic(folder / "summary.txt", plain_text(self.summary_text()) + "\n"))
        return written

    # --- shared --------------------------------------------------------
    def common_kwargs(self) -> dict:
        settings.set_device_choice(self.device.currentText())
        return {"epochs": self.epochs.value(), "device": self.device.currentText(), "seed": self.seed.value()}

    def set_running(self, running: bool) -> None:
        self.run_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)

    gene_symbols = None  # the var column of gene symbols chosen in the Data tab (None: automatic)

    def set_gene_symbols(self, column) -> None:
        self.gene_symbols = column

    def accept_result(self, result) -> None:
        self.result = result
        self.unsaved = True
        self.show_result(result)
        self.save_button.setEnabled(True)

    def clear_result(self) -> None:
        """Forget the shown result (new data was loaded: the old result belongs to other data)."""
        self.result = None
        self.unsaved = False
        for table in self.findChildren(TableView):
            table.set_frame(pd.DataFrame())
        for figure in self.findChildren(FigureView):
            figure.clear()
        self.save_button.setEnabled(False)
        self.status.setText(self.idle_text)

    def exportables(self) -> dict[str, QWidget]:
        """Tables and plots of this panel by name (TableView or FigureView), for File > Export."""
        out = {}
        for widget in self.findChildren(TableView) + self.findChildren(FigureView):
            filled = widget.model.rowCount() > 0 if isinstance(widget, TableView) else widget.figure is not None
            if filled:
                kind = "table" if isinstance(widget, TableView) else "plot"
                out[f"{self.title}: {widget.title} ({kind})"] = widget
        return out

    def save_dialog(self) -> Optional[str]:
        """Ask for a folder and write :meth:`save_result` into it; say where in the panel, log and status bar."""
        from omicsgat_gui.errors import guarded

        if self.result is None:
            return None
        path = QFileDialog.getExistingDirectory(self, f"Folder for the {self.title} results", settings.output_folder())
        if not path:
            return None
        with guarded(self, "Saving failed"):
            written = self.save_result(path)
            settings.settings().setValue("outputFolder", str(path))
            self.unsaved = False
            message = f"{self.title}: saved {len(written)} files to {path}"
            self.status.setText(self.status.text().split("\nSaved ")[0] + f"\nSaved {len(written)} files to {path}")
            self.saved.emit(message)
            return path
        return None
