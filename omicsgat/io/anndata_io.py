"""Reading single-cell files (.h5ad, 10x .h5 and folders, .loom, .h5mu, text and Matrix Market) with validation.

Files are opened read-only. Damaged files, empty or non-finite matrices and
negative counts raise :class:`~omicsgat.errors.OmicsInputError` naming the
file (and the first offending cell and gene); duplicated names are made
unique and all-zero genes reported in the :class:`LoadReport`, together with
what ``X`` holds (counts, log-normalized, scaled) and whether raw counts are
kept in ``layers["counts"]`` or ``raw``.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Iterator, Tuple

import numpy as np

from omicsgat.errors import OmicsInputError
from omicsgat.io import matrix_files
from omicsgat.io.beeline import is_beeline_path, read_beeline
from omicsgat.io.genes import gene_ids
from omicsgat.io.matrix_files import read_mtx
from omicsgat.io.report import LoadReport
from omicsgat.io.tables import _listed
from omicsgat.pp import detect_x_kind

ANNDATA_SUFFIXES = (".h5ad", ".h5", ".hdf5", ".loom", ".h5mu", ".mtx")
_CHUNK_ELEMENTS = 20_000_000


def is_anndata_path(path: str | os.PathLike) -> bool:
    p = Path(path)
    if p.is_dir():
        return True
    suffixes = [s.lower() for s in p.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    return bool(suffixes) and suffixes[-1] in ANNDATA_SUFFIXES


def _hdf5_signature(p: Path) -> None:
    """Refuse a file that is not HDF5 before a library fails on it obscurely."""
    import h5py

    if not h5py.is_hdf5(p):
        with open(p, "rb") as fh:
            head = fh.read(16)
        kind = "text" if head and all(32 <= b < 127 or b in (9, 10, 13) for b in head) else "binary data"
        raise OmicsInputError(
            f"{p.name}: not an HDF5 file (it starts with {kind} {head[:8]!r}), so it is not a valid "
            f"{p.suffix} file. It may be misnamed or damaged; re-export or re-download it."
        )


#: What a truncated or damaged file raises in h5py, anndata, scanpy, loompy and mudata (h5py's errors are
#: OSError, KeyError or ValueError; anndata adds context but keeps the type). Anything else (MemoryError, an
#: ImportError or AttributeError from a broken installation) is not the file's fault: it stays an internal error.
READ_ERRORS = (OSError, EOFError, KeyError, ValueError)


def _damaged(p: Path, exc: BaseException) -> OmicsInputError:
    return OmicsInputError(
        f"{p.name}: could not be read; the file is truncated or damaged ({type(exc).__name__}: {exc}). "
        f"Re-export or re-download it."
    )


def _read_10x_folder(p: Path, report: LoadReport):
    import scanpy as sc

    names = {f.name for f in p.iterdir()}
    mtx = sorted(n for n in names if n.lower().endswith((".mtx", ".mtx.gz")))
    if not ({"matrix.mtx", "matrix.mtx.gz"} & names) and len(mtx) == 1:  # GEO: GSM123_matrix.mtx.gz and its siblings
        return read_mtx(p / mtx[0], report)
    if not ({"matrix.mtx", "matrix.mtx.gz"} & names):
        h5ads = sorted(n for n in names if n.endswith((".h5ad", ".h5", ".loom", ".h5mu")))
        hint = f" It holds {', '.join(h5ads[:3])}: open that file instead." if h5ads else ""
        raise OmicsInputError(
            f"{p.name}: a folder, but not a 10x matrix folder (no matrix.mtx or matrix.mtx.gz).{hint}"
        )
    try:
        adata = sc.read_10x_mtx(p, var_names="gene_symbols", make_unique=False)
    except READ_ERRORS as exc:
        raise OmicsInputError(
            f"{p.name}: could not be read as a 10x matrix folder ({type(exc).__name__}: {exc}). It needs matrix.mtx(.gz), "
            f"barcodes.tsv(.gz) and features.tsv(.gz) (or genes.tsv) from the same run."
        ) from exc
    report.info(f"{p.name}: read as a 10x Genomics matrix folder.")
    return adata


def _read_h5(p: Path, report: LoadReport, backed: bool):
    import h5py

    _hdf5_signature(p)
    try:
        with h5py.File(p, "r") as fh:
            keys = set(fh.keys())
            # Cell Ranger v3 writes a "matrix" group, v2 one group per genome, each with the CSC arrays
            is_10x = any(
                isinstance(fh[k], h5py.Group) and {"data", "indices", "indptr", "shape"} <= set(fh[k].keys())
                for k in keys
            )
    except READ_ERRORS as exc:
        raise _damaged(p, exc) from exc
    if {"X", "obs", "var"} <= keys:
        report.info(f"{p.name}: an AnnData (h5ad) file with an .h5 name; read as .h5ad.")
        return _read_h5ad(p, report, backed)
    if not keys:
        raise OmicsInputError(f"{p.name}: an empty HDF5 file (no groups).")
    import scanpy as sc

    try:
        if not is_10x:
            raise KeyError("no group with data, indices, indptr and shape")
        adata = sc.read_10x_h5(p)
    except Exception as exc:
        # scanpy reports a missing dataset as a bare Exception; other types (MemoryError, a broken install) are bugs
        if not (isinstance(exc, READ_ERRORS) or type(exc) is Exception):
            raise
        raise OmicsInputError(
            f"{p.name}: an HDF5 file but not a 10x Genomics .h5 matrix (top-level groups: {sorted(keys)}; "
            f"{type(exc).__name__}: {exc}). Use the filtered_feature_bc_matrix.h5 from Cell Ranger or an .h5ad file."
        ) from exc
    report.info(f"{p.name}: read as a 10x Genomics .h5 matrix.")
    return adata


def _read_h5ad(p: Path, report: LoadReport, backed: bool):
    import anndata as ad

    _hdf5_signature(p)
    try:
        adata = ad.read_h5ad(p, backed="r" if backed else None)
    except READ_ERRORS as exc:
        raise _damaged(p, exc) from exc
    if backed:
        report.info(f"{p.name}: opened backed (read-only); X stays on disk.")
    return adata


def _read_loom(p: Path, report: LoadReport):
    import anndata as ad
    import h5py

    _hdf5_signature(p)
    try:
        with h5py.File(p, "r") as fh:
            rows = set(fh["row_attrs"].keys()) if "row_attrs" in fh else set()
            cols = set(fh["col_attrs"].keys()) if "col_attrs" in fh else set()
        # loompy convention (Gene, CellID), else what anndata's write_loom uses
        var_names = next((k for k in ("Gene", "var_names", "gene_names", "Accession") if k in rows), None)
        obs_names = next((k for k in ("CellID", "obs_names", "cell_names") if k in cols), None)
        read_loom = ad.io.read_loom if hasattr(ad, "io") and hasattr(ad.io, "read_loom") else ad.read_loom
        adata = read_loom(p, var_names=var_names or "Gene", obs_names=obs_names or "CellID")
    except READ_ERRORS as exc:
        raise _damaged(p, exc) from exc
    report.info(f"{p.name}: read as a loom file.")
    return adata


def h5mu_modalities(path: str | os.PathLike) -> list[str]:
    """The modality names of an ``.h5mu`` file, read without loading the data."""
    import h5py

    p = Path(path)
    _hdf5_signature(p)
    try:
        with h5py.File(p, "r") as fh:
            return [str(k) for k in fh["mod"].keys()] if "mod" in fh else []
    except READ_ERRORS as exc:
        raise _damaged(p, exc) from exc


def default_modality(mods: list) -> str:
    return "rna" if "rna" in mods else next((m for m in mods if m.lower() in ("rna", "gex")), mods[0])


def _read_h5mu(p: Path, report: LoadReport, modality: str | None = None):
    try:
        import mudata
    except ImportError as exc:
        raise OmicsInputError(
            f"{p.name}: reading .h5mu files needs the mudata package (`pip install mudata`)."
        ) from exc
    _hdf5_signature(p)
    try:
        mdata = mudata.read_h5mu(p)
    except READ_ERRORS as exc:
        raise _damaged(p, exc) from exc
    mods = list(mdata.mod)
    if not mods:
        raise OmicsInputError(f"{p.name}: a MuData file with no modalities.")
    if modality is not None and modality not in mods:
        raise OmicsInputError(f"{p.name}: no modality {modality!r}; the file holds {', '.join(mods)}.")
    pick = modality or default_modality(mods)
    report.info(
        f"{p.name}: MuData with modalities {mods}; using {pick!r}"
        + ("." if modality else " (choose another with --modality / modality=).")
    )
    report.modality = pick
    return mdata.mod[pick]


def _row_chunks(X, n_rows: int, n_cols: int) -> Iterator[Tuple[int, object]]:
    """(start row, block) over rows, in blocks small enough for memory (works on backed X too)."""
    step = max(1, _CHUNK_ELEMENTS // max(1, n_cols))
    for start in range(0, n_rows, step):
        yield start, X[start : min(n_rows, start + step)]


def _first_hit(mask: np.ndarray, rows, cols) -> Tuple[int, int]:
    """(row, col) of the first true entry in row-major order (dense mask, or COO rows/cols)."""
    if rows is None:
        r, c = np.argwhere(mask)[0]
        return int(r), int(c)
    hit = np.flatnonzero(mask)
    first = hit[np.lexsort((cols[hit], rows[hit]))[0]]
    return int(rows[first]), int(cols[first])


def _scan_matrix(p: Path, X, adata, what: str, report: LoadReport, counts_expected: bool) -> None:
    """NaN/Inf (error), negative counts (error), all-zero genes and cells (warning), in row blocks."""
    import scipy.sparse as sp

    n_obs, n_vars = adata.n_obs, adata.n_vars
    n_bad = n_neg = 0
    first_bad = first_neg = None
    integer = True
    nonzero_genes = np.zeros(n_vars, dtype=bool)
    zero_cells = 0
    for start, block in _row_chunks(X, n_obs, n_vars):
        if sp.issparse(block):
            coo = sp.coo_matrix(block)
            values, rows, cols = np.asarray(coo.data, dtype=np.float64), coo.row, coo.col
            nz = values != 0
            nonzero_genes[cols[nz]] = True
            zero_cells += block.shape[0] - np.unique(rows[nz]).size
        else:
            values, rows, cols = np.asarray(block, dtype=np.float64), None, None
            nz = values != 0
            nonzero_genes |= nz.any(axis=0)
            zero_cells += int((~nz.any(axis=1)).sum())
        finite = np.isfinite(values)
        if not finite.all():
            n_bad += int((~finite).sum())
            if first_bad is None:
                r, c = _first_hit(~finite, rows, cols)
                first_bad = (start + r, c)
        good = values[finite]
        if integer and good.size and not np.array_equal(good, np.round(good)):
            integer = False
        negative = values < 0
        if negative.any():
            n_neg += int(negative.sum())
            if first_neg is None:
                r, c = _first_hit(negative, rows, cols)
                first_neg = (start + r, c)
    if n_bad:
        r, c = first_bad
        raise OmicsInputError(
            f"{p.name}: {what} holds {n_bad} NaN or infinite value(s), first at cell {adata.obs_names[r]!r}, "
            f"gene {adata.var_names[c]!r}. Remove or impute them before loading."
        )
    if n_neg and (integer or counts_expected):
        r, c = first_neg
        raise OmicsInputError(
            f"{p.name}: {what} looks like counts (whole numbers) but holds {n_neg} negative value(s), first at cell "
            f"{adata.obs_names[r]!r}, gene {adata.var_names[c]!r}. Counts cannot be negative: check how the matrix was made."
        )
    if what == "X":
        zero_genes = adata.var_names[~nonzero_genes]
        if len(zero_genes):
            report.warn(
                f"{p.name}: {len(zero_genes)} of {n_vars} genes are zero in every cell (e.g. {_listed(zero_genes, 3)}); "
                f"they carry no information (filter them with scanpy.pp.filter_genes(adata, min_cells=1))."
            )
        if zero_cells:
            report.warn(
                f"{p.name}: {zero_cells} cell(s) have no non-zero value in X (filter them with scanpy.pp.filter_cells(adata, min_genes=1))."
            )


def _first_block(X, n_obs: int, n_rows: int = 2000):
    return X[: min(n_obs, n_rows)]


def validate_anndata(adata, name: str, report: LoadReport, gene_symbols: str | None = None) -> None:
    """Checks shared by every single-cell reader, on the AnnData it just read.

    Makes duplicated cell/gene names unique (in place, with a warning);
    raises for empty or non-finite matrices and negative counts.
    """
    p = Path(name)
    if adata.n_obs == 0 or adata.n_vars == 0:
        raise OmicsInputError(f"{p.name}: the expression matrix is empty ({adata.n_obs} cells x {adata.n_vars} genes).")
    if adata.X is None:
        raise OmicsInputError(f"{p.name}: has no expression matrix (X is empty); store the expression values in X.")
    for axis, label in (("obs", "cell"), ("var", "gene")):
        names = getattr(adata, f"{axis}_names")
        dup = names[names.duplicated()].unique()
        if len(dup):
            n_rep = int(names.duplicated().sum())
            getattr(adata, f"{axis}_names_make_unique")()
            report.warn(
                f"{p.name}: {n_rep} duplicated {label} name(s) ({len(dup)} distinct, e.g. {_listed(dup, 3)}); "
                f"made unique by appending -1, -2, ..."
            )
    _scan_matrix(p, adata.X, adata, "X", report, counts_expected=False)

    report.info(f"{p.name}: {gene_ids(adata, gene_symbols, p.name).describe()}")
    kind = detect_x_kind(_first_block(adata.X, adata.n_obs))
    explain = {
        "counts": "raw counts",
        "log-normalized": "log-normalized values",
        "scaled": "scaled values (z-scores, with negatives)",
        "unknown": "values of unknown kind (not counts, not log-normalized)",
    }[kind]
    report.info(f"{p.name}: {adata.n_obs} cells x {adata.n_vars} genes; X holds {explain}.")
    if "counts" in adata.layers:
        _scan_matrix(p, adata.layers["counts"], adata, 'layers["counts"]', report, counts_expected=True)
        report.info(f'{p.name}: raw counts found in layers["counts"]; the analyses normalize those.')
    if adata.raw is not None:
        raw_kind = detect_x_kind(_first_block(adata.raw.X, adata.n_obs))
        report.info(f"{p.name}: .raw is present ({adata.raw.n_vars} genes, holds {raw_kind}).")
    if kind == "log-normalized" and "counts" not in adata.layers:
        report.info(f"{p.name}: no raw counts in layers['counts']; analyses use X as log-normalized values.")
    if kind == "scaled" and "counts" not in adata.layers:
        report.warn(
            f"{p.name}: X holds scaled values and there are no raw counts in layers['counts']; "
            f"analyses will use the scaled values as they are."
        )


def obs_columns(path: str | os.PathLike, modality: str | None = None) -> list[str]:
    """The ``obs`` column names of an ``.h5ad`` file (or of a modality of an ``.h5mu``), read without loading its matrix.

    For choosing a label column before a run (e.g. a reference's cell types).
    Other formats carry no cell annotations worth offering, so they give ``[]``.
    """
    p = Path(path)
    if p.suffix.lower() == ".h5mu" and p.is_file():
        import h5py

        mods = h5mu_modalities(p)
        pick = modality or (default_modality(mods) if mods else None)
        if pick is None or pick not in mods:
            return []
        with h5py.File(p, "r") as fh:
            obs = fh["mod"][pick]["obs"]
            order = obs.attrs.get("column-order", [])
            return (
                [str(c) for c in order]
                if len(order)
                else [k for k in obs.keys() if not k.startswith("_") and k != "__categories"]
            )
    if p.suffix.lower() != ".h5ad" or not p.is_file():
        return []
    import anndata as ad

    _hdf5_signature(p)
    try:
        adata = ad.read_h5ad(p, backed="r")
    except READ_ERRORS as exc:
        raise _damaged(p, exc) from exc
    try:
        return [str(c) for c in adata.obs.columns]
    finally:
        adata.file.close()


def read_anndata(
    path: str | os.PathLike,
    *,
    backed: bool = False,
    gene_symbols: str | None = None,
    orientation: str | None = None,
    modality: str | None = None,
) -> tuple["object", LoadReport]:
    """Read a single-cell data set and validate it.

    Parameters
    ----------
    path
        ``.h5ad``; 10x Genomics ``.h5`` or matrix folder; a Matrix Market
        ``.mtx[.gz]`` with its features/genes and barcodes files (GEO prefixes
        accepted); a CSV/TSV(.gz) count matrix (genes x cells or cells x genes);
        ``.loom``; ``.h5mu`` (``modality``, default the ``rna`` one, else the first);
        a BEELINE folder or its ``ExpressionData.csv`` (see :mod:`omicsgat.io.beeline`).
    backed
        Open an ``.h5ad`` read-only with X left on disk (for large files);
        other formats are always read into memory.
    gene_symbols
        The ``var`` column of gene symbols, for the load report's note on
        identifiers (an unknown column is an error here, not at analysis time).
    orientation
        For text and Matrix Market files: ``"genes x cells"``, ``"cells x genes"``
        or ``None``/``"auto"`` (detected, and said in the report).
    modality
        For ``.h5mu``: which modality to read.

    Returns
    -------
    (adata, report)
    """
    p = Path(path)
    report = LoadReport(source=str(p))
    if not p.exists():
        raise OmicsInputError(f"{p.name}: file not found ({p}). Check the path.")
    with warnings.catch_warnings():
        # anndata warns about duplicated names; the report says it (and fixes them)
        warnings.filterwarnings("ignore", message=r"(Observation|Variable) names are not unique")
        return _read_and_validate(p, report, backed, gene_symbols, orientation, modality)


def _read_and_validate(p: Path, report: LoadReport, backed: bool, gene_symbols=None, orientation=None, modality=None):
    if is_beeline_path(p):  # a BEELINE folder or its ExpressionData.csv (before the generic CSV reader)
        adata = read_beeline(p, report)
    elif matrix_files.is_mtx(p) or matrix_files.is_text_matrix(p):
        if p.stat().st_size == 0:
            raise OmicsInputError(f"{p.name}: the file is empty (0 bytes).")
        reader = matrix_files.read_mtx if matrix_files.is_mtx(p) else matrix_files.read_text_matrix
        adata = reader(p, report, orientation)
    elif p.is_dir():
        adata = _read_10x_folder(p, report)
    else:
        if p.stat().st_size == 0:
            raise OmicsInputError(f"{p.name}: the file is empty (0 bytes).")
        suffix = p.suffix.lower()
        if suffix == ".h5ad":
            adata = _read_h5ad(p, report, backed)
        elif suffix in (".h5", ".hdf5"):
            adata = _read_h5(p, report, backed)
        elif suffix == ".loom":
            adata = _read_loom(p, report)
        elif suffix == ".h5mu":
            adata = _read_h5mu(p, report, modality)
        else:
            raise OmicsInputError(
                f"{p.name}: unsupported single-cell format {suffix!r}. Use .h5ad, a 10x .h5 file or matrix folder, "
                f".mtx(.gz) with its gene and barcode files, a .csv/.tsv(.gz) count matrix, .loom or .h5mu."
            )
        if backed and suffix not in (".h5ad",) and getattr(adata, "isbacked", False) is False:
            report.warn(
                f"{p.name}: backed (on-disk) reading is only available for .h5ad; the data was read into memory."
            )
    try:
        validate_anndata(adata, p.name, report, gene_symbols)
    except BaseException:
        if getattr(adata, "isbacked", False):
            adata.file.close()  # do not leave the refused file open
        raise
    return adata, report
