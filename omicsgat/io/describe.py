"""One text summary of a data file or object: what ``omicsgat info`` prints and the GUI shows."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping, Optional

import pandas as pd

from omicsgat.errors import OmicsInputError
from omicsgat.io.anndata_io import is_anndata_path, read_anndata
from omicsgat.io.clinical import read_clinical
from omicsgat.io.genes import gene_ids
from omicsgat.io.multiomics import MultiOmics
from omicsgat.io.report import LoadReport
from omicsgat.io.tables import is_table_path, read_raw_table, validate_omics_frame
from omicsgat.pp import detect_x_kind


def _names(items, n: int = 8) -> str:
    items = [str(x) for x in items]
    if not items:
        return "(none)"
    return ", ".join(items[:n]) + (f", ... ({len(items)} in all)" if len(items) > n else "")


def _gene_ids(adata) -> str:
    return gene_ids(adata).describe()


def _describe_anndata(adata, report: Optional[LoadReport]) -> str:
    kind = detect_x_kind(adata.X[: min(adata.n_obs, 2000)]) if adata.n_obs and adata.n_vars else "unknown"
    layers = list(adata.layers.keys())
    lines = [
        "Single-cell data (AnnData)" + (" [backed, read-only]" if getattr(adata, "isbacked", False) else ""),
        f"  cells:        {adata.n_obs}",
        f"  genes:        {adata.n_vars}",
        f"  X holds:      {kind}",
        f"  obs columns:  {_names(adata.obs.columns)}",
        f"  var columns:  {_names(adata.var.columns)}",
        f"  gene IDs:     {_gene_ids(adata)}",
        f"  layers:       {_names(layers)}" + ("  (raw counts in layers['counts'])" if "counts" in layers else ""),
        f"  raw:          {'yes (' + str(adata.raw.n_vars) + ' genes)' if adata.raw is not None else 'no'}",
        f"  obsm:         {_names(adata.obsm.keys())}",
        f"  uns keys:     {_names(adata.uns.keys())}",
    ]
    if report is not None:
        lines += ["", report.to_text()]
    return "\n".join(lines)


def _describe_table(frame: pd.DataFrame, report: Optional[LoadReport]) -> str:
    n_missing = int(frame.isna().to_numpy().sum())
    lines = [
        "Omics table (samples x features)",
        f"  samples:         {frame.shape[0]}  ({_names(frame.index, 4)})",
        f"  features:        {frame.shape[1]}  ({_names(frame.columns, 4)})",
        f"  missing values:  {n_missing}",
    ]
    if frame.size:
        lines.append(f"  value range:     {float(frame.min().min()):.4g} .. {float(frame.max().max()):.4g}")
    if report is not None:
        lines += ["", report.to_text()]
    return "\n".join(lines)


def _describe_cohort(cohort: MultiOmics) -> str:
    lines = [
        "Multi-omics cohort",
        f"  samples (in every table): {cohort.n_samples}",
        f"  events:                   {int(cohort.event.sum())} (time {cohort.time_col!r}, event {cohort.event_col!r})",
        f"  clinical columns:         {_names(cohort.clinical.columns)}",
    ]
    for name, table in cohort.tables.items():
        n_missing = int(table.isna().to_numpy().sum())
        lines.append(f"  {name}: {table.shape[1]} features" + (f", {n_missing} missing values" if n_missing else ""))
    lines += ["", cohort.report.to_text()]
    return "\n".join(lines)


def _describe_clinical(frame: pd.DataFrame, report: LoadReport, time_col: str, event_col: str) -> str:
    lines = [
        "Clinical table",
        f"  samples:  {len(frame)}",
        f"  events:   {int(frame[event_col].sum())} ({event_col!r}); censored {int((frame[event_col] == 0).sum())}",
        f"  time:     {time_col!r} from {frame[time_col].min():.4g} to {frame[time_col].max():.4g} (median {frame[time_col].median():.4g})",
        f"  columns:  {_names(frame.columns)}",
        "",
        report.to_text(),
    ]
    return "\n".join(lines)


def _text_columns(raw: pd.DataFrame) -> list:
    """Columns that are mostly words (an annotation/clinical table), not numbers with a few typos."""
    out = []
    for j, col in enumerate(raw.columns):
        s = raw.iloc[:, j].dropna()
        if s.empty or pd.api.types.is_numeric_dtype(s.dtype):
            continue
        numeric = pd.to_numeric(s.astype(str).str.strip(), errors="coerce").notna().mean()
        if numeric < 0.5:
            out.append(col)
    return out


def _describe_annotation(raw: pd.DataFrame, text_cols: list, report: LoadReport) -> str:
    import re

    time_like = [c for c in raw.columns if re.search(r"time|days|months|surviv|follow", str(c), re.I)]
    event_like = [c for c in raw.columns if re.search(r"event|status|vital|dead|death|censor", str(c), re.I)]
    lines = [
        "Table with text columns (clinical or annotation table, not an omics table)",
        f"  rows:          {raw.shape[0]}  ({_names(raw.index, 4)})",
        f"  columns:       {_names(raw.columns)}",
        f"  text columns:  {_names(text_cols)}",
    ]
    if time_like or event_like:
        lines.append(f"  survival-like: time {_names(time_like, 3)}; event {_names(event_like, 3)}")
    lines.append("  To check it as a clinical table, give --time-col and --event-col (time_col/event_col).")
    lines += ["", report.to_text()]
    return "\n".join(lines)


def describe(
    path_or_obj,
    *,
    transpose: bool = False,
    time_col: Optional[str] = None,
    event_col: Optional[str] = None,
    event_map: Optional[Mapping] = None,
    backed: bool = True,
) -> str:
    """Summarize a file (single-cell file or folder, omics table; a clinical table when
    ``time_col``/``event_col`` are given) or an AnnData / DataFrame / MultiOmics.

    Files are loaded with the same validation as the analyses, so problems
    raise :class:`OmicsInputError` and warnings appear in the load report.
    """
    if isinstance(path_or_obj, MultiOmics):
        return _describe_cohort(path_or_obj)
    if isinstance(path_or_obj, pd.DataFrame):
        return _describe_table(path_or_obj, None)
    if hasattr(path_or_obj, "obs") and hasattr(path_or_obj, "var"):
        return _describe_anndata(path_or_obj, None)
    if not isinstance(path_or_obj, (str, os.PathLike)):
        raise OmicsInputError(
            f"Cannot describe a {type(path_or_obj).__name__}; give a file path, an AnnData, a table or a cohort."
        )

    p = Path(path_or_obj)
    if time_col or event_col:
        if not (time_col and event_col):
            raise OmicsInputError("Describing a clinical table needs both the time column and the event column.")

        frame, report = read_clinical(p, time_col=time_col, event_col=event_col, event_map=event_map)
        return f"{p}\n" + _describe_clinical(frame, report, time_col, event_col)
    if not p.exists():
        raise OmicsInputError(f"{p.name}: file not found ({p}). Check the path.")
    if is_table_path(p):
        report = LoadReport(source=str(p))
        raw = read_raw_table(p, report)
        text_cols = _text_columns(raw)
        if text_cols and not transpose:
            return f"{p}\n" + _describe_annotation(raw, text_cols, report)
        frame = validate_omics_frame(p, raw, report, transposed=transpose)
        return f"{p}\n" + _describe_table(frame, report)
    if is_anndata_path(p):
        adata, report = read_anndata(p, backed=backed and p.suffix.lower() == ".h5ad")
        try:
            return f"{p}\n" + _describe_anndata(adata, report)
        finally:
            if getattr(adata, "isbacked", False):
                adata.file.close()
    raise OmicsInputError(
        f"{p.name}: unknown file type {p.suffix!r}. Supported: .h5ad, .h5 (10x), 10x matrix folders, .loom, .h5mu, "
        f".csv, .tsv, .txt, .parquet (text optionally .gz), .xlsx."
    )
