"""Omics tables, clinical tables and cohort alignment: exact values on hand-made files."""

from __future__ import annotations

import gzip

import numpy as np
import pandas as pd
import pytest

from omicsgat.errors import OmicsInputError
from omicsgat.io import preview_table, read_clinical, read_cohort, read_table

EXPECTED = pd.DataFrame(
    {"g1": [1.5, 4.0, 7.0], "g2": [2.0, np.nan, 8.25], "g3": [3.0, 6.0, -9.0]},
    index=pd.Index(["001", "002", "010"], name="sample"),
)


def _check(frame):
    pd.testing.assert_frame_equal(frame, EXPECTED, check_index_type=False, check_column_type=False)


@pytest.mark.parametrize(
    "name,text",
    [
        ("t.csv", "id,g1,g2,g3\n001,1.5,2,3\n002,4,,6\n010,7,8.25,-9\n"),
        ("t.tsv", "id\tg1\tg2\tg3\n001\t1.5\t2\t3\n002\t4\tNA\t6\n010\t7\t8.25\t-9\n"),
        ("t.txt", "id;g1;g2;g3\r\n001;1.5;2;3\r\n002;4;;6\r\n010;7;8.25;-9\r\n"),
        ("t_trailing.csv", "id,g1,g2,g3,\n001,1.5,2,3,\n002,4,,6,\n010,7,8.25,-9,\n"),
        ("t_quoted.csv", '"id","g1","g2","g3"\n"001",1.5,"2",3\n"002",4,"",6\n"010",7,8.25,-9\n'),
    ],
)
def test_text_tables_load_exact_values_and_keep_id_strings(tmp_path, name, text):
    path = tmp_path / name
    path.write_bytes(text.encode())
    frame, report = read_table(path)
    _check(frame)
    assert any("1 missing value(s)" in w and "impute" in w for w in report.warnings)


def test_gzip_parquet_and_transposed_tables(tmp_path):
    (tmp_path / "t.csv.gz").write_bytes(gzip.compress(b"id,g1,g2,g3\n001,1.5,2,3\n002,4,,6\n010,7,8.25,-9\n"))
    _check(read_table(tmp_path / "t.csv.gz")[0])
    EXPECTED.to_parquet(tmp_path / "t.parquet")
    _check(read_table(tmp_path / "t.parquet")[0])
    EXPECTED.reset_index().to_parquet(tmp_path / "t2.parquet", index=False)
    _check(read_table(tmp_path / "t2.parquet")[0])
    (tmp_path / "tt.tsv").write_text("gene\t001\t002\t010\ng1\t1.5\t4\t7\ng2\t2\t\t8.25\ng3\t3\t6\t-9\n")
    _check(read_table(tmp_path / "tt.tsv", transpose=True)[0])


def test_transposed_non_numeric_cell_is_named_in_file_terms(tmp_path):
    (tmp_path / "tt.tsv").write_text("gene\tS1\tS2\ng1\t1\t2\ng2\t3\toops\n")
    with pytest.raises(OmicsInputError, match=r"tt.tsv: 1 non-numeric .*'oops' in column 'S2', row 'g2'"):
        read_table(tmp_path / "tt.tsv", transpose=True)


def test_duplicated_features_are_renamed_and_listed(tmp_path):
    (tmp_path / "d.csv").write_text("id,TP53,TP53,EGFR,TP53\nA,1,2,3,4\nB,5,6,7,9\n")
    frame, report = read_table(tmp_path / "d.csv")
    assert list(frame.columns) == ["TP53", "TP53-1", "EGFR", "TP53-2"]
    assert frame.loc["B", "TP53-2"] == 9
    assert any("'TP53'" in w for w in report.warnings)


def test_missing_and_directory_paths(tmp_path):
    with pytest.raises(OmicsInputError, match="nope.csv: file not found"):
        read_table(tmp_path / "nope.csv")
    with pytest.raises(OmicsInputError, match="is a folder"):
        read_table(tmp_path)


def test_preview_reads_the_head_as_strings(tmp_path):
    rows = "\n".join(f"S{i},{i},{i * 2}" for i in range(1000))
    (tmp_path / "big.csv").write_text("id,a,b\n" + rows + "\n")
    head = preview_table(tmp_path / "big.csv", n_rows=3)
    assert list(head.columns) == ["id", "a", "b"]
    assert head.values.tolist() == [["S0", "0", "0"], ["S1", "1", "2"], ["S2", "2", "4"]]


