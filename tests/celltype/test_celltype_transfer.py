"""Label transfer across data sets: the query mapped onto the reference, the mapping score, why a cell is Unknown."""

import itertools

import anndata as ad
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from omicsgat.celltype import annotate_cells
from omicsgat.celltype.calls import UNKNOWN, apply_unknown, mapping_score
from omicsgat.celltype.clusters import cluster_cells, cluster_vote
from omicsgat.celltype.novelty import distance_novelty
from omicsgat.errors import OmicsInputError


def _counts(types, deltas, base, rng, batch=None, lib=1500.0, programme=None):
    log_mean = base + deltas[types] + (0.0 if batch is None else batch)
    if programme is not None:
        log_mean = log_mean + programme
    p = np.exp(log_mean)
    p /= p.sum(1, keepdims=True)
    return rng.poisson(p * lib).astype(np.float32)


def _pair(seed=0, n_genes=200, absent=False, stimulated=False, batch_sd=0.4):
    """Reference with types A, B, C; a query from another 'lab' (per-gene batch shift, lower depth).

    ``absent``: the query also holds type D (its own markers), which the reference lacks.
    ``stimulated``: the query's type A cells carry an extra gene programme (a state, not a new type).
    """
    rng = np.random.default_rng(seed)
    base = rng.normal(0.0, 1.0, n_genes)
    deltas = np.zeros((4, n_genes))
    for t in range(4):
        deltas[t, t * 30 : (t + 1) * 30] = rng.uniform(1.5, 2.5, 30)
    names = np.array(["A", "B", "C", "D"])
    ref_types = rng.integers(0, 3, 450)
    qry_types = rng.integers(0, 4 if absent else 3, 400)
    batch = rng.normal(0.0, batch_sd, n_genes)
    programme = None
    if stimulated:
        genes = np.arange(150, 170)  # outside every type's markers
        programme = np.where(qry_types[:, None] == 0, np.isin(np.arange(n_genes), genes) * 1.5, 0.0)
    genes = [f"g{i}" for i in range(n_genes)]
    ref = ad.AnnData(
        X=sp.csr_matrix(_counts(ref_types, deltas, base, rng)),
        obs=pd.DataFrame({"cell_type": names[ref_types]}, index=[f"r{i}" for i in range(450)]),
        var=pd.DataFrame(index=genes),
    )
    qry = ad.AnnData(
        X=sp.csr_matrix(_counts(qry_types, deltas, base, rng, batch, lib=1000.0, programme=programme)),
        obs=pd.DataFrame(index=[f"q{i}" for i in range(400)]),
        var=pd.DataFrame(index=genes),
    )
    return ref, qry, names[qry_types]


def test_stimulated_state_of_a_known_type_stays_labelled():
    ref, qry, truth = _pair(seed=1, stimulated=True)
    res = annotate_cells(qry, "cell_type", ref, epochs=3, seed=0, device="cpu")
    lab = res.labels["label"].to_numpy()
    a = truth == "A"
    assert np.mean(lab[a] == "A") >= 0.9, pd.Series(lab[a]).value_counts()
    assert np.mean(lab == UNKNOWN) <= 0.05
    assert res.labels["mapping_score"].between(0, 1).all()


def test_absent_type_under_batch_effect_is_unknown_and_says_why():
    ref, qry, truth = _pair(seed=2, absent=True)
    res = annotate_cells(qry, "cell_type", ref, epochs=3, seed=0, device="cpu")
    lab, reason = res.labels["label"].to_numpy(), res.labels["unknown_reason"].to_numpy()
    novel = truth == "D"
    assert np.mean(lab[novel] == UNKNOWN) >= 0.8
    assert np.mean(lab[~novel] == UNKNOWN) <= 0.05
    assert set(reason[lab == UNKNOWN]) <= {"distance", "probability"} and (reason[lab != UNKNOWN] == "").all()
    # the mapping test answers "like any reference cell?": the absent type scores far lower than known cells
    score = res.labels["mapping_score"].to_numpy()
    assert np.median(score[novel]) < 0.5 < np.median(score[~novel])
    table = res.to_frame()
    assert {"mapping_score", "unknown_reason"} <= set(table.columns)


