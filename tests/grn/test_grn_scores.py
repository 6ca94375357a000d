"""The steady-state conditional score: direct edges over indirect ones, and the run records what it chose."""

from __future__ import annotations

import numpy as np


def _chain(n_cells=600, seed=0):
    """A -> B -> C with C tracking B closely: |corr(A, C)| is as high as |corr(A, B)|, but C adds nothing about A
    once B is known. Two unrelated genes make the candidate lists longer than the planted ones."""
    import anndata as ad

    rng = np.random.default_rng(seed)
    a = rng.normal(size=n_cells)
    b = a + 0.6 * rng.normal(size=n_cells)
    c = b + 0.3 * rng.normal(size=n_cells)
    noise = rng.normal(size=(n_cells, 2))
    adata = ad.AnnData(X=(np.column_stack([a, b, c, noise]) + 6).astype(np.float32))
    adata.var_names = ["A", "B", "C", "N1", "N2"]
    return adata


def _pair(edges, x, y):
    row = edges[(edges["regulator"] == x) & (edges["target"] == y)]
    return float(row["score"].iloc[0])


def test_conditional_score_puts_direct_edges_above_the_indirect_one_and_says_why():
    from omicsgat.grn import infer_grn

    adata = _chain()
    kwargs = dict(genes=5, top_k=None, epochs=5, restarts=1, device="cpu", seed=0, cells_per_metacell=1)
    res = infer_grn(adata, score="conditional", **kwargs)
    edges = res.edges
    # undirected evidence (steady state cannot orient): the better of the two directions of each pair
    direct = [max(_pair(edges, x, y), _pair(edges, y, x)) for x, y in (("A", "B"), ("B", "C"))]
    indirect = [_pair(edges, "A", "C"), _pair(edges, "C", "A")]
    assert max(indirect) < 0.5 * min(direct)
    noise = [_pair(edges, r, t) for r in ("N1", "N2") for t in ("A", "B", "C")]
    assert max(noise) < 0.5 * min(direct)
    # the record: the score's name, the penalties the held-out cells chose per target, and the model's own score
    assert res.params["score_name"].startswith("conditional dependence")
    record = res.params["conditional_dependence"]
    assert sum(record["penalty_chosen_per_target"].values()) == 5
    assert record["penalty_median"] in record["penalties_tried"]
    assert "model_score" in edges.columns and res.params["sign_source"].startswith("model (signed ridge")
    assert (edges.loc[(edges["regulator"] == "A") & (edges["target"] == "B"), "sign"] == 1).all()
    again = infer_grn(adata, score="conditional", **kwargs).edges
    assert again[["regulator", "target", "score"]].equals(edges[["regulator", "target", "score"]])


def test_adaptive_score_takes_the_model_only_for_targets_nonlinear_in_held_out_cells():
    from omicsgat.grn.scores import NONLINEAR_GAIN, adaptive_score, nonlinear_gain

    # genes 0 and 1 regulate target 2 by an interaction (on only where both agree: no linear trace) and
    # target 3 additively; the scores disagree on the order of each target's two regulators
    rng = np.random.default_rng(0)
    regs = rng.normal(size=(400, 2))
    values = np.column_stack(
        [regs, regs[:, 0] * regs[:, 1] + 0.3 * rng.normal(size=400), regs @ [1.0, 0.5] + 0.3 * rng.normal(size=400)]
    )
    edge_index = np.array([[0, 1, 0, 1], [2, 2, 3, 3]])
    conditional = np.array([0.1, 0.9, 0.8, 0.2])  # says 1 -> 2 and 0 -> 3
    model_score = np.array([0.9, 0.1, 0.3, 0.7])  # says 0 -> 2 and 1 -> 3
    gain = nonlinear_gain(values, edge_index, conditional, model_score)
    assert np.isnan(gain[:2]).all() and gain[2] > 0.8 and gain[3] < 0.1
    score, use_model, record = adaptive_score(conditional, model_score, values, edge_index)
    assert use_model.tolist() == [True, True, False, False]
    assert score[0] > score[1] and score[2] > score[3]  # model's order for target 2, conditional's for target 3
    assert record["targets_scored_by_model"] == 1 and record["nonlinear_gain_threshold"] == NONLINEAR_GAIN
    assert "held-out" in record["why"]


def test_adaptive_run_on_graded_data_keeps_the_conditional_ranking_and_records_the_choice():
    from omicsgat.grn import infer_grn

    res = infer_grn(
        _chain(),
        score="adaptive",
        genes=5,
        top_k=None,
        epochs=5,
        restarts=1,
        device="cpu",
        seed=0,
        cells_per_metacell=1,
    )
    choice = res.params["conditional_dependence"]["per_target"]
    assert choice["targets"] == 5 and "why" in choice
    assert res.params["score_name"].startswith("per target")
    edges = res.edges
    direct = [max(_pair(edges, x, y), _pair(edges, y, x)) for x, y in (("A", "B"), ("B", "C"))]
    assert max(_pair(edges, "A", "C"), _pair(edges, "C", "A")) < min(direct)
