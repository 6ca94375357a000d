"""Regenerate the bad-input corpus in tests/data/bad/ and its MANIFEST.tsv.

    .venv/bin/python tests/data/make_bad_corpus.py

Every file is small and seeded. MANIFEST.tsv has one row per case:

* ``file``: the file to load (relative to tests/data/bad/),
* ``loader``: the engine call (``read_anndata``, ``read_table``,
  ``read_clinical``, ``read_cohort`` from ``omicsgat.io``; ``annotate_cells``
  from ``omicsgat.celltype``),
* ``kwargs``: JSON keyword arguments; file names inside are relative to
  tests/data/bad/ (``omics`` values for read_cohort, ``reference`` for
  annotate_cells, which is an .h5ad to read first),
* ``outcome``: ``error`` (OmicsInputError whose message contains ``message``;
  the ``omicsgat.io`` loaders also name the file), ``warning`` or ``info``
  (loads; the load report has an entry of that level containing ``message``),
* ``message``: the expected substring,
* ``cli``: arguments for ``omicsgat info`` run inside tests/data/bad/
  (error: exit code 2 and ``message`` on stderr; warning/info: exit 0 and
  ``message`` on stdout); empty when the case has no ``info`` form.

Read it with ``pd.read_csv(path, sep="\\t", quoting=csv.QUOTE_NONE, keep_default_na=False)``.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from omicsgat.io.atomic import atomic_path, write_table_atomic, write_text_atomic

BAD = Path(__file__).resolve().parent / "bad"
ROWS: list = []


def case(file, loader, outcome, message, cli="", **kwargs):
    ROWS.append(
        {
            "file": file,
            "loader": loader,
            "kwargs": json.dumps(kwargs, sort_keys=True),
            "outcome": outcome,
            "message": message,
            "cli": cli,
        }
    )


def write_bytes(name: str, data: bytes) -> None:
    with atomic_path(BAD / name) as tmp:
        tmp.write_bytes(data)


def small_adata(n_cells=40, n_genes=25, seed=0):
    import anndata as ad

    rng = np.random.default_rng(seed)
    X = rng.poisson(1.5, size=(n_cells, n_genes)).astype(np.float32)
    obs = pd.DataFrame(
        {"cell_type": rng.choice(["T", "B", "NK"], size=n_cells)}, index=[f"cell{i:03d}" for i in range(n_cells)]
    )
    var = pd.DataFrame(index=[f"GENE{j:03d}" for j in range(n_genes)])
    return ad.AnnData(X=sp.csr_matrix(X), obs=obs, var=var)


def write_h5ad(adata, name: str) -> None:
    with atomic_path(BAD / name) as tmp:
        adata.write_h5ad(tmp)


def anndata_cases() -> None:
    good = small_adata()
    write_h5ad(good, "truncated.h5ad")
    data = (BAD / "truncated.h5ad").read_bytes()
    write_bytes("truncated.h5ad", data[: len(data) // 2])
    case("truncated.h5ad", "read_anndata", "error", "truncated or damaged", "truncated.h5ad")

    write_bytes("not_hdf5.h5ad", b"cell,GENE1,GENE2\ncell1,1,2\ncell2,3,4\n")
    case("not_hdf5.h5ad", "read_anndata", "error", "not an HDF5 file", "not_hdf5.h5ad")

    write_bytes("zero_bytes.h5ad", b"")
    case("zero_bytes.h5ad", "read_anndata", "error", "the file is empty", "zero_bytes.h5ad")

    a = small_adata(seed=1)
    a.obs_names = [f"cell{i % 30:03d}" for i in range(a.n_obs)]
    write_h5ad(a, "duplicated_cells.h5ad")
    case("duplicated_cells.h5ad", "read_anndata", "warning", "10 duplicated cell name(s)", "duplicated_cells.h5ad")

    a = small_adata(seed=2)
    a.var_names = [f"GENE{j % 20:03d}" for j in range(a.n_vars)]
    write_h5ad(a, "duplicated_genes.h5ad")
    case("duplicated_genes.h5ad", "read_anndata", "warning", "5 duplicated gene name(s)", "duplicated_genes.h5ad")

    a = small_adata()[:0].copy()
    write_h5ad(a, "empty_matrix.h5ad")
    case("empty_matrix.h5ad", "read_anndata", "error", "the expression matrix is empty", "empty_matrix.h5ad")

    a = small_adata(seed=3)
    X = a.X.toarray()
    X[:, [3, 7, 11]] = 0
    a.X = sp.csr_matrix(X)
    write_h5ad(a, "all_zero_genes.h5ad")
    case(
        "all_zero_genes.h5ad", "read_anndata", "warning", "3 of 25 genes are zero in every cell", "all_zero_genes.h5ad"
    )

    a = small_adata(seed=4)
    X = a.X.toarray()
    X[5, 2] = np.nan
    X[9, 4] = np.nan
    a.X = X
    write_h5ad(a, "nan_in_x.h5ad")
    case(
        "nan_in_x.h5ad",
        "read_anndata",
        "error",
        "2 NaN or infinite value(s), first at cell 'cell005', gene 'GENE002'",
        "nan_in_x.h5ad",
    )

    a = small_adata(seed=5)
    X = a.X.toarray()
    X[12, 6] = np.inf
    a.X = sp.csr_matrix(X)
    write_h5ad(a, "inf_in_x.h5ad")
    case(
        "inf_in_x.h5ad",
        "read_anndata",
        "error",
        "1 NaN or infinite value(s), first at cell 'cell012', gene 'GENE006'",
        "inf_in_x.h5ad",
    )

    a = small_adata(seed=6)
    X = a.X.toarray()
    X[3, 8] = -2
    a.X = sp.csr_matrix(X)
    write_h5ad(a, "negative_counts.h5ad")
    case(
        "negative_counts.h5ad",
        "read_anndata",
        "error",
        "negative value(s), first at cell 'cell003', gene 'GENE008'",
        "negative_counts.h5ad",
    )

    import h5py

    with atomic_path(BAD / "not_10x.h5") as tmp:
        with h5py.File(tmp, "w") as fh:
            fh.create_dataset("values", data=np.arange(10))
    case("not_10x.h5", "read_anndata", "error", "not a 10x Genomics .h5 matrix", "not_10x.h5")

    # cell typing: one labelled class; reference and query without shared genes
    a = small_adata(seed=7)
    labels = np.where(np.arange(a.n_obs) % 4 == 0, None, "T").astype(object)
    a.obs["cell_type"] = pd.Categorical(labels)
    write_h5ad(a, "one_class_labels.h5ad")
    case("one_class_labels.h5ad", "annotate_cells", "error", "single cell type", label_key="cell_type", epochs=1)
    ref = small_adata(seed=8)
    query = small_adata(seed=9)
    query.var_names = [f"OTHER{j:03d}" for j in range(query.n_vars)]
    del query.obs["cell_type"]
    write_h5ad(ref, "no_shared_genes_reference.h5ad")
    write_h5ad(query, "no_shared_genes_query.h5ad")
    case(
        "no_shared_genes_query.h5ad",
        "annotate_cells",
        "error",
        "share 0 gene names",
        label_key="cell_type",
        reference="no_shared_genes_reference.h5ad",
        epochs=1,
    )


def table(rows: int = 12, cols: int = 4, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        np.round(rng.normal(5, 2, size=(rows, cols)), 3),
        index=pd.Index([f"S{i:02d}" for i in range(rows)], name="sample"),
        columns=[f"g{j}" for j in range(cols)],
    )


def csv_text(frame: pd.DataFrame, sep: str = ",") -> str:
    return frame.to_csv(sep=sep, lineterminator="\n")


def table_cases() -> None:
    t = table().astype(object)
    t.loc["S03", "g2"] = "high"
    t.loc["S07", "g1"] = "n.d."
    write_text_atomic(BAD / "mixed_types.csv", csv_text(t))
    case("mixed_types.csv", "read_table", "error", "'n.d.' in column 'g1', row 'S07' (line 9)", "mixed_types.csv")

    write_text_atomic(BAD / "wrong_delimiter.csv", csv_text(table(seed=1), sep=";"))
    case(
        "wrong_delimiter.csv",
        "read_table",
        "error",
        "single column with the comma (',') delimiter",
        "wrong_delimiter.csv",
    )

    write_bytes("bom.csv", b"\xef\xbb\xbf" + csv_text(table(seed=2)).encode())
    case("bom.csv", "read_table", "info", "byte-order mark", "bom.csv")

    write_bytes("windows_line_endings.csv", csv_text(table(seed=3)).replace("\n", "\r\n").encode())
    case("windows_line_endings.csv", "read_table", "info", "Windows line endings", "windows_line_endings.csv")

    write_bytes("utf16_excel_export.txt", csv_text(table(seed=20), sep="\t").replace("\n", "\r\n").encode("utf-16"))
    case("utf16_excel_export.txt", "read_table", "info", "UTF-16 text", "utf16_excel_export.txt")

    t = table(seed=4)
    t.columns = ["g0", "café", "g2", "g3"]
    write_bytes("latin1.csv", csv_text(t).encode("latin-1"))
    case(
        "latin1.csv",
        "read_table",
        "warning",
        "not valid UTF-8 (first bad byte 0xe9 at byte position 13, line 1)",
        "latin1.csv",
    )

    t = table(seed=5)
    t.index = [f"S{i:02d}" for i in range(10)] + ["S02", "S05"]
    write_text_atomic(BAD / "duplicated_sample_ids.csv", csv_text(t.rename_axis("sample")))
    case(
        "duplicated_sample_ids.csv",
        "read_table",
        "error",
        "2 duplicated sample ID(s) in the first column: 'S02', 'S05'",
        "duplicated_sample_ids.csv",
    )

    t = table(seed=6)
    t.index = [f"S{i:02d}" for i in range(11)] + ["s04"]
    write_text_atomic(BAD / "case_only_ids.csv", csv_text(t.rename_axis("sample")))
    case(
        "case_only_ids.csv",
        "read_table",
        "error",
        "differ only in upper/lower case or surrounding spaces: 'S04' vs 's04'",
        "case_only_ids.csv",
    )

    t = table(seed=7)
    t.index = [f"S{i:02d}" for i in range(11)] + ["S06 "]
    write_text_atomic(BAD / "whitespace_ids.tsv", csv_text(t.rename_axis("sample"), sep="\t"))
    case("whitespace_ids.tsv", "read_table", "error", "'S06' vs 'S06 '", "whitespace_ids.tsv")

    t = table(seed=8)
    t.columns = ["g0", "g1", "g0", "g3"]
    write_text_atomic(BAD / "duplicated_features.csv", csv_text(t))
    case(
        "duplicated_features.csv",
        "read_table",
        "warning",
        "1 duplicated feature name(s) in the header row: 'g0'",
        "duplicated_features.csv",
    )

    t = table(seed=9)
    t["g1"] = np.nan
    t["g3"] = 7.0
    write_text_atomic(BAD / "empty_and_constant_features.csv", csv_text(t))
    case(
        "empty_and_constant_features.csv",
        "read_table",
        "warning",
        "1 constant feature(s)",
        "empty_and_constant_features.csv",
    )
    case(
        "empty_and_constant_features.csv",
        "read_table",
        "warning",
        "1 feature(s) with no values at all were dropped: 'g1'",
        "empty_and_constant_features.csv",
    )

    t = table(seed=10)
    t.iloc[2, 1] = np.nan
    t.iloc[5, 3] = np.nan
    write_text_atomic(BAD / "missing_values.csv", csv_text(t))
    case("missing_values.csv", "read_table", "warning", "2 missing value(s)", "missing_values.csv")

    text = csv_text(table(seed=11)).split("\n")
    text[4] += ",9.9"
    write_text_atomic(BAD / "ragged_row.csv", "\n".join(text))
    case("ragged_row.csv", "read_table", "error", "line 5 has 6 fields but earlier lines have 5", "ragged_row.csv")

    write_text_atomic(BAD / "header_only.csv", "sample,g0,g1\n")
    case("header_only.csv", "read_table", "error", "no data rows", "header_only.csv")

    t = table(seed=12).astype(object)
    t.loc["S01", "g0"] = "inf"
    write_text_atomic(BAD / "infinite_value.csv", csv_text(t))
    case(
        "infinite_value.csv",
        "read_table",
        "error",
        "infinite value(s), first in column 'g0', row 'S01'",
        "infinite_value.csv",
    )

    full = gzip.compress(csv_text(table(rows=200, cols=20, seed=13)).encode(), mtime=0)
    write_bytes("truncated_gzip.csv.gz", full[: len(full) // 2])
    case("truncated_gzip.csv.gz", "read_table", "error", "gzip data is damaged or truncated", "truncated_gzip.csv.gz")

    with atomic_path(BAD / "truncated.parquet") as tmp:
        table(seed=18).to_parquet(tmp)
    data = (BAD / "truncated.parquet").read_bytes()
    write_bytes("truncated.parquet", data[: len(data) // 2])
    case("truncated.parquet", "read_table", "error", "could not be read as Parquet", "truncated.parquet")

    t = table(seed=19).T.rename_axis("feature")
    t.columns = [f"S{i:02d}" for i in range(10)] + ["S01", "S03"]
    write_text_atomic(BAD / "features_as_rows_duplicated_samples.tsv", csv_text(t, sep="\t"))
    case(
        "features_as_rows_duplicated_samples.tsv",
        "read_table",
        "error",
        "2 duplicated sample ID(s) in the header row: 'S01', 'S03'",
        "features_as_rows_duplicated_samples.tsv --transpose",
        transpose=True,
    )


def clinical_frame(n: int = 30, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "OS_time": np.round(rng.exponential(30, size=n), 2),
            "OS_event": rng.choice(["dead", "alive"], size=n),
            "stage": rng.choice(["I", "II", "III"], size=n),
        },
        index=pd.Index([f"S{i:02d}" for i in range(n)], name="sample"),
    )


def clinical_cases() -> None:
    cli = "--time-col OS_time --event-col OS_event"
    kw = {"time_col": "OS_time", "event_col": "OS_event"}

    c = clinical_frame(seed=1)
    c.loc["S04", "OS_time"] = -3.0
    write_table_atomic(c, BAD / "clinical_negative_time.csv", index=True)
    case(
        "clinical_negative_time.csv",
        "read_clinical",
        "error",
        "negative survival time(s) in column 'OS_time', first -3.0 in rows 'S04' (line 6)",
        f"clinical_negative_time.csv {cli}",
        **kw,
    )

    c = clinical_frame(seed=2)
    c.loc[["S02", "S09"], "OS_time"] = np.nan
    write_table_atomic(c, BAD / "clinical_missing_time.csv", index=True)
    case(
        "clinical_missing_time.csv",
        "read_clinical",
        "error",
        "2 missing survival time(s) in column 'OS_time', rows 'S02' (line 4), 'S09' (line 11)",
        f"clinical_missing_time.csv {cli}",
        **kw,
    )

    c = clinical_frame(seed=3)
    c.loc["S07", "OS_event"] = "lost to follow-up"
    write_table_atomic(c, BAD / "clinical_nonbinary_event.csv", index=True)
    case(
        "clinical_nonbinary_event.csv",
        "read_clinical",
        "error",
        "'lost to follow-up' (first in row 'S07' (line 9))",
        f"clinical_nonbinary_event.csv {cli}",
        **kw,
    )

    c = clinical_frame(seed=4)
    c["OS_event"] = 2 * (np.arange(len(c)) % 2)
    write_table_atomic(c, BAD / "clinical_event_0_2.csv", index=True)
    case(
        "clinical_event_0_2.csv",
        "read_clinical",
        "error",
        "not a recognised event/censored code: '2'",
        f"clinical_event_0_2.csv {cli}",
        **kw,
    )

    c = clinical_frame(seed=5)
    c["OS_event"] = "alive"
    write_table_atomic(c, BAD / "clinical_no_events.csv", index=True)
    case(
        "clinical_no_events.csv",
        "read_clinical",
        "error",
        "no events in column 'OS_event'",
        f"clinical_no_events.csv {cli}",
        **kw,
    )

    c = clinical_frame(seed=6).rename(columns={"OS_time": "survival_months"})
    write_table_atomic(c, BAD / "clinical_no_time_column.csv", index=True)
    case(
        "clinical_no_time_column.csv",
        "read_clinical",
        "error",
        "no survival time column 'OS_time'. Available columns: 'survival_months'",
        f"clinical_no_time_column.csv {cli}",
        **kw,
    )

    c = clinical_frame(seed=7)
    c["OS_event"] = np.where(c["OS_event"] == "dead", "DOD", "NED")
    write_table_atomic(c, BAD / "clinical_custom_event_words.csv", index=True)
    case(
        "clinical_custom_event_words.csv",
        "read_clinical",
        "error",
        "not a recognised event/censored code",
        f"clinical_custom_event_words.csv {cli}",
        **kw,
    )
    case(
        "clinical_custom_event_words.csv",
        "read_clinical",
        "info",
        "'DOD' -> 1",
        f"clinical_custom_event_words.csv {cli} --event-map DOD=1,NED=0",
        event_map={"DOD": 1, "NED": 0},
        **kw,
    )

    # cohort alignment: the clinical table has S00..S29; one table lacks five of them and has two others
    c = clinical_frame(seed=8)
    write_table_atomic(c, BAD / "cohort_clinical.csv", index=True)
    t = table(rows=27, cols=5, seed=15)
    t.index = pd.Index([f"S{i:02d}" for i in range(5, 30)] + ["S90", "S91"], name="sample")
    write_text_atomic(BAD / "cohort_partial_mRNA.csv", csv_text(t))
    write_text_atomic(BAD / "cohort_full_miRNA.csv", csv_text(table(rows=30, cols=3, seed=16)))
    case(
        "cohort_clinical.csv",
        "read_cohort",
        "warning",
        "5 of 30 clinical samples are missing from this table",
        f"cohort_clinical.csv {cli} --omics mRNA=cohort_partial_mRNA.csv --omics miRNA=cohort_full_miRNA.csv",
        omics={"mRNA": "cohort_partial_mRNA.csv", "miRNA": "cohort_full_miRNA.csv"},
        **kw,
    )
    t = table(rows=30, cols=3, seed=17)
    t.index = pd.Index([f"TCGA-{i:02d}" for i in range(30)], name="sample")
    write_text_atomic(BAD / "cohort_other_ids.csv", csv_text(t))
    case(
        "cohort_clinical.csv",
        "read_cohort",
        "error",
        "Only 0 sample(s) are in cohort_clinical.csv and in every omics table",
        f"cohort_clinical.csv {cli} --omics mRNA=cohort_other_ids.csv",
        omics={"mRNA": "cohort_other_ids.csv"},
        **kw,
    )


def main() -> int:
    BAD.mkdir(parents=True, exist_ok=True)
    anndata_cases()
    table_cases()
    clinical_cases()
    manifest = pd.DataFrame(ROWS, columns=["file", "loader", "kwargs", "outcome", "message", "cli"])
    # no quoting: the JSON column holds double quotes; no field holds a tab or a newline
    lines = ["\t".join(manifest.columns)] + ["\t".join(map(str, row)) for row in manifest.itertuples(index=False)]
    write_text_atomic(BAD / "MANIFEST.tsv", "\n".join(lines) + "\n")
    print(f"{len(manifest)} cases, {len(set(manifest['file']))} files in {BAD}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
