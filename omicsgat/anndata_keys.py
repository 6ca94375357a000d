"""Where results go in an AnnData, the rule for existing keys, and the protocol every Result follows.

One layout for every analysis (``omicsgat.tl``, ``Result.write_to``, the CLI's ``--save-h5ad`` and
the GUI's Save annotated AnnData all write it; docs/formats.md documents it):

- per-cell values under keys with the prefix ``omicsgat``: ``obs[key_added]`` and keys derived from it
  (``obs[f"{key_added}_confidence"]``, ``obsm[f"{key_added}_proba"]``, ``obsm[f"{key_added}_activity"]``,
  ``uns[f"{key_added}_colors"]``, ``uns[f"{key_added}_markers"]``: scanpy's conventions);
- the run record (parameters, tables that are not per cell) in ``uns["omicsgat"][name]``, where
  ``name`` is the analysis (``"grn"``, ``"celltype"``, ``"prognosis"``) for the default ``key_added``
  and ``key_added`` itself for any other, so two runs with two keys keep two records.

A key that exists and was not written by OmicsGAT is never overwritten: the
writer raises :class:`OmicsInputError` and asks for another ``key_added``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
import pandas as pd

from omicsgat.errors import OmicsInputError

PREFIX = "omicsgat"
UNS_KEY = "omicsgat"
#: The default ``key_added`` of each analysis.
DEFAULT_KEYS = {"grn": "omicsgat_grn", "celltype": "omicsgat_celltype", "prognosis": "omicsgat_risk"}


@runtime_checkable
class AnalysisResult(Protocol):
    """What every analysis' Result offers: a table, files, and a place in an AnnData."""

    def to_frame(self) -> Any:
        """The main table (one row per edge, cell or sample)."""

    def save(self, target: str | Path) -> Any:
        """Write the result's files (a table file, or a folder of files for prognosis), atomically."""

    def write_to(self, adata, key_added: str = ..., param: str = "key_added") -> None:
        """Store the result in ``adata`` under the layout above."""


def _written(adata) -> set:
    return set(adata.uns.get(UNS_KEY, {}).get("_written_keys", []))


def claim(adata, slot: str, key: str, param: str = "key_added") -> str:
    """Check that ``adata.<slot>[key]`` is free or ours, and record it as ours.

    ``param`` is how the caller chooses the key (``key_added`` in the API,
    ``--key-added`` on the command line): the error names it.
    """
    container = getattr(adata, slot)
    tag = f"{slot}:{key}"
    if key in container and tag not in _written(adata):
        raise OmicsInputError(
            f"adata.{slot}[{key!r}] already exists and was not written by OmicsGAT; "
            f"choose another {param}, or remove that key first."
        )
    uns = adata.uns.setdefault(UNS_KEY, {})
    keys = list(uns.get("_written_keys", []))
    if tag not in keys:
        keys.append(tag)
    uns["_written_keys"] = keys
    return key


def record_name(analysis: str, key_added: str | None = None) -> str:
    """The name of a run's record in ``uns["omicsgat"]``: the analysis for its default key, else ``key_added``."""
    if key_added is None or key_added == DEFAULT_KEYS.get(analysis):
        return analysis
    if key_added in ("_written_keys", *DEFAULT_KEYS):
        raise OmicsInputError(f"key_added {key_added!r} is reserved; choose another.")
    return key_added


def uns_section(adata, analysis: str, key_added: str | None = None) -> dict:
    """``adata.uns["omicsgat"][record_name(analysis, key_added)]``, created empty (replacing an older run)."""
    uns = adata.uns.setdefault(UNS_KEY, {})
    name = record_name(analysis, key_added)
    uns[name] = {}
    return uns[name]


def stored_section(adata, analysis: str, key: str | None = None) -> tuple[dict | None, str]:
    """(the record of a run, where it was found) in the layout above, or in the older top-level
    ``uns[key]`` layout that ``omicsgat.tl.grn`` wrote in 0.1.0; (None, where it was looked for) if absent."""
    name = record_name(analysis, key)
    section = adata.uns.get(UNS_KEY, {}).get(name) if hasattr(adata.uns.get(UNS_KEY, {}), "get") else None
    if isinstance(section, dict) and section:
        return section, f'uns["omicsgat"][{name!r}]'
    legacy = key or DEFAULT_KEYS.get(analysis)
    old = adata.uns.get(legacy)
    if isinstance(old, dict) and old:
        return old, f"uns[{legacy!r}]"
    return None, f'uns["omicsgat"][{name!r}]'


#: How a missing record is named in errors, and the call that writes it.
_WRITERS = {
    "grn": ("GRN result", "omicsgat.tl.grn (or infer_grn)"),
    "celltype": ("cell-typing result", "omicsgat.tl.celltype (or annotate_cells)"),
    "prognosis": ("prognosis result", "run_prognosis"),
}


def stored_table(adata, analysis: str, key: str | None, part: str):
    """The table ``part`` (e.g. ``"edges"``) of a stored run as a DataFrame, or an error saying what to run.

    Here rather than in the analysis so that readers of the layout (``omicsgat.pl``) need not import it.
    """
    section, where = stored_section(adata, analysis, key)
    if section is None or part not in section:
        what, writer = _WRITERS[analysis]
        raise OmicsInputError(f"This AnnData has no {what} {part} in {where}; run {writer} first.")
    return pd.DataFrame({k: np.asarray(v) for k, v in section[part].items()})
