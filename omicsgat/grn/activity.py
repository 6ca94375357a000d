"""Regulon activity per cell from an inferred network, with decoupler's univariate linear model.

The network is taken in decoupler's layout (``source``, ``target``,
``weight``; the weight is the edge score, signed by the regulator-target
correlation), and ``decoupler.mt.ulm`` scores each regulator in each cell by
the t-value of a regression of the cell's expression on the regulator's
target weights: positive when its activated targets are high and its
repressed targets low.
"""

from __future__ import annotations

from typing import Optional

import numpy as np
import pandas as pd

from omicsgat.errors import OmicsInputError
from omicsgat.io.genes import symbol_view
from omicsgat.pp import log_normalized


def decoupler_network(edges: pd.DataFrame, n_edges: Optional[int] = None) -> pd.DataFrame:
    """``source``, ``target``, ``weight`` from an edge table (the top ``n_edges`` by score; default all).

    weight = sign x score / max score, in [-1, 1].
    """
    top = edges.sort_values("score", ascending=False, kind="mergesort")
    if n_edges is not None:
        top = top.iloc[: int(n_edges)]
    scale = float(top["score"].abs().max()) if len(top) else 1.0
    sign = top["sign"].to_numpy(dtype=float) if "sign" in top.columns else np.ones(len(top))
    sign[sign == 0] = 1.0
    return pd.DataFrame(
        {
            "source": top["regulator"].astype(str).to_numpy(),
            "target": top["target"].astype(str).to_numpy(),
            "weight": sign * top["score"].to_numpy(dtype=float) / (scale or 1.0),
        }
    ).reset_index(drop=True)


def regulon_activity(
    adata, network: pd.DataFrame, *, tmin: int = 3, gene_symbols: Optional[str] = None
) -> pd.DataFrame:
    """Activity of each regulator of ``network`` in each cell (cells x regulators, ulm t-values).

    Expression is log-normalized (from raw counts when present), genes named
    by symbol as in the network. Regulators with fewer than ``tmin`` targets
    among the genes are left out (decoupler's rule).
    """
    import anndata as ad
    import decoupler as dc

    missing = [c for c in ("source", "target", "weight") if c not in network.columns]
    if missing:
        raise OmicsInputError(f"The network has no column(s) {missing}; decoupler's layout is source, target, weight.")
    view, _ = symbol_view(adata, gene_symbols)
    log = log_normalized(view)
    data = ad.AnnData(
        X=log.X, obs=pd.DataFrame(index=adata.obs_names.astype(str)), var=pd.DataFrame(index=view.var_names)
    )
    net = network[network["target"].isin(set(data.var_names))]
    counts = net.groupby("source").size()
    if not (counts >= tmin).any():
        raise OmicsInputError(
            f"No regulator of the network has {tmin} or more targets among the genes of the data; "
            "keep more edges or lower tmin."
        )
    dc.mt.ulm(data=data, net=net, tmin=tmin, verbose=False)
    scores = data.obsm["score_ulm"]
    frame = pd.DataFrame(
        np.asarray(scores, dtype=np.float32), index=adata.obs_names.copy(), columns=[str(c) for c in scores.columns]
    )
    return frame
