"""Data tab: the gene-symbol chooser for Ensembl-named files, and colour by TF activity after a GRN run."""

from __future__ import annotations

import numpy as np
import pytest
from realworld_data import cellxgene_like, simulated


@pytest.fixture(scope="module")
def cxg_file(tmp_path_factory):
    adata = cellxgene_like(simulated(seed=3, n_cells=150, n_genes=50))
    adata.var["gene_name"] = adata.var["feature_name"].astype(str)
    adata.obsm["X_umap"] = np.random.default_rng(0).normal(size=(adata.n_obs, 2)).astype(np.float32)
    path = tmp_path_factory.mktemp("cxg") / "cxg.h5ad"
    adata.write_h5ad(path)
    return path


def test_symbol_chooser_and_tf_activity(window, qtbot, cxg_file, dialogs, load):
    load(window, qtbot, cxg_file)
    data = window.data_panel
    items = [data.symbols.itemText(i) for i in range(data.symbols.count())]
    assert items[:3] == ["(var_names)", "feature_name", "gene_name"]
    assert data.symbols.currentText() == "feature_name"  # detected, and said in the load report
    assert "var['feature_name']" in data.report.toPlainText()
    data.symbols.setCurrentText("gene_name")  # the user's choice reaches the analyses
    assert window.grn_panel.gene_symbols == "gene_name" and window.celltype_panel.gene_symbols == "gene_name"

    panel = window.grn_panel
    panel.regulators.setCurrentText("Human transcription factors (shipped list)")
    panel.genes.setValue(40)
    panel.epochs.setValue(3)
    panel.device.setCurrentText("cpu")
    with qtbot.waitSignal(window.runner.idle, timeout=120000):
        panel.run_button.click()
    assert dialogs == [] and panel.result is not None
    assert panel.result.params["gene_symbols"] == "gene_name"
    assert panel.result.edges["regulator_id"].str.startswith("ENSG").all()
    activity = panel.result.regulon_activity
    assert activity is not None and activity.shape[0] == 150
    assert data.color.findText("(TF activity…)") >= 0
    data.color.setCurrentText("(TF activity…)")
    assert data.gene.text() in set(activity.columns)
    data.redraw()
    fig = data.embedding.figure
    assert len(fig.axes) == 2 and "activity" in fig.axes[0].get_title()  # scatter + colour bar
    low, high = fig.axes[0].collections[0].get_clim()
    assert low == pytest.approx(-high)  # the diverging map's white is activity 0


def test_h5mu_modality_chosen_and_its_labels_offered(window, qtbot, tmp_path, monkeypatch, dialogs):
    import mudata
    from PySide6.QtWidgets import QInputDialog

    rna = simulated(seed=2, n_cells=60, n_genes=30)
    prot = rna[:, :6].copy()
    prot.var_names = [f"CD{i}" for i in range(6)]
    prot.obs = prot.obs[[]].assign(adt_cluster=["a", "b"] * 30)
    path = tmp_path / "multi.h5mu"
    mudata.MuData({"rna": rna, "prot": prot}).write_h5mu(path)
    asked = []
    monkeypatch.setattr(
        QInputDialog,
        "getItem",
        lambda parent, title, label, items, current, editable: asked.append((list(items), current)) or ("prot", True),
    )
    with qtbot.waitSignal(window.data_loaded, timeout=60000):
        assert window.open_anndata(str(path))
    assert asked == [(["prot", "rna"], 1)]  # rna offered by default
    assert window.adata.n_vars == 6 and window.adata_modality == "prot"
    assert window.celltype_panel.label_key.findText("adt_cluster") >= 0  # that modality's label columns
    assert window.celltype_panel.label_key.findText("cell_type") < 0
