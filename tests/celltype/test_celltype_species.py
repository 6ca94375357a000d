"""Cell typing across species (orthologs) and sequencing depths (binomial thinning)."""

from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from omicsgat.celltype import annotate_cells
from omicsgat.celltype.depth import thin_counts, thinned, thinned_copies
from omicsgat.errors import OmicsInputError
from omicsgat.io.orthologs import (
    convert_species,
    ortholog_pairs,
    orthologs_uns,
    species_preview,
)

# one-to-one: Tp53, Cd19; many-to-many: Hba/Hbb-like block (HBA1, HBA2 <-> Hba-a1, Hba-a2); Xist-like: no ortholog
TABLE = pd.DataFrame(
    {
        "human_symbol": ["TP53", "CD19", "HBA1", "HBA1", "HBA2", "HBA2"],
        "mouse_symbol": ["Trp53", "Cd19", "Hba-a1", "Hba-a2", "Hba-a1", "Hba-a2"],
    }
)


def _mouse_counts() -> ad.AnnData:
    X = np.array([[1, 2, 3, 4, 5], [0, 1, 0, 2, 7]], dtype=np.float32)
    obs = pd.DataFrame({"cell_type": ["B", "T"]}, index=["c1", "c2"])
    return ad.AnnData(X=X, obs=obs, var=pd.DataFrame(index=["Trp53", "Cd19", "Hba-a1", "Hba-a2", "Xist"]))


def test_one_to_one_rule_keeps_only_unique_pairs_and_drops_genes_without_ortholog():
    pairs = ortholog_pairs("mouse", "human", "one2one", table=TABLE)
    assert dict(zip(pairs["source"], pairs["target"])) == {"Trp53": "TP53", "Cd19": "CD19"}
    converted, conv = convert_species(_mouse_counts(), "mouse", "human", rule="one2one", table=TABLE)
    assert list(converted.var_names) == ["TP53", "CD19"]
    np.testing.assert_array_equal(np.asarray(converted.X), [[1, 2], [0, 1]])
    assert conv.n_orthologs == 2 and conv.n_reference_genes == 5 and list(converted.obs["cell_type"]) == ["B", "T"]


def test_sum_rule_adds_the_counts_of_every_ortholog():
    converted, conv = convert_species(_mouse_counts(), "mouse", "human", rule="sum", table=TABLE)
    X = pd.DataFrame(
        np.asarray(converted.X.toarray() if sp.issparse(converted.X) else converted.X), columns=converted.var_names
    )
    assert set(X.columns) == {"TP53", "CD19", "HBA1", "HBA2"}  # Xist has no ortholog
    assert X["HBA1"].tolist() == [3 + 4, 0 + 2] and X["HBA2"].tolist() == [7, 2]
    assert conv.origin["HBA1"] == "Hba-a1;Hba-a2" and conv.n_one_to_one == 2
    table = orthologs_uns(conv.origin, used=["TP53"])
    assert table["used"].tolist() == [g == "TP53" for g in table["gene"]]


def test_only_the_query_genes_are_kept_when_asked():
    converted, conv = convert_species(
        _mouse_counts(), "mouse", "human", table=TABLE, keep=["CD19", "GAPDH"], rule="one2one"
    )
    assert list(converted.var_names) == ["CD19"] and conv.n_with_ortholog == 2


def test_no_ortholog_at_all_says_what_to_check():
    data = _mouse_counts()
    data.var_names = ["Gm1", "Gm2", "Gm3", "Gm4", "Gm5"]
    with pytest.raises(OmicsInputError, match="None of the 5 genes of the reference .mouse. has a human ortholog"):
        convert_species(data, "mouse", "human", table=TABLE)


def _planted_pair(seed: int = 0, n_genes: int = 200):
    """A simulated reference named by mouse symbols and a query named by (Ensembl IDs +) human symbols."""
    from omicsgat.simulate import simulate_label_transfer

    pairs = ortholog_pairs("mouse", "human", "one2one").iloc[1000 : 1000 + n_genes]
    ref, qry = simulate_label_transfer(
        n_reference=300, n_query=300, n_genes=n_genes, n_types=4, absent="far", seed=seed
    )
    ref.var_names = list(pairs["source"])
    qry.var = pd.DataFrame({"gene_symbols": list(pairs["target"])}, index=[f"ENSG{i:011d}" for i in range(n_genes)])
    return ref, qry


