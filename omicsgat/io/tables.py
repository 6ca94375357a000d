"""Reading omics tables (CSV, TSV, TXT, Parquet, Excel, gzip'd text) with validation.

Tables hold samples as rows and features as columns (``transpose=True`` for
the other way round); the first column holds the sample IDs. What cannot be
used raises :class:`~omicsgat.errors.OmicsInputError` naming the file, the
column and the row; what is fixed (dropped features, renamed duplicates) or
left to the analysis (missing values) goes into the :class:`LoadReport`.
Input files are only ever opened for reading.
"""

from __future__ import annotations

import csv
import gzip
import io
import os
import re
import zipfile
import zlib
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

import numpy as np
import pandas as pd

from omicsgat.errors import OmicsInputError
from omicsgat.io.report import LoadReport

TEXT_SUFFIXES = (".csv", ".tsv", ".tab", ".txt")
PARQUET_SUFFIXES = (".parquet", ".pq")
EXCEL_SUFFIXES = (".xlsx",)
TABLE_SUFFIXES = TEXT_SUFFIXES + PARQUET_SUFFIXES + EXCEL_SUFFIXES
DELIMITERS = {",": "comma", "\t": "tab", ";": "semicolon", "|": "pipe"}
_MAX_LISTED = 5
#: What a damaged or non-Parquet / non-xlsx file raises in pyarrow (ArrowInvalid is a ValueError, ArrowIOError an
#: OSError, unsupported encodings NotImplementedError) and in openpyxl (not a zip, missing parts). MemoryError and a
#: broken installation are not the file's fault and stay internal errors.
PARQUET_ERRORS = (OSError, EOFError, ValueError, NotImplementedError)
EXCEL_ERRORS = (OSError, EOFError, ValueError, KeyError, zipfile.BadZipFile)


def _listed(items: Sequence, n: int = _MAX_LISTED) -> str:
    """``'a', 'b', 'c' and 4 more`` for messages."""
    items = list(items)
    head = ", ".join(repr(x) for x in items[:n])
    return head + (f" and {len(items) - n} more" if len(items) > n else "")


def _delim_name(delim: str) -> str:
    return f"{DELIMITERS.get(delim, repr(delim))} ({delim!r})"


def table_suffix(path: Path) -> str:
    """The format suffix, ignoring a trailing ``.gz`` (``x.tsv.gz`` -> ``.tsv``)."""
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    return suffixes[-1] if suffixes else ""


def is_table_path(path: str | os.PathLike) -> bool:
    return table_suffix(Path(path)) in TABLE_SUFFIXES


def _check_file(path: str | os.PathLike) -> Path:
    p = Path(path)
    if not p.exists():
        raise OmicsInputError(f"{p.name}: file not found ({p}). Check the path.")
    if p.is_dir():
        raise OmicsInputError(f"{p.name}: is a folder, not a table file. Choose a .csv, .tsv, .txt or .parquet file.")
    if p.stat().st_size == 0:
        raise OmicsInputError(f"{p.name}: the file is empty (0 bytes).")
    return p


def _read_bytes(p: Path, limit: Optional[int] = None) -> bytes:
    """The file's bytes, gunzipped when it is gzip'd (by magic number, not only suffix)."""
    with open(p, "rb") as fh:
        magic = fh.read(2)
    if magic == b"\x1f\x8b":
        try:
            with gzip.open(p, "rb") as fh:
                return fh.read() if limit is None else fh.read(limit)
        except (OSError, EOFError, zlib.error) as exc:
            raise OmicsInputError(
                f"{p.name}: the gzip data is damaged or truncated ({exc}). Re-download or re-compress the file."
            ) from exc
    if p.suffix.lower() == ".gz":
        raise OmicsInputError(
            f"{p.name}: named .gz but not gzip-compressed. Rename it without .gz or compress it with gzip."
        )
    with open(p, "rb") as fh:
        return fh.read() if limit is None else fh.read(limit)


