"""The pseudotime default: weighed by held-out window gain and agreement with the steady-state score; signs."""

from __future__ import annotations

import numpy as np
import pandas as pd

BRANCH_AT = 3.0


def _branching(n_trunk=300, n_branch=700, seed=0):
    """Two trajectories sharing a trunk: R -> B -> H on both branches; H -> T on branch 1 only, H -> C on branch 2 only.

    Trunk cells (pseudotime < BRANCH_AT) lie on both trajectories; branch cells on one, NaN on the other.
    Every target follows its regulator with a lag (dx/dt = 2 * regulator - 2 * x).
    """
    import anndata as ad

    rng = np.random.default_rng(seed)
    grid = np.linspace(0, 14, 3000)
    dt = grid[1] - grid[0]

    def simulate(branch: int) -> np.ndarray:
        r = np.exp(-((grid - 5.0 - branch) ** 2) / 0.5)
        x = np.zeros((len(grid), 5))  # R, B, H, T, C
        x[:, 0] = r
        for i in range(1, len(grid)):
            p = x[i - 1]
            on = grid[i] > BRANCH_AT
            drive = np.array(
                [0.0, 2 * p[0], 2 * p[1], 2 * p[2] * (on and branch == 0), 2 * p[2] * (on and branch == 1)]
            )
            x[i, 1:] = p[1:] + dt * (drive[1:] - 2 * p[1:])
        return x

    paths = [simulate(0), simulate(1)]
    t_trunk = rng.uniform(0, BRANCH_AT, n_trunk)
    t_branch = [rng.uniform(BRANCH_AT, 14, n_branch) for _ in range(2)]
    rows = [np.stack([np.interp(t_trunk, grid, paths[0][:, g]) for g in range(5)], 1)]
    rows += [np.stack([np.interp(t_branch[k], grid, paths[k][:, g]) for g in range(5)], 1) for k in range(2)]
    X = np.concatenate(rows) + rng.normal(0, 0.1, (n_trunk + 2 * n_branch, 5))
    adata = ad.AnnData(X=np.clip(X, 0, None).astype(np.float32))
    adata.var_names = ["R", "B", "H", "T", "C"]
    adata.obs_names = [f"c{i}" for i in range(adata.n_obs)]
    nan_b = np.full(n_branch, np.nan)
    adata.obs["branch1"] = np.concatenate([t_trunk, t_branch[0], nan_b])
    adata.obs["branch2"] = np.concatenate([t_trunk, nan_b, t_branch[1]])
    return adata


TRUE_EDGES = {("R", "B"), ("B", "H"), ("H", "T"), ("H", "C")}


def _score(edges: pd.DataFrame, reg: str, tgt: str) -> float:
    return float(edges.loc[(edges["regulator"] == reg) & (edges["target"] == tgt), "score"].iloc[0])


def test_branch_specific_regulator_found_on_its_branch_and_each_trajectory_judged():
    from omicsgat.grn import infer_grn
    from omicsgat.metrics.grn import evaluate_edges

    adata = _branching()
    res = infer_grn(
        adata, genes=5, top_k=None, epochs=5, restarts=1, device="cpu", seed=0, pseudotime="branch1,branch2"
    )
    evidence = res.params["time_evidence"]
    assert [t["cells"] for t in evidence["trajectories"]] == [1000, 1000]  # trunk + own branch, never the other
    gaining = [t["genes_gaining"] for t in evidence["trajectories"]]
    assert gaining[0] > 0.5 > gaining[1]  # each trajectory judged on its own windows
    assert evidence["genes_gaining"] == sum(gaining) / 2 and 0.0 <= evidence["weight"] <= 1.0
    truth = pd.DataFrame(sorted(TRUE_EDGES), columns=["regulator", "target"])
    genes = list(adata.var_names)
    assert evaluate_edges(res.edges, truth, regulators=genes, genes=genes)["AUPRC_ratio"] > 2.5  # chance: 1
    for reg, tgt in (("H", "T"), ("H", "C")):  # each branch's own edge, oriented
        assert _score(res.edges, reg, tgt) > _score(res.edges, tgt, reg)


