"""Gene identifiers of real-world files: Ensembl IDs with versions, symbol columns, species."""

from __future__ import annotations

import pandas as pd
import pytest
from realworld_data import cellxgene_like, mouse_file, simulated, true_network

from omicsgat.errors import OmicsInputError


@pytest.fixture(scope="module")
def sim():
    return simulated()


@pytest.fixture(scope="module")
def cellxgene(sim):
    return cellxgene_like(sim)


def test_classify_and_species():
    from omicsgat.io.genes import classify, shipped_tfs, strip_version, symbol_species

    assert classify(["ENSG00000141510.17", "ENSG00000012048.23"]) == "ensembl_versioned"
    assert classify(["ENSMUSG00000059552", "ENSMUSG00000017167"]) == "ensembl"
    assert classify(["7157", "672", "1956"]) == "entrez"
    assert classify(["TP53", "BRCA1"]) == "symbol"
    assert strip_version("ENSG00000141510.17") == "ENSG00000141510" and strip_version("TP53") == "TP53"
    assert symbol_species(shipped_tfs("human")[:50]) == "human"
    assert symbol_species(shipped_tfs("mouse")[:50]) == "mouse"
    assert symbol_species([f"GENE{i:04d}" for i in range(100)]) is None  # simulated names: no guess


def test_cellxgene_ids_found_and_reported(cellxgene, tmp_path):
    from omicsgat.io import read_anndata
    from omicsgat.io.genes import gene_ids

    ids = gene_ids(cellxgene)
    assert ids.kind == "ensembl_versioned" and ids.species == "human"
    assert ids.symbol_column == "feature_name"
    assert list(ids.symbols) == list(cellxgene.uns["truth_symbols"])
    assert ids.ensembl[0] == cellxgene.var_names[0].split(".")[0]
    path = tmp_path / "cxg.h5ad"
    cellxgene.write_h5ad(path)
    _, report = read_anndata(path)
    text = report.to_text()
    assert "Ensembl gene IDs with version" in text and "var['feature_name']" in text and "species human" in text


def test_unknown_symbol_column_is_named(cellxgene):
    from omicsgat.io.genes import gene_ids

    with pytest.raises(OmicsInputError, match="'symbol_col'.*feature_name"):
        gene_ids(cellxgene, "symbol_col")


def test_grn_human_list_on_cellxgene_file(cellxgene, sim):
    """--regulators human on Ensembl var_names: matched through feature_name; output by symbol with the ID beside it."""
    from omicsgat.grn import infer_grn

    result = infer_grn(cellxgene, regulators="human", genes=60, epochs=8, restarts=1, device="cpu", seed=0)
    n_regs = int(sim.var["is_regulator"].sum())
    assert len(result.regulators) == n_regs  # every planted regulator carries a real human TF symbol
    assert result.edges["regulator"].isin(cellxgene.uns["truth_symbols"]).all()
    assert result.edges["regulator_id"].str.startswith("ENSG").all()
    sym_to_id = dict(zip(cellxgene.var["feature_name"].astype(str), cellxgene.var_names))
    row = result.edges.iloc[0]
    assert sym_to_id[row["regulator"]] == row["regulator_id"] and sym_to_id[row["target"]] == row["target_id"]
    # a prior given with version-free Ensembl IDs is matched too
    net = true_network(sim).head(5)
    prior = pd.DataFrame({"regulator": [sym_to_id[g].split(".")[0] for g in net["regulator"]], "target": net["target"]})
    res2 = infer_grn(cellxgene, regulators="human", prior=prior, genes=60, epochs=3, restarts=1, device="cpu")
    assert res2.edges["in_prior"].sum() >= 1


def test_human_list_on_mouse_data_is_an_error_naming_species():
    from omicsgat.grn import infer_grn

    mouse = mouse_file()
    with pytest.raises(OmicsInputError, match="human.*mouse"):
        infer_grn(mouse, regulators="human", genes=40, epochs=2, device="cpu")
    res = infer_grn(mouse, regulators="mouse", genes=40, epochs=2, restarts=1, device="cpu")
    assert res.regulators and all(r[0].isupper() and r[1:].islower() or not r[1:].isalpha() for r in res.regulators)


def test_reference_symbols_query_ensembl_matched_through_columns(sim):
    """Reference named by symbols, query by Ensembl IDs + feature_name: matched, counted by route, markers by symbol."""
    from omicsgat.celltype import annotate_cells

    query_full = cellxgene_like(sim)
    ref = mouse_file(sim)  # same cells and symbols layout, but make it human: rename to the query's symbols
    ref.var_names = list(query_full.uns["truth_symbols"])
    ref = ref[sim.obs["batch"].index[:200]].copy()
    query = query_full[200:].copy()
    truth = query.obs.pop("cell_type").astype(str)
    result = annotate_cells(query, "cell_type", ref, epochs=5, seed=0, device="cpu")
    assert result.params["gene_match_route"] == "symbol"
    assert result.params["n_genes_matched_by_symbol"] == sim.n_vars
    assert (result.labels["label"].to_numpy() == truth.to_numpy()).mean() >= 0.8
    assert result.markers["gene"].isin(query_full.uns["truth_symbols"]).all()


def test_reference_and_query_both_ensembl_match_by_id_without_version(sim):
    from omicsgat.io.genes import match_genes

    ref = cellxgene_like(sim)
    query = ref.copy()
    query.var_names = [v.split(".")[0] + ".99" for v in ref.var_names]  # another release: other versions
    query.var["feature_name"] = pd.Categorical([f"x{i}" for i in range(query.n_vars)])  # symbols disagree
    m = match_genes(ref, query)
    assert m.route == "ensembl" and m.counts["ensembl"] == ref.n_vars and m.counts["symbol"] == 0


def test_cross_species_reference_refused(sim):
    from omicsgat.io.genes import match_genes

    with pytest.raises(OmicsInputError, match="reference is human and the query is mouse"):
        match_genes(cellxgene_like(sim), mouse_file(sim))
