"""`omicsgat celltype` in a subprocess: outputs parse back, bad input exits 2 with a clear message."""

from __future__ import annotations

import hashlib
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest


def _omicsgat(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "omicsgat", "celltype", *map(str, args)], capture_output=True, text=True, cwd=cwd
    )


@pytest.fixture(scope="module")
def files(tmp_path_factory, small_scrna):
    folder = tmp_path_factory.mktemp("celltype_cli")
    adata = small_scrna[:300].copy()
    adata.obs["lab"] = adata.obs["cell_type"].astype(str)
    adata.obs.loc[adata.obs_names[::2], "lab"] = ""
    query = folder / "query.h5ad"
    adata.write_h5ad(query)
    return folder, query, adata


def _md5(path):
    return hashlib.md5(path.read_bytes()).hexdigest()


def test_writes_labels_table_and_annotated_h5ad(files):
    import anndata as ad

    folder, query, adata = files
    before = _md5(query)
    out, h5 = folder / "labels.tsv", folder / "annotated.h5ad"
    r = _omicsgat(
        query,
        "--label-key",
        "lab",
        "--out",
        out,
        "--save-h5ad",
        h5,
        "--markers",
        folder / "m.tsv",
        "--epochs",
        "8",
        "--device",
        "cpu",
        "--seed",
        "1",
    )
    assert r.returncode == 0, r.stderr
    assert "device cpu" in r.stderr
    table = pd.read_csv(out, sep="\t", keep_default_na=False)
    assert list(table.columns[:3]) == ["cell", "label", "confidence"]
    types = sorted(adata.obs["cell_type"].astype(str).unique())
    assert [c for c in table.columns if c.startswith("prob_")] == [f"prob_{t}" for t in types]
    assert table["cell"].tolist() == list(adata.obs_names)
    hidden = (adata.obs["lab"] == "").to_numpy()
    truth = adata.obs["cell_type"].astype(str).to_numpy()
    assert (table["label"].to_numpy()[hidden] == truth[hidden]).mean() > 0.8  # chance 1/3
    assert np.allclose(table[[f"prob_{t}" for t in types]].sum(1), 1.0, atol=1e-4)
    back = ad.read_h5ad(h5)
    assert list(back.obs["omicsgat_celltype"].astype(str)) == table["label"].tolist()
    assert back.obsm["omicsgat_celltype_proba"].shape == (300, len(types))
    assert set(pd.read_csv(folder / "m.tsv", sep="\t")["cell_type"]) == set(types)
    assert _md5(query) == before  # the input file is untouched


def test_bad_label_key_exits_2_with_the_column_named(files):
    folder, query, _ = files
    r = _omicsgat(query, "--label-key", "nope", "--out", folder / "x.tsv", "--quiet")
    assert r.returncode == 2
    assert "'nope'" in r.stderr and "available columns" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert not (folder / "x.tsv").exists()


def test_refuses_to_overwrite_the_input(files):
    folder, query, _ = files
    before = _md5(query)
    r = _omicsgat(query, "--label-key", "lab", "--out", folder / "y.tsv", "--save-h5ad", query, "--quiet")
    assert r.returncode == 2 and "overwrite the input" in r.stderr
    assert _md5(query) == before


def test_missing_reference_file(files):
    folder, query, _ = files
    r = _omicsgat(
        query, "--label-key", "lab", "--reference", folder / "absent.h5ad", "--out", folder / "z.tsv", "--quiet"
    )
    assert r.returncode == 2 and "absent.h5ad" in r.stderr


def test_help_lists_the_contract():
    r = subprocess.run([sys.executable, "-m", "omicsgat", "celltype", "--help"], capture_output=True, text=True)
    assert r.returncode == 0
    for option in (
        "--label-key",
        "--reference",
        "--out",
        "--save-h5ad",
        "--unknown-threshold",
        "--device",
        "--seed",
        "--quiet",
    ):
        assert option in r.stdout
