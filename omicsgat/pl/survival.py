"""Kaplan–Meier curves per risk group and per-fold C-index, on pyplot-free Figures."""

from __future__ import annotations

import math
from typing import Optional, Sequence

import numpy as np
import pandas as pd

from omicsgat.metrics.survival import group_survival_stats
from omicsgat.pl.figure import new_figure

GROUP_COLORS = {"low": "#3b6ea8", "intermediate": "#8c8c8c", "high": "#c0392b"}


def _fmt_p(p: float) -> str:
    if p is None or not np.isfinite(p):
        return "n/a"
    return f"{p:.2e}" if p < 1e-3 else f"{p:.3f}"


def plot_km(
    time,
    event,
    group,
    *,
    stats: Optional[dict] = None,
    order: Optional[Sequence[str]] = None,
    ax=None,
    title: str = "",
    time_label: str = "time",
    at_risk: bool = True,
):
    """Kaplan–Meier curve with 95% band per group, log-rank p and HR (95% CI) in the title, at-risk counts below.

    ``stats`` is :func:`omicsgat.metrics.survival.group_survival_stats` output
    (computed here when not given). Returns the Figure.
    """
    from lifelines import KaplanMeierFitter
    from lifelines.plotting import add_at_risk_counts

    time, event, group = np.asarray(time, float), np.asarray(event, bool), np.asarray(group).astype(str)
    if ax is None:
        fig, ax = new_figure(6.5, 5.5)
    else:
        fig = ax.figure
    stats = stats if stats is not None else group_survival_stats(time, event, group)
    labels = list(order) if order is not None else sorted(pd.unique(group))
    fitters = []
    for label in labels:
        sel = group == label
        if not sel.any():
            continue
        kmf = KaplanMeierFitter(label=f"{label} (n={int(sel.sum())})").fit(time[sel], event[sel])
        kmf.plot_survival_function(
            ax=ax,
            ci_show=True,
            color=GROUP_COLORS.get(label),
            show_censors=True,
            censor_styles={"ms": 4, "marker": "|"},
        )
        fitters.append(kmf)
    hr = stats.get("hazard_ratio", math.nan)
    line = f"log-rank p = {_fmt_p(stats.get('logrank_p'))}"
    if np.isfinite(hr):
        line += f"; HR high vs low = {hr:.2f} (95% CI {stats['hr_ci_low']:.2f}–{stats['hr_ci_high']:.2f})"
    ax.set_title((title + "\n" if title else "") + line, fontsize=9)
    ax.set_xlabel(time_label)
    ax.set_ylabel("survival probability")
    ax.set_ylim(0, 1.05)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)  # beside the curves
    if at_risk and fitters:
        add_at_risk_counts(*fitters, ax=ax, fig=fig, rows_to_show=["At risk"])
    return fig


def plot_cindex(fold_metrics: pd.DataFrame, ax=None, title: str = "C-index per fold"):
    """Validation (out-of-fold) vs training C-index per fold: a gap shows overfitting."""
    if ax is None:
        fig, ax = new_figure(5.5, 3.8)
    else:
        fig = ax.figure
    folds = fold_metrics["fold"].to_numpy()
    width = 0.38
    ax.bar(folds - width / 2, fold_metrics["train_c_index"], width, label="training", color="#b0c4de")
    ax.bar(folds + width / 2, fold_metrics["c_index"], width, label="held out", color="#3b6ea8")
    mean = float(fold_metrics["c_index"].mean())
    ax.axhline(mean, color="#3b6ea8", ls="--", lw=1, label=f"held-out mean {mean:.3f}")
    ax.axhline(0.5, color="grey", ls=":", lw=1)
    ax.set_xticks(folds)
    ax.set_xlabel("fold")
    ax.set_ylabel("Harrell's C")
    ax.set_ylim(0.3, 1.0)  # C runs to 1: the legend sits below the axes, not above 1
    ax.legend(fontsize=8, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=3)
    ax.set_title(title)
    return fig
