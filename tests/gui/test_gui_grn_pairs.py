"""The GRN panel's Cooperation tab fills after a run and draws the selected pair."""

from __future__ import annotations


def test_cooperation_tab_fills_after_a_run(window, qtbot, scrna_file, dialogs, load):
    load(window, qtbot, scrna_file)
    panel = window.grn_panel
    window.analysis_actions["grn"].trigger()
    panel.genes.setValue(30)
    panel.epochs.setValue(3)
    panel.device.setCurrentText("cpu")
    panel.combine.setCurrentText("Nonlinear (AND / NOT logic)")
    with qtbot.waitSignal(window.runner.idle, timeout=120000):
        panel.run_button.click()
    result = panel.result
    assert result is not None and dialogs == [], panel.status.text()
    tab = panel.cooperation
    titles = [panel.results.tabText(i) for i in range(panel.results.count())]
    assert "Cooperation" in titles
    shown = tab.table.frame
    assert len(shown) == len(result.pairs) > 0
    assert {"target", "regulator_a", "regulator_b", "interaction", "logic", "q"} <= set(shown.columns)
    assert tab.figure.figure is not None  # the first pair is drawn
    first = tab.figure.figure
    tab.table.view.selectRow(1)
    qtbot.waitUntil(lambda: tab.figure.figure is not first, timeout=10000)
    row = tab.table.visible_frame().iloc[1]
    assert f"{row['target']}: " in tab.figure.figure._suptitle.get_text()