def _decode_head(data: bytes) -> str:
    """The head of a text file for a preview: UTF-8 (a character cut at the end dropped), else latin-1."""
    import codecs

    if data.startswith(codecs.BOM_UTF8):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        text = data[: exc.start].decode("utf-8") if exc.start >= len(data) - 4 else data.decode("latin-1")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _text_encoding(data: bytes, name: str, report: LoadReport) -> str:
    """``utf-8-sig`` when the bytes are UTF-8 (BOM allowed), else ``latin-1`` with a warning
    naming the first bad byte. Checks in blocks, so a big file is never held as one str."""
    import codecs

    if data.startswith(codecs.BOM_UTF8):
        report.info(f"{name}: a UTF-8 byte-order mark (BOM) at the start was removed.")
    decoder = codecs.getincrementaldecoder("utf-8")()
    block = 1 << 24
    for start in range(0, len(data), block):
        pending = len(decoder.getstate()[0])
        try:
            decoder.decode(data[start : start + block], final=start + block >= len(data))
        except UnicodeDecodeError as exc:
            pos = start - pending + exc.start
            line = data.count(b"\n", 0, pos) + 1
            report.warn(
                f"{name}: not valid UTF-8 (first bad byte 0x{data[pos]:02x} at byte position {pos}, "
                f"line {line}); read as latin-1 instead. Check that names with accents look right, "
                f"or save the file as UTF-8."
            )
            return "latin-1"
    return "utf-8-sig"


def _choose_delimiter(p: Path, header: str) -> Tuple[str, bool]:
    """Delimiter from the suffix (.csv comma, .tsv/.tab tab), else sniffed. Returns (delim, sniffed)."""
    suffix = table_suffix(p)
    if suffix == ".csv":
        return ",", False
    if suffix in (".tsv", ".tab"):
        return "\t", False
    counts = {d: header.count(d) for d in DELIMITERS}
    best = max(counts, key=counts.get)
    if counts[best] > 0:
        return best, True
    return ("\t" if "\t" in header else ","), True


def _split_header(header: str, delim: str) -> List[str]:
    return next(csv.reader([header], delimiter=delim))


def _parse_text(p: Path, data: bytes, report: LoadReport) -> pd.DataFrame:
    """Parse delimited text into a frame: index = first column (strings), columns = header as written."""
    encoding = _text_encoding(data, p.name, report)
    if b"\r\n" in data[: 1 << 16]:
        report.info(f"{p.name}: Windows line endings (CRLF) were read as plain line ends.")
    end = re.search(rb"\r\n|\n|\r", data)
    header = data[: end.start() if end else len(data)].decode(encoding)
    if not header.strip():
        raise OmicsInputError(f"{p.name}: the first line (the header) is empty. The first line must name the columns.")
    delim, sniffed = _choose_delimiter(p, header)
    names = _split_header(header, delim)
    if len(names) < 2:
        others = [d for d in DELIMITERS if d != delim and d in header]
        hint = ""
        if others:
            fix = (
                "give it a .tsv or .txt name"
                if others[0] == "\t"
                else "save it with commas, or name it .txt so the delimiter is detected"
            )
            hint = (
                f" The header contains {_delim_name(others[0])} characters: the file is probably "
                f"{DELIMITERS[others[0]]}-separated, so {fix}."
            )
        raise OmicsInputError(
            f"{p.name}: parsed into a single column with the {_delim_name(delim)} delimiter"
            f"{' (detected)' if sniffed else ' (from the file name)'}; a table needs a sample ID column and at least one value column.{hint}"
        )
    if sniffed and delim != ",":
        report.info(f"{p.name}: columns separated by {_delim_name(delim)}.")
    if not end or not re.compile(rb"\S").search(data, end.end()):
        raise OmicsInputError(f"{p.name}: has a header but no data rows.")
    try:
        # from the bytes (no copy as one big str); pandas handles BOM and CR/CRLF itself
        frame = pd.read_csv(
            io.BytesIO(data),
            sep=delim,
            header=None,
            skiprows=1,
            dtype={0: str},
            keep_default_na=True,
            skip_blank_lines=True,
            low_memory=False,
            engine="c",
            encoding=encoding,
        )
    except pd.errors.ParserError as exc:
        msg = str(exc)
        m = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", msg)
        if m:
            raise OmicsInputError(
                f"{p.name}: line {int(m.group(2))} has {m.group(3)} fields but earlier lines have {m.group(1)} "
                f"(the header has {len(names)}; {_delim_name(delim)} delimiter). Check for a stray delimiter or quote on that line."
            ) from exc
        raise OmicsInputError(
            f"{p.name}: could not be parsed with the {_delim_name(delim)} delimiter ({msg})."
        ) from exc
    width = frame.shape[1]
    if width > len(names):
        extra = frame.iloc[:, len(names) :].notna().any(axis=1).to_numpy()
        if extra.any():
            row = int(np.flatnonzero(extra)[0])
            raise OmicsInputError(
                f"{p.name}: line {row + 2} has more fields than the header ({len(names)} with the "
                f"{_delim_name(delim)} delimiter). Check for a stray delimiter on that line or a missing header name."
            )
        frame = frame.iloc[:, : len(names)]  # a trailing delimiter at each line end
    for j in range(width, len(names)):
        frame[j] = np.nan
    frame.columns = names
    if len(names) > 2 and names[-1].strip() == "" and frame.iloc[:, -1].isna().all():
        frame = frame.iloc[:, :-1]  # header and rows all end with a delimiter
    ids = frame.iloc[:, 0]
    frame = frame.iloc[:, 1:]
    frame.index = pd.Index(ids, dtype=object)
    frame.index.name = names[0].strip() or None
    frame.attrs["first_line"] = 2  # line number (1-based) of the first data row
    return frame


