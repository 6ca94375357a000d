"""The GRN panel's Cooperation tab: which regulators act together (``GRNResult.pairs``) and the chosen pair's picture."""

from __future__ import annotations

import pandas as pd
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QSplitter, QVBoxLayout, QWidget

from omicsgat_gui.figure_view import FigureView
from omicsgat_gui.table import TableView

COLUMN_TIPS = {
    "interaction": "The model's second-order response: prediction at (a high, b high) - (a high, b low) - (a low, "
    "b high) + (a low, b low), in target standard deviations",
    "logic": "both needed (interaction > 0), either enough (< 0), or independent (q above the threshold)",
    "score": "interaction x stability: the table is sorted by its absolute value",
    "stability": "|mean| / mean |.| of the interaction over the model's restarts (1: every restart agrees)",
    "p": "Permutation test (Freedman-Lane) of the target's observed 2 x 2 interaction in the data",
    "q": "Benjamini-Hochberg adjusted p",
}


class CooperationTab(QWidget):
    """A sortable pair table; selecting a row draws the target's observed and predicted 2 x 2 grids."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.pairs: pd.DataFrame | None = None
        self.note = QLabel("Run the analysis to see which regulators act together.")
        self.note.setWordWrap(True)
        self.table = TableView("GRN regulator pairs")
        self.table.set_column_tips(COLUMN_TIPS)
        self.figure = FigureView(
            "GRN regulator pair",
            "Select a pair to see the target in the 2 x 2 grid of low / "
            "high regulators, observed and predicted by the model.",
        )
        self.table.current_row_changed.connect(self.show_row)
        split = QSplitter(Qt.Vertical)
        split.addWidget(self.table)
        split.addWidget(self.figure)
        layout = QVBoxLayout(self)
        layout.addWidget(self.note)
        layout.addWidget(split, 1)

    def show_result(self, result) -> None:
        self.pairs = getattr(result, "pairs", None)
        if self.pairs is None:
            reason = (getattr(result, "params", {}) or {}).get("pairs", {}).get("reason", "not computed")
            self.note.setText(f"No regulator pairs for this run: {reason}.")
            self.table.set_frame(pd.DataFrame())
            self.figure.clear()
            return
        called = int((self.pairs["logic"] != "independent").sum())
        self.note.setText(
            f"{len(self.pairs):,} pairs of each target's top regulators; {called:,} called "
            "'both needed' or 'either enough'. Select a row to see it."
        )
        self.table.set_frame(self.pairs)
        if len(self.pairs):
            self.show_row(0)

    def show_row(self, row: int) -> None:
        if self.pairs is None or not 0 <= row < len(self.pairs):
            return
        from omicsgat.pl.pairs import plot_pair

        hit = self.pairs.iloc[row]
        self.figure.draw(lambda: plot_pair(self.pairs, hit["target"], hit["regulator_a"], hit["regulator_b"]))
