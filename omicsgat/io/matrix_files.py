"""Count matrices as GEO ships them: CSV/TSV text (genes x cells or cells x genes) and Matrix Market.

Text matrices: the first column names the rows, the header names the
columns (a header one field shorter than the rows, as R's ``write.table``
writes it, is accepted). Which axis holds the genes is detected, reported in
the load report and can be forced (``orientation="genes x cells"`` or
``"cells x genes"``). Values are read in row chunks into a sparse matrix, so
a large dense text file never sits in memory as float64.

Matrix Market: ``*.mtx[.gz]`` with its gene/feature and barcode files beside
it, with or without a GEO sample prefix (``GSM123_matrix.mtx.gz``,
``GSM123_features.tsv.gz``, ``GSM123_barcodes.tsv.gz``). The 10x layout
(genes x cells) is detected from the file lengths.
"""

from __future__ import annotations

import gzip
import io
import re
import zlib
from pathlib import Path
from typing import List, Optional

import numpy as np
import pandas as pd

from omicsgat.errors import OmicsInputError
from omicsgat.io.genes import classify, list_species
from omicsgat.io.report import LoadReport

TEXT_SUFFIXES = (".csv", ".tsv", ".txt")
_BARCODE = re.compile(r"[ACGTN]{8,}")
_CHUNK_ROWS = 2000


