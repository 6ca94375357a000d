"""File > Export…: any table (CSV/TSV/XLSX) or plot (PNG with DPI, SVG, PDF) on screen."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Optional

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QLabel,
    QListWidget,
    QSpinBox,
    QVBoxLayout,
)

from omicsgat_gui import settings
from omicsgat_gui.errors import guarded
from omicsgat_gui.figure_view import FigureView
from omicsgat_gui.table import TableView

TABLE_FORMATS = {"CSV (comma-separated)": ".csv", "TSV (tab-separated)": ".tsv", "Excel workbook": ".xlsx"}
PLOT_FORMATS = {"PNG image": ".png", "SVG vector": ".svg", "PDF document": ".pdf"}


class ExportDialog(QDialog):
    """Pick an item and a format, then a file name; writes atomically through the engine."""

    def __init__(self, items: dict, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export")
        self.resize(560, 420)
        self.items = items
        self.written: list[str] = []
        self.list = QListWidget()
        self.list.addItems(list(items))
        self.format = QComboBox()
        self.dpi = QSpinBox()
        self.dpi.setRange(50, 1200)
        self.dpi.setSingleStep(50)
        self.dpi.setValue(300)
        self.dpi.setToolTip("Resolution of PNG images (dots per inch)")
        self.note = QLabel("" if items else "Nothing to export yet: load data or run an analysis first.")
        form = QFormLayout()
        form.addRow("Format", self.format)
        form.addRow("PNG DPI", self.dpi)
        buttons = QDialogButtonBox(QDialogButtonBox.Close)
        self.export_button = buttons.addButton("Export…", QDialogButtonBox.ActionRole)
        self.export_button.clicked.connect(lambda: self.export_current())
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("What to export"))
        layout.addWidget(self.list, 1)
        layout.addLayout(form)
        layout.addWidget(self.note)
        layout.addWidget(buttons)
        self.list.currentTextChanged.connect(self._item_changed)
        if items:
            self.list.setCurrentRow(0)
        self.export_button.setEnabled(bool(items))

    def _item_changed(self, name: str) -> None:
        widget = self.items.get(name)
        self.format.clear()
        formats = TABLE_FORMATS if isinstance(widget, TableView) else PLOT_FORMATS
        self.format.addItems(list(formats))
        self.dpi.setEnabled(isinstance(widget, FigureView))

    def suffix(self) -> str:
        return {**TABLE_FORMATS, **PLOT_FORMATS}[self.format.currentText()]

    def export_current(self, path: Optional[str] = None) -> Optional[str]:
        """Export the selected item; asks for a file name unless ``path`` is given."""
        name = self.list.currentItem().text() if self.list.currentItem() else ""
        widget = self.items.get(name)
        if widget is None:
            return None
        suffix = self.suffix()
        if path is None:
            stem = re.sub(r"[^0-9a-z]+", "_", name.split(" (")[0].lower()).strip(
                "_"
            )  # "Prognosis: features" -> prognosis_features
            path, _ = QFileDialog.getSaveFileName(
                self,
                f"Export {name}",
                str(Path(settings.output_folder()) / f"{stem}{suffix}"),
                f"{self.format.currentText()} (*{suffix})",
            )
            if not path:
                return None
        if Path(path).suffix.lower() != suffix:
            path += suffix
        with guarded(self, "Export failed"):
            if isinstance(widget, TableView):
                widget.export(path)
            else:
                widget.export(path, dpi=self.dpi.value())
            settings.remember_output_folder(path)
            self.written.append(path)
            self.note.setText(f"Wrote {path}")
            return path
        return None
