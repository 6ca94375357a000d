"""Cell typing with gene attention and graph attention over a cell kNN graph.

``annotate_cells(adata, label_key, reference=None, ...) -> CellTypeResult``;
a trained model is kept on the result (``result.model``) and can be saved and
re-applied to new data with :class:`CellTypeModel`. A query too large for memory:
``predict_atlas(model, "atlas.h5ad", reference, out="labels.parquet", scheduler=...)``.
"""

from omicsgat.celltype.annotate import CellTypeModel, annotate_cells
from omicsgat.celltype.atlas import predict_atlas
from omicsgat.celltype.result import UNKNOWN, CellTypeResult

__all__ = ["annotate_cells", "predict_atlas", "CellTypeResult", "CellTypeModel", "UNKNOWN"]
