"""The 2 x 2 picture of one regulator pair: the target's observed mean and the model's prediction side by side."""

from __future__ import annotations

import numpy as np
import pandas as pd

from omicsgat.errors import OmicsInputError


def pair_row(pairs: pd.DataFrame | None, target: str, a: str, b: str) -> pd.Series:
    """The table row of (target, a, b), in either order of a and b (then the grids are transposed to a, b)."""
    if pairs is None or pairs.empty:
        raise OmicsInputError("This GRN result holds no regulator-pair table: run infer_grn with pairs=True.")
    hit = pairs[
        (pairs["target"] == target)
        & (
            ((pairs["regulator_a"] == a) & (pairs["regulator_b"] == b))
            | ((pairs["regulator_a"] == b) & (pairs["regulator_b"] == a))
        )
    ]
    if hit.empty:
        known = pairs.loc[pairs["target"] == target, ["regulator_a", "regulator_b"]]
        shown = ", ".join(f"{x}+{y}" for x, y in known.itertuples(index=False)) or "none: not a target in the table"
        raise OmicsInputError(f"No pair {a} + {b} for target {target!r} in the pair table (its pairs: {shown}).")
    row = hit.iloc[0].copy()
    if row["regulator_a"] != a:  # swap a and b: low/high of the first index follows ``a``
        for kind in ("model", "observed"):
            row[f"{kind}_low_high"], row[f"{kind}_high_low"] = row[f"{kind}_high_low"], row[f"{kind}_low_high"]
        row["regulator_a"], row["regulator_b"] = a, b
    return row


def grid(row: pd.Series, kind: str) -> np.ndarray:
    """2 x 2 array [a low/high][b low/high] of ``kind`` ("model" or "observed")."""
    return np.array(
        [[row[f"{kind}_low_low"], row[f"{kind}_low_high"]], [row[f"{kind}_high_low"], row[f"{kind}_high_high"]]],
        dtype=float,
    )


def plot_pair(pairs: pd.DataFrame | None, target: str, a: str, b: str, fig=None):
    """Two heatmaps: the target's observed mean over below/above-median a and b, and the model's prediction at
    the low/high levels of a and b (both in units of the target's standard deviation)."""
    from matplotlib.figure import Figure

    row = pair_row(pairs, target, a, b)
    fig = fig or Figure(figsize=(7.0, 3.4), layout="constrained")
    fig.clear()
    axes = fig.subplots(1, 2)
    grids = {"observed": grid(row, "observed"), "model": grid(row, "model")}
    limit = max(1e-6, float(np.nanmax(np.abs(np.concatenate([g.ravel() for g in grids.values()])))))
    titles = {"observed": "observed mean", "model": "model prediction"}
    for ax, (kind, values) in zip(axes, grids.items()):
        image = ax.imshow(values, cmap="RdBu_r", vmin=-limit, vmax=limit, origin="lower")
        for i in range(2):
            for j in range(2):
                ax.text(j, i, f"{values[i, j]:.2f}", ha="center", va="center", fontsize=10)
        ax.set_xticks([0, 1], [f"{b} low", f"{b} high"])
        ax.set_yticks([0, 1], [f"{a} low", f"{a} high"])
        ax.set_title(titles[kind])
    fig.colorbar(image, ax=list(axes), shrink=0.8, label=f"{target} (z)")
    fig.suptitle(f"{target}: {a} + {b} -> {row['logic']} (interaction {row['interaction']:+.2f}, q {row['q']:.3g})")
    return fig


def grn_pair(result, target: str, a: str, b: str, fig=None):
    """``omicsgat.pl.grn_pair(result, target, a, b)``: the pair's 2 x 2 picture from a :class:`GRNResult`."""
    return plot_pair(getattr(result, "pairs", None), target, a, b, fig=fig)
