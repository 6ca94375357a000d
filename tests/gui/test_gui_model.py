"""File ▸ Open model…: the card is shown, Run applies the saved model to the open data."""

from __future__ import annotations

import pandas as pd
import pytest

pytestmark = pytest.mark.gui


def test_open_model_shows_card_and_applies_celltype_model(window, qtbot, load, scrna_file, tmp_path, dialogs):
    import anndata as ad

    from omicsgat.celltype import annotate_cells

    adata = ad.read_h5ad(scrna_file)
    result = annotate_cells(adata, "partial_label", epochs=2, device="cpu", seed=0, novelty=False)
    result.save_model(tmp_path / "model")
    load(window, qtbot, scrna_file)
    window.open_model_action.trigger()
    dialog = window.model_dialog
    assert not dialog.run_button.isEnabled()  # nothing chosen yet
    assert dialog.set_folder(str(tmp_path / "model"))
    card = dialog.card_view.toPlainText()
    assert "cell-typing model" in card and "labels:" in card and "mode: within" in card
    assert "novelty: false" in card and "epochs: 2" in card  # the run's settings, as the API names them
    assert dialog.run_button.isEnabled()
    with qtbot.waitSignal(window.runner.finished, timeout=60000):
        dialog.run_button.click()
    qtbot.waitUntil(lambda: dialog.result is not None, timeout=10000)
    assert not dialogs, dialogs
    shown = window.celltype_panel.result
    assert shown is dialog.result and window.tabs.currentWidget() is window.celltype_panel
    # the saved model applied to the data it was trained on calls every cell as the run did
    assert (shown.labels["predicted"] == result.labels["predicted"].reindex(shown.labels.index)).all()
    assert "cells annotated" in dialog.status.text()


def test_open_model_scores_the_open_cohort_and_refuses_a_grn_model(window, qtbot, cohort_files, tmp_path):
    from omicsgat.io import read_cohort
    from omicsgat.prognosis import GeneAttentionSurvival

    omics = {k: v for k, v in cohort_files.items() if k != "clinical"}
    cohort = read_cohort(omics, cohort_files["clinical"], time_col="OS_time", event_col="OS_event")
    model = GeneAttentionSurvival(epochs=5, max_features=20, device="cpu").fit(cohort)
    model.save(tmp_path / "prognosis")
    dialog = window.open_model_dialog(str(tmp_path / "prognosis"))
    assert not dialog.run_button.isEnabled() and "Open a multi-omics cohort first" in dialog.status.text()
    window.set_cohort(cohort, "test")
    dialog = window.open_model_dialog(str(tmp_path / "prognosis"))
    with qtbot.waitSignal(window.runner.finished, timeout=60000):
        assert dialog.run()
    qtbot.waitUntil(lambda: dialog.result is not None, timeout=10000)
    pd.testing.assert_series_equal(
        dialog.result.risk.set_index("sample")["risk"],
        model.predict_risk(cohort),
        check_names=False,
        check_index_type=False,
    )
    assert "C-index on this cohort" in dialog.status.text()

    from pathlib import Path

    grn = Path(__file__).parents[1] / "data" / "models_0_1_0" / "grn"
    assert dialog.set_folder(str(grn)) and not dialog.run_button.isEnabled()
    assert "GRN model is not applied" in dialog.status.text()
    assert not dialog.set_folder(str(tmp_path)) and "not a saved OmicsGAT model" in dialog.status.text()
