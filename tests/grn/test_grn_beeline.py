"""BEELINE evaluation on a hand-computed case, and the pseudotime mode orienting a chain correlation cannot."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from omicsgat.errors import OmicsInputError


def test_beeline_table_matches_hand_computed_values():
    from omicsgat.metrics.grn import beeline_table

    # 3 genes -> 6 ordered pairs; truth A->B, B->C (the self-loop C->C never counts): density 2/6
    edges = pd.DataFrame(
        {
            "regulator": ["A", "B", "B", "A", "C", "C"],
            "target": ["B", "A", "C", "C", "A", "B"],
            "score": [0.9, 0.8, 0.7, 0.5, 0.3, 0.1],
        }
    )
    ref = pd.DataFrame({"regulator": ["A", "B", "C"], "target": ["B", "C", "C"]})
    row = beeline_table(edges, ref, ["A", "B", "C"]).iloc[0]
    assert row["n_candidates"] == 6 and row["n_true"] == 2
    assert row["AUROC"] == pytest.approx(7 / 8)  # positives 0.9, 0.7 beat 4 and 3 of the 4 negatives
    assert row["AUPRC"] == pytest.approx((1 + 2 / 3) / 2)  # hits at ranks 1 and 3
    assert row["AUPRC_ratio"] == pytest.approx(2.5)
    assert row["EP"] == pytest.approx(0.5) and row["EPR"] == pytest.approx(1.5)  # top-2 holds one true edge


def _chain(n_cells=1200, seed=0):
    """A -> B -> C along a time axis: A is a pulse, B follows A (dB/dt = 2A - 2B), C follows B.

    Correlation is symmetric, so it cannot tell A -> B from B -> A; the order in time can.
    """
    import anndata as ad

    rng = np.random.default_rng(seed)
    t = np.sort(rng.uniform(0, 10, n_cells))
    grid = np.linspace(-2, 12, 2000)
    a = np.exp(-((grid - 3) ** 2) / 2)
    b = np.zeros_like(grid)
    c = np.zeros_like(grid)
    dt = grid[1] - grid[0]
    for i in range(1, len(grid)):  # dx/dt = f(regulator) - x
        b[i] = b[i - 1] + dt * (2 * a[i - 1] - 2 * b[i - 1])
        c[i] = c[i - 1] + dt * (2 * b[i - 1] - 2 * c[i - 1])
    X = np.stack([np.interp(t, grid, v) for v in (a, b, c)], axis=1) + rng.normal(0, 0.05, (n_cells, 3))
    X = np.clip(X, 0, None).astype(np.float32)
    adata = ad.AnnData(X=X)
    adata.var_names = ["A", "B", "C"]
    adata.obs_names = [f"c{i}" for i in range(n_cells)]
    adata.obs["time"] = t
    return adata


def test_pseudotime_orients_a_chain_that_correlation_cannot():
    from omicsgat.grn import infer_grn

    adata = _chain()
    X = np.asarray(adata.X)
    corr = np.corrcoef(X.T)
    assert abs(corr[0, 1] - corr[1, 0]) < 1e-9  # correlation is symmetric: no direction to read
    res = infer_grn(adata, genes=3, top_k=None, epochs=60, restarts=2, device="cpu", seed=0, pseudotime="time")
    score = {(r, t): s for r, t, s in zip(res.edges["regulator"], res.edges["target"], res.edges["score"])}
    assert score[("A", "B")] > score[("B", "A")]
    assert score[("B", "C")] > score[("C", "B")]
    assert res.params["pseudotime"] == ["time"]


def test_bad_pseudotime_column_is_named():
    from omicsgat.grn import infer_grn

    adata = _chain(n_cells=100)
    with pytest.raises(OmicsInputError, match="'nope'.*obs columns: time"):
        infer_grn(adata, genes=3, pseudotime="nope", device="cpu")
    adata.obs["label"] = ["x"] * adata.n_obs
    with pytest.raises(OmicsInputError, match="'label'.*non-numeric"):
        infer_grn(adata, genes=3, pseudotime="label", device="cpu")


def _run_cli(*args, cwd):
    import subprocess
    import sys

    return subprocess.run(
        [sys.executable, "-m", "omicsgat", "grn", *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=300
    )


def test_cli_on_a_beeline_folder_writes_the_evaluation(tmp_path):
    adata = _chain(n_cells=200)
    folder = tmp_path / "chain_0"
    folder.mkdir()
    pd.DataFrame(np.asarray(adata.X).T, index=adata.var_names, columns=adata.obs_names).to_csv(
        folder / "ExpressionData.csv"
    )
    adata.obs[["time"]].to_csv(folder / "PseudoTime.csv")
    pd.DataFrame({"Gene1": ["A", "B"], "Gene2": ["B", "C"], "Type": ["+", "+"]}).to_csv(
        folder / "refNetwork.csv", index=False
    )
    out = tmp_path / "edges.tsv"
    proc = _run_cli(folder, "--out", out, "--pseudotime", "time", "--epochs", "5", "--device", "cpu", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    table = pd.read_csv(tmp_path / "edges.evaluation.tsv", sep="\t")
    assert {"AUROC", "AUPRC", "AUPRC_ratio", "EPR"} <= set(table.columns)
    assert table["n_candidates"].iloc[0] == 6 and table["n_true"].iloc[0] == 2  # every ordered pair of 3 genes
    assert "AUPRC ratio" in proc.stderr
    edges = pd.read_csv(out, sep="\t")
    assert len(edges) == 6  # every gene is a candidate regulator

    (folder / "ExpressionData.csv").rename(folder / "expression.csv")
    bad = _run_cli(folder, "--out", tmp_path / "e2.tsv", "--device", "cpu", cwd=tmp_path)
    assert bad.returncode == 2
    assert "not a BEELINE folder" in bad.stderr and "ExpressionData.csv" in bad.stderr


def _common_cause(n_cells=2000, seed=1):
    """A -> B (fast, dB/dt = 6(A - B)) and A -> C (slow, dC/dt = 1.5(A - C)); B and C are not linked.

    B rises before C, so B's earlier value predicts C's later one: a lagged correlation scores B -> C
    above the true A -> B.
    """
    rng = np.random.default_rng(seed)
    t = np.sort(rng.uniform(0, 10, n_cells))
    grid = np.linspace(-2, 12, 4000)
    dt = grid[1] - grid[0]
    a = np.exp(-((grid - 2) ** 2) / 0.5)
    b, c = np.zeros_like(grid), np.zeros_like(grid)
    for i in range(1, len(grid)):
        b[i] = b[i - 1] + dt * 6 * (a[i - 1] - b[i - 1])
        c[i] = c[i - 1] + dt * 1.5 * (a[i - 1] - c[i - 1])
    X = np.stack([np.interp(t, grid, v) for v in (a, b, c)], axis=1) + rng.normal(0, 0.05, (n_cells, 3))
    return X, t[:, None]


def _lagged_pairs(X, times):
    """Window means now and a lag later, stacked over lags 1..max_lag (one trajectory): the lagged correlation's input."""
    from omicsgat.grn.pseudotime import max_lag, trajectory_windows

    ((means, _),) = trajectory_windows(X, times)
    lags = range(1, max_lag(len(means)) + 1)
    return np.concatenate([means[:-lag] for lag in lags]), np.concatenate([means[lag:] for lag in lags])


