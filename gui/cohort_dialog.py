"""The multi-omics dialog: omics tables by name, a clinical table, survival columns.

Everything is checked by the engine's loaders (``omicsgat.io``): the dialog
only previews, shows the engine's event mapping and alignment report, and
accepts once ``read_cohort`` has succeeded on exactly the current inputs.
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Optional

import pandas as pd
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from omicsgat.errors import OmicsInputError
from omicsgat_gui import settings
from omicsgat_gui.errors import for_gui
from omicsgat_gui.table import TableView

TABLE_FILES = (
    "Tables (*.csv *.tsv *.tab *.txt *.csv.gz *.tsv.gz *.txt.gz *.parquet *.pq *.xlsx);;"
    "Excel workbooks (*.xlsx);;All files (*)"
)
EVENT_CHOICES = ("as read", "1 = event", "0 = censored")
TIME_HINTS = ("os_time", "time", "os.time", "survival", "days", "months", "os")
EVENT_HINTS = ("os_event", "event", "status", "os.status", "vital", "dead", "death", "censor")
NO_EVENT = "(choose the event column)"
TIME_UNITS = ("", "days", "weeks", "months", "years")


def event_candidates(frame: pd.DataFrame, exclude: str = "") -> list[str]:
    """Columns that could be an event indicator: two or three distinct values (1/0, dead/alive, ...)."""
    out = []
    for c in frame.columns:
        values = frame[c].dropna().astype(str).str.strip()
        if str(c) != exclude and 2 <= values[values != ""].nunique() <= 3:
            out.append(str(c))
    return out


#: Short forms of units seen in clinical column names ("OS_mo", "pfs.yrs", "time_d"), as separate words.
UNIT_ABBREVIATIONS = {
    "d": "days",
    "wk": "weeks",
    "wks": "weeks",
    "mo": "months",
    "mos": "months",
    "m": "months",
    "yr": "years",
    "yrs": "years",
    "y": "years",
}


def guess_time_unit(column: str) -> str:
    """ "days" for "OS_days" or "days_to_death", "months" for "time_months" or "OS_mo"; "" (ask) when the name
    does not say."""
    import re

    folded = column.casefold()
    unit = next((unit for unit in TIME_UNITS[1:] if unit[:-1] in folded), "")
    if unit:
        return unit
    words = re.split(r"[^a-z]+", folded)
    return next((UNIT_ABBREVIATIONS[w] for w in words if w in UNIT_ABBREVIATIONS), "")


def _guess(columns: list[str], hints: tuple) -> Optional[str]:
    folded = {c.casefold(): c for c in columns}
    for hint in hints:
        if hint in folded:
            return folded[hint]
    for hint in hints:
        for c in columns:
            if hint in c.casefold():
                return c
    return None


class CohortDialog(QDialog):
    """``exec()`` then ``.cohort`` (a :class:`omicsgat.io.MultiOmics`) when accepted."""

    def __init__(self, parent=None, files: Optional[list[str]] = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Open multi-omics cohort")
        self.resize(1100, 720)
        self.cohort = None
        self._clinical_raw: Optional[pd.DataFrame] = None

        # Omics tables: name | file | features as rows
        self.tables = QTableWidget(0, 3)
        self.tables.setHorizontalHeaderLabels(["Name", "File", "Features as rows"])
        self.tables.horizontalHeader().setSectionResizeMode(1, QHeaderView.Stretch)
        self.tables.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.tables.setToolTip("One table per omics type (samples x features). Double-click a name to rename it.")
        self.tables.itemSelectionChanged.connect(self._preview_selected)
        self.tables.itemChanged.connect(lambda *_: self._invalidate())
        add = QPushButton("Add table…")
        add.setToolTip("Add an omics table (CSV/TSV/TXT/Parquet, gzip allowed); the first column holds the sample IDs")
        add.clicked.connect(self._browse_tables)
        remove = QPushButton("Remove")
        remove.clicked.connect(self._remove_selected)
        tbuttons = QHBoxLayout()
        tbuttons.addWidget(add)
        tbuttons.addWidget(remove)
        tbuttons.addStretch(1)
        omics_box = QGroupBox("Omics tables")
        ov = QVBoxLayout(omics_box)
        ov.addWidget(self.tables)
        ov.addLayout(tbuttons)

        # Clinical table
        self.clinical_path = QLineEdit(placeholderText="clinical table (sample IDs in the first column)")
        self.clinical_path.editingFinished.connect(lambda: self.set_clinical(self.clinical_path.text()))
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse_clinical)
        row = QHBoxLayout()
        row.addWidget(self.clinical_path, 1)
        row.addWidget(browse)
        self.time_col = QComboBox(toolTip="Survival time (numbers >= 0, e.g. days or months)")
        self.event_col = QComboBox(toolTip="Event indicator (1/0, dead/alive, yes/no, ...)")
        self.time_col.currentTextChanged.connect(lambda *_: self._time_column_changed())
        self.time_unit = QComboBox(toolTip="The unit of the time column, for the Kaplan-Meier axis (asked once here)")
        self.time_unit.setEditable(True)
        self.time_unit.addItems(TIME_UNITS)
        self.time_unit.lineEdit().setPlaceholderText("unit (days, months, …)")
        self._guessed_unit = ""  # the unit filled in from the column name (replaced when the column changes)
        self.event_col.currentTextChanged.connect(self._event_column_changed)
        self.event_values = QTableWidget(0, 3)
        self.event_values.setHorizontalHeaderLabels(["Value in file", "Samples", "Counts as"])
        self.event_values.horizontalHeader().setSectionResizeMode(QHeaderView.Stretch)
        self.event_values.setToolTip("How each value of the event column is read; override a value if needed")
        self.event_values.setMaximumHeight(150)
        self.mapping = QLabel()
        self.mapping.setWordWrap(True)
        clin_box = QGroupBox("Clinical table")
        cf = QFormLayout(clin_box)
        cf.addRow("File", row)
        cf.addRow("Time column", self.time_col)
        cf.addRow("Time unit", self.time_unit)
        cf.addRow("Event column", self.event_col)
        cf.addRow("Event values", self.event_values)
        cf.addRow("", self.mapping)

        left = QWidget()
        lv = QVBoxLayout(left)
        lv.addWidget(omics_box, 2)
        lv.addWidget(clin_box, 3)

        self.preview = TableView("preview")
        self.preview_label = QLabel("Select a table to preview its first rows.")
        self.check_button = QPushButton("Check alignment")
        self.check_button.setToolTip(
            "Load and align every table with the engine; problems are listed below. Open cohort checks first too."
        )
        self.check_button.clicked.connect(self.check)
        self.problems = QPlainTextEdit(readOnly=True)
        self.problems.setPlaceholderText(
            "Press Check alignment (or Open cohort, which checks first): the loader's "
            "report (samples left out, IDs that differ only in case, dropped features, "
            "...) appears here."
        )
        right = QWidget()
        rv = QVBoxLayout(right)
        rv.addWidget(self.preview_label)
        rv.addWidget(self.preview, 2)
        rv.addWidget(self.check_button)
        rv.addWidget(self.problems, 2)

        splitter = QSplitter(Qt.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(right)
        self.buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        self.buttons.button(QDialogButtonBox.Ok).setText("Open cohort")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.buttons)
        self._invalidate()
        for f in files or []:
            self.add_table(f)

    # --- inputs --------------------------------------------------------
    def add_table(self, path: str, name: Optional[str] = None, transpose: bool = False) -> None:
        p = Path(path)
        stem = p.name.split(".")[0]
        self.tables.blockSignals(True)
        r = self.tables.rowCount()
        self.tables.insertRow(r)
        self.tables.setItem(r, 0, QTableWidgetItem(name or stem))
        item = QTableWidgetItem(str(p))
        item.setFlags(item.flags() & ~Qt.ItemIsEditable)
        item.setToolTip(str(p))
        self.tables.setItem(r, 1, item)
        check = QCheckBox()
        check.setChecked(transpose)
        check.setToolTip("Tick when the file has features as rows and samples as columns")
        check.toggled.connect(lambda *_: self._invalidate())
        self.tables.setCellWidget(r, 2, check)
        self.tables.blockSignals(False)
        self.tables.selectRow(r)
        self._invalidate()

    def omics(self) -> dict[str, str]:
        return {
            self.tables.item(r, 0).text().strip(): self.tables.item(r, 1).text() for r in range(self.tables.rowCount())
        }

    def transpose(self) -> dict[str, bool]:
        return {
            self.tables.item(r, 0).text().strip(): self.tables.cellWidget(r, 2).isChecked()
            for r in range(self.tables.rowCount())
        }

    def set_clinical(self, path: str) -> None:
        from omicsgat.io.tables import read_raw_table

        self.clinical_path.setText(path)
        self._clinical_raw = None
        self.mapping.setText("")
        self._clear_problems()
        self.time_col.blockSignals(True)
        self.event_col.blockSignals(True)
        self.time_col.clear()
        self.event_col.clear()
        QGuiApplication.setOverrideCursor(Qt.WaitCursor)  # a large table takes a moment: show it is busy
        try:
            if path:
                self.mapping.setText(f"Reading {Path(path).name}…")
                QGuiApplication.processEvents()
                self._clinical_raw = read_raw_table(path)
                columns = [str(c) for c in self._clinical_raw.columns]
                self.time_col.addItems(columns)
                time_guess = _guess(columns, TIME_HINTS)
                if time_guess:
                    self.time_col.setCurrentText(time_guess)
                self._guess_unit()
                event_guess = _guess([c for c in columns if c != self.time_col.currentText()], EVENT_HINTS)
                if event_guess is None:  # never silently reuse the time column: make the user choose
                    self.event_col.addItem(NO_EVENT)
                self.event_col.addItems(columns)
                self.event_col.setCurrentText(event_guess or NO_EVENT)
                self._show_preview(self._clinical_raw.head(5).reset_index(), f"Clinical: {Path(path).name}")
        except OmicsInputError as exc:
            self.mapping.setText(f"<span style='color:#b00020'>{escape(for_gui(str(exc)), quote=False)}</span>")
        finally:
            QGuiApplication.restoreOverrideCursor()
            self.time_col.blockSignals(False)
            self.event_col.blockSignals(False)
        self._event_column_changed()

    def _guess_unit(self) -> None:
        """Fill the unit from the time column's name unless the user chose one; say when the name does not tell."""
        current = self.time_unit.currentText().strip()
        if current and current != self._guessed_unit:
            return
        self._guessed_unit = guess_time_unit(self.time_col.currentText())
        self.time_unit.setCurrentText(self._guessed_unit)
        self.time_unit.lineEdit().setPlaceholderText(
            "unit (days, months, …)"
            if self._guessed_unit or not self.time_col.currentText()
            else f"“{self.time_col.currentText()}” does not name its unit: choose it"
        )

    def _time_column_changed(self) -> None:
        self._guess_unit()
        self._invalidate()

    def _no_event_column_text(self) -> str:
        candidates = (
            event_candidates(self._clinical_raw, self.time_col.currentText()) if self._clinical_raw is not None else []
        )
        listed = ", ".join(candidates) if candidates else "none (no column holds just two or three values)"
        return (
            f"No event column found: no column is named like an event indicator (event, status, vital, death…). "
            f"Choose the column that says whether each sample had the event. Candidates: {listed}."
        )

    def _event_column_changed(self, *_):
        self.event_values.setRowCount(0)
        col = self.event_col.currentText()
        if self._clinical_raw is not None and col in self._clinical_raw.columns:
            counts = self._clinical_raw[col].astype(str).str.strip().value_counts(dropna=False)
            for value, n in counts.items():
                r = self.event_values.rowCount()
                self.event_values.insertRow(r)
                self.event_values.setItem(r, 0, QTableWidgetItem(str(value)))
                self.event_values.setItem(r, 1, QTableWidgetItem(str(int(n))))
                choice = QComboBox()
                choice.addItems(EVENT_CHOICES)
                choice.currentTextChanged.connect(lambda *_: self._update_mapping())
                self.event_values.setCellWidget(r, 2, choice)
        self._update_mapping()

    def event_map(self) -> dict:
        """Only the values the user overrode; the engine maps the rest (and says how)."""
        out = {}
        for r in range(self.event_values.rowCount()):
            choice = self.event_values.cellWidget(r, 2).currentText()
            if choice != EVENT_CHOICES[0]:
                out[self.event_values.item(r, 0).text()] = 1 if choice.startswith("1") else 0
        return out

    def _update_mapping(self) -> None:
        """Show how the engine reads the event column (or why it cannot)."""
        from omicsgat.io.clinical import read_clinical

        self._invalidate()
        path, tcol, ecol = self.clinical_path.text(), self.time_col.currentText(), self.event_col.currentText()
        if self._clinical_raw is not None and ecol == NO_EVENT:
            self.mapping.setText(
                f"<span style='color:#b00020'>{escape(self._no_event_column_text(), quote=False)}</span>"
            )
            return
        if not (path and tcol and ecol):
            return
        try:
            _frame, report = read_clinical(path, time_col=tcol, event_col=ecol, event_map=self.event_map() or None)
        except OmicsInputError as exc:
            self.mapping.setText(f"<span style='color:#b00020'>{escape(for_gui(str(exc)), quote=False)}</span>")
            return
        lines = [m for m in report.infos if "mapped as" in m or "events" in m] + report.warnings
        self.mapping.setText("<br>".join(escape(line, quote=False) for line in lines))

    # --- preview and check ---------------------------------------------
    def _show_preview(self, frame: pd.DataFrame, label: str) -> None:
        self.preview.set_frame(frame)
        self.preview_label.setText(label)

    def _preview_selected(self) -> None:
        from omicsgat.io import preview_table

        rows = {i.row() for i in self.tables.selectedIndexes()}
        if not rows:
            return
        path = self.tables.item(min(rows), 1).text()
        try:
            frame = preview_table(path, n_rows=5)
        except OmicsInputError as exc:
            self._show_preview(pd.DataFrame(), f"<span style='color:#b00020'>{escape(str(exc), quote=False)}</span>")
            return
        shown = frame.iloc[:, :50]
        more = f" (first 50 of {frame.shape[1]} columns)" if frame.shape[1] > 50 else ""
        self._show_preview(shown, f"{Path(path).name}: first {len(frame)} rows{more}")

    def spec(self) -> dict:
        """The inputs as ``read_cohort`` takes them (and the time unit): what File ▸ Open Recent reopens."""
        return {
            "omics": self.omics(),
            "clinical": self.clinical_path.text(),
            "time_col": self.time_col.currentText(),
            "event_col": self.event_col.currentText(),
            "transpose": self.transpose(),
            "event_map": self.event_map() or None,
            "time_unit": self.time_unit.currentText().strip() or None,
        }

    def accept(self) -> None:
        """Open: check the alignment first when it was not checked (or the inputs changed since)."""
        if self.cohort is None and not self.check():
            return
        self.cohort.time_unit = self.time_unit.currentText().strip() or None  # may have been chosen after the check
        super().accept()

    def _invalidate(self) -> None:
        """The inputs changed: the last check no longer holds. Open stays available once there is something to
        open (it checks first)."""
        self.cohort = None
        if hasattr(self, "buttons"):  # signals can fire while the dialog is being built
            ok = self.buttons.button(QDialogButtonBox.Ok)
            ready = self.tables.rowCount() > 0 and bool(self.clinical_path.text())
            ok.setEnabled(ready)
            ok.setToolTip(
                "Checks the alignment, then opens the cohort"
                if ready
                else "Add at least one omics table and choose the clinical table first"
            )

    def check(self) -> bool:
        """Run the engine's ``read_cohort`` on the current inputs; enable Open when it succeeds."""
        from omicsgat.io import read_cohort

        self._invalidate()
        if not self.omics():
            self._problem("Add at least one omics table.")
            return False
        if self._clinical_raw is None:
            self._problem("Choose the clinical table (sample IDs in the first column, a time and an event column).")
            return False
        if self.event_col.currentText() == NO_EVENT:
            self._problem(self._no_event_column_text())
            return False
        QGuiApplication.setOverrideCursor(Qt.WaitCursor)
        self.problems.setPlainText("Loading and aligning the tables…")
        QGuiApplication.processEvents()
        try:
            cohort = read_cohort(
                self.omics(),
                self.clinical_path.text(),
                time_col=self.time_col.currentText(),
                event_col=self.event_col.currentText(),
                transpose=self.transpose(),
                event_map=self.event_map() or None,
            )
        except OmicsInputError as exc:
            self._problem(str(exc))
            return False
        finally:
            QGuiApplication.restoreOverrideCursor()
        cohort.time_unit = self.time_unit.currentText().strip() or None
        self.cohort = cohort
        text = cohort.summary() + "\n\n" + cohort.report.to_text()
        self.problems.setPlainText(text)
        n_warn = len(cohort.report.warnings)
        self.problems.setStyleSheet("QPlainTextEdit { background: #fff8e1; }" if n_warn else "")
        self.buttons.button(QDialogButtonBox.Ok).setEnabled(True)
        return True

    def _problem(self, message: str) -> None:
        """Say what is wrong; Open waits until an input changes (pressing it again would fail the same way)."""
        self.buttons.button(QDialogButtonBox.Ok).setEnabled(False)
        self.buttons.button(QDialogButtonBox.Ok).setToolTip("Fix the problems listed on the right first")
        self.problems.setPlainText("Cannot open this cohort:\n\n" + for_gui(message))
        self.problems.setStyleSheet("QPlainTextEdit { color: #b00020; }")

    # --- file pickers --------------------------------------------------
    def _browse_tables(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Add omics tables", settings.last_folder(), TABLE_FILES)
        for p in paths:
            self.add_table(p)
        if paths:
            settings.remember_folder(paths[0])

    def _browse_clinical(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Clinical table", settings.last_folder(), TABLE_FILES)
        if path:
            settings.remember_folder(path)
            self.set_clinical(path)

    def _remove_selected(self) -> None:
        for r in sorted({i.row() for i in self.tables.selectedIndexes()}, reverse=True):
            self.tables.removeRow(r)
        self._clear_problems()  # an error about a removed file is stale
        self._show_preview(pd.DataFrame(), "Select a table to preview its first rows.")
        self._invalidate()

    def _clear_problems(self) -> None:
        self.problems.setPlainText("")
        self.problems.setStyleSheet("")