def test_mouse_reference_transfers_to_a_human_query_with_the_query_identifiers():
    ref, qry = _planted_pair()
    preview = species_preview(ref, qry)
    assert preview["cross_species"] and preview["n_orthologs"] == 200 and preview["error"] is None
    result = annotate_cells(qry, "cell_type", ref, epochs=3, device="cpu", graph=False)
    p = result.params
    assert (p["reference_species"], p["query_species"], p["n_orthologs"]) == ("mouse", "human", 200)
    truth = qry.obs["cell_type"].astype(str).to_numpy()
    known = truth != "novel"
    assert (result.labels["predicted"].to_numpy()[known] == truth[known]).mean() > 0.9
    # the absent type stands out from the anchored query cells too; the known ones stay labelled
    calls = result.labels["label"].astype(str).to_numpy()
    assert (calls[~known] == "Unknown").mean() > 0.9 and (calls[known] == "Unknown").mean() < 0.05
    assert p["n_anchored_query_cells"] > 0.5 * known.sum() and p["depth_handling"] in ("augment", "match+augment")
    assert result.markers["gene_id"].str.startswith("ENSG").all()  # the query's own identifiers
    out = qry.copy()
    result.write_to(out)
    orth = out.uns["omicsgat"]["celltype"]["orthologs"]
    assert set(orth["gene"]) == set(qry.var["gene_symbols"]) and orth["used"].all()


def test_a_pair_without_a_table_names_both_species_and_what_to_do():
    ref, qry = _planted_pair()
    ref.var_names = [f"ENSRNOG{i:011d}" for i in range(ref.n_vars)]  # rat
    with pytest.raises(OmicsInputError, match=r"reference is rat and the query is human.*--reference-species"):
        annotate_cells(qry, "cell_type", ref, epochs=1, device="cpu")


def test_an_unrecognised_species_with_no_shared_names_asks_for_it():
    ref, qry = _planted_pair()
    # half human symbols, half mouse-looking names the reference lacks: neither case pattern dominates
    from omicsgat.io.genes import shipped_tfs

    tfs = set(shipped_tfs("human"))  # TFs would tell the species by themselves
    human = [g for g in qry.var["gene_symbols"] if g not in tfs][:100]
    qry.var = pd.DataFrame(index=human + [f"Zz{g.lower()}x" for g in human])
    with pytest.raises(
        OmicsInputError,
        match=r"reference is mouse but the species of the query cannot be told.*"
        r"100 of the query's genes are human symbols.*--query-species human",
    ):
        annotate_cells(qry, "cell_type", ref, epochs=1, device="cpu")


def test_thinning_keeps_the_expected_share_of_counts_and_refuses_non_counts():
    rng = np.random.default_rng(0)
    X = sp.csr_matrix(rng.poisson(5.0, size=(200, 50)).astype(np.float32))
    thin = thin_counts(X, 0.2, seed=1)
    assert abs(thin.sum() / X.sum() - 0.2) < 0.01 and (thin.toarray() <= X.toarray()).all()
    np.testing.assert_array_equal(thin.toarray(), thin_counts(X, 0.2, seed=1).toarray())
    with pytest.raises(OmicsInputError, match="raw counts"):
        thin_counts(np.log1p(X.toarray()) + 0.5, 0.5)


def test_thinned_query_keeps_its_planted_labels():
    from omicsgat.simulate import simulate_label_transfer

    ref, qry = simulate_label_transfer(
        n_reference=300, n_query=300, n_genes=200, n_types=4, absent="far", library_size=3000.0, seed=2
    )
    shallow = thinned(qry, 0.2, seed=0)
    assert shallow.X.sum() < 0.25 * qry.X.sum()
    result = annotate_cells(shallow, "cell_type", ref, epochs=3, device="cpu", graph=False)
    truth = qry.obs["cell_type"].astype(str).to_numpy()
    known = truth != "novel"
    assert (result.labels["predicted"].to_numpy()[known] == truth[known]).mean() > 0.9