def test_mapping_score_falls_monotonically_with_a_planted_distance():
    rng = np.random.default_rng(0)
    ref = rng.normal(0.0, 1.0, (300, 4))
    query = rng.normal(0.0, 1.0, (200, 4))
    y = np.concatenate([np.repeat([0, 1, 2], 100), -np.ones(201, np.int64)])
    scores = []
    for d in (0.0, 2.0, 4.0, 6.0, 8.0, 12.0):
        planted = np.array([[d, 0.0, 0.0, 0.0]])
        space = np.vstack([ref, query, planted]).astype(np.float32)
        nov, _ = distance_novelty(space, y, np.arange(300, 501), k=10, seed=0)
        scores.append(float(mapping_score(nov)[-1]))
    assert all(a >= b for a, b in itertools.pairwise(scores)), scores
    assert scores[0] > 0.5 > scores[-1]


def test_cluster_vote_on_a_tiny_case():
    rng = np.random.default_rng(0)
    space = np.vstack([rng.normal(0, 0.3, (20, 2)), rng.normal(5, 0.3, (20, 2))])
    found, method = cluster_cells(space, seed=0, n_neighbors=5)
    assert not set(found[:20]) & set(found[20:]), method  # no cluster spans the two groups
    np.testing.assert_array_equal(found, cluster_cells(space, seed=0, n_neighbors=5)[0])  # deterministic
    ids = np.repeat([0, 1], 20)
    labels = pd.DataFrame(
        {
            "label": ["T"] * 17 + ["B"] * 3 + [UNKNOWN] * 12 + ["B"] * 8,
            "predicted": ["T"] * 17 + ["B"] * 3 + ["B"] * 20,
            "confidence": 0.9,
            "given": "",
            "is_query": True,
            "novelty_distance": [0.0] * 20 + [2.0] * 12 + [0.0] * 8,
        },
        index=[f"c{i}" for i in range(40)],
    )
    voted, table = cluster_vote(labels, ids)
    first, second = table.set_index("cluster").loc[ids[0]], table.set_index("cluster").loc[ids[20]]
    assert first["cluster_label"] == "T" and first["majority_share"] == pytest.approx(17 / 20)
    assert second["cluster_label"] == UNKNOWN and second["unknown_share"] == pytest.approx(0.6)
    out = apply_unknown(voted, threshold=0.0)
    assert (out["label"][:20] == "T").all() and (out["label"][20:] == UNKNOWN).all()
    assert set(out["unknown_reason"][20:32]) == {"distance"} and set(out["unknown_reason"][32:]) == {"cluster"}


def test_annotate_with_cluster_vote_returns_the_table():
    ref, qry, _ = _pair(seed=3, absent=True)
    res = annotate_cells(qry, "cell_type", ref, epochs=2, seed=0, device="cpu", cluster_vote=True)
    assert res.clusters is not None and res.clusters["n_cells"].sum() == qry.n_obs
    assert {"cluster", "cluster_label", "cluster_unknown"} <= set(res.labels.columns)
    assert res.params["cluster_vote"]


def test_same_seed_same_labels_with_one_or_two_threads(monkeypatch):
    import torch

    ref, qry, _ = _pair(seed=4, n_genes=160)
    runs = []
    for n in (1, 2):
        monkeypatch.setenv("OMICSGAT_THREADS", str(n))
        torch.set_num_threads(n)
        runs.append(annotate_cells(qry, "cell_type", ref, epochs=2, seed=0, device="cpu").labels)
    np.testing.assert_array_equal(runs[0]["label"].to_numpy(), runs[1]["label"].to_numpy())
    np.testing.assert_array_equal(runs[0].filter(like="prob_").to_numpy(), runs[1].filter(like="prob_").to_numpy())


def test_query_without_shared_genes_is_refused():
    ref, qry, _ = _pair(seed=5, n_genes=160)
    qry.var_names = [f"other{i}" for i in range(qry.n_vars)]
    with pytest.raises(OmicsInputError, match="share 0 gene names"):
        annotate_cells(qry, "cell_type", ref, epochs=1)


def test_reference_without_labels_is_refused():
    ref, qry, _ = _pair(seed=5, n_genes=160)
    with pytest.raises(OmicsInputError, match="'cell_type' is not in obs of the reference"):
        annotate_cells(qry, "cell_type", ref.copy().__class__(X=ref.X, var=ref.var), epochs=1)
    empty = ref.copy()
    empty.obs["cell_type"] = np.nan
    with pytest.raises(OmicsInputError, match="No cell in the reference has a label"):
        annotate_cells(qry, "cell_type", empty, epochs=1)


