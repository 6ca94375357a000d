"""Plots shared by the GUI and the CLI exports.

Every function draws on a :class:`matplotlib.figure.Figure` (never pyplot's
global state), so the GUI embeds the same figure that the CLI saves.
"""

from omicsgat.pl.figure import new_figure, save_figure
from omicsgat.pl.ranking import plot_ranking

__all__ = ["new_figure", "save_figure", "plot_ranking"]
