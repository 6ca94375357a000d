"""Each analysis through its real panel on tiny data: tables fill, plots draw, exports read back."""

from __future__ import annotations

import pandas as pd
import pytest


def run(window, qtbot, panel, timeout=120000):
    """Press the panel's Run button and wait for the result (fails on an error dialog)."""
    with qtbot.waitSignal(window.runner.idle, timeout=timeout):
        panel.run_button.click()
    assert panel.result is not None, panel.status.text()
    return panel.result


def test_grn_panel(window, qtbot, scrna_file, tmp_path, dialogs, load):
    load(window, qtbot, scrna_file)
    panel = window.grn_panel
    window.analysis_actions["grn"].trigger()
    assert window.tabs.currentWidget() is panel
    panel.genes.setValue(40)
    panel.epochs.setValue(3)
    panel.device.setCurrentText("cpu")
    panel.mode.setCurrentText("supervised")
    assert not panel.combine.isEnabled()  # the head combination belongs to the unsupervised model
    assert not panel.score.isEnabled()  # so does the choice of edge score
    panel.mode.setCurrentText("unsupervised")
    assert panel.combine.isEnabled() and panel.score.isEnabled()
    panel.combine.setCurrentText("Linear (weighted sum)")
    panel.score.setCurrentText("Attention")
    result = run(window, qtbot, panel)
    assert dialogs == []
    assert result.params["combine"] == "linear" and result.params["score"] == "attention"
    assert (result.edges["score"] == result.edges["attention"]).all()
    edges = panel.edges.frame
    assert len(edges) == len(result.edges) > 0
    assert {"regulator", "target", "score", "rank"} <= set(edges.columns)
    assert edges["rank"].is_monotonic_increasing
    assert len(panel.hubs.table.frame) == len(result.hubs)
    assert panel.hubs.figure.figure is not None
    # the slider redraws the network with that many edges
    network = panel.network.figure
    assert network is not None
    assert panel.n_edges.value() == 30  # a readable default
    panel.n_edges.setValue(10)
    qtbot.waitUntil(lambda: panel.network.figure is not network, timeout=60000)
    assert "10 edges" == panel.n_edges_label.text()
    # filter the edge table to one regulator
    regulator = edges["regulator"].iloc[0]
    panel.edges.search.setText(regulator)
    shown = panel.edges.visible_frame()
    assert 0 < len(shown) <= len(edges)
    assert (shown["regulator"].eq(regulator) | shown["target"].eq(regulator)).all()
    # evaluation against the planted network, read by the engine's prior reader
    from omicsgat.simulate import true_network

    truth = tmp_path / "truth.tsv"
    true_network(window.adata).to_csv(truth, sep="\t", index=False)
    panel.reference.edit.setText(str(truth))
    scores = panel.evaluate()
    # the panel shows the engine's evaluation of its result against the reference it read (3 epochs: no quality claim;
    # recovery of a planted network is tested in tests/grn)
    expected = panel.result.evaluate(true_network(window.adata))
    assert scores is not None and expected["n_true"] > 0
    assert scores == pytest.approx(expected)
    assert f"{scores['AUROC']:.4g}" in panel.metrics.text() and "AUPRC" in panel.metrics.text()
    # #16 item 11: what each metric means, and the PR and ROC curves with their random baselines
    assert "better than a random ranking" in panel.metrics.text() and "EPR" in panel.metrics.toolTip()
    pr, roc = panel.curves.figure.axes
    assert pr.get_title() == "Precision-recall" and roc.get_title() == "ROC"
    assert pr.lines[1].get_ydata()[0] == pytest.approx(scores["density"])
    # Save all results: everything the panel shows, into a folder, and it says where
    saved = tmp_path / "grn_out"
    from PySide6.QtWidgets import QFileDialog

    qtbot_patch = pytest.MonkeyPatch()
    qtbot_patch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(saved))
    try:
        assert panel.save_dialog() == str(saved)
    finally:
        qtbot_patch.undo()
    files = {p.name for p in saved.iterdir()}
    assert {
        "edges.tsv",
        "hubs.tsv",
        "evaluation_reference_file.tsv",
        "grn_network.png",
        "grn_hubs.png",
        "grn_evaluation_curves.png",
        "summary.txt",
    } <= files
    assert len(pd.read_csv(saved / "edges.tsv", sep="\t")) == len(result.to_frame())
    assert "AUROC" in (saved / "summary.txt").read_text()
    assert f"to {saved}" in window.log_view.toPlainText() and str(saved) in panel.status.text()
    import anndata as ad

    with qtbot.waitSignal(window.runner.finished, timeout=30000):
        window.save_anndata(str(tmp_path / "with_grn.h5ad"))
    back = ad.read_h5ad(tmp_path / "with_grn.h5ad")
    assert "grn" in back.uns["omicsgat"]
    # opening other data forgets the result (it belongs to the old genes)
    load(window, qtbot, tmp_path / "with_grn.h5ad")
    assert panel.result is None and panel.edges.model.rowCount() == 0 and panel.network.figure is None
    assert not panel.save_button.isEnabled() and not panel.evaluate_button.isEnabled()


