"""One model folder for every analysis: same keys, refusals that say what was found, 0.1.0 models still load."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from omicsgat.errors import OmicsInputError


@pytest.fixture
def saved(tmp_path, small_cohort):
    """A saved model of each analysis (tiny, built directly or trained for a few epochs)."""
    from omicsgat.celltype import CellTypeModel
    from omicsgat.celltype.model import CellTypeGAT
    from omicsgat.celltype.train import TrainConfig
    from omicsgat.grn import GRNModel
    from omicsgat.prognosis import GeneAttentionSurvival

    grn = GRNModel(
        "unsupervised",
        ["a", "b", "c"],
        ["a"],
        {"hidden": 4, "heads": 1},
        np.array([[0, 0], [1, 2]]),
        [{"w": torch.arange(6.0).reshape(2, 3)}],
    )
    config = TrainConfig(hidden=8, heads=1, attention_hidden=4)
    cell = CellTypeModel(
        CellTypeGAT(5, 2, **config.model_kwargs()),
        config,
        list("abcde"),
        ["x", "y"],
        0.3,
        {"n_pcs": 3, "n_neighbors": 3},
    )
    small = small_cohort.subset(small_cohort.samples[:80])
    prog = GeneAttentionSurvival(epochs=2, max_features=20, wide="learned", device="cpu").fit(
        small, modalities=["mRNA"]
    )
    return {
        "grn": grn.save(tmp_path / "grn"),
        "celltype": cell.save(tmp_path / "celltype"),
        "prognosis": prog.save(tmp_path / "prognosis"),
    }


def _loaders():
    from omicsgat.celltype import CellTypeModel
    from omicsgat.grn import GRNModel
    from omicsgat.prognosis import GeneAttentionSurvival

    return {"grn": GRNModel.load, "celltype": CellTypeModel.load, "prognosis": GeneAttentionSurvival.load}


def test_every_analysis_writes_the_same_two_files_and_keys(saved):
    from omicsgat import __version__

    for analysis, folder in saved.items():
        assert sorted(p.name for p in folder.iterdir()) == ["model.json", "model.safetensors"]
        meta = json.loads((folder / "model.json").read_text())
        assert set(meta) == {"analysis", "format_version", "omicsgat_version", "params", "card"}
        assert (meta["analysis"], meta["format_version"], meta["omicsgat_version"]) == (analysis, 1, __version__)
        _loaders()[analysis](folder)  # and it loads back


def test_a_model_of_another_analysis_is_refused_by_name(saved):
    loaders = _loaders()
    with pytest.raises(OmicsInputError, match="holds a cell-typing model, not a GRN model.*CellTypeModel.load"):
        loaders["grn"](saved["celltype"])
    with pytest.raises(OmicsInputError, match="holds a prognosis model, not a cell-typing model"):
        loaders["celltype"](saved["prognosis"])
    with pytest.raises(OmicsInputError, match="holds a GRN model, not a prognosis model"):
        loaders["prognosis"](saved["grn"])


def test_a_newer_format_and_a_missing_folder_are_refused_clearly(saved, tmp_path):
    meta_path = saved["grn"] / "model.json"
    meta = json.loads(meta_path.read_text())
    meta.update(format_version=2, omicsgat_version="9.0")
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(OmicsInputError, match="OmicsGAT 9.0 in model format 2.*reads format 1"):
        _loaders()["grn"](saved["grn"])
    with pytest.raises(OmicsInputError, match="does not exist"):
        _loaders()["celltype"](tmp_path / "nowhere")
    from omicsgat.persist import write_model

    with pytest.raises(OmicsInputError, match="into a folder"):
        write_model(tmp_path / "m.safetensors", "grn", {}, {})


def test_grn_and_prognosis_models_saved_by_0_1_0_still_load(saved, tmp_path, small_cohort):
    from safetensors.torch import load_file, save_file

    loaders = _loaders()
    # GRN 0.1.0: the same folder, parameters at the top level of model.json with a "format" tag
    meta = json.loads((saved["grn"] / "model.json").read_text())
    (saved["grn"] / "model.json").write_text(json.dumps({"format": "omicsgat-grn-model/1", **meta["params"]}))
    old = loaders["grn"](saved["grn"])
    assert old.genes == ["a", "b", "c"] and torch.equal(old.states[0]["w"], torch.arange(6.0).reshape(2, 3))
    # prognosis 0.1.0: <stem>.json + <stem>.safetensors, with the since-removed 'screen' and 'architecture' options
    new = loaders["prognosis"](saved["prognosis"], device="cpu")
    meta = json.loads((saved["prognosis"] / "model.json").read_text())["params"]
    old_meta = {
        "format": "omicsgat.prognosis.GeneAttentionSurvival",
        "version": 1,
        "params": {**meta["fitter"], "screen": None, "architecture": "attention"},
        "modalities": meta["modalities"],
        "best_epoch": meta["best_epoch"],
    }
    (tmp_path / "old.json").write_text(json.dumps(old_meta))
    save_file(load_file(str(saved["prognosis"] / "model.safetensors")), str(tmp_path / "old.safetensors"))
    old = loaders["prognosis"](tmp_path / "old", device="cpu")
    small = small_cohort.subset(small_cohort.samples[:80])
    np.testing.assert_allclose(old.predict_risk(small), new.predict_risk(small))
