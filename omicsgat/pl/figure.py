"""Figure creation and atomic saving."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

from omicsgat.errors import OmicsInputError
from omicsgat.io.atomic import atomic_path

FIGURE_FORMATS = ("png", "svg", "pdf")


def new_figure(width: float = 6.0, height: float = 4.5):
    """A pyplot-free Figure with one Axes: ``fig, ax = new_figure()``."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    return fig, fig.add_subplot(111)


def save_figure(fig, path: str | Path, dpi: int = 150) -> Path:
    """Save ``fig`` atomically; the format comes from the suffix (png, svg, pdf)."""
    target = Path(path)
    fmt = target.suffix.lower().lstrip(".")
    if fmt not in FIGURE_FORMATS:
        raise OmicsInputError(f"Cannot save a plot as {target.name!r}: use .png, .svg or .pdf.")
    with atomic_path(target) as tmp:
        fig.savefig(tmp, format=fmt, dpi=dpi)
    return target


def save_figure_formats(fig, stem: str | Path, formats: Iterable[str] = FIGURE_FORMATS, dpi: int = 150) -> list[Path]:
    """Save one figure as ``stem.png``, ``stem.svg``, ``stem.pdf`` (or the formats given)."""
    stem = Path(stem)
    return [save_figure(fig, stem.with_suffix(f".{fmt}"), dpi=dpi) for fmt in formats]