def test_shared_genes_are_refused_only_when_they_cannot_separate_the_types():
    ref, qry, truth = _pair(seed=6, n_genes=200)
    # 40 % of the genes, the markers among them: few genes, but enough to tell A, B, C apart
    res = annotate_cells(qry[:, [f"g{i}" for i in range(80)]].copy(), "cell_type", ref, epochs=1, seed=0, device="cpu")
    assert res.params["n_shared_genes"] == 80 and res.params["shared_genes_reference_accuracy"] > 0.9
    assert np.mean(res.labels["label"].to_numpy() == truth) > 0.8
    # labels that no gene follows: the reference itself cannot be typed on the shared genes
    ref.obs["cell_type"] = np.random.default_rng(0).permutation(ref.obs["cell_type"].to_numpy())
    with pytest.raises(OmicsInputError, match=r"cannot tell the reference's 3 types apart.*balanced accuracy of \d+%"):
        annotate_cells(qry[:, [f"g{i}" for i in range(80)]].copy(), "cell_type", ref, epochs=1)


def test_mapping_score_and_reason_are_written_to_obs():
    ref, qry, _ = _pair(seed=7, absent=True)
    res = annotate_cells(qry, "cell_type", ref, epochs=1, seed=0, device="cpu")
    target = qry.copy()
    res.write_to(target)
    score = target.obs["omicsgat_mapping_score"].to_numpy()
    np.testing.assert_allclose(score, res.labels["mapping_score"].reindex(target.obs_names).to_numpy())
    unknown = (target.obs["omicsgat_celltype"] == UNKNOWN).to_numpy()
    assert (target.obs["omicsgat_unknown_reason"].astype(str).to_numpy()[unknown] != "").all()


def test_cli_cluster_vote_writes_the_per_cluster_table(tmp_path):
    import subprocess
    import sys

    ref, qry, _ = _pair(seed=3, absent=True)
    ref.write_h5ad(tmp_path / "ref.h5ad")
    qry.write_h5ad(tmp_path / "qry.h5ad")
    out, table_path = tmp_path / "labels.tsv", tmp_path / "clusters.tsv"
    base = [
        sys.executable,
        "-m",
        "omicsgat",
        "celltype",
        str(tmp_path / "qry.h5ad"),
        "--reference",
        str(tmp_path / "ref.h5ad"),
        "--label-key",
        "cell_type",
        "--out",
        str(out),
        "--epochs",
        "2",
        "--device",
        "cpu",
        "--quiet",
    ]
    refused = subprocess.run([*base, "--clusters", str(table_path)], capture_output=True, text=True)
    assert refused.returncode == 2 and "--cluster-vote" in refused.stderr
    r = subprocess.run([*base, "--cluster-vote", "--clusters", str(table_path)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    labels = pd.read_csv(out, sep="\t", keep_default_na=False)
    table = pd.read_csv(table_path, sep="\t", keep_default_na=False)
    assert table["n_cells"].sum() == qry.n_obs and table["cluster"].is_unique
    assert labels["cluster"].value_counts().sort_index().tolist() == table.sort_values("cluster")["n_cells"].tolist()
    whole = table.set_index("cluster")["cluster_label"]
    called = labels[labels["unknown_reason"] == ""]
    assert (called["label"].to_numpy() == whole.loc[called["cluster"]].to_numpy()).all()
    assert set(labels["unknown_reason"]) <= {"", "distance", "probability", "cluster"}


def test_saved_model_reports_mapping_score_and_reason_columns(tmp_path):
    from omicsgat.celltype import CellTypeModel

    ref, qry, _ = _pair(seed=2)
    trained = annotate_cells(qry, "cell_type", ref, epochs=2, seed=0, device="cpu")
    model = CellTypeModel.load(trained.save_model(tmp_path / "model"))
    labels = model.predict(qry, device="cpu").labels
    assert labels["mapping_score"].isna().all()  # the distance test needs the reference: not applied
    reason = labels["unknown_reason"]
    assert set(reason) <= {"", "probability"}
    assert ((labels["label"] == UNKNOWN) == (reason != "")).all()
    assert {"mapping_score", "unknown_reason"} <= set(trained.labels.columns)
