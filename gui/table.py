"""Sortable, filterable tables over pandas DataFrames."""

from __future__ import annotations

from typing import Optional

import numpy as np
import pandas as pd
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QSortFilterProxyModel, Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

SORT_ROLE = Qt.UserRole + 1
TABLE_FILTERS = "CSV (*.csv);;TSV (*.tsv);;Excel (*.xlsx)"
FILTER_DELAY_MS = 250  # a filter waits this long after the last keystroke


def _display(value) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, (float, np.floating)):
        v = float(value)
        return f"{v:.3e}" if v != 0 and (abs(v) < 1e-3 or abs(v) >= 1e6) else f"{v:.4g}"
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    return str(value)


def _sort_key(value):
    """Numbers sort as numbers, NaN last, everything else as text."""
    if isinstance(value, (bool, np.bool_)):
        return int(value)
    if isinstance(value, (int, float, np.integer, np.floating)):
        v = float(value)
        return float("inf") if np.isnan(v) else v
    return "" if value is None else str(value)


class DataFrameModel(QAbstractTableModel):
    """Read-only model over a DataFrame (its index is not shown unless named)."""

    def __init__(self, frame: Optional[pd.DataFrame] = None, parent=None) -> None:
        super().__init__(parent)
        self._frame = pd.DataFrame()
        self._values: list = []
        self.column_tips: dict = {}
        if frame is not None:
            self.set_frame(frame)

    @property
    def frame(self) -> pd.DataFrame:
        return self._frame

    def set_frame(self, frame: pd.DataFrame) -> None:
        self.beginResetModel()
        if frame.index.name is not None and frame.index.name not in frame.columns:
            frame = frame.reset_index()
        self._frame = frame
        self._values = frame.astype(object).to_numpy().tolist()
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._values)

    def columnCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else self._frame.shape[1]

    def data(self, index, role=Qt.DisplayRole):
        if not index.isValid():
            return None
        value = self._values[index.row()][index.column()]
        if role in (Qt.DisplayRole, Qt.ToolTipRole):
            return _display(value)
        if role == SORT_ROLE:
            return _sort_key(value)
        if role == Qt.TextAlignmentRole and isinstance(value, (int, float, np.integer, np.floating)):
            return int(Qt.AlignRight | Qt.AlignVCenter)
        return None

    def headerData(self, section, orientation, role=Qt.DisplayRole):
        if role == Qt.ToolTipRole and orientation == Qt.Horizontal and section < self._frame.shape[1]:
            return self.column_tips.get(str(self._frame.columns[section]))
        if role != Qt.DisplayRole:
            return None
        if orientation == Qt.Horizontal:
            return str(self._frame.columns[section])
        return str(section + 1)


RESIZE_ROWS = 40  # rows measured when columns are fitted to their contents
WIDE_TABLE = 40  # columns: beyond this only the first (ID) columns are fitted, each fit asks every shown value