def _parse_parquet(p: Path) -> pd.DataFrame:
    try:
        frame = pd.read_parquet(p)
    except PARQUET_ERRORS as exc:
        raise OmicsInputError(
            f"{p.name}: could not be read as Parquet ({type(exc).__name__}: {exc}). Is the file complete?"
        ) from exc
    if isinstance(frame.index, pd.RangeIndex):
        if frame.shape[1] < 2:
            raise OmicsInputError(
                f"{p.name}: has {frame.shape[1]} column(s); a table needs a sample ID column and at least one value column."
            )
        ids = frame.iloc[:, 0].astype(object).where(frame.iloc[:, 0].notna(), None)
        name = str(frame.columns[0])
        frame = frame.iloc[:, 1:]
        frame.index = pd.Index([None if v is None else str(v) for v in ids], dtype=object, name=name)
    else:
        frame.index = pd.Index([str(v) for v in frame.index], dtype=object, name=frame.index.name)
    frame.columns = [str(c) for c in frame.columns]
    frame.attrs["first_line"] = None
    return frame


def _parse_excel(p: Path, report: LoadReport) -> pd.DataFrame:
    """First sheet of an .xlsx workbook; line numbers are the sheet's row numbers."""
    try:
        import openpyxl  # noqa: F401  (pandas needs it for .xlsx)

        sheets = pd.read_excel(p, sheet_name=None, header=None, dtype=object, engine="openpyxl")
    except ImportError as exc:
        raise OmicsInputError(
            f"{p.name}: reading .xlsx needs openpyxl (`pip install openpyxl`), or save the sheet as CSV."
        ) from exc
    except EXCEL_ERRORS as exc:
        raise OmicsInputError(
            f"{p.name}: could not be read as an Excel workbook ({type(exc).__name__}: {exc})."
        ) from exc
    name, sheet = next(iter(sheets.items()))
    if len(sheets) > 1:
        report.info(f"{p.name}: {len(sheets)} sheets; read the first one ({name!r}).")
    sheet = sheet.dropna(how="all").dropna(axis=1, how="all")
    if sheet.shape[0] < 2 or sheet.shape[1] < 2:
        raise OmicsInputError(
            f"{p.name}: sheet {name!r} needs a header row, a sample ID column and at least one value column and row."
        )
    names = ["" if pd.isna(v) else str(v) for v in sheet.iloc[0]]
    body = sheet.iloc[1:]
    frame = body.iloc[:, 1:].infer_objects()
    frame.columns = names[1:]
    frame.index = pd.Index(
        [None if pd.isna(v) else str(v) for v in body.iloc[:, 0]], dtype=object, name=names[0] or None
    )
    contiguous = bool((np.diff(body.index.to_numpy()) == 1).all())
    frame.attrs["first_line"] = int(body.index[0]) + 1 if contiguous else None  # sheet row of the first sample
    return frame


