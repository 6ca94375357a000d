"""Atomic file writing: a crash leaves the old file or the new one, never half of one."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Iterator

from omicsgat.errors import OmicsInputError


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it over ``path`` on success.

    The temporary file lives in the same folder (so the rename is atomic on one
    file system) and keeps the suffix (so writers that look at it, such as
    matplotlib or anndata, choose the right format). On error it is removed
    and ``path`` is untouched.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=f".tmp{target.suffix}", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    _set_mode(tmp_path, target)
    try:
        yield tmp_path
        with open(tmp_path, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp_path, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()
        raise


def _set_mode(tmp: Path, target: Path) -> None:
    """mkstemp makes 0600 files; give the result the old file's mode, else the usual umask mode."""
    try:
        mode = target.stat().st_mode & 0o777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    os.chmod(tmp, mode)


def write_text_atomic(path: str | os.PathLike, text: str, encoding: str = "utf-8") -> Path:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding=encoding)
    return Path(path)


def write_table_atomic(frame, path: str | os.PathLike, index: bool = False) -> Path:
    """Write a DataFrame as CSV, TSV (also ``.txt``) or Excel, chosen by suffix."""
    target = Path(path)
    suffix = "".join(target.suffixes[-2:]).lower() if target.suffix == ".gz" else target.suffix.lower()
    with atomic_path(target) as tmp:
        if suffix in (".tsv", ".txt", ".tsv.gz", ".txt.gz"):
            frame.to_csv(tmp, sep="\t", index=index, compression="gzip" if suffix.endswith(".gz") else None)
        elif suffix in (".csv", ".csv.gz"):
            frame.to_csv(tmp, index=index, compression="gzip" if suffix.endswith(".gz") else None)
        elif suffix == ".xlsx":
            frame.to_excel(tmp, index=index, engine="openpyxl")
        else:
            raise OmicsInputError(f"Cannot export a table to {target.name!r}: use a .csv, .tsv or .xlsx file name.")
    return target


def write_h5ad_atomic(adata, path: str | os.PathLike) -> Path:
    """Write an AnnData as ``.h5ad`` atomically (the name must end in .h5ad)."""
    target = Path(path)
    if target.suffix.lower() != ".h5ad":
        raise OmicsInputError(f"An annotated AnnData is saved as .h5ad; {target.name!r} has another suffix.")
    with atomic_path(target) as tmp:
        adata.write_h5ad(tmp)
    return target