class TableView(QWidget):
    """A table with a search box, row count, copy-to-clipboard and export."""

    current_row_changed = Signal(int)  # source row

    def __init__(self, title: str = "", parent=None) -> None:
        super().__init__(parent)
        self.title = title
        self.model = DataFrameModel(parent=self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SORT_ROLE)
        self.proxy.setFilterKeyColumn(-1)
        self.proxy.setFilterCaseSensitivity(Qt.CaseInsensitive)

        self.search = QLineEdit(placeholderText="Filter rows (any column)…")
        self.search.setClearButtonEnabled(True)
        self.search.setToolTip("Show only rows where some column contains this text (case-insensitive)")
        # filter once typing pauses: re-filtering a large table on every keystroke lags
        self._filter_timer = QTimer(self, singleShot=True, interval=FILTER_DELAY_MS)
        self._filter_timer.timeout.connect(lambda: self._filter(self.search.text()))
        self._typing = False
        self.search.textEdited.connect(self._keystroke)  # emitted before textChanged, and only for the user's typing
        self.search.textChanged.connect(self._text_changed)
        self.count = QLabel()
        self.copy_button = QPushButton("Copy")
        self.copy_button.setToolTip("Copy the selected rows (or all shown rows) as tab-separated text, for Excel")
        self.copy_button.clicked.connect(self.copy_to_clipboard)
        self.export_button = QPushButton("Export…")
        self.export_button.setToolTip("Save the whole table as CSV, TSV or Excel")
        self.export_button.clicked.connect(self.export_dialog)

        self.view = QTableView()
        self.view.setModel(self.proxy)
        # fit columns to the first rows only: measuring every cell of a wide table (a cohort's 600 features x 200
        # samples) asks the model for each value and froze the window for seconds
        self.view.horizontalHeader().setResizeContentsPrecision(RESIZE_ROWS)
        self.view.setSortingEnabled(True)
        self.view.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.view.setAlternatingRowColors(True)
        self.view.horizontalHeader().setSectionResizeMode(QHeaderView.Interactive)
        self.view.horizontalHeader().setStretchLastSection(True)
        self.view.verticalHeader().setDefaultSectionSize(22)
        self.view.selectionModel().currentRowChanged.connect(
            lambda cur, _prev: self.current_row_changed.emit(self.proxy.mapToSource(cur).row())
        )
        QShortcut(QKeySequence.Copy, self.view, activated=self.copy_to_clipboard)

        bar = QHBoxLayout()
        bar.addWidget(self.search, 1)
        bar.addWidget(self.count)
        bar.addWidget(self.copy_button)
        bar.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.view)
        self._update_count()

    @property
    def frame(self) -> pd.DataFrame:
        return self.model.frame

    def set_column_tips(self, tips: dict) -> None:
        """Header tooltips by column name (what a column means, and its caveats)."""
        self.model.column_tips = dict(tips)

    def set_frame(self, frame: pd.DataFrame) -> None:
        """Show ``frame``. A refresh of the same table (same columns) keeps the user's sort order and
        column widths; a new table starts in the engine's ranking order."""
        header = self.view.horizontalHeader()
        old_columns = [str(c) for c in self.model.frame.columns]
        section, order = header.sortIndicatorSection(), header.sortIndicatorOrder()
        sorted_by = old_columns[section] if 0 <= section < len(old_columns) else None
        widths = [self.view.columnWidth(c) for c in range(len(old_columns))]
        self.model.set_frame(frame)
        same = [str(c) for c in self.model.frame.columns] == old_columns and old_columns
        if same:
            for col, width in enumerate(widths):
                self.view.setColumnWidth(col, width)
            self.view.sortByColumn(old_columns.index(sorted_by) if sorted_by else -1, order)
        else:
            self.view.sortByColumn(-1, Qt.AscendingOrder)  # keep the engine's ranking order
            if self.model.columnCount() <= WIDE_TABLE:
                self.view.resizeColumnsToContents()
            else:  # a matrix preview (samples x features): fit the ID columns, the values keep a plain width
                for col in range(min(3, self.model.columnCount())):
                    self.view.resizeColumnToContents(col)
            for col in range(self.model.columnCount()):
                self.view.setColumnWidth(col, min(self.view.columnWidth(col), 220))
        self._update_count()

    def _keystroke(self, _text: str) -> None:
        self._typing = True
        self._filter_timer.start()

    def _text_changed(self, text: str) -> None:
        if self._typing:  # the timer filters once typing pauses
            self._typing = False
        else:  # set by the program (or the clear button): at once
            self._filter_timer.stop()
            self._filter(text)

    def _filter(self, text: str) -> None:
        self.proxy.setFilterFixedString(text)
        self._update_count()

    def _update_count(self) -> None:
        shown, total = self.proxy.rowCount(), self.model.rowCount()
        self.count.setText(f"{shown} rows" if shown == total else f"{shown} of {total} rows")

    def flush(self) -> None:
        """Apply a filter still waiting for typing to pause."""
        if self._filter_timer.isActive():
            self._filter_timer.stop()
            self._filter(self.search.text())

    def visible_frame(self) -> pd.DataFrame:
        """The rows as shown: filtered and sorted (a pending filter is applied first)."""
        self.flush()
        rows = [self.proxy.mapToSource(self.proxy.index(r, 0)).row() for r in range(self.proxy.rowCount())]
        return self.model.frame.iloc[rows]

    def copy_to_clipboard(self) -> str:
        self.flush()
        selected = sorted({self.proxy.mapToSource(i).row() for i in self.view.selectionModel().selectedRows()})
        frame = self.model.frame.iloc[selected] if selected else self.visible_frame()
        text = frame.to_csv(sep="\t", index=False)
        QGuiApplication.clipboard().setText(text)
        return text

    def export(self, path: str) -> None:
        from omicsgat.io.atomic import write_table_atomic

        write_table_atomic(self.model.frame, path, index=False)

    def export_dialog(self) -> Optional[str]:
        from omicsgat_gui import settings
        from omicsgat_gui.errors import guarded

        stem = (self.title or "table").lower().replace(" ", "_")
        path, chosen = QFileDialog.getSaveFileName(
            self, f"Export {self.title or 'table'}", f"{settings.output_folder()}/{stem}.csv", TABLE_FILTERS
        )
        if not path:
            return None
        path = ensure_suffix(path, chosen, (".csv", ".tsv", ".xlsx"))
        with guarded(self, "Export failed"):
            self.export(path)
            settings.remember_output_folder(path)
            return path
        return None


def ensure_suffix(path: str, chosen_filter: str, allowed: tuple) -> str:
    """Add the suffix of the chosen file-dialog filter when the name has none we know."""
    from pathlib import Path

    if Path(path).suffix.lower() in allowed:
        return path
    for suffix in allowed:
        if f"*{suffix}" in (chosen_filter or ""):
            return path + suffix
    return path + allowed[0]
