"""Reference -> query across two simulated batches, partly overlapping genes, one type unseen."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def transfer():
    from omicsgat.celltype import annotate_cells
    from omicsgat.simulate import simulate_scrna

    data = simulate_scrna(
        n_cells=900, n_genes=150, n_regulators=20, n_cell_types=4, n_batches=2, batch_effect=0.3, seed=11
    )
    genes = list(data.var_names)
    ref = data[(data.obs["batch"] == "batch0") & (data.obs["cell_type"] != "type_B"), genes[20:]].copy()
    # the query lacks 20 other genes and has no labels (the column is absent)
    query = data[data.obs["batch"] == "batch1", genes[:40] + genes[60:]].copy()
    truth = query.obs.pop("cell_type").astype(str)
    result = annotate_cells(query, "cell_type", ref, epochs=15, seed=0)
    return result, truth


def test_genes_matched_by_name(transfer):
    result, _ = transfer
    assert result.params["n_shared_genes"] == 110  # 130 in each, 20 missing on either side
    assert result.params["mode"] == "reference"


def test_known_types_transferred(transfer):
    result, truth = transfer
    known = (truth != "type_B").to_numpy()
    assert (result.labels["label"][known] == truth[known]).mean() >= 0.9  # chance 1/3
    assert result.labels["is_query"].all()
    assert result.classes == ["type_A", "type_C", "type_D"]


def test_unseen_type_is_mostly_unknown(transfer):
    result, truth = transfer
    unseen = (truth == "type_B").to_numpy()
    assert (result.labels["label"][unseen] == "Unknown").mean() >= 0.7
    assert (result.labels["label"][~unseen] == "Unknown").mean() <= 0.1
    # the distance check alone flags most of them, not only the confidence threshold
    assert (result.labels["novelty"][unseen] > 1).mean() > (result.labels["novelty"][~unseen] > 1).mean() + 0.4
