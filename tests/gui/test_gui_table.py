"""Result tables: numeric sorting, filtering, clipboard, exports that read back."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

from omicsgat_gui.table import TableView


@pytest.fixture
def ranking(qtbot):
    frame = pd.DataFrame(
        {"gene": ["G1", "G2", "G10", "MARK_a", "G3"], "score": [0.5, 2.0, 10.0, np.nan, -1.0], "rank": [3, 2, 1, 5, 4]}
    )
    view = TableView("genes")
    qtbot.addWidget(view)
    view.set_frame(frame)
    return view


def test_numeric_columns_sort_as_numbers_with_nan_last(ranking):
    ranking.view.sortByColumn(1, Qt.AscendingOrder)
    assert list(ranking.visible_frame()["gene"]) == ["G3", "G1", "G2", "G10", "MARK_a"]
    ranking.view.sortByColumn(0, Qt.AscendingOrder)
    assert list(ranking.visible_frame()["gene"])[:3] == ["G1", "G10", "G2"]


def test_filter_box_and_row_count(ranking):
    ranking.search.setText("g1")
    assert list(ranking.visible_frame()["gene"]) == ["G1", "G10"]
    assert ranking.count.text() == "2 of 5 rows"
    ranking.search.setText("")
    assert ranking.count.text() == "5 rows"


def test_typing_filters_once_it_pauses_and_a_refresh_keeps_the_sort(ranking, qtbot):
    """#16 item 12: no re-filter per keystroke; a recomputed table keeps the user's sort order."""
    ranking.search.setFocus()
    qtbot.keyClicks(ranking.search, "g1")
    assert ranking.proxy.rowCount() == 5  # nothing filtered while typing
    qtbot.waitUntil(lambda: ranking.proxy.rowCount() == 2, timeout=3000)
    assert ranking.count.text() == "2 of 5 rows"
    ranking.search.clear()
    ranking.view.sortByColumn(1, Qt.DescendingOrder)
    order = list(ranking.visible_frame()["gene"])
    ranking.set_frame(ranking.frame.copy())  # e.g. a new Unknown threshold re-called the labels
    assert list(ranking.visible_frame()["gene"]) == order
    assert ranking.view.horizontalHeader().sortIndicatorSection() == 1
    ranking.set_frame(ranking.frame.rename(columns={"score": "other"}))  # a different table: engine order again
    assert ranking.view.horizontalHeader().sortIndicatorSection() in (-1, 3)


def test_copy_gives_tab_separated_rows(ranking):
    ranking.search.setText("MARK")
    text = ranking.copy_to_clipboard()
    assert QGuiApplication.clipboard().text() == text
    assert text.splitlines() == ["gene\tscore\trank", "MARK_a\t\t5"]
    ranking.search.setText("")
    ranking.view.selectRow(1)
    assert ranking.copy_to_clipboard().splitlines()[1].startswith("G2\t2.0")


def test_exports_read_back(ranking, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    for suffix, reader in (
        (".csv", pd.read_csv),
        (".tsv", lambda p: pd.read_csv(p, sep="\t")),
        (".xlsx", pd.read_excel),
    ):
        target = tmp_path / f"genes{suffix}"
        monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, t=target, **k: (str(t), ""))
        assert ranking.export_dialog() == str(target)
        back = reader(target)
        pd.testing.assert_frame_equal(back, ranking.frame, check_dtype=False)
    assert not list(tmp_path.glob(".*tmp*")), "no temporary file left behind"


def test_floats_are_shown_readably(ranking):
    index = ranking.model.index(0, 1)
    assert ranking.model.data(index) == "0.5"
    assert ranking.model.data(ranking.model.index(3, 1)) == ""
