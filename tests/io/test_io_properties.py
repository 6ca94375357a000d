"""Property tests: any table loads back the same values or fails with a clear OmicsInputError, never another exception."""

from __future__ import annotations

import gzip
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from omicsgat.errors import OmicsInputError
from omicsgat.io import read_clinical, read_table

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FORMATS = ("csv", "tsv", "txt", "csv.gz", "parquet")


def _write(frame: pd.DataFrame, fmt: str, folder: Path) -> Path:
    path = folder / f"table.{fmt}"
    if fmt == "parquet":
        frame.to_parquet(path)
    else:
        sep = "," if fmt.startswith("csv") else "\t"
        text = frame.to_csv(sep=sep, lineterminator="\n")
        data = text.encode("utf-8")
        path.write_bytes(gzip.compress(data) if fmt.endswith(".gz") else data)
    return path


@st.composite
def numeric_frames(draw):
    n_rows = draw(st.integers(1, 8))
    n_cols = draw(st.integers(1, 6))
    ids = [f"{' ' if draw(st.booleans()) else ''}S{i}" for i in range(n_rows)]
    cols = {}
    for j in range(n_cols):
        kind = draw(st.sampled_from(["float", "int", "nan", "const"]))
        if kind == "int":
            vals = draw(st.lists(st.integers(-(10**6), 10**6), min_size=n_rows, max_size=n_rows))
        elif kind == "const":
            vals = [draw(st.floats(-1e3, 1e3, allow_nan=False))] * n_rows
        else:
            vals = draw(
                st.lists(
                    st.floats(-1e12, 1e12, allow_nan=False, allow_infinity=False, width=64),
                    min_size=n_rows,
                    max_size=n_rows,
                )
            )
            holes = draw(st.lists(st.booleans(), min_size=n_rows, max_size=n_rows))
            vals = [np.nan if (h or kind == "nan") else v for v, h in zip(vals, holes)]
        cols[f"f{j}"] = vals
    return pd.DataFrame(cols, index=pd.Index(ids, name="sample"))


@SETTINGS
@given(frame=numeric_frames(), fmt=st.sampled_from(FORMATS))
def test_numeric_tables_round_trip(frame, fmt):
    values = frame.to_numpy(dtype=float)
    nan = np.isnan(values)
    informative = [
        j for j in range(values.shape[1]) if not nan[:, j].all() and np.unique(values[~nan[:, j], j]).size > 1
    ]
    with tempfile.TemporaryDirectory() as tmp:
        path = _write(frame, fmt, Path(tmp))
        if not informative:
            try:
                read_table(path)
            except OmicsInputError as exc:
                assert "table." in str(exc)
                return
            raise AssertionError("a table with no informative feature was accepted")
        loaded, report = read_table(path)
    assert list(loaded.index) == [s.strip() for s in frame.index]
    assert list(loaded.columns) == [frame.columns[j] for j in informative]
    # pandas' default ("high") float parser is faster than round-trip exact but may be off by ~1e-13
    np.testing.assert_allclose(loaded.to_numpy(), values[:, informative], rtol=1e-12, atol=0)
    dropped = values.shape[1] - len(informative)
    assert bool(dropped) == any("dropped" in w for w in report.warnings)


CELL = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-5, 5),
    st.booleans(),
    st.text(alphabet="aZ09 .,;-_\"'é\t", max_size=6),
    st.sampled_from(["NA", "", "nan", "inf", "1e5", " 3 ", "1,5"]),
)


@st.composite
def dirty_frames(draw):
    n_rows = draw(st.integers(1, 6))
    n_cols = draw(st.integers(1, 5))
    ids = draw(st.lists(st.text(alphabet="sS01 -_.é,", min_size=0, max_size=4), min_size=n_rows, max_size=n_rows))
    names = draw(st.lists(st.text(alphabet="gG01 -_,", min_size=0, max_size=3), min_size=n_cols, max_size=n_cols))
    data = [[draw(CELL) for _ in range(n_cols)] for _ in range(n_rows)]
    return pd.DataFrame(data, index=pd.Index(ids, name="id"), columns=names)


@SETTINGS
@given(frame=dirty_frames(), fmt=st.sampled_from(FORMATS), transpose=st.booleans())
def test_any_table_loads_cleanly_or_raises_a_clear_error(frame, fmt, transpose):
    with tempfile.TemporaryDirectory() as tmp:
        if fmt == "parquet":  # parquet itself refuses duplicated column names
            frame = frame.astype(str)
            fmt = fmt if frame.columns.is_unique else "csv"
        path = _write(frame, fmt, Path(tmp))
        try:
            loaded, report = read_table(path, transpose=transpose)
        except OmicsInputError as exc:
            assert "table." in str(exc)  # names the file
            return
    assert loaded.index.is_unique and loaded.columns.is_unique
    assert all(dtype == np.dtype(float) for dtype in loaded.dtypes)
    arr = loaded.to_numpy()
    assert np.isfinite(arr[~np.isnan(arr)]).all()
    assert not np.isnan(arr).all(axis=0).any()


EVENT = st.one_of(
    st.sampled_from(["dead", "Alive", "1", "0", "TRUE", "no", "1:DECEASED", "", "maybe", "2"]),
    st.integers(-1, 2),
    st.booleans(),
    st.none(),
)
TIME = st.one_of(st.floats(-5, 100), st.just(float("nan")), st.sampled_from(["", "12", "x", "-0"]), st.none())


@SETTINGS
@given(events=st.lists(EVENT, min_size=1, max_size=8), times=st.lists(TIME, min_size=8, max_size=8))
def test_clinical_reader_only_raises_clear_errors(events, times):
    frame = pd.DataFrame(
        {"t": times[: len(events)], "e": events}, index=pd.Index([f"P{i}" for i in range(len(events))], name="id")
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = _write(frame, "csv", Path(tmp))
        try:
            out, _ = read_clinical(path, time_col="t", event_col="e")
        except OmicsInputError as exc:
            assert "table.csv" in str(exc)
            return
    assert set(out["e"]) <= {0, 1} and out["e"].sum() >= 1
    assert (out["t"] >= 0).all() and out["t"].notna().all()
