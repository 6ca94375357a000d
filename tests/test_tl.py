"""The scanpy-shaped API: omicsgat.tl / omicsgat.pl on an AnnData, and scanpy reading what they stored."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from realworld_data import cellxgene_like, simulated

from omicsgat.errors import OmicsInputError


@pytest.fixture(scope="module")
def typed():
    import omicsgat as og

    adata = simulated(seed=8, n_cells=300, n_genes=80)
    adata.obs["partial"] = adata.obs["cell_type"].astype(object)
    adata.obs.loc[adata.obs_names[::3], "partial"] = np.nan  # a third to predict
    before = adata.copy()
    out = og.tl.celltype(adata, "partial", copy=True, epochs=5, device="cpu", seed=0)
    return before, adata, out


def test_copy_leaves_the_input_alone(typed):
    before, adata, out = typed
    assert "omicsgat_celltype" not in adata.obs and list(adata.obs.columns) == list(before.obs.columns)
    assert out is not adata and out.obs["omicsgat_celltype"].notna().all()
    assert out.obsm["omicsgat_celltype_proba"].shape[0] == out.n_obs


def test_scanpy_reads_markers_and_colours(typed):
    import matplotlib

    matplotlib.use("Agg")
    import scanpy as sc

    _, _, out = typed
    key = "omicsgat_celltype_markers"
    for t in out.obs["omicsgat_celltype"].cat.categories:
        if t == "Unknown":
            continue
        df = sc.get.rank_genes_groups_df(out, group=t, key=key)
        assert {"names", "scores"} <= set(df.columns)
        assert any(g.startswith(f"MARK_{t}") for g in df["names"].head(5))  # planted markers lead the ranking
    sc.pl.rank_genes_groups(out, key=key, n_genes=5, show=False)
    colors = list(out.uns["omicsgat_celltype_colors"])
    assert len(colors) == len(out.obs["omicsgat_celltype"].cat.categories)
    out.obsm["X_umap"] = np.asarray(out.X.toarray() if hasattr(out.X, "toarray") else out.X)[:, :2]
    sc.pl.umap(out, color="omicsgat_celltype", show=False)
    assert list(out.uns["omicsgat_celltype_colors"]) == colors  # scanpy accepted and kept our colours


def test_pl_returns_figure_and_accepts_ax(typed):
    import omicsgat as og
    from omicsgat.pl.figure import new_figure

    _, _, out = typed
    out.obsm["X_pca"] = np.random.default_rng(0).normal(size=(out.n_obs, 2))
    fig = og.pl.celltype(out)
    legend = {t.get_text() for t in fig.axes[0].get_legend().get_texts()}
    assert legend <= set(out.obs["omicsgat_celltype"].cat.categories)
    first = sorted(legend - {"Unknown"})[0]
    palette = dict(zip(out.obs["omicsgat_celltype"].cat.categories, out.uns["omicsgat_celltype_colors"]))
    drawn = {t.get_label(): t.get_facecolor()[0] for t in fig.axes[0].collections}
    from matplotlib.colors import to_rgba

    assert np.allclose(drawn[first], to_rgba(palette[first]))
    fig2, ax = new_figure()
    assert og.pl.celltype_markers(out, first, ax=ax) is fig2


def test_taken_key_names_key_added(typed):
    import omicsgat as og

    adata = typed[0].copy()
    adata.obs["mine"] = "x"
    with pytest.raises(OmicsInputError, match="choose another key_added"):
        og.tl.celltype(adata, "partial", key_added="mine", epochs=1, device="cpu")


def test_tl_grn_network_and_activity_on_cellxgene_file():
    import omicsgat as og
    from omicsgat.grn.result import GRNResult

    adata = cellxgene_like(simulated(seed=3))
    og.tl.grn(adata, regulators="human", genes=60, epochs=10, restarts=1, device="cpu", seed=0)
    net = GRNResult.network_from(adata, "omicsgat_grn")
    assert list(net.columns) == ["source", "target", "weight"] and np.abs(net["weight"]).max() == pytest.approx(1.0)
    act = adata.obsm["omicsgat_grn_activity"]
    assert isinstance(act, pd.DataFrame) and act.shape[0] == adata.n_obs and act.shape[1] >= 1
    assert set(act.columns) <= set(net["source"])
    adata.obsm["X_pca"] = np.random.default_rng(0).normal(size=(adata.n_obs, 2))
    fig = og.pl.tf_activity(adata, act.columns[0])
    assert fig.axes and og.pl.grn_network(adata) is not None and og.pl.grn_hubs(adata) is not None


def test_activity_of_planted_regulator_tracks_its_targets():
    """ulm over a planted network: the planted regulator is the most active one where it drives its targets."""
    import anndata as ad

    from omicsgat.grn.activity import regulon_activity

    rng = np.random.default_rng(0)
    n_cells, n_other = 400, 60
    reg = rng.gamma(2.0, 1.0, size=n_cells)
    targets = np.stack([rng.poisson(1 + 4 * reg) for _ in range(15)], axis=1)
    others = rng.poisson(3.0, size=(n_cells, n_other))
    X = np.hstack([rng.poisson(1 + 4 * reg)[:, None], targets, others]).astype(np.float32)
    names = ["SPI1"] + [f"T{i}" for i in range(15)] + [f"N{i}" for i in range(n_other)]
    adata = ad.AnnData(X=X, var=pd.DataFrame(index=names))
    decoys = [
        pd.DataFrame({"source": f"D{d}", "target": rng.choice(names[16:], 15, replace=False), "weight": 1.0})
        for d in range(5)
    ]
    network = pd.concat([pd.DataFrame({"source": "SPI1", "target": names[1:16], "weight": 1.0}), *decoys])
    act = regulon_activity(adata, network)
    assert np.corrcoef(act["SPI1"], reg)[0, 1] > 0.7
    # decoys do not track it (after normalization they can anti-correlate: its targets take library share)
    assert max(np.corrcoef(act[f"D{d}"], reg)[0, 1] for d in range(5)) < 0.3
    high = reg > np.quantile(reg, 0.8)
    assert (act[high].idxmax(axis=1) == "SPI1").mean() > 0.9
