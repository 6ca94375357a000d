"""Supervised GRN mode: the split never shows a held-out edge reversed, the known edges teach what the data alone
cannot (a response correlation misses), a hub shortcut loses, and the run records how far it trusted the prior."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


def _planted(seed: int, n_cells: int = 600):
    """Six independent regulators. R0 acts on twelve genes through a U-shaped response (no linear association with
    R0); R1..R5 each act linearly on six genes; twenty genes are noise. R0 is the prior's hub."""
    import anndata as ad

    rng = np.random.default_rng(seed)
    regs = {f"R{i}": rng.normal(size=n_cells) for i in range(6)}
    genes, edges = dict(regs), []
    for i in range(12):
        genes[f"U{i}"] = regs["R0"] ** 2 + 0.3 * rng.normal(size=n_cells)
        edges.append(("R0", f"U{i}"))
    for r in range(1, 6):
        for i in range(6):
            genes[f"L{r}_{i}"] = regs[f"R{r}"] + 0.8 * rng.normal(size=n_cells)
            edges.append((f"R{r}", f"L{r}_{i}"))
    for i in range(20):
        genes[f"N{i}"] = rng.normal(size=n_cells)
    X = np.column_stack(list(genes.values()))
    adata = ad.AnnData((X - X.min(0) + 0.1).astype(np.float32))
    adata.var_names = list(genes)
    return adata, pd.DataFrame(edges, columns=["regulator", "target"]), list(regs)


@pytest.fixture(scope="module")
def planted_run():
    from omicsgat.grn import infer_grn

    adata, prior, regs = _planted(seed=1)
    return infer_grn(
        adata,
        genes=adata.n_vars,
        regulators=regs,
        prior=prior,
        mode="supervised",
        device="cpu",
        seed=1,
        test_fraction=0.3,
    )


def test_split_keeps_both_orientations_of_a_pair_together():
    from omicsgat.grn.train import split_edges

    rng = np.random.default_rng(0)
    pairs = np.array([(a, b) for a in range(12) for b in range(12) if a != b]).T
    is_edge = rng.random(pairs.shape[1]) < 0.3  # many mutual edges among them
    split = split_edges(pairs[:, is_edge], pairs[:, ~is_edge], (0.2, 0.2), seed=3)
    where = {(a, b): s for a, b, s in zip(split["src"], split["dst"], split["split"])}
    assert all(where[(a, b)] == where[(b, a)] for a, b in where)
    held_out_edges = split[(split["split"] == "test") & (split["label"] == 1)]
    assert len(held_out_edges) > 5 and set(split["split"]) == {"train", "val", "test"}


def test_prior_teaches_targets_that_the_data_alone_rank_low(planted_run):
    from omicsgat.metrics.grn import score_labels

    edges = planted_run.edges.copy()
    for column in ("score", "steady_state_score"):
        edges[column + "_pct"] = edges[column].rank(pct=True)
    held_out = edges[(edges["split"] == "test") & (edges["regulator"] == "R0") & edges["target"].str.startswith("U")]
    assert len(held_out) >= 3
    # the steady-state score (no prior) cannot see a U-shaped response; what the known edges taught ranks them top
    assert held_out["steady_state_score_pct"].median() < 0.6
    assert held_out["score_pct"].min() > 0.8
    blend = planted_run.params["supervised_blend"]
    assert blend["weight_learned"] > 0 and "validation" in blend["why"]
    assert "link predictor" in planted_run.params["score_name"]

    # a hub shortcut (training degrees) ranks every pair of the hub R0 alike, so it cannot pick R0's held-out targets
    split = planted_run.split
    known = split[(split["split"] == "train") & (split["label"] == 1)]
    test = split[split["split"] == "test"]
    degree = test["regulator"].map(known["regulator"].value_counts()).fillna(0) + test["target"].map(
        known["target"].value_counts()
    ).fillna(0)
    hub_only = score_labels(test["label"].to_numpy(), degree.to_numpy(float))
    assert planted_run.params["test_metrics"]["AUPRC_ratio"] > 1.5 * hub_only["AUPRC_ratio"]
