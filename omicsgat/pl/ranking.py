"""Horizontal bar plot of a ranked list (gene attention, hub scores, markers)."""

from __future__ import annotations

import pandas as pd

from omicsgat.pl.figure import new_figure


def plot_ranking(
    frame: pd.DataFrame,
    name_col: str,
    score_col: str,
    n: int = 20,
    ax=None,
    title: str = "",
    color: str = "#3b6ea8",
    baseline: float = 0.0,
):
    """Draw the top ``n`` rows of ``frame`` by ``score_col``; returns the Figure.

    Bars start at ``baseline`` (e.g. 1 for attention, whose average is 1) so
    that values of 1.0-1.2 do not all look the same; the axis is fitted to
    the bars, not to 0.
    """
    if ax is None:
        fig, ax = new_figure(5.5, max(2.5, 0.25 * min(n, len(frame)) + 1.0))
    else:
        fig = ax.figure
    top = frame.nlargest(n, score_col)[::-1]
    values = top[score_col].astype(float)
    ax.barh(top[name_col].astype(str), values - baseline, left=baseline, color=color)
    if baseline:
        ax.axvline(baseline, color="#888", lw=0.8)
        lo, hi = min(values.min(), baseline), max(values.max(), baseline)
        pad = 0.05 * (hi - lo or 1.0)
        ax.set_xlim(lo - pad, hi + pad)
    ax.set_xlabel(f"{score_col} ({baseline:g} = average)" if baseline else score_col)
    ax.tick_params(axis="y", labelsize=8)
    if title:
        ax.set_title(title)
    return fig
