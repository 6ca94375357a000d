"""Within one data set: planted types and markers recovered, outputs, determinism, model files."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from omicsgat.metrics.classification import classification_scores

EPOCHS = 15


@pytest.fixture(scope="module")
def half_labelled(small_scrna):
    adata = small_scrna.copy()
    hide = np.random.default_rng(0).random(adata.n_obs) < 0.5
    labels = adata.obs["cell_type"].astype(object).copy()
    labels[hide] = np.nan
    adata.obs["partial"] = labels
    return adata, hide


@pytest.fixture(scope="module")
def result(half_labelled):
    from omicsgat.celltype import annotate_cells

    adata, _ = half_labelled
    return annotate_cells(adata, "partial", epochs=EPOCHS, seed=0)


def test_recovers_planted_cell_types(result, half_labelled):
    adata, hide = half_labelled
    truth = adata.obs["cell_type"].astype(str)[hide]
    scores = classification_scores(truth, result.labels.loc[truth.index, "label"])
    assert scores["accuracy"] > 0.9  # chance is 1/3
    assert scores["macro_f1"] > 0.9
    assert scores["unknown_fraction"] < 0.03  # known types only: the conformal Unknown rule calls few (target <= 3 %)
    assert result.labels["is_query"].to_numpy().tolist() == hide.tolist()
    # labelled cells keep their given label
    given = adata.obs["partial"][~hide].astype(str)
    assert (result.labels.loc[given.index, "label"] == given).all()


def test_marker_ranking_puts_planted_markers_on_top(result):
    # 5 planted markers per type among 120 genes: by chance the top gene is one 4% of the time
    for t in result.classes:
        ranked = result.markers[result.markers["cell_type"] == t].sort_values("rank")["gene"].reset_index(drop=True)
        own = ranked.str.startswith(f"MARK_{t}_")
        assert own[0], (t, ranked[:10].tolist())
        assert own[:5].sum() >= 2 and own[:20].sum() >= 3, (t, ranked[:20].tolist())
        others = ranked[:10].str.match(r"MARK_") & ~own[:10]
        assert not others.any(), (t, ranked[:10].tolist())  # another type's marker is never on top
    m = result.markers
    assert set(m.columns) >= {"cell_type", "gene", "score", "rank"}
    assert (m.groupby("cell_type")["rank"].apply(lambda r: sorted(r) == list(range(1, len(r) + 1)))).all()


def test_probabilities_and_confidence_are_consistent(result):
    p = result.proba
    assert p.shape == (600, 3)
    assert np.allclose(p.sum(1), 1.0, atol=1e-5)
    assert np.allclose(result.labels["confidence"], p.max(1))
    assert 0.0 < result.threshold <= 1.0
    assert result.embedding.shape == (600, 2)


def test_threshold_is_adjustable_without_retraining(result):
    strict = result.with_threshold(1.01)  # nothing is that confident
    q = strict.labels["is_query"]
    assert (strict.labels.loc[q, "label"] == "Unknown").all()
    assert (strict.labels.loc[~q, "label"] == result.labels.loc[~q, "label"]).all()
    lax = result.with_threshold(0.0)
    assert (lax.labels["label"] == "Unknown").sum() <= (result.labels["label"] == "Unknown").sum()


def test_write_to_sets_the_documented_keys(result, half_labelled):
    adata = half_labelled[0].copy()
    result.write_to(adata)
    assert list(adata.obs["omicsgat_celltype"].astype(str)) == list(result.labels["label"])
    assert np.allclose(adata.obs["omicsgat_confidence"], result.labels["confidence"])
    assert adata.obsm["omicsgat_celltype_proba"].shape == (600, 3)
    uns = adata.uns["omicsgat"]["celltype"]
    assert list(uns["classes"]) == result.classes and "markers" in uns and uns["threshold"] == result.threshold
    result.write_to(adata)  # our own keys may be rewritten
    adata.obs = adata.obs.drop(columns=["omicsgat_celltype"])
    adata.uns["omicsgat"]["_written_keys"] = []
    adata.obs["omicsgat_celltype"] = "mine"
    from omicsgat.errors import OmicsInputError

    with pytest.raises(OmicsInputError, match="omicsgat_celltype"):
        result.write_to(adata)


def test_exported_table_parses_back(result, tmp_path):
    path = result.save(tmp_path / "labels.tsv")
    back = pd.read_csv(path, sep="\t")
    assert list(back.columns[:3]) == ["cell", "label", "confidence"]
    assert [c for c in back.columns if c.startswith("prob_")] == [f"prob_{c}" for c in result.classes]
    assert back["cell"].tolist() == list(result.labels.index)
    assert np.allclose(back["confidence"], result.labels["confidence"])
    markers = pd.read_csv(result.save_markers(tmp_path / "markers.csv"))
    assert len(markers) == len(result.markers)


def test_plots_draw(result, half_labelled):
    from matplotlib.figure import Figure

    adata = half_labelled[0]
    fig = result.plot_embedding("label")
    assert isinstance(fig, Figure) and len(fig.axes[0].collections) == len(set(result.labels["label"]))
    assert isinstance(result.plot_embedding("confidence"), Figure)
    assert isinstance(result.plot_embedding("batch", adata=adata), Figure)
    assert isinstance(result.plot_embedding("MARK_type_A_0", adata=adata), Figure)
    conf = result.plot_confusion(adata.obs["cell_type"])
    assert len(conf.axes[0].images) == 1
    bars = result.plot_markers("type_A", n=7)
    assert len(bars.axes[0].patches) == 7
    from omicsgat.errors import OmicsInputError

    with pytest.raises(OmicsInputError, match="type_Z"):
        result.plot_markers("type_Z")


def test_saved_model_reloads_and_predicts_the_same(result, half_labelled, tmp_path):
    from omicsgat.celltype import CellTypeModel
    from omicsgat.errors import OmicsInputError

    path = result.save_model(tmp_path / "model")
    assert sorted(p.name for p in path.iterdir()) == ["model.json", "model.safetensors"]
    model = CellTypeModel.load(path)
    assert model.genes == result.model.genes and model.classes == result.classes
    again = model.predict(half_labelled[0], unknown_threshold=result.threshold)
    assert np.allclose(again.proba, result.proba, atol=1e-5)
    # the probability test's calibration (held-out top probabilities) travels with the model and is applied
    assert result.model.calibration is not None and np.array_equal(model.calibration, result.model.calibration)
    assert again.labels["novelty"].notna().all()
    unknown = (again.labels["confidence"] < result.threshold) | (again.labels["novelty"] > 1)
    assert ((again.labels["label"] == "Unknown") == unknown).all()
    # a model trained on other genes is refused
    other = half_labelled[0].copy()
    other.var_names = [f"X{i}" for i in range(other.n_vars)]
    with pytest.raises(OmicsInputError, match="trained on other genes"):
        model.predict(other)
    (tmp_path / "junk.safetensors").write_bytes(b"not a model")
    with pytest.raises(OmicsInputError, match="junk.safetensors"):
        CellTypeModel.load(tmp_path / "junk.safetensors")


def test_same_seed_same_result(small_scrna):
    from omicsgat.celltype import annotate_cells

    adata = small_scrna[:300].copy()
    adata.obs["lab"] = adata.obs["cell_type"].astype(object)
    adata.obs.loc[adata.obs_names[::3], "lab"] = None
    a = annotate_cells(adata, "lab", epochs=3, seed=5)
    b = annotate_cells(adata, "lab", epochs=3, seed=5)
    pd.testing.assert_frame_equal(a.labels, b.labels)
    pd.testing.assert_frame_equal(a.markers, b.markers)
    c = annotate_cells(adata, "lab", epochs=3, seed=6)
    # another seed holds out other cells for early stopping: another validation curve (the calls may agree)
    assert a.history != c.history
