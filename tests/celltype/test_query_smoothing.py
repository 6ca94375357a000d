"""The query's own neighbours lend their class probabilities before a cell's type is called."""

from __future__ import annotations

import numpy as np
import pytest

from omicsgat.celltype import annotate_cells
from omicsgat.celltype.depth import thinned
from omicsgat.celltype.query_smoothing import query_graph, smoothed_probabilities
from omicsgat.errors import OmicsInputError
from omicsgat.io.orthologs import ortholog_pairs


def _shallow_pair(seed: int = 3):
    from omicsgat.simulate import simulate_label_transfer

    ref, qry = simulate_label_transfer(
        n_reference=300, n_query=300, n_genes=200, n_types=4, absent="far", library_size=3000.0, seed=seed
    )
    pairs = ortholog_pairs("mouse", "human", "one2one").iloc[1000:1200]  # a mouse reference, a human query
    ref.var_names, qry.var_names = list(pairs["source"]), list(pairs["target"])
    return ref, thinned(qry, 0.1, seed=0), qry.obs["cell_type"].astype(str).to_numpy()


def test_noisy_calls_are_repaired_by_the_query_own_neighbours():
    _, qry, truth = _shallow_pair()
    types, index = np.unique(truth, return_inverse=True)
    rng = np.random.default_rng(0)
    proba = np.full((len(truth), len(types)), 0.3 / (len(types) - 1))
    wrong = rng.random(len(truth)) < 0.3  # 30 % of cells confidently called as another type
    called = np.where(wrong, (index + rng.integers(1, len(types), len(truth))) % len(types), index)
    proba[np.arange(len(truth)), called] = 0.7
    graph = query_graph(qry, 15, 2000, seed=0)
    same = (index[np.repeat(np.arange(len(truth)), np.diff(graph[0]))] == index[graph[1]]).mean()
    assert same > 0.9  # the query's own PCA keeps neighbours within a type even at 10 % depth
    mixed = smoothed_probabilities(proba, *graph, 0.75)
    assert np.allclose(mixed.sum(1), 1.0)
    assert (mixed.argmax(1) == index).mean() > 0.95 > 0.75 > (proba.argmax(1) == index).mean()
    assert smoothed_probabilities(proba, *graph, 0.0) is proba  # 0: each cell alone


def test_annotate_reports_the_mix_and_zero_turns_it_off():
    ref, qry, truth = _shallow_pair()
    kw = dict(epochs=2, device="cpu", graph=False, novelty=False)
    mixed = annotate_cells(qry, "cell_type", ref, **kw)
    alone = annotate_cells(qry, "cell_type", ref, query_smoothing=0.0, **kw)
    p = mixed.params
    assert p["species_converted"] and (p["query_smoothing"], p["query_smoothing_neighbours"]) == (0.75, 15)
    changed = (mixed.labels["predicted"] != alone.labels["predicted"]).sum()
    assert p["n_calls_changed_by_query_smoothing"] == changed
    assert alone.params["n_calls_changed_by_query_smoothing"] == 0
    correct = lambda r: (r.labels["predicted"].astype(str).to_numpy() == truth).mean()  # noqa: E731
    assert correct(mixed) >= correct(alone)
    within = ref.copy()
    within.var_names = list(qry.var_names)  # one species: each cell is called alone
    assert "query_smoothing" not in annotate_cells(qry, "cell_type", within, **kw).params
    with pytest.raises(OmicsInputError, match="query_smoothing"):
        annotate_cells(qry, "cell_type", ref, query_smoothing=1.5)
