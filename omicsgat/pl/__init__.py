"""Plots shared by the GUI and the CLI exports.

Every function draws on a :class:`matplotlib.figure.Figure` (never pyplot's
global state), so the GUI embeds the same figure that the CLI saves.

scanpy-shaped functions over the results that :mod:`omicsgat.tl` stored
(AnnData and key in, Figure out, ``ax=`` accepted): :func:`celltype`,
:func:`celltype_markers`, :func:`grn_network`, :func:`grn_hubs`,
:func:`tf_activity`; and :func:`grn_pair` (a GRNResult's regulator pair: observed and predicted 2 x 2 grids).
"""

from omicsgat.pl.anndata import celltype, celltype_markers, grn_hubs, grn_network, tf_activity
from omicsgat.pl.figure import new_figure, save_figure
from omicsgat.pl.pairs import grn_pair
from omicsgat.pl.ranking import plot_ranking

__all__ = [
    "new_figure",
    "save_figure",
    "plot_ranking",
    "celltype",
    "celltype_markers",
    "grn_network",
    "grn_hubs",
    "tf_activity",
    "grn_pair",
]
