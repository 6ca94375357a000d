"""OmicsGAT: attention models for single-cell and multi-omics data.

The engine is Qt-free. Heavy libraries (torch, scanpy, PyG) are imported
lazily, inside the functions that need them, so that ``import omicsgat`` and
the GUI start fast.
"""

from __future__ import annotations

from omicsgat.errors import Cancelled, OmicsInputError

__version__ = "0.1.0"

__all__ = ["OmicsInputError", "Cancelled", "__version__"]
