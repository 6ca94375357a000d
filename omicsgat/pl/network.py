"""Drawing a regulatory network: regulators vs targets, edge width by score, colour by sign."""

from __future__ import annotations

from typing import Iterable, Optional

import numpy as np
import pandas as pd

from omicsgat.pl.figure import new_figure

ACTIVATING = "#c0392b"
REPRESSING = "#2c6fbb"
UNSIGNED = "#7f7f7f"


#: Most node labels that stay readable in one column of the default figure (6-pt text, 6 in high).
MAX_LABELS = 40


def layered_layout(top: pd.DataFrame) -> tuple[dict, dict]:
    """Regulators in a column on the left, targets in a column on the right, each ordered to cross few edges.

    Returns the (left, right) positions by gene. A gene that both regulates and is regulated by drawn edges
    has a node in each column, so every edge runs left to right and a network where every gene is both (a
    BEELINE network) still reads as regulators -> targets. Targets are ordered by the mean position of their
    regulators (one barycentre pass), regulators by edge count.
    """
    left = [g for g in pd.unique(top["regulator"].astype(str))]
    right = [g for g in pd.unique(top["target"].astype(str))]
    degree = top["regulator"].astype(str).value_counts()
    left.sort(key=lambda g: (-degree.get(g, 0), g))
    y_left = _column(left)
    bary = top.assign(y=top["regulator"].astype(str).map(y_left)).groupby(top["target"].astype(str))["y"].mean()
    right.sort(key=lambda g: (-bary.get(g, 0.0), g))
    return (
        {g: np.array([0.0, y]) for g, y in y_left.items()},
        {g: np.array([1.0, y]) for g, y in _column(right).items()},
    )


def _column(names: list) -> dict:
    """Heights from 1 (top) to 0 (bottom), evenly spaced; a single node in the middle."""
    if len(names) == 1:
        return {names[0]: 0.5}
    return {g: 1.0 - i / (len(names) - 1) for i, g in enumerate(names)}


def spaced_labels(names: list, heights: dict, priority: pd.Series, most: int = MAX_LABELS) -> list:
    """Which nodes of a column to name: all while they fit, else the highest ``priority`` first, skipping any
    closer than 1/``most`` of the column to one already named, so no two labels overlap."""
    if len(names) <= most:
        return list(names)
    gap = 1.0 / most
    chosen: list = []
    for name in sorted(names, key=lambda g: (-priority.get(g, 0), g)):
        if all(abs(heights[name] - heights[c]) >= gap for c in chosen):
            chosen.append(name)
    return chosen