def read_raw_table(path: str | os.PathLike, report: Optional[LoadReport] = None) -> pd.DataFrame:
    """The table as written: index = first column (string IDs), columns = header, values as parsed.

    Handles encodings, line endings, delimiters and compression; checks
    nothing about the values (:func:`read_table` and the clinical reader do).
    """
    p = _check_file(path)
    report = report if report is not None else LoadReport(source=str(p))
    suffix = table_suffix(p)
    if suffix in PARQUET_SUFFIXES:
        frame = _parse_parquet(p)
    elif suffix in EXCEL_SUFFIXES:
        frame = _parse_excel(p, report)
    else:
        if suffix not in TEXT_SUFFIXES:
            report.warn(f"{p.name}: unknown suffix {p.suffix!r}; read as delimited text.")
        data = _read_bytes(p)
        if data[:2] in (b"\xff\xfe", b"\xfe\xff"):  # Excel's "Unicode Text" export
            try:
                data = data.decode("utf-16").encode("utf-8")
            except UnicodeDecodeError as exc:
                raise OmicsInputError(
                    f"{p.name}: starts like UTF-16 text but could not be decoded ({exc}). Save it as UTF-8 CSV."
                ) from exc
            report.info(f"{p.name}: UTF-16 text (e.g. Excel 'Unicode Text'), converted to UTF-8 for reading.")
        if b"\x00" in data[:4096]:
            raise OmicsInputError(f"{p.name}: looks like a binary file, not a text table. Export it as CSV or TSV.")
        frame = _parse_text(p, data, report)
    if frame.shape[0] == 0:
        raise OmicsInputError(f"{p.name}: has a header but no data rows.")
    return frame


def _line_of(frame: pd.DataFrame, pos: int) -> str:
    first = frame.attrs.get("first_line")
    return f" (line {first + pos})" if first else ""


def _clean_ids(p: Path, ids: pd.Index, what: str, where: str, lines: Optional[List[str]] = None) -> pd.Index:
    """Strip whitespace; refuse empty, duplicated, or case/whitespace-colliding IDs."""
    raw = ["" if (v is None or (isinstance(v, float) and np.isnan(v))) else str(v) for v in ids]
    empty = [i for i, v in enumerate(raw) if v.strip() == ""]
    if empty:
        at = [f"position {i + 1}{lines[i] if lines else ''}" for i in empty]
        raise OmicsInputError(
            f"{p.name}: {len(empty)} {what}(s) are empty in {where}, at {', '.join(at[:_MAX_LISTED])}. Give every {what} a name."
        )
    dup = pd.Index(raw)[pd.Index(raw).duplicated()].unique()
    if len(dup):
        raise OmicsInputError(
            f"{p.name}: {len(dup)} duplicated {what}(s) in {where}: {_listed(dup)}. "
            f"Each {what} must appear once; remove or rename the repeats."
        )
    stripped = [v.strip() for v in raw]
    folded = pd.Series(range(len(raw)), index=[v.casefold() for v in stripped])
    clash = folded.index[folded.index.duplicated()].unique()
    if len(clash):
        pairs = []
        for key in clash[:_MAX_LISTED]:
            members = [raw[i] for i in folded.loc[[key]].tolist()]
            pairs.append(" vs ".join(repr(m) for m in members))
        raise OmicsInputError(
            f"{p.name}: {len(clash)} {what}(s) in {where} differ only in upper/lower case or surrounding spaces: "
            f"{'; '.join(pairs)}{' and more' if len(clash) > _MAX_LISTED else ''}. Make them identical or clearly different."
        )
    return pd.Index(stripped, dtype=object)


def _to_numeric(p: Path, frame: pd.DataFrame) -> pd.DataFrame:
    """Float frame (file orientation); non-numeric cells are an error naming column, row and line."""
    kinds = [pd.api.types.is_numeric_dtype(dt) or pd.api.types.is_bool_dtype(dt) for dt in frame.dtypes]
    values = np.empty(frame.shape, dtype=float)
    numeric = np.flatnonzero(kinds)
    if len(numeric):
        values[:, numeric] = frame.iloc[:, numeric].to_numpy(dtype=float)
    bad: List[str] = []
    n_bad = 0
    for j in np.flatnonzero(~np.asarray(kinds, dtype=bool)):
        s = frame.iloc[:, j]
        as_str = s.astype(str).str.strip()
        present = s.notna() & (as_str != "")
        num = pd.to_numeric(as_str.where(present, None), errors="coerce")
        mask = (num.isna() & present).to_numpy()
        if mask.any():
            n_bad += int(mask.sum())
            for i in np.flatnonzero(mask)[: max(0, _MAX_LISTED - len(bad))]:
                bad.append(
                    f"{s.iloc[i]!r} in column {str(frame.columns[j])!r}, row {str(frame.index[i])!r}{_line_of(frame, i)}"
                )
        values[:, j] = num.to_numpy(dtype=float)
    if n_bad:
        raise OmicsInputError(
            f"{p.name}: {n_bad} non-numeric value(s) in an omics table, first: {'; '.join(bad)}. "
            f"Omics values must be numbers; mark missing values as empty or NA. "
            f"(Clinical tables with text columns are read with the time and event columns given.)"
        )
    out = pd.DataFrame(values, index=frame.index, columns=frame.columns)
    out.attrs["first_line"] = frame.attrs.get("first_line")
    return out


