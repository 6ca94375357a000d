"""Seeing the data (#16 items 9, 10): colour by a gene without a hidden step, stable type colours, the file's UMAP,
legends beside the cells, scanpy's axis names."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.colors import to_hex


def test_typing_a_gene_colours_the_cells_and_a_new_file_clears_it(window, qtbot, scrna_file, load):
    load(window, qtbot, scrna_file)
    panel = window.data_panel
    assert panel.gene.isEnabled()  # no need to find "(gene…)" first
    gene = str(window.adata.var_names[3])
    panel.gene.setText(gene)
    panel.gene.editingFinished.emit()
    assert panel.color.currentText() == "(gene…)"
    assert gene in panel.embedding.figure.axes[0].get_title() and len(panel.embedding.figure.axes) == 2  # colour bar
    load(window, qtbot, scrna_file)
    assert panel.gene.text() == ""


def test_axis_names_and_legend_outside(window, qtbot, scrna_file, load):
    load(window, qtbot, scrna_file)
    panel = window.data_panel
    panel.basis.setCurrentText("X_umap")
    panel.color.setCurrentText("cell_type")
    ax = panel.embedding.figure.axes[0]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("UMAP1", "UMAP2")
    legend = ax.get_legend()
    assert legend is not None and legend.get_bbox_to_anchor().x0 >= ax.bbox.x1 - 1  # beside the axes


def test_type_colours_are_fixed_by_name_and_follow_scanpy():
    from omicsgat.pl.embedding import category_colors, plot_embedding, stored_palette

    a = category_colors(["B", "T", "NK"])
    b = category_colors(["B", "T", "NK", "Unknown"])
    assert all(a[c] == b[c] for c in ("B", "T", "NK")) and to_hex(b["Unknown"]) == "#bbbbbb"
    # a type missing from the calls keeps the others' colours when the full list is given
    coords = np.zeros((3, 2))
    fig = plot_embedding(coords, pd.Series(["B", "T", "Unknown"]), categories=["B", "NK", "T"])
    drawn = {c.get_label(): c for c in fig.axes[0].collections}
    full = category_colors(["B", "NK", "T"])
    assert to_hex(drawn["T"].get_facecolor()[0]) == to_hex(full["T"])
    assert to_hex(drawn["B"].get_facecolor()[0]) == to_hex(full["B"])
    # Unknown is hollow, so a grey type (scanpy's CD34+) never looks like it
    assert len(drawn["Unknown"].get_facecolor()) == 0 and len(drawn["Unknown"].get_edgecolor()) == 1

    import anndata

    ad = anndata.AnnData(np.zeros((3, 1)), obs=pd.DataFrame({"t": pd.Categorical(["x", "y", "x"])}, index=list("abc")))
    ad.uns["t_colors"] = ["#112233", "#445566"]
    assert stored_palette(ad, "t") == {"x": "#112233", "y": "#445566"}


def test_cell_typing_result_uses_the_files_umap_and_its_colours(tmp_path):
    import anndata

    from omicsgat.celltype.result import CellTypeResult

    idx = [f"c{i}" for i in range(4)]
    labels = pd.DataFrame({"label": ["B", "T", "Unknown", "B"], "confidence": [0.9, 0.8, 0.1, 0.7]}, index=idx)
    result = CellTypeResult.__new__(CellTypeResult)
    result.labels, result.classes, result.embedding, result.params = labels, ["B", "T"], np.zeros((4, 2)), {}
    ad = anndata.AnnData(
        np.zeros((4, 1)), obs=pd.DataFrame({"cell_type": pd.Categorical(["B", "T", "T", "B"])}, index=idx)
    )
    ad.obsm["X_umap"] = np.arange(8.0).reshape(4, 2)
    fig = result.plot_embedding("label", adata=ad, basis="X_umap", palette={"B": "#ff0000", "T": "#00ff00"})
    ax = fig.axes[0]
    assert ax.get_xlabel() == "UMAP1"
    drawn = {c.get_label(): c for c in ax.collections}
    assert to_hex(drawn["B"].get_facecolor()[0]) == "#ff0000"
    np.testing.assert_allclose(drawn["B"].get_offsets(), ad.obsm["X_umap"][[0, 3]])
