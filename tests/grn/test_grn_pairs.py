"""Regulator pairs: planted AND and OR targets told apart by sign, independent inputs near zero, table kept."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from omicsgat.errors import OmicsInputError


def _simulated(n_cells: int = 600, seed: int = 0):
    """Six switch-like regulators; AND(a, b), OR(c, d) and e + f (additive) targets; two noise genes."""
    import anndata as ad

    rng = np.random.default_rng(seed)
    on = rng.random((n_cells, 6)) < 0.5
    regs = on * 2.0 + rng.gamma(2.0, 0.1, size=on.shape)
    a, b, c, d, e, f = on.T.astype(float)
    noise = lambda: rng.gamma(2.0, 0.1, size=n_cells)
    targets = np.column_stack([2.5 * a * b + noise(), 2.5 * np.maximum(c, d) + noise(), 1.2 * (e + f) + noise()])
    junk = rng.gamma(2.0, 0.5, size=(n_cells, 2))
    names = ["a", "b", "c", "d", "e", "f", "t_and", "t_or", "t_sum", "n1", "n2"]
    return ad.AnnData(
        np.column_stack([regs, targets, junk]).astype(np.float32),
        var=pd.DataFrame(index=names),
        obs=pd.DataFrame(index=[f"c{i}" for i in range(n_cells)]),
    )


@pytest.fixture(scope="module")
def planted():
    from omicsgat.grn import infer_grn

    adata = _simulated()
    return adata, infer_grn(
        adata,
        genes=adata.n_vars,
        regulators=[f"{g}" for g in "abcdef"],
        top_k=None,
        device="cpu",
        seed=0,
        epochs=150,
        restarts=2,
        cells_per_metacell=1,
        pairs=True,
    )


def _row(pairs, target, a, b):
    hit = pairs[(pairs["target"] == target) & (pairs["regulator_a"] == a) & (pairs["regulator_b"] == b)]
    assert len(hit) == 1, pairs[pairs["target"] == target]
    return hit.iloc[0]


def test_and_and_or_are_told_apart(planted):
    _, result = planted
    pairs = result.pairs
    assert list(pairs.columns[:9]) == [
        "target",
        "regulator_a",
        "regulator_b",
        "interaction",
        "logic",
        "score",
        "stability",
        "p",
        "q",
    ]
    both, either = _row(pairs, "t_and", "a", "b"), _row(pairs, "t_or", "c", "d")
    assert both["interaction"] > 0.3 and both["logic"] == "both needed" and both["q"] <= 0.05
    assert either["interaction"] < -0.3 and either["logic"] == "either enough" and either["q"] <= 0.05
    # each planted pair is its target's strongest
    for target, row in (("t_and", both), ("t_or", either)):
        own = pairs[pairs["target"] == target]
        assert abs(row["score"]) == own["score"].abs().max()
    assert result.params["pairs"]["computed"] is True


def test_independent_inputs_score_near_zero(planted):
    _, result = planted
    pairs = result.pairs
    additive = _row(pairs, "t_sum", "e", "f")
    planted_size = min(
        abs(_row(pairs, "t_and", "a", "b")["interaction"]), abs(_row(pairs, "t_or", "c", "d")["interaction"])
    )
    assert abs(additive["interaction"]) < 0.25 * planted_size
    assert additive["logic"] == "independent"


def test_pairs_survive_save_and_load(planted, tmp_path):
    import anndata as ad

    from omicsgat.grn import GRNResult

    adata, result = planted
    copy = adata.copy()
    result.write_to(copy)
    copy.write_h5ad(tmp_path / "grn.h5ad")
    back = GRNResult.pairs_from(ad.read_h5ad(tmp_path / "grn.h5ad"))
    pd.testing.assert_frame_equal(back.reset_index(drop=True), result.pairs.reset_index(drop=True), check_dtype=False)
    result.save_pairs(tmp_path / "pairs.tsv")
    table = pd.read_csv(tmp_path / "pairs.tsv", sep="\t")
    assert set(table["logic"]) <= {"both needed", "either enough", "independent"}
    assert np.allclose(table["interaction"], result.pairs["interaction"])


def test_pair_plot_and_missing_pair(planted):
    from omicsgat.pl import grn_pair

    _, result = planted
    fig = grn_pair(result, "t_and", "b", "a")  # either order
    assert len(fig.axes) >= 2
    with pytest.raises(OmicsInputError, match="t_and"):
        grn_pair(result, "t_and", "a", "n1")


def test_pairs_off_where_the_model_cannot_have_them(planted):
    from omicsgat.grn import infer_grn

    adata, _ = planted
    linear = infer_grn(
        adata,
        genes=adata.n_vars,
        top_k=None,
        device="cpu",
        epochs=5,
        restarts=1,
        combine="linear",
        cells_per_metacell=1,
    )
    assert linear.pairs is None and "additive" in linear.params["pairs"]["reason"]
    with pytest.raises(OmicsInputError, match="combine='mlp'"):
        infer_grn(adata, genes=adata.n_vars, device="cpu", epochs=5, combine="linear", pairs=True)
    with pytest.raises(OmicsInputError, match="pairs must be"):
        infer_grn(adata, genes=adata.n_vars, device="cpu", epochs=5, pairs="yes")


def test_cli_writes_the_pair_table(tmp_path):
    import subprocess
    import sys

    path = tmp_path / "planted.h5ad"
    _simulated(n_cells=200).write_h5ad(path)
    out = tmp_path / "pairs.tsv"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "omicsgat",
            "grn",
            str(path),
            "--out",
            str(tmp_path / "edges.tsv"),
            "--epochs",
            "10",
            "--device",
            "cpu",
            "--genes",
            "11",
            "--pairs",
            str(out),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    table = pd.read_csv(out, sep="\t")
    assert list(table.columns[:9]) == [
        "target",
        "regulator_a",
        "regulator_b",
        "interaction",
        "logic",
        "score",
        "stability",
        "p",
        "q",
    ]
    assert len(table) > 0 and table["q"].between(0, 1).all()
