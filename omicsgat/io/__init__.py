"""Loading and validating data, and writing results atomically.

Public API: :func:`read_anndata`, :func:`obs_columns`, :func:`read_table`, :func:`preview_table`,
:func:`read_clinical`, :func:`read_cohort`, :func:`describe`, and the
:class:`LoadReport` / :class:`MultiOmics` they return. Heavy libraries
(scanpy, anndata) are imported inside the readers.
"""

from __future__ import annotations

from omicsgat.io.anndata_io import obs_columns, read_anndata
from omicsgat.io.clinical import read_clinical, read_cohort
from omicsgat.io.describe import describe
from omicsgat.io.multiomics import MultiOmics
from omicsgat.io.report import LoadReport
from omicsgat.io.tables import preview_table, read_table

__all__ = [
    "read_anndata",
    "obs_columns",
    "read_table",
    "preview_table",
    "read_clinical",
    "read_cohort",
    "describe",
    "LoadReport",
    "MultiOmics",
]