def _clinical(tmp_path, events, times=None, extra=""):
    n = len(events)
    times = times or [float(i + 1) for i in range(n)]
    lines = ["patient,OS_time,OS_event" + ("," + extra if extra else "")]
    lines += [f"P{i:02d},{t},{e}" + (",x" if extra else "") for i, (t, e) in enumerate(zip(times, events))]
    path = tmp_path / "clin.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize(
    "words,expected",
    [
        (["dead", "Alive", "DECEASED", "living"], [1, 0, 1, 0]),
        (["1:DECEASED", "0:LIVING", "1:DECEASED", "0:LIVING"], [1, 0, 1, 0]),
        (["TRUE", "false", "yes", "No"], [1, 0, 1, 0]),
        (["1", "0", "0", "1"], [1, 0, 0, 1]),
        (["1.0", "0.0", "1", "0"], [1, 0, 1, 0]),
        (["event", "censored", "Event", "Censored"], [1, 0, 1, 0]),
    ],
)
def test_event_words_are_mapped_explicitly(tmp_path, words, expected):
    frame, report = read_clinical(_clinical(tmp_path, words), time_col="OS_time", event_col="OS_event")
    assert frame["OS_event"].tolist() == expected
    assert frame["OS_event"].dtype.kind == "i" and frame["OS_time"].dtype == float
    assert any("mapped as" in m and f"{words[0]!r} -> {expected[0]}" in m for m in report.infos)


def test_user_event_map_and_case_insensitive_columns(tmp_path):
    path = _clinical(tmp_path, ["DOD", "NED", "NED", "AWD"])
    with pytest.raises(
        OmicsInputError, match=r"not a recognised event/censored code: 'NED', 'AWD' \(first in row 'P01' \(line 3\)\)"
    ):
        read_clinical(path, time_col="OS_time", event_col="OS_event")
    frame, _ = read_clinical(
        path, time_col="os_time", event_col="OS_EVENT", event_map={"dod": 1, "NED": 0, "AWD": False}
    )
    assert frame["OS_EVENT"].tolist() == [1, 0, 0, 0]


def test_missing_event_column_lists_available_columns(tmp_path):
    path = _clinical(tmp_path, ["dead", "alive"], extra="stage")
    with pytest.raises(
        OmicsInputError, match=r"clin.csv: no event column 'vital'. Available columns: 'OS_time', 'OS_event', 'stage'"
    ):
        read_clinical(path, time_col="OS_time", event_col="vital")


def _cohort_files(tmp_path, n=20):
    rng = np.random.default_rng(0)
    ids = [f"S{i:02d}" for i in range(n)]
    clin = pd.DataFrame({"time": rng.uniform(1, 50, n).round(2), "status": rng.choice(["dead", "alive"], n)}, index=ids)
    clin.iloc[0, 1] = "dead"
    clin.rename_axis("id").to_csv(tmp_path / "clin.csv")
    a = pd.DataFrame(rng.normal(size=(n, 4)).round(3), index=ids, columns=list("abcd"))
    a.iloc[::-1].rename_axis("id").to_csv(tmp_path / "a.csv")  # reversed order
    b = pd.DataFrame(rng.normal(size=(n - 3, 3)).round(3), index=ids[3:], columns=["x", "y", "z"])
    b.T.rename_axis("feature").to_csv(tmp_path / "b.tsv", sep="\t")  # features as rows
    return clin, a, b


def test_cohort_is_aligned_on_the_shared_samples_in_clinical_order(tmp_path):
    clin, a, b = _cohort_files(tmp_path)
    cohort = read_cohort(
        {"A": tmp_path / "a.csv", "B": tmp_path / "b.tsv"},
        tmp_path / "clin.csv",
        time_col="time",
        event_col="status",
        transpose={"B": True},
    )
    assert list(cohort.samples) == list(clin.index[3:])
    for name, truth in (("A", a), ("B", b)):
        assert list(cohort.tables[name].index) == list(cohort.samples)
        np.testing.assert_allclose(cohort.tables[name].to_numpy(), truth.loc[cohort.samples].to_numpy())
    np.testing.assert_array_equal(cohort.event, (clin["status"].iloc[3:] == "dead").to_numpy())
    np.testing.assert_allclose(cohort.time, clin["time"].iloc[3:].to_numpy())
    assert any("b.tsv (B): 3 of 20 clinical samples are missing" in w and "'S00'" in w for w in cohort.report.warnings)


def test_cohort_with_too_few_shared_samples_is_refused(tmp_path):
    _cohort_files(tmp_path, n=12)
    with pytest.raises(
        OmicsInputError, match=r"Only 9 sample\(s\) are in clin.csv and in every omics table; at least 10"
    ):
        read_cohort(
            {"A": tmp_path / "a.csv", "B": tmp_path / "b.tsv"},
            tmp_path / "clin.csv",
            time_col="time",
            event_col="status",
            transpose={"B": True},
        )


def test_cohort_reports_ids_that_differ_only_in_case(tmp_path):
    clin, a, _ = _cohort_files(tmp_path)
    a.index = [s.lower() if i < 2 else s for i, s in enumerate(a.index)]
    a.rename_axis("id").to_csv(tmp_path / "a.csv")
    cohort = read_cohort({"A": tmp_path / "a.csv"}, tmp_path / "clin.csv", time_col="time", event_col="status")
    assert cohort.n_samples == 18
    assert any("only when ignoring case" in w and "'s00' vs 'S00'" in w for w in cohort.report.warnings)


