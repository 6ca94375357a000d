"""Scatter of a 2-D embedding coloured by category or value, and a confusion-matrix heatmap."""

from __future__ import annotations

import numpy as np
import pandas as pd

UNKNOWN_COLOR = "#bbbbbb"


def _is_categorical(values: pd.Series) -> bool:
    return not pd.api.types.is_numeric_dtype(values) or isinstance(values.dtype, pd.CategoricalDtype)


def plot_embedding(embedding: np.ndarray, values, ax=None, title: str = "", xlabel: str = "1", ylabel: str = "2",
                   point_size: float | None = None):
    """Scatter ``embedding`` (cells x 2); categories get a legend (``Unknown`` in grey), numbers a colour bar."""
    from matplotlib import colormaps

    from omicsgat.pl.figure import new_figure

    fig, ax = new_figure(6.5, 5.0) if ax is None else (ax.figure, ax)
    emb = np.asarray(embedding)
    values = pd.Series(values).reset_index(drop=True)
    size = point_size or float(np.clip(3000.0 / max(1, len(emb)), 0.5, 20.0))
    if _is_categorical(values):
        cats = [c for c in pd.unique(values.astype(str)) if c != "Unknown"]
        cats = sorted(cats) + (["Unknown"] if (values.astype(str) == "Unknown").any() else [])
        cmap = colormaps["tab20" if len(cats) > 10 else "tab10"]
        for i, cat in enumerate(cats):
            m = (values.astype(str) == cat).to_numpy()
            ax.scatter(emb[m, 0], emb[m, 1], s=size, color=UNKNOWN_COLOR if cat == "Unknown" else cmap(i % cmap.N),
                       label=cat, linewidths=0, rasterized=len(emb) > 5000)
        ax.legend(markerscale=max(1.0, 20.0 / size) ** 0.5, fontsize=7, frameon=False, loc="best")
    else:
        sc = ax.scatter(emb[:, 0], emb[:, 1], c=values.to_numpy(dtype=float), s=size, cmap="viridis", linewidths=0,
                        rasterized=len(emb) > 5000)
        fig.colorbar(sc, ax=ax, label=title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title)
    return fig


def plot_confusion(true_labels, predicted, ax=None, normalize: bool = True):
    """Heatmap of true (rows) vs predicted (columns) types; rows sum to 1 when ``normalize``."""
    from omicsgat.metrics.classification import confusion_frame
    from omicsgat.pl.figure import new_figure

    frame = confusion_frame(true_labels, predicted)
    shown = frame.div(frame.sum(1).replace(0, 1), axis=0) if normalize else frame
    n_r, n_c = shown.shape
    fig, ax = new_figure(1.2 + 0.5 * n_c, 1.0 + 0.45 * n_r) if ax is None else (ax.figure, ax)
    im = ax.imshow(shown.to_numpy(dtype=float), cmap="Blues", vmin=0, aspect="auto")
    ax.set_xticks(range(n_c), shown.columns, rotation=60, ha="right", fontsize=7)
    ax.set_yticks(range(n_r), shown.index, fontsize=7)
    for i in range(n_r):
        for j in range(n_c):
            if frame.iat[i, j]:
                v = shown.iat[i, j]
                ax.text(j, i, f"{v:.2f}" if normalize else str(int(v)), ha="center", va="center", fontsize=6,
                        color="white" if v > 0.6 * shown.to_numpy().max() else "black")
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    fig.colorbar(im, ax=ax, label="fraction of true type" if normalize else "cells")
    return fig
