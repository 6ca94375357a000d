"""A loader says "damaged" only for a damaged file: running out of memory or a broken library is an internal error."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from omicsgat.errors import OmicsInputError


@pytest.fixture
def h5ad(tmp_path):
    import anndata as ad

    path = tmp_path / "cells.h5ad"
    ad.AnnData(np.ones((4, 3), dtype=np.float32)).write_h5ad(path)
    return path


@pytest.fixture
def parquet(tmp_path):
    path = tmp_path / "table.parquet"
    pd.DataFrame({"sample": ["a", "b", "c"], "g1": [1.0, 2.0, 3.0], "g2": [0.5, 0.1, 0.2]}).to_parquet(path)
    return path


@pytest.mark.parametrize(
    "error", [MemoryError("cannot allocate 80 GiB"), AttributeError("module 'h5py' has no attribute 'x'")]
)
def test_memory_or_library_trouble_in_h5ad_is_not_called_damaged(h5ad, monkeypatch, error):
    import anndata

    import omicsgat.io as oio

    def fail(*args, **kwargs):
        raise error

    monkeypatch.setattr(anndata, "read_h5ad", fail)
    with pytest.raises(type(error)):
        oio.read_anndata(h5ad)


def test_a_truncated_h5ad_is_still_called_damaged(h5ad):
    import omicsgat.io as oio

    data = h5ad.read_bytes()
    h5ad.write_bytes(data[: len(data) // 2])
    with pytest.raises(OmicsInputError, match="truncated or damaged"):
        oio.read_anndata(h5ad)


def test_memory_error_in_parquet_is_not_called_unreadable(parquet, monkeypatch):
    import omicsgat.io as oio

    def fail(*args, **kwargs):
        raise MemoryError("cannot allocate")

    monkeypatch.setattr(pd, "read_parquet", fail)
    with pytest.raises(MemoryError):
        oio.read_table(parquet)


def test_cli_reports_memory_error_as_internal_with_a_log(h5ad, monkeypatch, capsys, _log_dir):
    import anndata

    from omicsgat.cli import main

    def fail(*args, **kwargs):
        raise MemoryError("cannot allocate 80 GiB")

    monkeypatch.setattr(anndata, "read_h5ad", fail)
    assert main(["info", str(h5ad)]) == 1
    err = capsys.readouterr().err
    assert "internal error: MemoryError" in err and "damaged" not in err
    assert any("MemoryError" in p.read_text() for p in _log_dir.glob("*.log"))