def test_thinned_copies_add_shallower_cells_with_the_same_labels():
    rng = np.random.default_rng(0)
    data = ad.AnnData(
        X=sp.csr_matrix(rng.poisson(4.0, size=(50, 30)).astype(np.float32)),
        obs=pd.DataFrame({"cell_type": ["a", "b"] * 25}, index=[f"c{i}" for i in range(50)]),
    )
    out = thinned_copies(data, 1, (0.1, 0.5), seed=0)
    assert out.n_obs == 100 and out.obs_names.is_unique
    assert list(out.obs["cell_type"][50:]) == list(data.obs["cell_type"])
    ratio = out.X[50:].sum() / data.X.sum()
    assert 0.2 < ratio < 0.4  # the mean of U(0.1, 0.5)


def test_a_deeper_reference_is_thinned_to_the_query_depth():
    from omicsgat.celltype.depth import depth_matched

    rng = np.random.default_rng(1)
    var = pd.DataFrame(index=[f"g{i}" for i in range(40)])
    deep = ad.AnnData(X=sp.csr_matrix(rng.poisson(8.0, size=(60, 40)).astype(np.float32)), var=var)
    shallow = ad.AnnData(X=sp.csr_matrix(rng.poisson(2.0, size=(60, 40)).astype(np.float32)), var=var)
    matched, fraction = depth_matched(deep, shallow)
    assert 0.2 < fraction < 0.3
    assert abs(np.median(np.asarray(matched.X.sum(1))) / np.median(np.asarray(shallow.X.sum(1))) - 1) < 0.1
    assert depth_matched(shallow, deep)[1] == 1.0


def test_a_deeper_reference_takes_the_query_spread_of_depths_not_only_its_median():
    from omicsgat.celltype.depth import depth_matched

    rng = np.random.default_rng(2)
    var = pd.DataFrame(index=[f"g{i}" for i in range(40)])
    deep = ad.AnnData(X=sp.csr_matrix(rng.poisson(10.0, size=(400, 40)).astype(np.float32)), var=var)
    scale = np.where(np.arange(400) % 2, 3.0, 0.3)[:, None]  # a query of shallow and deeper cells, one median
    shallow = ad.AnnData(X=sp.csr_matrix(rng.poisson(scale, size=(400, 40)).astype(np.float32)), var=var)
    matched, _ = depth_matched(deep, shallow)
    got, want = np.asarray(matched.X.sum(1)).ravel(), np.asarray(shallow.X.sum(1)).ravel()
    for q in (0.1, 0.25, 0.75, 0.9):  # one factor for all cells would keep the reference's narrow spread
        assert abs(np.quantile(got, q) - np.quantile(want, q)) < 0.15 * np.quantile(want, q) + 2


