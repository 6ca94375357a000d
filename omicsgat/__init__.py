"""OmicsGAT: attention models for single-cell and multi-omics data.

The engine is Qt-free. Heavy libraries (torch, scanpy, PyG) are imported
lazily, inside the functions that need them, so that ``import omicsgat`` and
the GUI start fast.
"""

from __future__ import annotations

from omicsgat.errors import Cancelled, OmicsInputError

__version__ = "0.1.0"

__all__ = ["OmicsInputError", "Cancelled", "__version__", "tl", "pl"]


def __getattr__(name: str):
    """``omicsgat.tl`` and ``omicsgat.pl`` on first use (scanpy style), without importing them at start-up."""
    if name in ("tl", "pl"):
        import importlib

        return importlib.import_module(f"omicsgat.{name}")
    raise AttributeError(f"module 'omicsgat' has no attribute {name!r}")