def plot_network(
    edges: pd.DataFrame,
    n_edges: int = 30,
    ax=None,
    regulators: Optional[Iterable[str]] = None,
    title: str = "",
    seed: int = 0,
):
    """Draw the top ``n_edges`` edges (by ``score``) of an edge table; returns the Figure.

    Regulators (squares) in a column on the left, targets (circles) on the
    right (:func:`layered_layout`), so a regulator's fan of targets reads at
    a glance even at a few hundred edges; edge width grows with score; red =
    activating, blue = repressing, grey = unsigned, from the edge table's
    ``sign`` column (the engine's signed effect), never recomputed here.
    Nodes are labelled while a column stays readable (:data:`MAX_LABELS`),
    else the most connected ones, spaced so that labels never overlap.
    Labels sit outside the node columns, inside the figure. ``regulators``
    and ``seed`` are accepted for compatibility: the columns come from the
    drawn edges, and the layout is deterministic.
    """
    from matplotlib.patches import FancyArrowPatch

    if ax is None:
        fig, ax = new_figure(7.0, 6.0)
    else:
        fig = ax.figure
    top = edges.nlargest(n_edges, "score") if len(edges) else edges
    if top.empty:
        ax.text(0.5, 0.5, "no edges", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return fig
    left, right = layered_layout(top)
    s = top["score"].to_numpy(dtype=float)
    span = (s.max() - s.min()) or 1.0
    widths = 0.4 + 2.2 * (s - s.min()) / span
    alpha = 0.75 if len(top) <= 60 else 0.45
    signs = top["sign"].to_numpy() if "sign" in top.columns else np.zeros(len(top))
    for (r, t), w, sg in zip(zip(top["regulator"].astype(str), top["target"].astype(str)), widths, signs):
        color = ACTIVATING if sg > 0 else REPRESSING if sg < 0 else UNSIGNED
        ax.add_patch(
            FancyArrowPatch(
                left[r],
                right[t],
                arrowstyle="-|>",
                mutation_scale=7,
                lw=w,
                color=color,
                alpha=alpha,
                shrinkA=5,
                shrinkB=5,
            )
        )
    out_degree = top["regulator"].astype(str).value_counts()
    in_degree = top["target"].astype(str).value_counts()
    for column, marker, color, size, ha, dx, degree, kind in (
        (left, "s", "#f0b429", 70, "right", -0.04, out_degree, "regulator"),
        (right, "o", "#d9d9d9", 40, "left", 0.04, in_degree, "target"),
    ):
        names = list(column)
        xy = np.array([column[n] for n in names])
        ax.scatter(
            xy[:, 0], xy[:, 1], s=size, marker=marker, c=color, edgecolors="black", linewidths=0.5, zorder=3, label=kind
        )
        heights = {n: column[n][1] for n in names}
        labelled = spaced_labels(names, heights, degree)
        fontsize = 7 if len(labelled) <= 25 else 6
        for n in labelled:
            ax.text(column[n][0] + dx, column[n][1], n, fontsize=fontsize, ha=ha, va="center", zorder=4, clip_on=False)
    ax.plot([], [], color=ACTIVATING, label="activating")
    ax.plot([], [], color=REPRESSING, label="repressing")
    if (signs == 0).any():
        ax.plot([], [], color=UNSIGNED, label="unsigned")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=5, fontsize=7, frameon=False)
    shown = f"Top {len(top)} edges: {len(left)} regulators → {len(right)} targets"
    named = [
        f"{kind} {n_named} of {n}"
        for kind, n_named, n in (
            ("regulators", len(spaced_labels(list(left), {g: p[1] for g, p in left.items()}, out_degree)), len(left)),
            ("targets", len(spaced_labels(list(right), {g: p[1] for g, p in right.items()}, in_degree)), len(right)),
        )
        if n_named < n
    ]
    if named:
        shown += f"\n(most connected named: {', '.join(named)})"
    ax.set_title(title or shown, fontsize=9)
    ax.set_xlim(-0.45, 1.45)  # room for the labels on both sides: nothing is clipped
    ax.set_ylim(-0.05, 1.05)
    ax.set_axis_off()
    return fig


def plot_curves(curves: dict, metrics: Optional[dict] = None):
    """Precision-recall and ROC curves side by side, each with its random baseline (from ``edge_curves``)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8.0, 3.8), layout="constrained")
    pr, roc = fig.subplots(1, 2)
    metrics = metrics or {}
    pr.plot(
        curves["recall"],
        curves["precision"],
        color="#3b6ea8",
        label=f"this ranking (AUPRC {metrics['AUPRC']:.3f})" if "AUPRC" in metrics else "this ranking",
    )
    pr.axhline(curves["density"], color="#888", ls="--", lw=0.8, label=f"random ({curves['density']:.3f})")
    pr.set_xlabel("recall (true edges found)")
    pr.set_ylabel("precision (found edges that are true)")
    pr.set_title("Precision-recall", fontsize=9)
    pr.set_xlim(0, 1)
    pr.set_ylim(0, 1.02)
    pr.legend(fontsize=7, frameon=False)
    roc.plot(
        curves["fpr"],
        curves["tpr"],
        color="#3b6ea8",
        label=f"this ranking (AUROC {metrics['AUROC']:.3f})" if "AUROC" in metrics else "this ranking",
    )
    roc.plot([0, 1], [0, 1], color="#888", ls="--", lw=0.8, label="random (0.5)")
    roc.set_xlabel("false positive rate")
    roc.set_ylabel("true positive rate (recall)")
    roc.set_title("ROC", fontsize=9)
    roc.legend(fontsize=7, frameon=False, loc="lower right")
    return fig
