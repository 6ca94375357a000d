"""The network drawing stays readable (#16 item 11): regulators apart from targets, labels only where they fit."""

from __future__ import annotations

import numpy as np
import pandas as pd


def _edges(n_regs=15, n_targets=120, n=300, seed=0):
    rng = np.random.default_rng(seed)
    regs = [f"R{i}" for i in range(n_regs)]
    targets = [f"G{i}" for i in range(n_targets)]
    pairs = {(rng.choice(regs), rng.choice(targets)) for _ in range(4 * n)}
    pairs = list(pairs)[:n]
    return pd.DataFrame(
        {
            "regulator": [p[0] for p in pairs],
            "target": [p[1] for p in pairs],
            "score": rng.random(len(pairs)),
            "sign": rng.choice([-1, 1], len(pairs)),
        }
    )


def test_regulators_left_targets_right_and_ordered_to_cross_little():
    from omicsgat.pl.network import layered_layout

    edges = pd.DataFrame(
        {"regulator": ["A", "A", "B", "B", "A"], "target": ["x", "y", "z", "w", "B"], "score": [5, 4, 3, 2, 1]}
    )
    left, right = layered_layout(edges)
    assert set(left) == {"A", "B"}
    assert set(right) == {"x", "y", "z", "w", "B"}  # B is regulated too: a node in each column
    # A's targets sit level with A, above B's
    assert min(right["x"][1], right["y"][1]) > max(right["z"][1], right["w"][1])


def test_a_network_where_every_gene_is_both_regulator_and_target_counts_both_columns():
    from omicsgat.pl.network import plot_network

    genes = [f"g{i}" for i in range(7)]
    edges = pd.DataFrame({"regulator": genes, "target": genes[1:] + genes[:1], "score": np.arange(7.0)})
    ax = plot_network(edges, n_edges=7).axes[0]
    assert "7 regulators → 7 targets" in ax.get_title()
    xs = sorted({round(t.get_position()[0], 2) for t in ax.texts})
    assert len(xs) == 2  # labels in two columns, not squeezed into one


def test_a_300_edge_network_labels_only_what_fits_and_nothing_is_clipped():
    from omicsgat.pl.network import MAX_LABELS, plot_network

    fig = plot_network(_edges(), n_edges=300)
    ax = fig.axes[0]
    labels = [t for t in ax.texts]
    regs = {t.get_text() for t in labels if t.get_text().startswith("R")}
    targets = [t for t in labels if t.get_text().startswith("G")]
    assert len(regs) == 15  # every regulator named
    assert 0 < len(targets) <= MAX_LABELS  # not all 120 targets on top of each other
    heights = sorted(t.get_position()[1] for t in targets)
    assert min(np.diff(heights)) >= 1.0 / MAX_LABELS - 1e-9  # and no two named targets overlap
    x0, x1 = ax.get_xlim()
    assert all(x0 < t.get_position()[0] < x1 for t in labels)
    assert "300 edges" in ax.get_title()
    small = plot_network(_edges(n=20), n_edges=20)
    assert len(small.axes[0].texts) == len(set(_edges(n=20)["regulator"]) | set(_edges(n=20)["target"]))