def base_suffix(p: Path) -> str:
    """The suffix under an optional ``.gz``: ``a.csv.gz`` -> ``.csv``."""
    suffixes = [s.lower() for s in p.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    return suffixes[-1] if suffixes else ""


def is_text_matrix(p: Path) -> bool:
    return p.is_file() and base_suffix(p) in TEXT_SUFFIXES


def is_mtx(p: Path) -> bool:
    return p.is_file() and base_suffix(p) == ".mtx"


def _open_text(p: Path):
    if p.suffix.lower() == ".gz":
        return io.TextIOWrapper(gzip.open(p, "rb"), encoding="utf-8-sig")
    return open(p, encoding="utf-8-sig")


def normalize_orientation(orientation: Optional[str]) -> str:
    if orientation is None:
        return "auto"
    o = str(orientation).strip().lower().replace("-", " ").replace("_", " ").replace("×", "x")
    o = " ".join(o.split())
    aliases = {
        "genes x cells": "genes x cells",
        "genes cells": "genes x cells",
        "gene x cell": "genes x cells",
        "cells x genes": "cells x genes",
        "cells genes": "cells x genes",
        "cell x gene": "cells x genes",
        "auto": "auto",
    }
    if o not in aliases:
        raise OmicsInputError(f"Unknown orientation {orientation!r}: use 'auto', 'genes x cells' or 'cells x genes'.")
    return aliases[o]


def _gene_likeness(names: List[str]) -> float:
    """How much a list of names looks like genes (Ensembl IDs, symbols of a known species) rather than cells."""
    sample = names[:5000]
    if not sample:
        return 0.0
    if sum(bool(_BARCODE.search(n)) for n in sample) >= 0.5 * len(sample):
        return -1.0  # cell barcodes
    kind = classify(sample)
    if kind.startswith("ensembl"):
        return 2.0
    if kind == "symbol" and list_species(sample):
        return 1.0
    return 0.0


def detect_orientation(rows: List[str], cols: List[str]) -> tuple[str, str]:
    """(``"genes x cells"`` or ``"cells x genes"``, why) from the row and column names."""
    r, c = _gene_likeness(rows), _gene_likeness(cols)
    if r != c:
        which = "genes x cells" if r > c else "cells x genes"
        gene_axis = "row" if r > c else "column"
        return (
            which,
            f"the {gene_axis} names look like gene identifiers (e.g. {', '.join((rows if r > c else cols)[:3])})",
        )
    which = "genes x cells" if len(rows) >= len(cols) else "cells x genes"
    return which, (
        f"the names did not tell, so the longer axis ({max(len(rows), len(cols))} "
        f"{'rows' if len(rows) >= len(cols) else 'columns'}) is taken as the genes"
    )


def _sep(p: Path) -> str:
    if base_suffix(p) == ".csv":
        return ","
    with _open_text(p) as fh:
        head = fh.readline()
    return "\t" if "\t" in head else ("," if head.count(",") > head.count(" ") else r"\s+")


def read_text_matrix(p: Path, report: LoadReport, orientation: Optional[str] = None):
    """A CSV/TSV(.gz) count matrix as an AnnData (cells x genes, sparse float32)."""
    import anndata as ad
    import scipy.sparse as sp

    orientation = normalize_orientation(orientation)
    sep = _sep(p)
    try:
        with _open_text(p) as fh:
            header = pd.read_csv(io.StringIO(fh.readline()), sep=sep, header=None, dtype=str).iloc[0].tolist()
            first = fh.readline()
    except (UnicodeDecodeError, OSError, EOFError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise OmicsInputError(f"{p.name}: could not be read as a text matrix ({type(exc).__name__}: {exc}).") from exc
    if not first.strip():
        raise OmicsInputError(f"{p.name}: has a header but no data rows.")
    n_fields = len(pd.read_csv(io.StringIO(first), sep=sep, header=None, dtype=str).columns)
    columns = [str(h) for h in (header[1:] if len(header) == n_fields else header)]
    if len(columns) != n_fields - 1:
        raise OmicsInputError(
            f"{p.name}: the header has {len(header)} fields but the first row has {n_fields}; a count matrix needs "
            "one name per column (and the row names in the first column)."
        )
    blocks, row_names = [], []
    try:
        reader = pd.read_csv(
            p,
            sep=sep,
            header=None,
            skiprows=1,
            index_col=0,
            dtype=str,
            chunksize=_CHUNK_ROWS,
            encoding="utf-8-sig",
            keep_default_na=False,
        )
        for chunk in reader:
            if chunk.shape[1] != len(columns):
                raise OmicsInputError(
                    f"{p.name}: a row has {chunk.shape[1] + 1} fields where the header says {len(columns) + 1}."
                )
            values = chunk.apply(lambda s: pd.to_numeric(s.replace("", np.nan), errors="coerce"))
            bad = values.isna().to_numpy() & (chunk.to_numpy() != "")
            if bad.any():
                r, c = np.argwhere(bad)[0]
                raise OmicsInputError(
                    f"{p.name}: row {chunk.index[r]!r}, column {columns[c]!r} holds {chunk.iat[r, c]!r}, not a number. "
                    "A count matrix holds numbers only, with gene and cell names in the first column and the header."
                )
            blocks.append(sp.csr_matrix(values.to_numpy(dtype=np.float32)))
            row_names += [str(i) for i in chunk.index]
    except (UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise OmicsInputError(
            f"{p.name}: could not be parsed as a {'CSV' if sep == ',' else 'tab-separated'} matrix ({exc})."
        ) from exc
    if not blocks:
        raise OmicsInputError(f"{p.name}: holds no data rows.")
    X = sp.vstack(blocks).tocsr()
    if orientation == "auto":
        orientation, why = detect_orientation(row_names, columns)
        report.info(
            f"{p.name}: read as a {orientation} text matrix ({X.shape[0]} rows x {X.shape[1]} columns); "
            f"{why}. Override with --orientation (orientation=) if this is wrong."
        )
    else:
        report.info(
            f"{p.name}: read as a {orientation} text matrix ({X.shape[0]} rows x {X.shape[1]} columns), as asked."
        )
    if orientation == "genes x cells":
        X, genes, cells = X.T.tocsr(), row_names, columns
    else:
        genes, cells = columns, row_names
    return ad.AnnData(
        X=X,
        obs=pd.DataFrame(index=pd.Index(cells, dtype=object)),
        var=pd.DataFrame(index=pd.Index(genes, dtype=object)),
    )


def _sibling(p: Path, stems: tuple) -> Optional[Path]:
    """The gene/barcode file next to a Matrix Market file, with the same GEO prefix if any."""
    name = p.name
    prefix = (
        re.sub(r"matrix\.mtx(\.gz)?$", "", name, flags=re.I) if re.search(r"matrix\.mtx(\.gz)?$", name, re.I) else ""
    )
    for stem in stems:
        for ext in (".tsv.gz", ".tsv", ".txt.gz", ".txt", ".csv.gz", ".csv"):
            cand = p.parent / f"{prefix}{stem}{ext}"
            if cand.is_file():
                return cand
    return None


def _read_lines(p: Path) -> pd.DataFrame:
    sep = "," if base_suffix(p) == ".csv" else "\t"
    try:
        return pd.read_csv(p, sep=sep, header=None, dtype=str, keep_default_na=False)
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError, OSError, EOFError) as exc:
        raise OmicsInputError(f"{p.name}: could not be read ({type(exc).__name__}: {exc}).") from exc


def read_mtx(p: Path, report: LoadReport, orientation: Optional[str] = None):
    """A Matrix Market file with its features/genes and barcodes files, as an AnnData (cells x genes)."""
    import anndata as ad
    import scipy.io
    import scipy.sparse as sp

    orientation = normalize_orientation(orientation)
    genes_file = _sibling(p, ("features", "genes"))
    cells_file = _sibling(p, ("barcodes", "cells"))
    if genes_file is None or cells_file is None:
        missing = [
            w
            for w, f in (("features.tsv(.gz) or genes.tsv(.gz)", genes_file), ("barcodes.tsv(.gz)", cells_file))
            if f is None
        ]
        raise OmicsInputError(
            f"{p.name}: a Matrix Market file needs its gene and barcode files beside it (same prefix); "
            f"missing {' and '.join(missing)} in {p.parent}."
        )
    try:
        opener = gzip.open if p.suffix.lower() == ".gz" else open
        with opener(p, "rb") as fh:
            M = sp.csr_matrix(scipy.io.mmread(fh), dtype=np.float32)
    except (
        OSError,
        EOFError,
        ValueError,
        zlib.error,
    ) as exc:  # damaged or not Matrix Market; MemoryError is no such thing
        raise OmicsInputError(f"{p.name}: not a readable Matrix Market file ({type(exc).__name__}: {exc}).") from exc
    features, barcodes = _read_lines(genes_file), _read_lines(cells_file)
    n_g, n_c = len(features), len(barcodes)
    if orientation == "auto":
        if M.shape == (n_g, n_c):
            orientation = "genes x cells"
        elif M.shape == (n_c, n_g):
            orientation = "cells x genes"
        else:
            raise OmicsInputError(
                f"{p.name}: the matrix is {M.shape[0]} x {M.shape[1]} but {genes_file.name} lists {n_g} genes and "
                f"{cells_file.name} {n_c} barcodes; the three files must come from the same sample."
            )
        report.info(
            f"{p.name}: Matrix Market, {orientation} (from the lengths of {genes_file.name} and {cells_file.name})."
        )
    else:
        report.info(f"{p.name}: Matrix Market, {orientation}, as asked.")
    X = M.T.tocsr() if orientation == "genes x cells" else M
    if X.shape != (n_c, n_g):
        raise OmicsInputError(
            f"{p.name}: with orientation {orientation!r} the matrix ({M.shape}) does not match "
            f"{n_g} genes and {n_c} barcodes."
        )
    var = pd.DataFrame(index=pd.Index(features.iloc[:, 0].astype(str).tolist(), dtype=object))
    if features.shape[1] >= 2:  # 10x: id, symbol[, feature type]; symbols are the names, as scanpy reads it
        var = pd.DataFrame(
            {"gene_ids": features.iloc[:, 0].astype(str).to_numpy()},
            index=pd.Index(features.iloc[:, 1].astype(str).tolist(), dtype=object),
        )
        if features.shape[1] >= 3:
            var["feature_types"] = features.iloc[:, 2].astype(str).to_numpy()
    obs = pd.DataFrame(index=pd.Index(barcodes.iloc[:, 0].astype(str).tolist(), dtype=object))
    return ad.AnnData(X=X, obs=obs, var=var)
