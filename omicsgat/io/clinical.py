"""Clinical tables (survival time and event) and whole cohorts aligned by sample ID.

Event values are mapped explicitly (0/1, true/false, yes/no, dead/alive,
deceased/living, event/censored, cBioPortal's ``1:DECEASED``, ...; or the
user's ``event_map``) and the mapping is written to the load report, so that
nobody has to guess which word meant "event".
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping, Optional

import numpy as np
import pandas as pd

from omicsgat.errors import OmicsInputError
from omicsgat.io.multiomics import MultiOmics
from omicsgat.io.report import LoadReport
from omicsgat.io.tables import _check_file, _clean_ids, _line_of, _listed, read_raw_table, read_table

EVENT_WORDS = {
    1: (
        "1",
        "true",
        "t",
        "yes",
        "y",
        "dead",
        "deceased",
        "died",
        "death",
        "dod",
        "event",
        "relapse",
        "relapsed",
        "recurred",
        "recurrence",
        "progressed",
        "progression",
    ),
    0: (
        "0",
        "false",
        "f",
        "no",
        "n",
        "alive",
        "living",
        "censored",
        "censor",
        "no event",
        "disease free",
        "diseasefree",
        "not relapsed",
        "no recurrence",
    ),
}
MIN_SAMPLES = 10


def _event_key(value) -> str:
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        value = int(value)  # 1.0 (a numeric column with gaps) is the code 1
    text = str(value).strip().casefold()
    try:
        number = float(text)
        if number.is_integer() and text not in ("inf", "nan"):
            text = str(int(number))
    except ValueError:
        pass
    # cBioPortal style "1:DECEASED" / "0:LIVING"
    if len(text) > 2 and text[1] == ":" and text[0] in "01":
        return text[0]
    return text


def _event_lookup(event_map: Optional[Mapping]) -> dict:
    lookup = {w: code for code, words in EVENT_WORDS.items() for w in words}
    for key, code in (event_map or {}).items():
        if isinstance(code, (bool, np.bool_)):
            code = int(code)
        if code not in (0, 1):
            raise OmicsInputError(f"event_map maps {key!r} to {code!r}; map every value to 0 (censored) or 1 (event).")
        lookup[_event_key(key)] = int(code)
    return lookup


def _find_column(p: Path, frame: pd.DataFrame, col: str, role: str, option: str) -> str:
    if col in frame.columns:
        return col
    near = [c for c in frame.columns if str(c).strip().casefold() == str(col).strip().casefold()]
    if len(near) == 1:
        return near[0]
    cols = ", ".join(repr(str(c)) for c in frame.columns[:30]) + (" ..." if frame.shape[1] > 30 else "")
    raise OmicsInputError(f"{p.name}: no {role} column {col!r}. Available columns: {cols}. Choose one with {option}.")


def _rows(frame: pd.DataFrame, positions) -> str:
    return ", ".join(f"{frame.index[i]!r}{_line_of(frame, i)}" for i in list(positions)[:5]) + (
        f" and {len(positions) - 5} more" if len(positions) > 5 else ""
    )


def read_clinical(
    path: str | os.PathLike,
    *,
    time_col: str,
    event_col: str,
    event_map: Optional[Mapping] = None,
) -> tuple[pd.DataFrame, LoadReport]:
    """Read a clinical table: sample IDs in the first column, survival time and event columns.

    Returns the frame (index ``"sample"``) with ``time_col`` as float and
    ``event_col`` as 0/1 int, other columns as written, and the load report.
    Missing, non-numeric or negative times, unmapped event values and a
    table with no events are errors naming the rows.
    """
    p = _check_file(path)
    report = LoadReport(source=str(p))
    frame = read_raw_table(p, report)
    lines = [_line_of(frame, i) for i in range(frame.shape[0])]
    first_line = frame.attrs.get("first_line")
    frame.index = _clean_ids(p, frame.index, "sample ID", "the first column", lines)
    frame.index.name = "sample"
    frame.columns = [str(c).strip() for c in frame.columns]
    frame.attrs["first_line"] = first_line
    tcol = _find_column(p, frame, time_col, "survival time", "time_col (--time-col)")
    ecol = _find_column(p, frame, event_col, "event", "event_col (--event-col)")
    if tcol == ecol:
        raise OmicsInputError(
            f"{p.name}: the time and the event column are both {tcol!r}; choose two different columns."
        )

    raw_t = frame[tcol]
    t_str = raw_t.astype(str).str.strip()
    missing = raw_t.isna() | (t_str == "")
    if missing.any():
        raise OmicsInputError(
            f"{p.name}: {int(missing.sum())} missing survival time(s) in column {tcol!r}, rows {_rows(frame, np.flatnonzero(missing))}. "
            f"Fill them in or remove those samples."
        )
    times = pd.to_numeric(t_str, errors="coerce")
    bad = times.isna() | ~np.isfinite(times)
    if bad.any():
        pos = np.flatnonzero(bad)
        raise OmicsInputError(
            f"{p.name}: {int(bad.sum())} non-numeric survival time(s) in column {tcol!r}, first {raw_t.iloc[pos[0]]!r} "
            f"in rows {_rows(frame, pos)}. Times must be numbers (e.g. days or months)."
        )
    neg = times < 0
    if neg.any():
        pos = np.flatnonzero(neg)
        raise OmicsInputError(
            f"{p.name}: {int(neg.sum())} negative survival time(s) in column {tcol!r}, first {float(times.iloc[pos[0]])} "
            f"in rows {_rows(frame, pos)}. Times must be >= 0."
        )

    raw_e = frame[ecol]
    e_missing = raw_e.isna() | (raw_e.astype(str).str.strip() == "")
    if e_missing.any():
        raise OmicsInputError(
            f"{p.name}: {int(e_missing.sum())} missing event value(s) in column {ecol!r}, rows {_rows(frame, np.flatnonzero(e_missing))}. "
            f"Fill them in (1/dead = event, 0/alive = censored) or remove those samples."
        )
    lookup = _event_lookup(event_map)
    keys = raw_e.map(_event_key)
    codes = keys.map(lookup)
    unmapped = codes.isna()
    if unmapped.any():
        pos = np.flatnonzero(unmapped)
        values = pd.unique(raw_e[unmapped].astype(str))
        hint = ""
        if set(keys.unique()) <= {"1", "2"}:
            hint = " The column holds only 1 and 2, like R's Surv() coding (1 = censored, 2 = event): if so, pass event_map={1: 0, 2: 1} (--event-map 1=0,2=1)."
        raise OmicsInputError(
            f"{p.name}: event column {ecol!r} holds value(s) that are not a recognised event/censored code: "
            f"{_listed(values)} (first in row {_rows(frame, pos[:1])}). Use 0/1, true/false, yes/no or dead/alive, "
            f"or give an explicit event_map (--event-map VALUE=1,VALUE=0).{hint}"
        )
    codes = codes.astype(int)
    mapping = (
        pd.DataFrame({"value": raw_e.astype(str).str.strip(), "code": codes})
        .groupby(["value", "code"])
        .size()
        .reset_index(name="n")
        .sort_values(["code", "value"])
    )
    report.info(
        f"{p.name}: event column {ecol!r} mapped as "
        + ", ".join(f"{r.value!r} -> {r.code} ({r.n} samples)" for r in mapping.itertuples())
        + "."
    )
    if codes.sum() == 0:
        raise OmicsInputError(
            f"{p.name}: no events in column {ecol!r} (every sample is censored); survival analysis needs at least one event. "
            f"Check the column and the event coding."
        )
    out = frame.copy()
    out[tcol] = times.astype(float).to_numpy()
    out[ecol] = codes.to_numpy()
    if tcol != time_col or ecol != event_col:
        out = out.rename(columns={tcol: time_col, ecol: event_col})
        report.info(
            f"{p.name}: columns {tcol!r}/{ecol!r} matched the requested {time_col!r}/{event_col!r} ignoring case."
        )
    zero = int((out[time_col] == 0).sum())
    if zero:
        report.info(f"{p.name}: {zero} sample(s) have survival time 0.")
    report.info(f"{p.name}: {len(out)} samples, {int(codes.sum())} events, {int((codes == 0).sum())} censored.")
    return out, report


def _examples(ids, n: int = 3) -> str:
    return _listed(sorted(map(str, ids)), n)


def read_cohort(
    omics: Mapping[str, str | os.PathLike],
    clinical: str | os.PathLike,
    *,
    time_col: str,
    event_col: str,
    transpose: bool | Mapping[str, bool] = False,
    event_map: Optional[Mapping] = None,
) -> MultiOmics:
    """Load omics tables and a clinical table, validate them and align them by sample ID.

    Parameters
    ----------
    omics
        Modality name -> table path, e.g. ``{"mRNA": "mRNA.csv", "miRNA": "miRNA.tsv"}``.
    clinical
        Clinical table with the sample IDs in the first column.
    time_col, event_col
        Survival time (numeric, >= 0) and event (0/1, dead/alive, ...) columns.
    transpose
        ``True`` (or per modality) when a table has features as rows.
    event_map
        Extra or overriding event codes, e.g. ``{"DOD": 1, "NED": 0}``.

    Returns
    -------
    MultiOmics
        Samples present in the clinical table and in every omics table (in
        clinical order); samples missing somewhere are reported in ``.report``.
    """
    if not omics:
        raise OmicsInputError("No omics tables given: add at least one (name -> file).")
    names = [str(n).strip() for n in omics]
    if any(not n for n in names) or len(set(names)) != len(names):
        raise OmicsInputError(f"Omics table names must be non-empty and different (got {names}).")
    if isinstance(transpose, Mapping):
        unknown = set(transpose) - set(omics)
        if unknown:
            raise OmicsInputError(f"transpose names unknown table(s) {sorted(unknown)}; tables are {sorted(omics)}.")
    clin_path = Path(clinical)
    report = LoadReport(source=", ".join([Path(v).name for v in omics.values()] + [clin_path.name]))
    clin, clin_report = read_clinical(clin_path, time_col=time_col, event_col=event_col, event_map=event_map)
    report.extend(clin_report)
    tables = {}
    paths = {}
    for name, path in omics.items():
        flip = bool(transpose.get(name, False)) if isinstance(transpose, Mapping) else bool(transpose)
        table, table_report = read_table(path, transpose=flip)
        report.extend(table_report)
        tables[str(name).strip()] = table
        paths[str(name).strip()] = Path(path)

    common = clin.index
    for table in tables.values():
        common = common.intersection(table.index, sort=False)
    keep = clin.index[clin.index.isin(common)]
    for name, table in tables.items():
        fname = paths[name].name
        not_in_table = clin.index.difference(table.index)
        not_in_clin = table.index.difference(clin.index)
        if len(not_in_table):
            report.warn(
                f"{fname} ({name}): {len(not_in_table)} of {len(clin)} clinical samples are missing from this table "
                f"(e.g. {_examples(not_in_table)}); they are left out of the analysis."
            )
        if len(not_in_clin):
            report.warn(
                f"{fname} ({name}): {len(not_in_clin)} of {len(table)} samples have no row in {clin_path.name} "
                f"(e.g. {_examples(not_in_clin)}); they are left out of the analysis."
            )
        folded = {s.casefold(): s for s in not_in_clin}
        near = [(folded[s.casefold()], s) for s in not_in_table if s.casefold() in folded]
        if near:
            report.warn(
                f"{fname} ({name}): {len(near)} sample ID(s) match {clin_path.name} only when ignoring case, e.g. "
                + "; ".join(f"{a!r} vs {b!r}" for a, b in near[:3])
                + ". They were not matched: make the IDs identical."
            )
    if len(keep) < MIN_SAMPLES:
        detail = "; ".join(
            f"{paths[n].name}: {len(t)} samples (e.g. {_examples(t.index, 2)})" for n, t in tables.items()
        )
        raise OmicsInputError(
            f"Only {len(keep)} sample(s) are in {clin_path.name} and in every omics table; at least {MIN_SAMPLES} are needed. "
            f"{clin_path.name}: {len(clin)} samples (e.g. {_examples(clin.index, 2)}); {detail}. "
            f"Check that the tables use the same sample IDs (and whether a table needs transpose)."
        )
    clin = clin.loc[keep]
    if int(clin[event_col].sum()) == 0:
        raise OmicsInputError(
            f"{clin_path.name}: none of the {len(keep)} samples shared by all tables has an event in {event_col!r}; "
            f"survival analysis needs at least one event."
        )
    n_events = int(clin[event_col].sum())
    if n_events < MIN_SAMPLES:
        report.warn(
            f"{clin_path.name}: only {n_events} event(s) among the {len(keep)} shared samples; "
            f"C-index and hazard ratios will be very uncertain."
        )
    tables = {n: t.loc[keep] for n, t in tables.items()}
    report.info(
        f"Cohort: {len(keep)} samples in all tables, {int(clin[event_col].sum())} events; "
        + ", ".join(f"{n} {t.shape[1]} features" for n, t in tables.items())
        + "."
    )
    return MultiOmics(tables=tables, clinical=clin, time_col=time_col, event_col=event_col, report=report)
