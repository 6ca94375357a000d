"""Reading a BEELINE input folder (Pratapa et al. 2020) into an AnnData.

A BEELINE folder holds ``ExpressionData.csv`` (genes x cells, first column
gene names), optionally ``PseudoTime.csv`` (cells x trajectories, empty where a
cell is not on a trajectory) and ``refNetwork.csv`` (``Gene1`` regulator,
``Gene2`` target, optional ``Type`` ``+``/``-``). The AnnData is cells x genes;
the pseudotime columns go to ``obs`` under their own names and the reference
network (columns regulator, target, sign) to ``uns["beeline_reference"]``, for
evaluation only: no analysis reads it as a prior.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

import numpy as np
import pandas as pd

from omicsgat.errors import OmicsInputError
from omicsgat.io.report import LoadReport

EXPRESSION = "ExpressionData.csv"
PSEUDOTIME = "PseudoTime.csv"
REFERENCE = "refNetwork.csv"
REFERENCE_KEY = "beeline_reference"


def is_beeline_path(path: str | os.PathLike) -> bool:
    """A folder holding any of BEELINE's files (read_beeline says what is missing), or its ``ExpressionData.csv``."""
    p = Path(path)
    if p.is_dir():
        return any((p / name).is_file() for name in (EXPRESSION, PSEUDOTIME, REFERENCE))
    return p.is_file() and p.name == EXPRESSION


def _read_csv(path: Path, what: str) -> pd.DataFrame:
    try:
        return pd.read_csv(path, index_col=0, encoding="utf-8-sig")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, ValueError) as exc:
        raise OmicsInputError(f"{path.name}: could not be read as the BEELINE {what} table ({exc}).") from exc


def read_reference_network(path: str | os.PathLike, genes: Optional[pd.Index] = None) -> pd.DataFrame:
    """A BEELINE ``refNetwork.csv`` (Gene1, Gene2[, Type]) or a regulator/target table, as regulator, target, sign.

    Self-loops are dropped (BEELINE scores pairs of distinct genes). With
    ``genes`` given, edges naming other genes are an error naming them.
    """
    p = Path(path)
    if not p.is_file():
        raise OmicsInputError(f"Reference network file {str(p)!r} does not exist.")
    sep = "\t" if p.suffix.lower() in (".tsv", ".txt") else ","
    try:
        frame = pd.read_csv(p, sep=sep, dtype=str, encoding="utf-8-sig")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise OmicsInputError(f"{p.name}: could not be read as a reference network ({exc}).") from exc
    cols = {str(c).strip().lower(): c for c in frame.columns}
    reg = cols.get("gene1", cols.get("regulator"))
    tgt = cols.get("gene2", cols.get("target"))
    if reg is None or tgt is None:
        raise OmicsInputError(
            f"{p.name}: a reference network needs columns Gene1, Gene2 (BEELINE) or regulator, target; "
            f"found {list(frame.columns)}."
        )
    sign_col = cols.get("type", cols.get("sign"))
    out = pd.DataFrame({"regulator": frame[reg].astype(str).str.strip(), "target": frame[tgt].astype(str).str.strip()})
    if sign_col is not None:
        raw = (
            frame[sign_col]
            .astype(str)
            .str.strip()
            .replace({"+": "1", "-": "-1", "activation": "1", "repression": "-1"})
        )
        out["sign"] = np.sign(pd.to_numeric(raw, errors="coerce")).fillna(0).astype(int).to_numpy()
    else:
        out["sign"] = 0
    out = out[out["regulator"] != out["target"]].drop_duplicates(["regulator", "target"]).reset_index(drop=True)
    if out.empty:
        raise OmicsInputError(f"{p.name}: the reference network holds no edge between two different genes.")
    if genes is not None:
        present = set(map(str, genes))
        unknown = [g for g in pd.unique(pd.concat([out["regulator"], out["target"]])) if g not in present]
        if unknown:
            shown = ", ".join(unknown[:8]) + (f" ... ({len(unknown)} in all)" if len(unknown) > 8 else "")
            raise OmicsInputError(f"{p.name}: the reference network names gene(s) not in the expression data: {shown}.")
    return out


def read_beeline(path: str | os.PathLike, report: Optional[LoadReport] = None):
    """Read a BEELINE folder (or its ``ExpressionData.csv``) into a cells x genes AnnData."""
    import anndata as ad

    p = Path(path)
    folder = p.parent if p.is_file() else p
    report = report if report is not None else LoadReport(source=str(p))
    expr_path = folder / EXPRESSION
    if not expr_path.is_file():
        raise OmicsInputError(
            f"{folder.name}: not a BEELINE folder (no {EXPRESSION}). It needs {EXPRESSION} (genes x cells), "
            f"optionally {PSEUDOTIME} and {REFERENCE}."
        )
    expr = _read_csv(expr_path, "expression (genes x cells)")
    if expr.shape[0] == 0 or expr.shape[1] == 0:
        raise OmicsInputError(
            f"{expr_path.name}: the expression table is empty ({expr.shape[0]} genes x {expr.shape[1]} cells)."
        )
    values = expr.apply(pd.to_numeric, errors="coerce")
    bad = values.isna()
    if bad.to_numpy().any():
        r, c = np.argwhere(bad.to_numpy())[0]
        raise OmicsInputError(
            f"{expr_path.name}: the value for gene {str(expr.index[r])!r}, cell {str(expr.columns[c])!r} is missing or not a "
            f"number ({expr.iat[r, c]!r}). BEELINE expression tables hold one number per gene and cell."
        )
    adata = ad.AnnData(X=values.to_numpy(dtype=np.float32).T)
    adata.obs_names = [str(c) for c in expr.columns]
    adata.var_names = [str(g) for g in expr.index]
    pt_path = folder / PSEUDOTIME
    if pt_path.is_file():
        pt = _read_csv(pt_path, "pseudotime (cells x trajectories)")
        pt.index = pt.index.astype(str)
        missing = [c for c in adata.obs_names if c not in pt.index]
        if missing:
            raise OmicsInputError(
                f"{pt_path.name}: {len(missing)} cell(s) of {EXPRESSION} have no row, e.g. {missing[0]!r}; "
                f"it needs one row per cell (empty where a cell is not on a trajectory)."
            )
        for col in pt.columns:
            times = pd.to_numeric(pt[col], errors="coerce")
            if times.notna().sum() == 0:
                raise OmicsInputError(f"{pt_path.name}: column {col!r} holds no pseudotime value.")
            if str(col) in adata.obs.columns:
                raise OmicsInputError(f"{pt_path.name}: column {col!r} appears twice.")
            adata.obs[str(col)] = times.reindex(adata.obs_names).to_numpy(dtype=float)
        adata.uns["beeline_pseudotime"] = [str(c) for c in pt.columns]
        report.info(f"{pt_path.name}: pseudotime column(s) {', '.join(map(str, pt.columns))} added to obs.")
    ref_path = folder / REFERENCE
    if ref_path.is_file():
        adata.uns[REFERENCE_KEY] = read_reference_network(ref_path, adata.var_names)
        report.info(
            f"{ref_path.name}: {len(adata.uns[REFERENCE_KEY])} reference edges kept in uns['{REFERENCE_KEY}'] for evaluation."
        )
    report.info(f"{folder.name}: read as a BEELINE folder ({adata.n_vars} genes x {adata.n_obs} cells).")
    return adata
