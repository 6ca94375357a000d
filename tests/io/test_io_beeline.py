"""Reading BEELINE folders: expression transposed to cells x genes, pseudotime in obs, reference kept aside."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from omicsgat.errors import OmicsInputError
from omicsgat.io import read_anndata


def _write_folder(folder, *, pseudotime=True, reference=True):
    folder.mkdir(parents=True, exist_ok=True)
    expr = pd.DataFrame(
        [[0.1, 0.5, 1.0, 2.0], [1.0, 0.9, 0.2, 0.0], [0.3, 0.3, 0.6, 0.9]],
        index=["g1", "g2", "g3"],
        columns=["c1", "c2", "c3", "c4"],
    )
    expr.to_csv(folder / "ExpressionData.csv")
    if pseudotime:
        pd.DataFrame(
            {"PseudoTime0": [0.0, 1.0, np.nan, 3.0], "PseudoTime1": [np.nan, 0.5, 2.0, np.nan]},
            index=["c1", "c2", "c3", "c4"],
        ).to_csv(folder / "PseudoTime.csv")
    if reference:
        pd.DataFrame({"Gene1": ["g1", "g2", "g3"], "Gene2": ["g2", "g3", "g3"], "Type": ["+", "-", "+"]}).to_csv(
            folder / "refNetwork.csv", index=False
        )
    return folder


def test_folder_with_pseudotime_and_reference(tmp_path):
    folder = _write_folder(tmp_path / "net_0")
    adata, report = read_anndata(folder)
    assert adata.shape == (4, 3)
    assert list(adata.var_names) == ["g1", "g2", "g3"] and list(adata.obs_names) == ["c1", "c2", "c3", "c4"]
    assert adata.X[3, 0] == pytest.approx(2.0) and adata.X[0, 1] == pytest.approx(1.0)  # transposed
    assert adata.obs["PseudoTime0"].tolist()[:2] == [0.0, 1.0] and np.isnan(adata.obs["PseudoTime0"].iloc[2])
    assert adata.uns["beeline_pseudotime"] == ["PseudoTime0", "PseudoTime1"]
    ref = adata.uns["beeline_reference"]
    assert list(zip(ref["regulator"], ref["target"], ref["sign"])) == [
        ("g1", "g2", 1),
        ("g2", "g3", -1),
    ]  # self-loop dropped
    assert any("BEELINE" in m for m in report.infos)


def test_expression_file_without_pseudotime(tmp_path):
    folder = _write_folder(tmp_path / "plain", pseudotime=False, reference=False)
    adata, _ = read_anndata(folder / "ExpressionData.csv")
    assert adata.shape == (4, 3)
    assert "beeline_pseudotime" not in adata.uns and "beeline_reference" not in adata.uns
    assert adata.obs.shape[1] == 0


def test_non_numeric_value_names_gene_and_cell(tmp_path):
    folder = _write_folder(tmp_path / "bad")
    text = (folder / "ExpressionData.csv").read_text().replace("0.9", "high")
    (folder / "ExpressionData.csv").write_text(text)
    with pytest.raises(OmicsInputError, match=r"g2.*c2.*not a\s+number"):
        read_anndata(folder)


def test_pseudotime_missing_a_cell_is_refused(tmp_path):
    folder = _write_folder(tmp_path / "short")
    pd.DataFrame({"PseudoTime0": [0.0, 1.0]}, index=["c1", "c2"]).to_csv(folder / "PseudoTime.csv")
    with pytest.raises(OmicsInputError, match=r"PseudoTime.csv.*2 cell\(s\).*'c3'"):
        read_anndata(folder)


def test_reference_naming_unknown_gene_is_refused(tmp_path):
    folder = _write_folder(tmp_path / "ref")
    pd.DataFrame({"Gene1": ["g1"], "Gene2": ["gX"]}).to_csv(folder / "refNetwork.csv", index=False)
    with pytest.raises(OmicsInputError, match="refNetwork.csv.*gX"):
        read_anndata(folder)


def test_reference_without_gene_columns_is_refused(tmp_path):
    from omicsgat.io.beeline import read_reference_network

    path = tmp_path / "ref.csv"
    pd.DataFrame({"from": ["g1"], "to": ["g2"]}).to_csv(path, index=False)
    with pytest.raises(OmicsInputError, match="Gene1, Gene2"):
        read_reference_network(path)


def test_folder_without_expression_says_what_is_missing(tmp_path):
    folder = _write_folder(tmp_path / "noexpr")
    (folder / "ExpressionData.csv").unlink()
    with pytest.raises(OmicsInputError, match="not a BEELINE folder.*ExpressionData.csv"):
        read_anndata(folder)
