"""Gene regulatory network inference with graph attention.

``infer_grn(adata, ...)`` returns a :class:`GRNResult` (ranked edges, hubs,
export, plots); ``load_model(folder)`` reloads a saved model. See
:mod:`omicsgat.grn.model` for the networks and :mod:`omicsgat.metrics.grn`
for the evaluation.
"""

from omicsgat.grn.infer import infer_grn
from omicsgat.grn.persist import GRNModel
from omicsgat.grn.result import GRNResult

load_model = GRNModel.load

__all__ = ["infer_grn", "GRNResult", "GRNModel", "load_model"]