def test_celltype_panel(window, qtbot, scrna_file, tmp_path, dialogs, load):
    load(window, qtbot, scrna_file)
    panel = window.celltype_panel
    panel.label_key.setCurrentText("partial_label")
    panel.truth.setCurrentText("cell_type")
    panel.epochs.setValue(5)
    panel.device.setCurrentText("cpu")
    result = run(window, qtbot, panel)
    assert dialogs == []
    labels = panel.labels.frame
    assert len(labels) == window.adata.n_obs
    assert {"label", "confidence"} <= set(labels.columns)
    # missing labels were predicted: mostly right on this easy simulation
    missing = window.adata.obs["partial_label"].isna().to_numpy()
    truth = window.adata.obs["cell_type"].astype(str).to_numpy()
    predicted = result.labels["label"].astype(str).to_numpy()
    assert (predicted[missing] == truth[missing]).mean() > 0.6
    assert panel.embedding.figure is not None
    assert panel.confusion.figure is not None
    assert panel.marker_type.count() == len(result.classes)
    first = panel.marker_type.currentText()
    assert set(panel.markers.table.frame["cell_type"].astype(str)) == {first}
    panel.marker_type.setCurrentIndex(panel.marker_type.count() - 1)
    assert set(panel.markers.table.frame["cell_type"].astype(str)) == {panel.marker_type.currentText()}
    panel.color.setCurrentText("confidence")
    assert len(panel.embedding.figure.axes) == 2  # colour bar
    # a new threshold re-calls Unknown without retraining, keeping the view
    expected = result.with_threshold(0.999).labels
    panel.unknown_mode.setCurrentText("Below a confidence of")
    assert panel.threshold.isEnabled() and "value you set" in panel.unknown_note.text()
    panel.threshold.setValue(0.999)
    qtbot.waitUntil(lambda: panel.result.threshold == 0.999, timeout=5000)  # once typing pauses
    assert panel.result.threshold == 0.999 and panel.color.currentText() == "confidence"
    assert list(panel.labels.frame["label"].astype(str)) == list(expected["label"].astype(str))
    assert list(panel.labels.frame["cell"]) == list(expected.index)
    panel.unknown_mode.setCurrentText("Automatic")  # back to automatic: the run's own calls
    qtbot.waitUntil(lambda: panel.result.threshold == result.threshold, timeout=5000)
    assert list(panel.result.labels["label"].astype(str)) == list(predicted)
    # File > Export lists the plots and tables on screen
    items = window.exportables()
    assert "Cell typing: cell labels (table)" in items and "Cell typing: confusion matrix (plot)" in items
    # the annotated AnnData carries the calls; the loaded object is left as it was
    import anndata as ad

    with qtbot.waitSignal(window.runner.finished, timeout=30000):
        window.save_anndata(str(tmp_path / "typed.h5ad"))
    back = ad.read_h5ad(tmp_path / "typed.h5ad")
    assert list(back.obs["omicsgat_celltype"].astype(str)) == list(predicted)
    assert "omicsgat_celltype" not in window.adata.obs