def test_cells_off_a_trajectory_are_never_its_windows():
    from omicsgat.grn.pseudotime import trajectory_windows

    adata = _branching()
    X = np.asarray(adata.X, dtype=float).copy()
    times = adata.obs[["branch1", "branch2"]].to_numpy()
    X[np.isnan(times[:, 0])] = 1e6  # cells of branch 2 only
    (first, n_first), (second, _) = trajectory_windows(X, times)
    assert n_first == 1000 and first.max() < 10
    assert second.max() > 1e5  # the marked cells are branch 2's


def test_noise_time_ordering_falls_back_to_the_steady_state_result_and_says_so():
    from omicsgat.grn import infer_grn

    adata = _branching(seed=1)
    rng = np.random.default_rng(0)
    adata.obs["shuffled"] = rng.permutation(adata.obs["branch1"].fillna(adata.obs["branch2"]).to_numpy())
    kwargs = {"genes": 5, "top_k": None, "epochs": 5, "restarts": 1, "device": "cpu", "seed": 0}
    fallback = infer_grn(adata, pseudotime="shuffled", **kwargs)
    plain = infer_grn(adata, **kwargs)
    evidence = fallback.params["time_evidence"]
    assert evidence["weight"] == 0.0 and evidence["agreement_lower_bound"] < 0.0
    assert evidence["decision"].startswith("steady-state fallback")
    assert evidence["trajectories"][0]["genes_gaining"] <= 0.5
    assert fallback.params["score_name"] == plain.params["score_name"]
    pd.testing.assert_frame_equal(fallback.edges, plain.edges)  # a noise pseudotime changes nothing


def test_sign_comes_from_the_model_when_correlation_disagrees():
    """T = 2A - B with B = 0.9A + noise: B correlates positively with T, but B represses it given A."""
    import anndata as ad

    from omicsgat.grn import infer_grn

    rng = np.random.default_rng(0)
    a = rng.normal(size=600)
    b = 0.9 * a + 0.45 * rng.normal(size=600)
    t = 2 * a - b + 0.1 * rng.normal(size=600)
    adata = ad.AnnData(X=np.stack([a, b, t], 1).astype(np.float32) + 5)
    adata.var_names = ["A", "B", "T"]
    adata.obs_names = [f"c{i}" for i in range(600)]
    res = infer_grn(
        adata,
        genes=3,
        top_k=None,
        epochs=80,
        restarts=1,
        device="cpu",
        seed=0,
        cells_per_metacell=1,
    )
    row = res.edges[(res.edges["regulator"] == "B") & (res.edges["target"] == "T")].iloc[0]
    assert row["correlation"] > 0.3
    assert row["signed_effect"] < 0 and row["sign"] == -1
    assert res.params["sign_source"].startswith("model")


def test_direct_effect_magnitude_and_sign_come_from_the_same_solves():
    """A activates B and represses C along time: the signed mean carries each direction, bounded by the magnitude."""
    from omicsgat.grn.pseudotime import direct_effects

    rng = np.random.default_rng(0)
    t = np.sort(rng.uniform(0, 10, 1500))
    grid = np.linspace(-2, 12, 3000)
    dt = grid[1] - grid[0]
    a = np.exp(-((grid - 3) ** 2) / 0.8)
    b, c = np.zeros_like(grid), np.ones_like(grid)
    for i in range(1, len(grid)):
        b[i] = b[i - 1] + dt * 3 * (a[i - 1] - b[i - 1])
        c[i] = c[i - 1] + dt * 3 * (1 - a[i - 1] - c[i - 1])
    X = np.stack([np.interp(t, grid, v) for v in (a, b, c)], 1) + rng.normal(0, 0.05, (1500, 3))
    magnitude, signed = direct_effects(X, t[:, None])
    assert signed[0, 1] > 0 > signed[0, 2]  # activation and repression, from the fitted coefficients
    assert np.all(np.abs(signed) <= magnitude + 1e-12) and np.all(np.diag(signed) == 0)
    edges = np.array([[0, 0, 1], [1, 2, 2]])
    per_edge = direct_effects(X, t[:, None], edge_index=edges)
    assert np.allclose(per_edge[0], magnitude[0, [1, 2]].tolist() + [magnitude[1, 2]])
    assert np.allclose(per_edge[1], signed[0, [1, 2]].tolist() + [signed[1, 2]])