def test_cli_prints_the_species_pair_and_writes_the_query_identifiers(tmp_path):
    import subprocess
    import sys

    ref, qry = _planted_pair()
    ref.write_h5ad(tmp_path / "mouse.h5ad")
    del qry.obs["cell_type"]
    qry.write_h5ad(tmp_path / "human.h5ad")
    out = tmp_path / "labels.tsv"
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "omicsgat",
            "celltype",
            str(tmp_path / "human.h5ad"),
            "--reference",
            str(tmp_path / "mouse.h5ad"),
            "--label-key",
            "cell_type",
            "--out",
            str(out),
            "--markers",
            str(tmp_path / "markers.tsv"),
            "--no-graph",
            "--epochs",
            "1",
            "--device",
            "cpu",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert r.returncode == 0, r.stderr
    assert "species mouse -> human: 200 orthologs shared (Ensembl 105, rule sum)" in r.stderr
    assert "omicsgat celltype: depth " in r.stderr and "query/reference median counts" in r.stderr
    markers = pd.read_csv(tmp_path / "markers.tsv", sep="\t")
    assert markers["gene_id"].str.startswith("ENSG").all() and markers["gene"].isin(qry.var["gene_symbols"]).all()
    bad = subprocess.run(
        [
            sys.executable,
            "-m",
            "omicsgat",
            "celltype",
            str(tmp_path / "human.h5ad"),
            "--reference",
            str(tmp_path / "mouse.h5ad"),
            "--label-key",
            "cell_type",
            "--out",
            str(out),
            "--reference-species",
            "rat",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode == 2 and "--reference-species" in bad.stderr


def test_depth_is_chosen_from_the_ratio_of_median_counts_and_said():
    from omicsgat.celltype.depth import reference_for_query_depth

    rng = np.random.default_rng(1)
    var = pd.DataFrame(index=[f"G{i}" for i in range(40)])
    obs = pd.DataFrame({"cell_type": ["a", "b"] * 30}, index=[f"c{i}" for i in range(60)])
    deep = ad.AnnData(X=sp.csr_matrix(rng.poisson(8.0, size=(60, 40)).astype(np.float32)), obs=obs, var=var)
    shallow = ad.AnnData(X=sp.csr_matrix(rng.poisson(2.0, size=(60, 40)).astype(np.float32)), var=var)
    ref, choice = reference_for_query_depth(deep, shallow)
    assert choice.mode == "match+augment" and 0.2 < choice.ratio < 0.3 and "reference deeper" in choice.reason
    assert ref.n_obs == 120 and list(ref.obs["cell_type"][60:]) == list(deep.obs["cell_type"])
    depth = np.asarray(ref.X[:60].sum(1)).ravel()
    assert abs(np.median(depth) / np.median(np.asarray(shallow.X.sum(1))) - 1) < 0.1
    same, choice = reference_for_query_depth(shallow, deep)  # a shallower reference is kept within species
    assert choice.mode == "none" and same is shallow and choice.params()["depth_ratio"] > 3
    assert reference_for_query_depth(shallow, deep, cross_species=True)[1].mode == "augment"
    logged = ad.AnnData(X=np.log1p(np.asarray(deep.X.todense()) + 0.5), var=var)
    assert reference_for_query_depth(logged, shallow)[1].reason == "no raw counts on both sides to compare"
    with pytest.raises(OmicsInputError, match="no raw counts"):
        reference_for_query_depth(logged, shallow, "match")
    with pytest.raises(OmicsInputError, match="depth must be one of"):
        reference_for_query_depth(deep, shallow, "deeper")


def test_a_known_type_shifted_in_the_other_species_stays_known_and_an_absent_one_is_caught():
    """Every query cell is farther from the reference than its own cells (the species gap): calibrated on the
    reference, all would be Unknown; calibrated on the anchored query cells, only the absent type is."""
    from omicsgat.celltype.mapping import knn_distance
    from omicsgat.celltype.novelty import conformal_pvalues
    from omicsgat.celltype.species_novelty import anchored_cells, anchored_novelty

    rng = np.random.default_rng(0)
    centres = np.array([[0.0, 0.0], [12.0, 0.0], [0.0, 12.0]])
    ref = np.vstack([c + rng.normal(size=(100, 2)) for c in centres])
    known = np.vstack([c + 2.5 + 1.5 * rng.normal(size=(100, 2)) for c in centres])
    absent = np.array([30.0, 30.0]) + rng.normal(size=(60, 2))
    query = np.vstack([known, absent])
    is_absent = np.arange(len(query)) >= len(known)
    anchored = anchored_cells(ref, query)
    assert anchored[~is_absent].mean() > 0.5 and not anchored[is_absent].any()
    score = knn_distance(ref, query)
    by_reference = 0.02 / conformal_pvalues(knn_distance(ref[::2], ref[1::2]), score)
    assert (by_reference[~is_absent] > 1).mean() > 0.5  # the reference's own spread calls most known cells Unknown
    predicted = np.r_[np.repeat([0, 1, 2], 100), np.zeros(60, int)]  # the absent cells look most like type 0
    novelty = anchored_novelty(score, predicted, anchored, 0.02)
    assert (novelty[~is_absent] > 1).mean() < 0.05 and (novelty[is_absent] > 1).all()