def test_cancel_a_real_run_and_close_mid_run(qtbot, scrna_file, load):
    from omicsgat_gui.main_window import MainWindow

    w = MainWindow()
    qtbot.addWidget(w)
    w.show()
    load(w, qtbot, scrna_file)
    panel = w.grn_panel
    panel.genes.setValue(40)
    panel.epochs.setValue(100000)
    panel.device.setCurrentText("cpu")
    with qtbot.waitSignal(w.runner.progressed, timeout=60000):
        panel.run_button.click()
    assert panel.cancel_button.isEnabled() and not panel.run_button.isEnabled()
    thread = w.runner.thread
    # a cancel that never arrives fails here (hang guard); latency is measured in benchmarks/gui_cancel.py
    with qtbot.waitSignal(w.runner.cancelled, timeout=60000):
        panel.cancel_button.click()
    assert thread.wait(60000)
    assert panel.result is None and panel.run_button.isEnabled()
    assert "cancelled" in panel.status.text().lower()
    # closing the window during a run stops the worker too
    with qtbot.waitSignal(w.runner.progressed, timeout=60000):
        panel.run_button.click()
    thread = w.runner.thread
    w.close()
    assert not thread.isRunning()
    w.probe.wait(30000)


def test_prognosis_panel(window, qtbot, cohort_files, tmp_path, dialogs, monkeypatch):
    from pathlib import Path

    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QFileDialog

    from omicsgat.io import read_cohort

    cohort = read_cohort(
        {"mRNA": cohort_files["mRNA"], "miRNA": cohort_files["miRNA"]},
        cohort_files["clinical"],
        time_col="OS_time",
        event_col="OS_event",
    )
    cohort.time_unit = "months"
    window.set_cohort(cohort, "test cohort")
    panel = window.prognosis_panel
    # risk groups as the CLI offers them (#16 item 7): no "0.33 at a quantile" that the engine reads as a cut-off
    assert panel.group_choice() == "median" and not panel.cutoff.isEnabled()
    panel.groups.setCurrentText("Risk cut-off (high above it)")
    assert panel.cutoff.isEnabled()
    panel.cutoff.setValue(0.5)
    assert panel.group_choice() == 0.5
    panel.groups.setCurrentText("Tertiles (low / intermediate / high)")
    assert panel.group_choice() == "tertiles"
    panel.folds.setValue(2)
    panel.ensemble.setValue(1)
    panel.epochs.setValue(5)
    panel.device.setCurrentText("cpu")
    result = run(window, qtbot, panel)
    assert dialogs == []
    s = result.summary
    text = panel.summary.text()
    assert f"{s['c_index']:.3f}" in text and "log-rank p" in text and "HR" in text
    assert all(f"{c:.3f}" in text for c in s["c_index_per_fold"])
    assert panel.km.figure is not None and panel.cindex.figure is not None
    assert len(panel.risk.frame) == 60 and {"sample", "risk", "group"} <= set(panel.risk.frame.columns)
    assert set(panel.risk.frame["group"]) == {"low", "intermediate", "high"}
    assert panel.km.figure.axes[0].get_xlabel() == "OS_time (months)"  # the unit asked in the cohort dialog
    # the elastic-net part is visible: what was fitted, each part's out-of-fold C-index, its coefficients
    assert result.params["model_options"]["wide"] == "blend"
    assert "elastic-net" in s["risk_model"] and "Risk" in text
    assert f"{s['c_index_parts']['network']:.3f}" in text
    assert [panel.modality.itemText(i) for i in range(panel.modality.count())] == ["mRNA", "miRNA"]
    # the features table lists the chosen modality's features, as the plot beside it does; the modality first
    # and the Cox columns before the long tail
    shown = panel.genes.table.frame
    assert len(shown) == len(result.genes["mRNA"]) and set(shown["modality"]) == {"mRNA"}
    assert list(shown.columns[:4]) == ["modality", "feature", "rank", "attention"]
    assert {"enet_coef", "cox_p"} <= set(shown.columns)
    assert list(shown.columns).index("cox_p") < list(shown.columns).index("topk_frequency")
    assert "same" in panel.genes.table.model.headerData(
        list(shown.columns).index("cox_p"), Qt.Horizontal, Qt.ToolTipRole
    )
    panel.modality.setCurrentText("miRNA")
    assert panel.genes.figure.figure.axes[0].get_xlim()[0] > 0.5  # attention bars are not drawn from 0
    assert list(panel.genes.table.frame["feature"]) == list(result.genes["miRNA"]["feature"])
    # File > Export: every format of a table and of the KM plot, read back
    from omicsgat_gui.export_dialog import ExportDialog

    dialog = ExportDialog(window.exportables(), window)
    qtbot.addWidget(dialog)
    features = "Prognosis: features (table)"
    dialog.list.setCurrentRow(list(dialog.items).index(features))
    for fmt, suffix in (
        ("CSV (comma-separated)", ".csv"),
        ("TSV (tab-separated)", ".tsv"),
        ("Excel workbook", ".xlsx"),
    ):
        dialog.format.setCurrentText(fmt)
        path = dialog.export_current(str(tmp_path / f"features{suffix}"))
        back = pd.read_excel(path) if suffix == ".xlsx" else pd.read_csv(path, sep="\t" if suffix == ".tsv" else ",")
        # the table as shown (miRNA), with its modality column; Save all results writes every modality
        assert list(back.loc[back["modality"] == "miRNA", "feature"]) == list(result.genes["miRNA"]["feature"])
        assert set(back["modality"]) == {"miRNA"}
    captured = {}
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", lambda parent, title, path, *a: (captured.update(path=path), ("", ""))[1]
    )
    dialog.format.setCurrentText("CSV (comma-separated)")
    dialog.export_current()
    assert Path(captured["path"]).name == "prognosis_features.csv"
    dialog.list.setCurrentRow(list(dialog.items).index("Prognosis: Kaplan-Meier (plot)"))
    dialog.dpi.setValue(100)
    dialog.format.setCurrentText("PNG image")
    png = dialog.export_current(str(tmp_path / "km.png"))
    with open(png, "rb") as fh:
        assert fh.read(8) == b"\x89PNG\r\n\x1a\n"
    from PIL import Image

    width_in = panel.km.figure.get_figwidth()
    assert abs(Image.open(png).size[0] - round(width_in * 100)) <= 2
    dialog.format.setCurrentText("SVG vector")
    assert "<svg" in open(dialog.export_current(str(tmp_path / "km.svg")), encoding="utf-8").read(2000)
    dialog.format.setCurrentText("PDF document")
    with open(dialog.export_current(str(tmp_path / "km.pdf")), "rb") as fh:
        assert fh.read(5) == b"%PDF-"
    # Save all results: the same files as the CLI
    from PySide6.QtWidgets import QFileDialog

    mp = pytest.MonkeyPatch()
    mp.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(tmp_path / "out"))
    try:
        panel.save_dialog()
    finally:
        mp.undo()
    assert {
        "risk.tsv",
        "summary.json",
        "km.png",
        "features.tsv",
        "c_index_per_fold.png",
        "features.png",
        "summary.txt",
    } <= {p.name for p in (tmp_path / "out").iterdir()}
    assert set(pd.read_csv(tmp_path / "out" / "features.tsv", sep="\t")["modality"]) == {"mRNA", "miRNA"}
    # another grouping re-cuts the same out-of-fold risks at once, without a rerun
    km = panel.km.figure
    with qtbot.assertNotEmitted(window.runner.started):
        panel.groups.setCurrentText("Median split (low / high)")
        qtbot.waitUntil(lambda: panel.km.figure is not km, timeout=5000)
    assert panel.result.params["groups"] == "median" and panel.result.risk["risk"].equals(result.risk["risk"])
    assert set(panel.risk.frame["group"]) == {"low", "high"} and "without retraining" in panel.status.text()
    from omicsgat_gui.panels.prognosis import _fmt_p

    expected = result.with_groups("median").summary
    assert f"log-rank p</b> {_fmt_p(expected['logrank_p'])}" in panel.summary.text() and panel.unsaved


