"""The model contract: folders saved by 0.1.0 still load and predict as they did, every model has a card,
and a saved model is applied from the command line (cell typing, prognosis external validation)."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from omicsgat.errors import OmicsInputError

OLD = Path(__file__).parent / "data" / "models_0_1_0"


def _old_data():
    sys.path.insert(0, str(OLD))
    try:
        import make_models
    finally:
        sys.path.remove(str(OLD))
    return make_models


def _omicsgat(*args):
    """The command line in this process (its exit code and stderr): the same code path, without a start-up each."""
    import contextlib
    import io
    from types import SimpleNamespace

    from omicsgat.cli import main

    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main([str(a) for a in args])
    return SimpleNamespace(returncode=code, stderr=err.getvalue())


def test_folders_saved_by_0_1_0_load_and_predict_what_they_predicted():
    from omicsgat.celltype import CellTypeModel
    from omicsgat.grn import GRNModel
    from omicsgat.prognosis import GeneAttentionSurvival

    data = _old_data()
    _, query = data.celltype_data()
    labels = CellTypeModel.load(OLD / "celltype").predict(query, device="cpu").labels
    expected = pd.read_csv(OLD / "expected_celltype.tsv", sep="\t", index_col=0)
    expected_labels = expected["label"]
    assert (labels["label"] == expected_labels).all()
    np.testing.assert_allclose(labels["confidence"], expected["confidence"], atol=1e-5)
    old_prognosis = GeneAttentionSurvival.load(OLD / "prognosis", device="cpu")
    risk = old_prognosis.predict_risk(data.prognosis_data())
    with pytest.raises(OmicsInputError, match="no record of its training risks"):  # cut-offs unknown: said so
        old_prognosis.apply(data.prognosis_data())
    expected = pd.read_csv(OLD / "expected_prognosis.tsv", sep="\t", index_col=0)["risk"]
    np.testing.assert_allclose(risk.to_numpy(), expected.to_numpy(), rtol=1e-6, atol=1e-7)
    grn = GRNModel.load(OLD / "grn", genes=data.grn_data())
    assert grn.card["training"]["n_genes"] == 30 and len(grn.states) == 1
    partial = CellTypeModel.load(OLD / "celltype").predict(query[:, 30:].copy(), device="cpu")
    assert partial.params["n_genes_missing"] == 30  # reported, not hidden
    assert (partial.labels["label"] == expected_labels).mean() > 0.9
    with pytest.raises(OmicsInputError, match="only 40 of its 160 genes"):
        CellTypeModel.load(OLD / "celltype").predict(query[:, 120:].copy(), device="cpu")
    with pytest.raises(OmicsInputError, match="GRN model is not applied to new data"):
        grn.apply(data.grn_data())


def test_every_model_folder_carries_a_card_readable_without_the_weights(tmp_path):
    from omicsgat.persist import CARD_KEYS, read_card
    from omicsgat.prognosis import GeneAttentionSurvival

    for analysis in ("celltype", "prognosis", "grn"):  # a 0.1.0 folder: derived from what it holds
        card = read_card(OLD / analysis)
        assert tuple(card) == CARD_KEYS and card["analysis"] == analysis
    assert read_card(OLD / "celltype")["training"]["labels"] == ["type_A", "type_B", "type_C"]
    model = GeneAttentionSurvival.load(OLD / "prognosis", device="cpu")
    model.annotate_card(metrics={"c_index_out_of_fold": 0.7}, species="human")
    card = read_card(model.save(tmp_path / "again"))
    assert card["metrics"] == {"c_index_out_of_fold": 0.7} and card["species"] == "human"
    assert card["training"]["modalities"] == {"mRNA": 16, "miRNA": 8}
    assert card["parameters"]["epochs"] == 5
    with pytest.raises(OmicsInputError, match="not a saved OmicsGAT model folder"):
        read_card(tmp_path)


@pytest.fixture(scope="module")
def typed_query(tmp_path_factory, small_scrna):
    folder = tmp_path_factory.mktemp("model_apply")
    adata = small_scrna[:300].copy()
    adata.obs["lab"] = adata.obs["cell_type"].astype(str)
    adata.obs.loc[adata.obs_names[::2], "lab"] = ""
    adata.write_h5ad(folder / "query.h5ad")
    return folder


def test_celltype_model_gives_the_labels_of_the_run_that_saved_it(typed_query):
    folder = typed_query
    common = ("--epochs", 6, "--device", "cpu", "--seed", 2, "--quiet", "--no-novelty")
    run = _omicsgat(
        "celltype",
        folder / "query.h5ad",
        "--label-key",
        "lab",
        "--out",
        folder / "run.tsv",
        "--save-model",
        folder / "model",
        *common,
    )
    assert run.returncode == 0, run.stderr
    applied = _omicsgat(
        "celltype",
        folder / "query.h5ad",
        "--model",
        folder / "model",
        "--out",
        folder / "applied.tsv",
        "--device",
        "cpu",
        "--seed",
        2,
    )
    assert applied.returncode == 0, applied.stderr
    assert "annotated by the model" in applied.stderr and "warning" not in applied.stderr
    run, applied = (pd.read_csv(folder / f"{n}.tsv", sep="\t", index_col="cell") for n in ("run", "applied"))
    query = run["is_query"].to_numpy()
    assert query.sum() == 150
    # every cell gets the same call and confidence; the cells the run predicted get the same label
    assert (applied["predicted"] == run["predicted"]).all()
    np.testing.assert_allclose(applied["confidence"], run["confidence"], atol=1e-6)
    assert (applied["label"][query] == run["label"][query]).all()


def test_celltype_model_refuses_training_options_and_other_species(typed_query, tmp_path):
    import anndata as ad

    folder = typed_query
    proc = _omicsgat(
        "celltype", folder / "query.h5ad", "--model", folder / "model", "--out", tmp_path / "x.tsv", "--holdout", 3
    )
    assert proc.returncode == 2 and "--holdout" in proc.stderr and "Traceback" not in proc.stderr
    proc = _omicsgat("celltype", folder / "query.h5ad", "--out", tmp_path / "x.tsv")
    assert proc.returncode == 2 and "--label-key" in proc.stderr and "--model" in proc.stderr

    from omicsgat.celltype import CellTypeModel

    model = CellTypeModel.load(folder / "model")
    model.annotate_card(species="mouse")
    tfs = ["TP53", "MYC", "GATA1", "SPI1", "CEBPA", "PAX5", "TCF7", "FOXP3", "NFKB1", "STAT3"]
    human = ad.AnnData(np.ones((5, len(tfs)), np.float32), var=pd.DataFrame(index=tfs))
    with pytest.raises(OmicsInputError, match="trained on mouse genes but the data is human"):
        model.predict(human, device="cpu")


@pytest.fixture(scope="module")
def cohorts(tmp_path_factory):
    """A training cohort and a second cohort of the same disease (same planted features) with a batch shift."""
    from omicsgat.simulate import simulate_survival_cohort

    both = simulate_survival_cohort(n_samples=240, n_features={"mRNA": 40, "miRNA": 12}, seed=8)
    train, second = both.subset(both.samples[:120]), both.subset(both.samples[120:])
    second.tables = {"mRNA": second.tables["mRNA"] * 1.1 + 0.8, "miRNA": second.tables["miRNA"] - 0.5}
    folder = tmp_path_factory.mktemp("prognosis_apply")
    return train, second, train.save(folder / "train"), second.save(folder / "second"), folder


def test_prognosis_model_reproduces_its_risks_and_validates_on_a_second_cohort(cohorts, tmp_path):
    from omicsgat.prognosis import GeneAttentionSurvival

    train, second, train_files, second_files, folder = cohorts
    model = GeneAttentionSurvival(epochs=60, max_features=30, device="cpu", seed=0).fit(train)
    model.save(tmp_path / "model")
    omics = [f"--omics=mRNA={train_files['mRNA']}", f"--omics=miRNA={train_files['miRNA']}"]
    proc = _omicsgat("prognosis", "--model", tmp_path / "model", *omics, "--out", tmp_path / "same", "--quiet")
    assert proc.returncode == 0, proc.stderr
    risk = pd.read_csv(tmp_path / "same" / "risk.tsv", sep="\t", index_col="sample")
    np.testing.assert_allclose(risk["risk"].to_numpy(), model.predict_risk(train).to_numpy(), rtol=1e-5, atol=1e-6)
    assert (risk["group"] == "high").sum() == 60  # the training median splits the training cohort in half
    assert not (tmp_path / "same" / "km.png").exists()  # no outcomes, no curves

    omics = [f"--omics=mRNA={second_files['mRNA']}", f"--omics=miRNA={second_files['miRNA']}"]
    proc = _omicsgat(
        "prognosis",
        "--model",
        tmp_path / "model",
        *omics,
        "--clinical",
        second_files["clinical"],
        "--time",
        "OS_time",
        "--event",
        "OS_event",
        "--out",
        tmp_path / "second",
        "--groups",
        "tertiles",
    )
    assert proc.returncode == 0, proc.stderr
    assert "C-index" in proc.stderr
    summary = json.loads((tmp_path / "second" / "summary.json").read_text())
    assert summary["c_index"] > 0.65 and summary["n_samples"] == 120
    assert summary["cutoffs"] == pytest.approx(model.risk_reference_["tertiles"])
    risk = pd.read_csv(tmp_path / "second" / "risk.tsv", sep="\t")
    assert list(risk.columns) == ["sample", "risk", "risk_z", "group", "time", "event"]
    assert set(risk["group"]) == {"low", "intermediate", "high"}
    assert (tmp_path / "second" / "km.png").stat().st_size > 1000


def test_prognosis_model_names_a_missing_modality_and_a_newer_format(cohorts, tmp_path):
    from omicsgat.prognosis import GeneAttentionSurvival

    train, _, train_files, _, _ = cohorts
    GeneAttentionSurvival(epochs=2, max_features=10, device="cpu").fit(train).save(tmp_path / "model")
    proc = _omicsgat(
        "prognosis",
        "--model",
        tmp_path / "model",
        f"--omics=mRNA={train_files['mRNA']}",
        "--out",
        tmp_path / "o",
        "--quiet",
    )
    assert proc.returncode == 2 and "'miRNA'" in proc.stderr and "Traceback" not in proc.stderr
    shutil.copytree(tmp_path / "model", tmp_path / "newer")
    meta = json.loads((tmp_path / "newer" / "model.json").read_text())
    (tmp_path / "newer" / "model.json").write_text(json.dumps({**meta, "format_version": 99}))
    with pytest.raises(OmicsInputError, match="model format 99"):
        GeneAttentionSurvival.load(tmp_path / "newer")


def test_one_anndata_layout_for_every_result_with_the_older_grn_layout_still_read(small_scrna):
    import anndata as ad

    from omicsgat.anndata_keys import AnalysisResult
    from omicsgat.celltype.result import CellTypeResult
    from omicsgat.grn.result import GRNResult
    from omicsgat.prognosis.apply import AppliedPrognosis
    from omicsgat.prognosis.result import PrognosisResult

    for cls in (GRNResult, CellTypeResult, PrognosisResult, AppliedPrognosis):
        assert all(callable(getattr(cls, m, None)) for m in ("to_frame", "save", "write_to")), cls
    edges = pd.DataFrame(
        {"regulator": ["a", "a"], "target": ["b", "c"], "score": [0.9, 0.1], "rank": [1, 2], "sign": [1, -1]}
    )
    hubs = pd.DataFrame({"gene": ["a", "b", "c"], "hub_score": [1.0, 0.0, 0.0], "is_regulator": [True, False, False]})
    result = GRNResult(edges, hubs, {"mode": "unsupervised"}, "cpu", ["a", "b", "c"], ["a"])
    assert isinstance(result, AnalysisResult)
    adata = ad.AnnData(np.zeros((4, 3), np.float32))
    result.write_to(adata)  # the API's default and omicsgat.tl.grn's default land in one record
    result.write_to(adata, key_added="omicsgat_grn")
    result.write_to(adata, key_added="second_run", max_edges=1)
    assert set(adata.uns["omicsgat"]) == {"grn", "second_run"}
    assert len(GRNResult.edges_from(adata)) == 2 and len(GRNResult.edges_from(adata, "second_run")) == 1
    old = ad.AnnData(np.zeros((4, 3), np.float32), uns={"omicsgat_grn": dict(adata.uns["omicsgat"]["grn"])})
    assert GRNResult.edges_from(old, "omicsgat_grn")["target"].tolist() == ["b", "c"]  # written by 0.1.0's tl.grn
    with pytest.raises(OmicsInputError, match="no GRN result edges"):
        GRNResult.edges_from(ad.AnnData(np.zeros((2, 2), np.float32)))

    risk = pd.DataFrame({"sample": ["s1", "s2", "s3"], "risk": [0.5, -0.2, 1.0], "group": ["high", "low", "high"]})
    samples = ad.AnnData(np.zeros((3, 2), np.float32), obs=pd.DataFrame(index=["s3", "s1", "s2"]))
    AppliedPrognosis(risk, {"n_samples": 3}).write_to(samples)
    assert samples.obs["omicsgat_risk"].tolist() == [1.0, 0.5, -0.2]
    assert list(samples.obs["omicsgat_risk_group"]) == ["high", "high", "low"]
    assert json.loads(samples.uns["omicsgat"]["prognosis"]["summary"]) == {"n_samples": 3}


def test_settings_live_in_one_config_per_analysis_that_names_a_bad_value():
    import inspect

    from omicsgat import defaults
    from omicsgat.celltype import annotate_cells
    from omicsgat.config import CellTypeConfig, GRNConfig, PrognosisConfig
    from omicsgat.grn import infer_grn
    from omicsgat.prognosis import run_prognosis

    with pytest.raises(OmicsInputError, match="folds must be at least 2"):
        PrognosisConfig(folds=1)
    with pytest.raises(OmicsInputError, match="Unknown risk grouping 'quartiles' \\(groups\\)"):
        PrognosisConfig(groups="quartiles")
    with pytest.raises(OmicsInputError, match="unknown_rule must be one of"):
        CellTypeConfig(unknown_rule="far")
    with pytest.raises(OmicsInputError, match="Unknown setting.*gatv2"):
        CellTypeConfig.from_dict({"gatv2": True})
    with pytest.raises(OmicsInputError, match="novelty_alpha must be in"):
        annotate_cells(None, "x", novelty_alpha=1.5)  # checked before the data is touched
    with pytest.raises(OmicsInputError, match="ortholog_rule must be one of 'one2one', 'sum' \\(got 'mean'\\)"):
        annotate_cells(None, "x", ortholog_rule="mean")
    with pytest.raises(OmicsInputError, match="score must be one of .*'adaptive'.*\\(got 'gain'\\)"):
        GRNConfig(score="gain")
    # the API's defaults, the GUI's defaults module and the config are one set of values
    api = inspect.signature(annotate_cells).parameters
    for name, value in CellTypeConfig().as_dict().items():
        assert api[name].default == value, name
    api = inspect.signature(infer_grn).parameters
    for name, value in GRNConfig().as_dict().items():
        assert api[name].default == value, name
    api = inspect.signature(run_prognosis).parameters
    assert {k: api[k].default for k in ("folds", "ensemble", "epochs", "groups", "top_k")} == {
        k: v for k, v in defaults.PROGNOSIS.items() if k != "max_features"
    }
    assert defaults.PROGNOSIS["max_features"] == PrognosisConfig().max_features
    removed = {"gatv2", "novelty_quantile", "novelty_dims", "calibration_quantile"}
    assert not removed & set(inspect.signature(annotate_cells).parameters)
    assert "transform" not in inspect.signature(infer_grn).parameters  # always the rank transform
