"""A BEELINE folder through the real File menu and GRN panel: pseudotime chooser, evaluation shown."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


def write_beeline_folder(folder, n_cells=160, seed=0):
    """A tiny BEELINE-like folder: a chain G1 -> G2 -> G3 along time, two noise genes, a second (branch) trajectory."""
    rng = np.random.default_rng(seed)
    t = np.sort(rng.uniform(0, 1, n_cells))
    g1 = np.exp(-(((t - 0.3) / 0.12) ** 2))
    g2 = np.convolve(g1, np.ones(12) / 12, mode="full")[:n_cells]  # follows G1 later
    g3 = np.convolve(g2, np.ones(12) / 12, mode="full")[:n_cells]
    expr = np.vstack([g1, g2, g3, rng.uniform(0, 1, n_cells), rng.uniform(0, 1, n_cells)])
    expr = expr + rng.normal(0, 0.05, expr.shape)
    cells = [f"E{i}" for i in range(n_cells)]
    genes = ["G1", "G2", "G3", "N1", "N2"]
    folder.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(expr, index=genes, columns=cells).to_csv(folder / "ExpressionData.csv")
    branch = np.where(np.arange(n_cells) % 2 == 0, t, np.nan)  # half the cells on a second trajectory
    pd.DataFrame({"PseudoTime1": t, "PseudoTime2": branch}, index=cells).to_csv(folder / "PseudoTime.csv")
    pd.DataFrame({"Gene1": ["G1", "G2"], "Gene2": ["G2", "G3"], "Type": ["+", "+"]}).to_csv(
        folder / "refNetwork.csv", index=False
    )
    return folder


def run(window, qtbot, panel, timeout=120000):
    with qtbot.waitSignal(window.runner.idle, timeout=timeout):
        panel.run_button.click()
    assert panel.result is not None, panel.status.text()
    return panel.result


@pytest.fixture
def beeline_window(window, qtbot, tmp_path, monkeypatch):
    """The window with a BEELINE folder opened through File ▸ Open BEELINE folder…"""
    from PySide6.QtWidgets import QFileDialog

    folder = write_beeline_folder(tmp_path / "dyn-chain")
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(folder))
    with qtbot.waitSignal(window.data_loaded, timeout=60000):
        window.open_beeline_action.trigger()
    return window, folder


def test_beeline_folder_pseudotime_chooser_and_evaluation(beeline_window, qtbot, tmp_path, dialogs, monkeypatch):
    window, folder = beeline_window
    assert window.adata.n_vars == 5 and window.adata.n_obs == 160
    panel = window.grn_panel
    window.analysis_actions["grn"].trigger()
    # the folder's PseudoTime.csv columns are offered and preselected (numeric obs columns only)
    items = [panel.pseudotime.item(i).text() for i in range(panel.pseudotime.count())]
    assert items == ["PseudoTime1", "PseudoTime2"]
    assert panel.pseudotime_columns() == ["PseudoTime1", "PseudoTime2"]
    # supervised mode has no pseudotime: the chooser is disabled there
    panel.mode.setCurrentText("supervised")
    assert not panel.pseudotime.isEnabled()
    panel.mode.setCurrentText("unsupervised")
    assert panel.pseudotime.isEnabled()
    panel.epochs.setValue(3)
    panel.device.setCurrentText("cpu")

    calls = []
    import omicsgat.grn as grn

    real = grn.infer_grn
    monkeypatch.setattr(grn, "infer_grn", lambda adata, **kw: calls.append(kw.get("pseudotime")) or real(adata, **kw))
    result = run(window, qtbot, panel)
    assert dialogs == []
    assert calls == [["PseudoTime1", "PseudoTime2"]]  # both trajectories reached the engine
    assert result.params["pseudotime"] == ["PseudoTime1", "PseudoTime2"]
    # the evaluation against refNetwork.csv is the engine's BEELINE table, shown in the Evaluate tab
    from omicsgat.io.beeline import read_reference_network
    from omicsgat.metrics.grn import beeline_table

    expected = beeline_table(result.edges, read_reference_network(folder / "refNetwork.csv"), result.genes).iloc[0]
    assert int(expected["n_true"]) == 2 and int(expected["n_candidates"]) == 20
    text = panel.metrics.text()
    for key in ("AUPRC_ratio", "EPR", "AUROC"):
        assert key in text and f"{float(expected[key]):.4g}" in text
    assert f"AUPRC ratio {float(expected['AUPRC_ratio']):.2f}" in panel.status.text()
    assert panel.results.currentIndex() == panel.results.count() - 1  # the Evaluate tab is shown
    # the PR and ROC curves are drawn at once for the data's own reference
    assert panel.curves.figure is not None
    assert [ax.get_title() for ax in panel.curves.figure.axes] == ["Precision-recall", "ROC"]
    # the score box states the score that ranked the edges: the one the time evidence chose, named in the tooltip
    assert "decision" in result.params["time_evidence"]
    assert f"ranked by: {result.params['score_name']}" in panel.score.toolTip()
    assert "Pseudotime: " + result.params["time_evidence"]["decision"][:40] in panel.score.toolTip()
    if result.params["score"] == "direct_effect":
        assert panel.score.currentText().startswith("Pseudotime direct effect")
    # every gene is both regulator and target here: both columns are counted and labelled
    title = panel.network.figure.axes[0].get_title()
    assert "→ 0 targets" not in title and "regulators →" in title
    # Evaluate takes BEELINE's own refNetwork.csv (Gene1, Gene2, Type) and scores it as the CLI does
    panel.curves.clear()
    panel.reference.edit.setText(str(folder / "refNetwork.csv"))
    panel.evaluate_button.click()
    assert dialogs == []
    assert f"{float(expected['AUROC']):.4g}" in panel.metrics.text() and "refNetwork.csv" in panel.metrics.text()
    assert panel.curves.figure is not None
    # a regulator/target TSV is read the same way
    pd.DataFrame({"regulator": ["G1", "G2"], "target": ["G2", "G3"]}).to_csv(
        tmp_path / "ref.tsv", sep="\t", index=False
    )
    panel.reference.edit.setText(str(tmp_path / "ref.tsv"))
    panel.evaluate_button.click()
    assert dialogs == [] and f"{float(expected['AUROC']):.4g}" in panel.metrics.text()
    # saving writes the evaluations beside the edges, as the CLI does
    panel.save_result(str(tmp_path / "saved"))
    saved = pd.read_csv(tmp_path / "saved" / "evaluation.tsv", sep="\t")
    assert saved["AUPRC_ratio"].iloc[0] == pytest.approx(float(expected["AUPRC_ratio"]))
    assert (tmp_path / "saved" / "evaluation_reference_file.tsv").exists()

    # one trajectory only, then none (the expression-only path)
    panel.set_pseudotime_columns(["PseudoTime1"])
    assert "PseudoTime1" in panel.pseudotime_note.text()
    result = run(window, qtbot, panel)
    assert calls[-1] == ["PseudoTime1"] and result.params["pseudotime"] == ["PseudoTime1"]
    panel.set_pseudotime_columns([])
    assert "no pseudotime" in panel.pseudotime_note.text()
    result = run(window, qtbot, panel)
    assert calls[-1] is None and result.params["pseudotime"] is None
    assert "AUPRC_ratio" in panel.metrics.text()  # still scored against the reference


def test_dropped_expression_file_opens_as_single_cell_data(window, qtbot, tmp_path):
    """ExpressionData.csv dropped on the window is a BEELINE data set, not a cohort table."""
    folder = write_beeline_folder(tmp_path / "dropped")
    with qtbot.waitSignal(window.data_loaded, timeout=60000):
        window.open_paths([str(folder / "ExpressionData.csv")])
    assert window.adata.n_vars == 5
    assert window.grn_panel.pseudotime_columns() == ["PseudoTime1", "PseudoTime2"]


def test_supervised_evaluation_shows_the_held_out_figure_beside_the_all_pairs_one(window, supervised_edges):
    """A supervised ranking holds the prior's own edges: the panel says so and shows the held-out pairs' figure
    (the engine's ``held_out_metrics``), as the command line does; an unsupervised result shows no such line."""
    from types import SimpleNamespace

    from omicsgat.metrics.grn import beeline_table, held_out_metrics
    from omicsgat_gui.panels.grn import beeline_evaluation

    genes = ["A", "B", "C", "D"]
    edges, reference = supervised_edges
    table, curves, held = beeline_evaluation(SimpleNamespace(edges=edges, genes=genes), reference)
    assert held == held_out_metrics(edges, reference) and held["n_pairs"] == 4
    panel = window.grn_panel
    panel.status.setText("6 edges ranked on cpu.")
    panel.show_beeline_evaluation(
        SimpleNamespace(beeline_evaluation=table, beeline_curves=curves, beeline_held_out=held)
    )
    status = panel.status.text()
    assert f"AUPRC ratio {table['AUPRC_ratio'].iloc[0]:.2f}" in status and "the prior's own edges included" in status
    assert f"on the 4 held-out test pairs only (1 reference edges): AUPRC ratio {held['AUPRC_ratio']:.2f}" in status
    assert "On the 4 held-out test pairs only" in panel.metrics.text()
    panel.status.setText("6 edges ranked on cpu.")
    unsupervised = beeline_table(edges.drop(columns="split"), reference, genes)
    panel.show_beeline_evaluation(SimpleNamespace(beeline_evaluation=unsupervised, beeline_curves=None))
    assert "held-out" not in panel.status.text() and "held-out" not in panel.metrics.text()
