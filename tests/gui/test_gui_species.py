"""The cell-typing form with a reference of the other species: pair and ortholog count before the run."""

from __future__ import annotations

import numpy as np
import pandas as pd


def _mouse_reference_human_query(tmp_path):
    """A simulated reference named by mouse symbols and a query named by their human orthologs (files)."""
    from omicsgat.io.orthologs import ortholog_pairs
    from omicsgat.simulate import simulate_label_transfer

    pairs = ortholog_pairs("mouse", "human", "one2one").iloc[1000:1160]
    ref, qry = simulate_label_transfer(n_reference=200, n_query=200, n_genes=160, n_types=3, seed=3)
    ref.var_names = list(pairs["source"])
    qry.var_names = list(pairs["target"])
    qry.obs = qry.obs.rename(columns={"cell_type": "true_type"})
    ref.write_h5ad(tmp_path / "mouse_reference.h5ad")
    qry.write_h5ad(tmp_path / "human_query.h5ad")
    return tmp_path / "mouse_reference.h5ad", tmp_path / "human_query.h5ad", qry


def test_a_mouse_reference_is_accepted_and_its_orthologs_shown_before_the_run(window, qtbot, tmp_path, dialogs, load):
    from tests.gui.test_gui_analyses import run

    reference, query_file, query = _mouse_reference_human_query(tmp_path)
    load(window, qtbot, query_file)
    panel = window.celltype_panel
    assert not panel.species_note.isVisibleTo(panel)
    panel.reference.edit.setText(str(reference))
    note = panel.species_note.text()
    assert (
        panel.species_note.isVisibleTo(panel)
        and "mouse → human" in note
        and "160 orthologs shared" in note
        and "rule sum" in note
    )
    panel.label_key.setCurrentText("cell_type")
    panel.truth.setCurrentText("true_type")
    panel.epochs.setValue(3)
    panel.device.setCurrentText("cpu")
    result = run(window, qtbot, panel)
    assert dialogs == []
    assert result.params["species_pair"] == "mouse -> human" and result.params["n_orthologs"] == 160
    truth = query.obs["true_type"].astype(str).to_numpy()
    known = truth != "novel"
    predicted = result.labels["predicted"].astype(str).to_numpy()
    assert (predicted[known] == truth[known]).mean() > 0.8
    # another data set clears the reference and its species line
    panel.reference.edit.clear()
    assert panel.species_note.text() == "" and not panel.species_note.isVisibleTo(panel)


def test_a_reference_sharing_no_gene_says_so_before_the_run(window, qtbot, tmp_path, load):
    _, query_file, _ = _mouse_reference_human_query(tmp_path)
    import anndata as ad

    odd = ad.AnnData(
        X=np.ones((5, 3), np.float32),
        obs=pd.DataFrame({"cell_type": list("aabbc")}, index=[f"c{i}" for i in range(5)]),
        var=pd.DataFrame(index=["geneA", "geneB", "geneC"]),
    )
    odd.write_h5ad(tmp_path / "odd.h5ad")
    load(window, qtbot, query_file)
    panel = window.celltype_panel
    panel.reference.edit.setText(str(tmp_path / "odd.h5ad"))
    assert panel.species_note.text() == "unrecognised → human: 0 gene names shared"