def _make_unique(names: pd.Index) -> Tuple[pd.Index, List[str]]:
    """Append -1, -2, ... to repeats (like AnnData's var_names_make_unique)."""
    seen: dict = {}
    taken = set(names)
    out, dups = [], []
    for n in names:
        if n in seen:
            k = seen[n]
            while f"{n}-{k}" in taken:
                k += 1
            seen[n] = k + 1
            new = f"{n}-{k}"
            taken.add(new)
            out.append(new)
            if n not in dups:
                dups.append(n)
        else:
            seen[n] = 1
            out.append(n)
    return pd.Index(out, dtype=object), dups


def validate_omics_frame(p: Path, raw: pd.DataFrame, report: LoadReport, transposed: bool = False) -> pd.DataFrame:
    """Checks shared by every omics table.

    ``raw`` is the table as in the file (:func:`read_raw_table`); with
    ``transposed`` its rows are features and its columns samples. Returns
    floats, samples x features.
    """
    frame = _to_numeric(p, raw)
    first = frame.attrs.get("first_line")
    lines = [f" (line {first + i})" if first else "" for i in range(frame.shape[0])]
    if transposed:
        frame = frame.T
        id_where, feat_where, id_lines, feat_lines = "the header row", "the first column", None, lines
    else:
        id_where, feat_where, id_lines, feat_lines = "the first column", "the header row", lines, None
    frame.index = _clean_ids(p, frame.index, "sample ID", id_where, id_lines)
    frame.index.name = "sample"
    if frame.shape[1] == 0:
        raise OmicsInputError(f"{p.name}: no feature columns after the sample IDs.")
    features = pd.Index(
        ["" if c is None or (isinstance(c, float) and np.isnan(c)) else str(c).strip() for c in frame.columns],
        dtype=object,
    )
    empty = [i for i, f in enumerate(features) if f == "" or f.lower().startswith("unnamed:")]
    if empty:
        at = [f"position {i + 2}" if feat_lines is None else f"row {i + 1}{feat_lines[i]}" for i in empty]
        raise OmicsInputError(
            f"{p.name}: {len(empty)} feature name(s) in {feat_where} are empty, at {', '.join(at[:_MAX_LISTED])}. Name every feature."
        )
    features, dups = _make_unique(features)
    if dups:
        report.warn(
            f"{p.name}: {len(dups)} duplicated feature name(s) in {feat_where}: {_listed(dups)}; "
            f"the repeats were renamed with -1, -2, ... suffixes. Average or remove them if they are the same feature."
        )
    frame.columns = features
    values = frame
    arr = values.to_numpy()
    inf = np.isinf(arr)
    if inf.any():
        i, j = np.argwhere(inf)[0]
        raise OmicsInputError(
            f"{p.name}: {int(inf.sum())} infinite value(s), first in column {values.columns[j]!r}, row {values.index[i]!r}. "
            f"Replace them with numbers or leave them empty (missing)."
        )
    nan = np.isnan(arr)
    all_nan = nan.all(axis=0)
    if all_nan.all():
        raise OmicsInputError(f"{p.name}: every value is missing; there is nothing to analyse.")
    if all_nan.any():
        names = values.columns[all_nan]
        report.warn(f"{p.name}: {len(names)} feature(s) with no values at all were dropped: {_listed(names)}.")
    keep = ~all_nan
    with np.errstate(invalid="ignore"):
        col_min = np.nanmin(np.where(nan, np.inf, arr), axis=0)
        col_max = np.nanmax(np.where(nan, -np.inf, arr), axis=0)
    constant = keep & (col_min == col_max)
    if constant.any():
        names = values.columns[constant]
        report.warn(
            f"{p.name}: {len(names)} constant feature(s) (one value in every sample) were dropped: {_listed(names)}."
        )
    keep &= ~constant
    if not keep.any():
        raise OmicsInputError(f"{p.name}: every feature is constant or empty; there is nothing to analyse.")
    values = values.loc[:, keep]
    empty_rows = values.isna().all(axis=1)
    if empty_rows.any():
        report.warn(
            f"{p.name}: {int(empty_rows.sum())} sample(s) have no values at all: {_listed(values.index[empty_rows])}. Remove them or the analysis will impute every value."
        )
    n_missing = int(values.isna().to_numpy().sum())
    if n_missing:
        n_feat = int(values.isna().any(axis=0).sum())
        report.warn(
            f"{p.name}: {n_missing} missing value(s) ({100 * n_missing / values.size:.2g}% of cells) in {n_feat} feature(s); "
            f"the analysis will impute them."
        )
    report.info(f"{p.name}: {values.shape[0]} samples x {values.shape[1]} features.")
    if not transposed and values.shape[0] > 2000 and values.shape[0] > 10 * values.shape[1]:
        report.warn(
            f"{p.name}: {values.shape[0]} rows but only {values.shape[1]} columns: if features are rows, load it with transpose=True."
        )
    return values


