"""Scatter of a 2-D embedding coloured by category or value, and a confusion-matrix heatmap."""

from __future__ import annotations

import numpy as np
import pandas as pd

from omicsgat.metrics.classification import confusion_frame
from omicsgat.pl.figure import new_figure

UNKNOWN_COLOR = "#bbbbbb"
UNKNOWN_EDGE = "#555555"  # Unknown cells are drawn as hollow circles with this outline


def _is_categorical(values: pd.Series) -> bool:
    return not pd.api.types.is_numeric_dtype(values) or isinstance(values.dtype, pd.CategoricalDtype)


def basis_labels(basis: str) -> tuple[str, str]:
    """Axis names as scanpy writes them: ``X_pca`` -> PC1/PC2, ``X_umap`` -> UMAP1/UMAP2, ``X_tsne`` -> tSNE1/tSNE2."""
    name = basis.removeprefix("X_")
    short = {"pca": "PC", "umap": "UMAP", "tsne": "tSNE", "draw_graph_fa": "FA"}.get(name.lower(), name)
    return f"{short}1", f"{short}2"


def category_colors(categories, palette: dict | None = None) -> dict:
    """One colour per category, fixed by the category's place in the full sorted list (not by which are present),
    so a type keeps its colour when Unknown appears or another type is missing; ``palette`` wins; Unknown is grey."""
    from matplotlib import colormaps

    cats = sorted({str(c) for c in categories if str(c) != "Unknown"})
    cmap = colormaps["tab20" if len(cats) > 10 else "tab10"]
    out = {c: cmap(i % cmap.N) for i, c in enumerate(cats)}
    out.update({str(k): v for k, v in (palette or {}).items()})
    out["Unknown"] = UNKNOWN_COLOR
    return out


def plot_embedding(
    embedding: np.ndarray,
    values,
    ax=None,
    title: str = "",
    xlabel: str = "1",
    ylabel: str = "2",
    point_size: float | None = None,
    palette: dict | None = None,
    categories=None,
    cmap: str = "viridis",
    center: float | None = None,
):
    """Scatter ``embedding`` (cells x 2); categories get a legend beside the plot (``Unknown`` in grey), numbers a
    colour bar (``cmap``).

    Category colours follow :func:`category_colors` over ``categories`` (default: a categorical's own
    categories, else the values present); ``palette`` (category -> colour, e.g. :func:`stored_palette`, so a
    type has the colour scanpy gives it) wins.
    """
    fig, ax = new_figure(6.5, 5.0) if ax is None else (ax.figure, ax)
    emb = np.asarray(embedding)
    values = pd.Series(values).reset_index(drop=True)
    size = point_size or float(np.clip(3000.0 / max(1, len(emb)), 0.5, 20.0))
    if _is_categorical(values):
        if categories is None:
            categories = (
                values.cat.categories if isinstance(values.dtype, pd.CategoricalDtype) else values.dropna().unique()
            )
        colors = category_colors(list(categories) + list(values.dropna().astype(str).unique()), palette)
        cats = [c for c in pd.unique(values.astype(str)) if c != "Unknown"]
        cats = sorted(cats) + (["Unknown"] if (values.astype(str) == "Unknown").any() else [])
        for cat in cats:
            m = (values.astype(str) == cat).to_numpy()
            if cat == "Unknown":  # hollow: never mistaken for a grey type (scanpy gives some types grey)
                ax.scatter(
                    emb[m, 0],
                    emb[m, 1],
                    s=size,
                    facecolors="none",
                    edgecolors=UNKNOWN_EDGE,
                    label=cat,
                    linewidths=0.6,
                    rasterized=len(emb) > 5000,
                )
                continue
            ax.scatter(
                emb[m, 0],
                emb[m, 1],
                s=size,
                color=colors.get(cat, UNKNOWN_COLOR),
                label=cat,
                linewidths=0,
                rasterized=len(emb) > 5000,
            )
        # beside the plot, never over the cells
        ax.legend(
            markerscale=max(1.0, 20.0 / size) ** 0.5,
            fontsize=7,
            frameon=False,
            loc="upper left",
            bbox_to_anchor=(1.0, 1.0),
            borderaxespad=0.2,
        )
    else:
        numbers = values.to_numpy(dtype=float)
        limits = {}
        if center is not None and np.isfinite(numbers).any():  # a diverging map: its middle colour at ``center``
            reach = float(np.nanmax(np.abs(numbers - center))) or 1.0
            limits = {"vmin": center - reach, "vmax": center + reach}
        sc = ax.scatter(
            emb[:, 0], emb[:, 1], c=numbers, s=size, cmap=cmap, linewidths=0, rasterized=len(emb) > 5000, **limits
        )
        fig.colorbar(sc, ax=ax, label=title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title)
    return fig


def stored_palette(adata, key: str) -> dict | None:
    """``{category: colour}`` from ``adata.uns[f"{key}_colors"]`` (scanpy's convention), when it fits."""
    colors = adata.uns.get(f"{key}_colors") if hasattr(adata, "uns") else None
    col = adata.obs[key] if key in adata.obs else None
    if colors is None or col is None or not isinstance(col.dtype, pd.CategoricalDtype):
        return None
    cats = [str(c) for c in col.cat.categories]
    colors = [str(c) for c in np.asarray(colors).ravel()]
    return dict(zip(cats, colors)) if len(colors) >= len(cats) else None


def plot_confusion(true_labels, predicted, ax=None, normalize: bool = True):
    """Heatmap of true (rows) vs predicted (columns) types; rows sum to 1 when ``normalize``."""
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
                # the fraction and the number of cells behind it: 1.00 of 3 cells is not 1.00 of 300
                ax.text(
                    j,
                    i,
                    f"{v:.2f}\n({int(frame.iat[i, j])})" if normalize else str(int(v)),
                    ha="center",
                    va="center",
                    fontsize=5 if normalize else 6,
                    color="white" if v > 0.6 * shown.to_numpy().max() else "black",
                )
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    fig.colorbar(im, ax=ax, label="fraction of true type" if normalize else "cells")
    return fig