def test_sample_cohort_matches_the_simulation(tmp_path):
    from pathlib import Path

    folder = Path(__file__).resolve().parents[2] / "sample_data" / "cohort"
    cohort = read_cohort(
        {m: folder / f"{m}.csv" for m in ("mRNA", "miRNA", "methylation")},
        folder / "clinical.csv",
        time_col="OS_time",
        event_col="OS_event",
    )
    assert cohort.n_samples == 200
    assert {k: v.shape[1] for k, v in cohort.tables.items()} == {"mRNA": 300, "miRNA": 100, "methylation": 200}
    truth = pd.read_csv(folder / "truth_prognostic.tsv", sep="\t")
    assert set(truth["feature"]) <= set().union(*(t.columns for t in cohort.tables.values()))
    raw = pd.read_csv(folder / "clinical.csv", index_col=0)
    np.testing.assert_array_equal(cohort.event, (raw["OS_event"] == "dead").to_numpy())


def test_utf16_excel_export_and_old_mac_line_ends(tmp_path):
    frame = pd.DataFrame({"g1": [1.0, 2.5], "g,2": [3.0, 4.0]}, index=pd.Index(["S1", "S2"], name="id"))
    (tmp_path / "u16.txt").write_bytes(frame.to_csv(sep="\t").encode("utf-16"))
    (tmp_path / "mac.csv").write_bytes(frame.to_csv().replace("\n", "\r").encode())
    for name in ("u16.txt", "mac.csv"):
        loaded, report = read_table(tmp_path / name)
        np.testing.assert_array_equal(loaded.to_numpy(), frame.to_numpy())
        assert list(loaded.columns) == ["g1", "g,2"] and list(loaded.index) == ["S1", "S2"]
    assert "UTF-16 text" in read_table(tmp_path / "u16.txt")[1].to_text()


def test_r_style_1_2_events_get_a_hint_and_map_with_event_map(tmp_path):
    path = _clinical(tmp_path, ["2", "1", "1", "2"])
    with pytest.raises(OmicsInputError, match=r"R's Surv\(\) coding .* event_map=\{1: 0, 2: 1\}"):
        read_clinical(path, time_col="OS_time", event_col="OS_event")
    frame, _ = read_clinical(path, time_col="OS_time", event_col="OS_event", event_map={1: 0, 2: 1})
    assert frame["OS_event"].tolist() == [1, 0, 0, 1]


def test_excel_tables_load_and_preview(tmp_path):
    frame = pd.DataFrame({"g1": [1.0, 2.5, 3.0], "g2": [3.0, None, 5.0]}, index=pd.Index(["S1", "S2", "S3"], name="id"))
    frame.to_excel(tmp_path / "t.xlsx")
    loaded, _ = read_table(tmp_path / "t.xlsx")
    np.testing.assert_array_equal(loaded.to_numpy(), frame.to_numpy())
    assert list(loaded.index) == ["S1", "S2", "S3"]
    assert preview_table(tmp_path / "t.xlsx", n_rows=2).values.tolist() == [["S1", "1", "3"], ["S2", "2.5", ""]]
    bad = frame.astype(object)
    bad.loc["S3", "g2"] = "x"
    bad.to_excel(tmp_path / "bad.xlsx")
    with pytest.raises(
        OmicsInputError, match=r"bad.xlsx: 1 non-numeric value\(s\) .*'x' in column 'g2', row 'S3' \(line 4\)"
    ):
        read_table(tmp_path / "bad.xlsx")


def test_describe_objects_in_memory(tmp_path, small_cohort):
    from omicsgat.io import describe

    text = describe(small_cohort)
    assert "samples (in every table): 200" in text and "mRNA: 200 features" in text and "miRNA: 60 features" in text
    table = describe(EXPECTED)
    assert "samples:         3" in table and "features:        3" in table and "missing values:  1" in table
    with pytest.raises(OmicsInputError, match="Cannot describe a int"):
        describe(3)


def test_saved_cohort_reads_back_identically(tmp_path, small_cohort):
    paths = small_cohort.save(tmp_path / "cohort")
    clinical = paths.pop("clinical")
    cohort = read_cohort(paths, clinical, time_col="OS_time", event_col="OS_event")
    assert list(cohort.samples) == list(small_cohort.samples)
    for name, table in small_cohort.tables.items():
        np.testing.assert_allclose(cohort.tables[name].to_numpy(), table.to_numpy(), rtol=1e-12)
    np.testing.assert_array_equal(cohort.event, small_cohort.event)
    np.testing.assert_allclose(cohort.time, small_cohort.time)