def read_table(path: str | os.PathLike, *, transpose: bool = False) -> tuple[pd.DataFrame, LoadReport]:
    """Read one omics table (samples x features) and validate it.

    Parameters
    ----------
    path
        ``.csv``, ``.tsv``/``.tab``, ``.txt`` (delimiter detected), ``.parquet``, ``.xlsx`` (first sheet),
        or gzip'd text (``.csv.gz``, ...). The first column holds the IDs.
    transpose
        ``True`` when the file has features as rows and samples as columns.

    Returns
    -------
    (frame, report)
        Float frame indexed by sample ID (index name ``"sample"``), NaN for
        missing values; all-empty and constant features dropped (reported).
    """
    p = _check_file(path)
    report = LoadReport(source=str(p))
    raw = read_raw_table(p, report)
    values = validate_omics_frame(p, raw, report, transposed=transpose)
    return values, report


def preview_table(path: str | os.PathLike, n_rows: int = 5) -> pd.DataFrame:
    """The first ``n_rows`` rows as written (strings, header as columns), without validation.

    Reads only the head of text files, so it is fast on big tables (for an
    import dialog).
    """
    p = _check_file(path)
    if table_suffix(p) in PARQUET_SUFFIXES:
        try:
            import pyarrow.parquet as pq

            frame = next(pq.ParquetFile(p).iter_batches(batch_size=max(1, n_rows))).to_pandas()
        except (*PARQUET_ERRORS, StopIteration) as exc:
            raise OmicsInputError(f"{p.name}: could not be read as Parquet ({type(exc).__name__}: {exc}).") from exc
        return frame.head(n_rows).astype(str)
    if table_suffix(p) in EXCEL_SUFFIXES:
        try:
            head = pd.read_excel(p, sheet_name=0, header=None, nrows=n_rows + 1, dtype=str, engine="openpyxl")
        except EXCEL_ERRORS as exc:
            raise OmicsInputError(
                f"{p.name}: could not be read as an Excel workbook ({type(exc).__name__}: {exc})."
            ) from exc
        head = head.fillna("")
        return pd.DataFrame(
            head.iloc[1:].to_numpy(), columns=pd.Index(head.iloc[0].tolist(), dtype=object), dtype=object
        )
    limit = 1 << 20
    data = _read_bytes(p, limit=limit)
    while data.count(b"\n") <= n_rows and len(data) == limit:
        limit *= 8
        data = _read_bytes(p, limit=limit)
    text = _decode_head(data)
    lines = [ln for ln in text.split("\n") if ln.strip()][: n_rows + 1]
    if not lines:
        raise OmicsInputError(f"{p.name}: no text lines to preview.")
    delim, _ = _choose_delimiter(p, lines[0])
    rows = list(csv.reader(lines, delimiter=delim))
    width = max(len(r) for r in rows)
    header = rows[0] + [""] * (width - len(rows[0]))
    body = [r + [""] * (width - len(r)) for r in rows[1:]]
    return pd.DataFrame(body, columns=pd.Index(header, dtype=object), dtype=object)