def test_direct_effects_do_not_link_two_targets_of_a_common_cause():
    from omicsgat.grn.pseudotime import direct_effects

    X, times = _common_cause()
    now, later = _lagged_pairs(X, times)
    lagged = np.abs(np.corrcoef(now.T, later.T)[:3, 3:])
    assert lagged[1, 2] > lagged[0, 1]  # lagged correlation: B -> C (false) above A -> B (true)
    D, _ = direct_effects(X, times)
    assert np.all(np.diag(D) == 0)
    assert D[1, 2] < 0.5 * min(D[0, 1], D[0, 2])  # conditional on A's present, B says little about C's future
    assert D[0, 1] > D[1, 0] and D[0, 2] > D[2, 0]  # and both true edges keep their direction


def test_pseudotime_edges_carry_the_steady_state_score_beside_the_direct_effect():
    from omicsgat.grn import infer_grn

    res = infer_grn(
        _chain(n_cells=400), genes=3, top_k=None, epochs=5, restarts=1, device="cpu", seed=0, pseudotime="time"
    )
    e = res.edges
    assert {"direct_effect", "steady_state_score", "target_r2"} <= set(e.columns)
    assert res.params["time_evidence"]["weight"] == 1.0 and np.allclose(e["score"], e["direct_effect"])
    again = infer_grn(
        _chain(n_cells=400), genes=3, top_k=None, epochs=5, restarts=1, device="cpu", seed=0, pseudotime="time"
    ).edges
    pd.testing.assert_frame_equal(e, again)  # same seed, same edges


def test_direct_effects_per_edge_match_the_matrix_and_blocks_agree():
    """The per-edge form (no genes x genes matrix) equals the matrix; blocked fits get their own edges' values."""
    from omicsgat.grn import infer_grn
    from omicsgat.grn.pseudotime import direct_effects

    X, times = _common_cause(n_cells=600)
    D, _ = direct_effects(X, times)
    src, dst = np.nonzero(~np.eye(3, dtype=bool))
    assert np.allclose(direct_effects(X, times, edge_index=np.stack([src, dst]))[0], D[src, dst])
    adata = _chain(n_cells=400)
    one = infer_grn(adata, genes=3, top_k=None, epochs=5, restarts=1, device="cpu", seed=0, pseudotime="time").edges
    blocked = infer_grn(
        adata, genes=3, top_k=None, epochs=5, restarts=1, device="cpu", seed=0, pseudotime="time", block_size=1
    ).edges
    key = ["regulator", "target"]
    assert np.allclose(
        one.sort_values(key)["direct_effect"].to_numpy(), blocked.sort_values(key)["direct_effect"].to_numpy()
    )
