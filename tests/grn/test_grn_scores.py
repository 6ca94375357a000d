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
    assert "model_score" in edges.columns and res.params["sign_source"] == "model (signed ridge coefficient)"
    assert (edges.loc[(edges["regulator"] == "A") & (edges["target"] == "B"), "sign"] == 1).all()
    again = infer_grn(adata, score="conditional", **kwargs).edges
    assert again[["regulator", "target", "score"]].equals(edges[["regulator", "target", "score"]])