def test_celltype_label_transfer_from_a_reference_file(window, qtbot, scrna_file, tmp_path, dialogs, load):
    import anndata as ad

    full = ad.read_h5ad(scrna_file)
    reference, query = full[::2].copy(), full[1::2].copy()
    query.obs = query.obs.rename(columns={"cell_type": "true_type"}).drop(columns=["partial_label"])
    reference.write_h5ad(tmp_path / "reference.h5ad")
    query.write_h5ad(tmp_path / "query.h5ad")
    load(window, qtbot, tmp_path / "query.h5ad")
    panel = window.celltype_panel
    assert panel.label_key.findText("cell_type") == -1  # not in the query
    panel.reference.edit.setText(str(tmp_path / "reference.h5ad"))
    # the reference's label columns are offered once it is chosen
    assert panel.label_key.findText("partial_label") >= 0 and panel.label_key.currentText() == "cell_type"
    panel.truth.setCurrentText("true_type")
    panel.epochs.setValue(5)
    panel.device.setCurrentText("cpu")
    result = run(window, qtbot, panel)
    assert dialogs == []
    predicted = result.labels["label"].astype(str).to_numpy()
    assert (predicted == query.obs["true_type"].astype(str).to_numpy()).mean() > 0.6
    assert panel.confusion.figure is not None


