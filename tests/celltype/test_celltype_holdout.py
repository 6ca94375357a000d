"""Out-of-fold prediction within one data set: every labelled cell is called by a model that never saw its label."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from omicsgat.celltype import annotate_cells
from omicsgat.errors import OmicsInputError


@pytest.fixture()
def labelled(small_scrna):
    adata = small_scrna[:150].copy()
    adata.obs["lab"] = adata.obs["cell_type"].astype(str)
    return adata


def _oof(adata, folds, **kw):
    r = annotate_cells(adata, "lab", holdout=folds, epochs=3, seed=0, device="cpu", **kw)
    return r, r.labels[[c for c in r.labels.columns if c.startswith("prob_")]].to_numpy()


def test_label_flip_probe_a_cells_own_label_never_reaches_its_out_of_fold_call(labelled):
    folds = np.arange(labelled.n_obs) % 3
    base, p0 = _oof(labelled, folds)
    test = folds == 0
    classes = sorted(labelled.obs["lab"].unique())
    flipped = labelled.copy()  # every cell of fold 0 gets a wrong label
    wrong = {c: classes[(i + 1) % len(classes)] for i, c in enumerate(classes)}
    flipped.obs.loc[test, "lab"] = flipped.obs.loc[test, "lab"].map(wrong)
    probe, p1 = _oof(flipped, folds)
    assert np.array_equal(p0[test], p1[test])  # bit-identical: fold 0's model never read those labels
    assert list(probe.labels["predicted"][test]) == list(base.labels["predicted"][test])
    # the probe can fail: the same flip outside the fold does change fold 0's calls
    control = labelled.copy()
    other = folds == 1
    control.obs.loc[other, "lab"] = control.obs.loc[other, "lab"].map(wrong)
    _, p2 = _oof(control, folds)
    assert not np.allclose(p0[test], p2[test], atol=1e-4)


def test_every_cell_labelled_is_predicted_out_of_fold_and_scored_on_those_cells(labelled):
    result = annotate_cells(labelled, "lab", holdout=3, epochs=5, seed=0, device="cpu")
    lab = result.labels
    assert lab["is_query"].all() and set(lab["fold"]) == {0, 1, 2}
    # stratified: each type is spread over the folds
    per_fold = pd.crosstab(lab["given"], lab["fold"])
    assert (per_fold.max(1) - per_fold.min(1) <= 1).all()
    ev = result.evaluation()
    assert ev["n_cells"] == labelled.n_obs and "out of fold (3 folds)" in ev["computed_on"]
    assert ev["accuracy"] > 0.6  # easy simulation, honest cells
    assert result.params["n_out_of_fold"] == labelled.n_obs


def test_unlabelled_cells_use_the_model_trained_on_all_labels(labelled):
    part = labelled.copy()
    part.obs.loc[part.obs_names[:30], "lab"] = np.nan
    result = annotate_cells(part, "lab", holdout=3, epochs=3, seed=0, device="cpu")
    assert (result.labels["fold"].iloc[:30] == -1).all() and (result.labels["fold"].iloc[30:] >= 0).all()
    plain = annotate_cells(part, "lab", epochs=3, seed=0, device="cpu")
    # the cells without a label get the same calls as without the check
    assert np.allclose(result.proba[:30], plain.proba[:30])
    mask, text = plain.evaluated_cells()
    assert mask.sum() == 30 and "30 unlabelled cells" in text  # no check: the labelled cells are not scored


def test_holdout_is_refused_with_a_reference_and_for_one_fold(labelled):
    with pytest.raises(OmicsInputError, match="holdout .*reference"):
        annotate_cells(labelled, "lab", labelled, holdout=3, epochs=1)
    with pytest.raises(OmicsInputError, match="between 2 and 150 folds"):
        annotate_cells(labelled, "lab", holdout=1, epochs=1)
    with pytest.raises(OmicsInputError, match="nothing to predict.*holdout"):
        annotate_cells(labelled, "lab", epochs=1)


def test_cli_holdout_prints_scores_on_out_of_fold_cells(labelled, tmp_path):
    path = tmp_path / "all_labelled.h5ad"
    labelled.write_h5ad(path)
    out = tmp_path / "oof.tsv"
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "omicsgat",
            "celltype",
            str(path),
            "--label-key",
            "lab",
            "--out",
            str(out),
            "--holdout",
            "3",
            "--epochs",
            "3",
            "--device",
            "cpu",
        ],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stderr
    assert "macro-F1" in r.stderr and "150 labelled cells predicted out of fold (3 folds)" in r.stderr
    table = pd.read_csv(out, sep="\t")
    assert set(table["fold"]) == {0, 1, 2} and (table["given"] == labelled.obs["lab"].to_numpy()).all()


def test_graph_off_stops_at_the_linear_start(labelled):
    part = labelled.copy()
    part.obs.loc[part.obs_names[::3], "lab"] = np.nan
    result = annotate_cells(part, "lab", epochs=5, seed=0, device="cpu", graph=False)
    assert result.params["graph"] is False and result.params["best_epoch"] == 0
    assert [h["epoch"] for h in result.history] == [0]  # no graph epoch was trained
