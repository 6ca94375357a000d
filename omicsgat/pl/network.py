"""Drawing a regulatory network: regulators vs targets, edge width by score, colour by sign."""

from __future__ import annotations

from typing import Iterable, Optional

import numpy as np
import pandas as pd

ACTIVATING = "#c0392b"
REPRESSING = "#2c6fbb"
UNSIGNED = "#7f7f7f"


def plot_network(edges: pd.DataFrame, n_edges: int = 50, ax=None, regulators: Optional[Iterable[str]] = None,
                 title: str = "", seed: int = 0):
    """Draw the top ``n_edges`` edges (by ``score``) of an edge table; returns the Figure.

    Regulators are squares, other genes circles; edge width grows with score;
    red = activating, blue = repressing (from the ``sign`` column when there is
    one). The layout is networkx's spring layout with a fixed seed, so the
    same network is always drawn the same way.
    """
    import networkx as nx
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
    graph = nx.DiGraph()
    graph.add_edges_from(zip(top["regulator"].astype(str), top["target"].astype(str)))
    pos = nx.spring_layout(graph, seed=seed, k=1.5 / np.sqrt(max(graph.number_of_nodes(), 1)))
    regs = set(map(str, regulators)) if regulators is not None else set(top["regulator"].astype(str))
    s = top["score"].to_numpy(dtype=float)
    span = (s.max() - s.min()) or 1.0
    widths = 0.6 + 3.0 * (s - s.min()) / span
    signs = top["sign"].to_numpy() if "sign" in top.columns else np.zeros(len(top))
    for (r, t), w, sg in zip(zip(top["regulator"].astype(str), top["target"].astype(str)), widths, signs):
        color = ACTIVATING if sg > 0 else REPRESSING if sg < 0 else UNSIGNED
        ax.add_patch(FancyArrowPatch(pos[r], pos[t], arrowstyle="-|>", mutation_scale=9, lw=w, color=color,
                                     alpha=0.75, shrinkA=7, shrinkB=7, connectionstyle="arc3,rad=0.08"))
    for is_reg, marker, color in ((True, "s", "#f0b429"), (False, "o", "#d9d9d9")):
        names = [n for n in graph.nodes if (n in regs) == is_reg]
        if names:
            xy = np.array([pos[n] for n in names])
            ax.scatter(xy[:, 0], xy[:, 1], s=160 if is_reg else 70, marker=marker, c=color, edgecolors="black",
                       linewidths=0.5, zorder=3, label="regulator" if is_reg else "target")
            for n, (x, y) in zip(names, xy):
                ax.text(x, y, n, fontsize=7 if is_reg else 6, ha="center", va="center", zorder=4)
    ax.plot([], [], color=ACTIVATING, label="activating")
    ax.plot([], [], color=REPRESSING, label="repressing")
    ax.legend(loc="lower left", fontsize=7, frameon=False)
    ax.set_title(title or f"Top {len(top)} edges")
    ax.set_axis_off()
    ax.autoscale_view()
    return fig