def test_celltype_out_of_fold_check_on_the_shipped_pbmc_file(window, qtbot, tmp_path, dialogs, load):
    """Every cell of pbmc68k_reduced has a bulk_label: the panel offers the out-of-fold check, and the confusion
    matrix says it is computed on out-of-fold cells; the same file as reference is flagged as training agreement."""
    from pathlib import Path

    pbmc = Path(__file__).resolve().parents[2] / "sample_data" / "pbmc68k_reduced.h5ad"
    load(window, qtbot, pbmc)
    panel = window.celltype_panel
    panel.label_key.setCurrentText("bulk_labels")
    assert panel.holdout.value() == 5  # offered: otherwise there is nothing to predict
    panel.holdout.setValue(2)
    panel.epochs.setValue(2)
    panel.device.setCurrentText("cpu")
    result = run(window, qtbot, panel, timeout=300000)
    assert dialogs == []
    assert result.params["n_out_of_fold"] == 700 and set(result.labels["fold"]) == {0, 1}
    note = panel.confusion_note.text()
    assert "700 labelled cells predicted out of fold (2 folds)" in note and "accuracy" in note
    assert panel.confusion.figure is not None and "out of fold" in panel.confusion.figure.axes[0].get_title()
    ev = result.evaluation()
    assert 0.3 < ev["accuracy"] < 1.0  # honest: not the training set's perfect agreement
    # the old workaround, the file as its own reference: a warning, never presented as accuracy
    panel.reference.edit.setText(str(pbmc))
    assert not panel.holdout.isEnabled()
    panel.truth.setCurrentText("bulk_labels")
    run(window, qtbot, panel, timeout=300000)
    assert "WARNING" in panel.confusion_note.text() and "training-set agreement" in panel.confusion_note.text()
