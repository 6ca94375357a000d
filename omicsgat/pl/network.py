"""Drawing a regulatory network: regulators vs targets, edge width by score, colour by sign."""

from __future__ import annotations

from typing import Iterable, Optional

import numpy as np
import pandas as pd

ACTIVATING = "#c0392b"
REPRESSING = "#2c6fbb"
UNSIGNED = "#7f7f7f"


#: Most node labels that stay readable in one column of the default figure (6-pt text, 6 in high).
MAX_LABELS = 40


def layered_layout(top: pd.DataFrame) -> dict:
    """Regulators in a column on the left, their targets on the right, each ordered to cross few edges.

    A regulator that is also a target of a drawn edge stays on the left (it is drawn as a regulator); targets
    are ordered by the mean position of their regulators (one barycentre pass), regulators by edge count.
    """
    left = [g for g in pd.unique(top["regulator"].astype(str))]
    right = [g for g in pd.unique(top["target"].astype(str)) if g not in set(left)]
    degree = top["regulator"].astype(str).value_counts()
    left.sort(key=lambda g: (-degree.get(g, 0), g))
    y_left = {g: 1.0 - i / max(len(left) - 1, 1) for i, g in enumerate(left)}
    if len(left) == 1:
        y_left = {left[0]: 0.5}
    bary = top.assign(y=top["regulator"].astype(str).map(y_left)).groupby(top["target"].astype(str))["y"].mean()
    right.sort(key=lambda g: (-bary.get(g, 0.0), g))
    y_right = {g: 1.0 - i / max(len(right) - 1, 1) for i, g in enumerate(right)}
    if len(right) == 1:
        y_right = {right[0]: 0.5}
    pos = {g: np.array([0.0, y]) for g, y in y_left.items()}
    pos.update({g: np.array([1.0, y]) for g, y in y_right.items()})
    return pos


def plot_network(edges: pd.DataFrame, n_edges: int = 30, ax=None, regulators: Optional[Iterable[str]] = None,
                 title: str = "", seed: int = 0):
    """Draw the top ``n_edges`` edges (by ``score``) of an edge table; returns the Figure.

    Regulators (squares) in a column on the left, targets (circles) on the
    right (:func:`layered_layout`), so a regulator's fan of targets reads at
    a glance even at a few hundred edges; edge width grows with score; red =
    activating, blue = repressing (from the ``sign`` column when there is
    one). Every regulator is labelled; targets are labelled while a column
    stays readable (:data:`MAX_LABELS`), else only the most connected ones.
    Labels sit outside the node columns, inside the figure. ``regulators``
    and ``seed`` are accepted for compatibility: the columns come from the
    drawn edges, and the layout is deterministic.
    """
    from matplotlib.patches import FancyArrowPatch

    from omicsgat.pl.figure import new_figure

    if ax is None:
        fig, ax = new_figure(7.0, 6.0)
    else:
        fig = ax.figure
    top = edges.nlargest(n_edges, "score") if len(edges) else edges
    if top.empty:
        ax.text(0.5, 0.5, "no edges", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return fig
    pos = layered_layout(top)
    s = top["score"].to_numpy(dtype=float)
    span = (s.max() - s.min()) or 1.0
    widths = 0.4 + 2.2 * (s - s.min()) / span
    alpha = 0.75 if len(top) <= 60 else 0.45
    signs = top["sign"].to_numpy() if "sign" in top.columns else np.zeros(len(top))
    for (r, t), w, sg in zip(zip(top["regulator"].astype(str), top["target"].astype(str)), widths, signs):
        color = ACTIVATING if sg > 0 else REPRESSING if sg < 0 else UNSIGNED
        rad = 0.0 if pos[r][0] != pos[t][0] else 0.4  # regulator -> regulator: an arc along the left column
        ax.add_patch(FancyArrowPatch(pos[r], pos[t], arrowstyle="-|>", mutation_scale=7, lw=w, color=color,
                                     alpha=alpha, shrinkA=5, shrinkB=5, connectionstyle=f"arc3,rad={rad}"))
    left = [g for g, p in pos.items() if p[0] == 0.0]
    right = [g for g, p in pos.items() if p[0] == 1.0]
    in_degree = top["target"].astype(str).value_counts()
    for names, x, marker, color, size, ha, dx in ((left, 0.0, "s", "#f0b429", 70, "right", -0.04),
                                                  (right, 1.0, "o", "#d9d9d9", 40, "left", 0.04)):
        if not names:
            continue
        xy = np.array([pos[n] for n in names])
        ax.scatter(xy[:, 0], xy[:, 1], s=size, marker=marker, c=color, edgecolors="black", linewidths=0.5, zorder=3,
                   label="regulator" if x == 0.0 else "target")
        labelled = names if len(names) <= MAX_LABELS else sorted(names, key=lambda g: -in_degree.get(g, 0))[:MAX_LABELS // 2]
        fontsize = 7 if len(names) <= 25 else 6 if len(names) <= MAX_LABELS else 5
        for n in labelled:
            ax.text(pos[n][0] + dx, pos[n][1], n, fontsize=fontsize, ha=ha, va="center", zorder=4, clip_on=False)
    ax.plot([], [], color=ACTIVATING, label="activating")
    ax.plot([], [], color=REPRESSING, label="repressing")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=4, fontsize=7, frameon=False)
    shown = f"Top {len(top)} edges: {len(left)} regulators → {len(right)} targets"
    if len(right) > MAX_LABELS:
        shown += f" (the {MAX_LABELS // 2} most regulated targets labelled)"
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
    pr.plot(curves["recall"], curves["precision"], color="#3b6ea8",
            label=f"this ranking (AUPRC {metrics['AUPRC']:.3f})" if "AUPRC" in metrics else "this ranking")
    pr.axhline(curves["density"], color="#888", ls="--", lw=0.8, label=f"random ({curves['density']:.3f})")
    pr.set_xlabel("recall (true edges found)")
    pr.set_ylabel("precision (found edges that are true)")
    pr.set_title("Precision-recall", fontsize=9)
    pr.set_xlim(0, 1)
    pr.set_ylim(0, 1.02)
    pr.legend(fontsize=7, frameon=False)
    roc.plot(curves["fpr"], curves["tpr"], color="#3b6ea8",
             label=f"this ranking (AUROC {metrics['AUROC']:.3f})" if "AUROC" in metrics else "this ranking")
    roc.plot([0, 1], [0, 1], color="#888", ls="--", lw=0.8, label="random (0.5)")
    roc.set_xlabel("false positive rate")
    roc.set_ylabel("true positive rate (recall)")
    roc.set_title("ROC", fontsize=9)
    roc.legend(fontsize=7, frameon=False, loc="lower right")
    return fig
