"""Horizontal bar plot of a ranked list (gene attention, hub scores, markers)."""

from __future__ import annotations

import pandas as pd


def plot_ranking(frame: pd.DataFrame, name_col: str, score_col: str, n: int = 20, ax=None, title: str = "", color: str = "#3b6ea8"):
    """Draw the top ``n`` rows of ``frame`` by ``score_col``; returns the Figure."""
    from omicsgat.pl.figure import new_figure

    if ax is None:
        fig, ax = new_figure(5.5, max(2.5, 0.25 * min(n, len(frame)) + 1.0))
    else:
        fig = ax.figure
    top = frame.nlargest(n, score_col)[::-1]
    ax.barh(top[name_col].astype(str), top[score_col], color=color)
    ax.set_xlabel(score_col)
    ax.tick_params(axis="y", labelsize=8)
    if title:
        ax.set_title(title)
    return fig
