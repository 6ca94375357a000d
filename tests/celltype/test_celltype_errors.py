"""Bad input gives an OmicsInputError that says what is wrong and what to do."""

from __future__ import annotations

import numpy as np
import pytest

from omicsgat.celltype import annotate_cells
from omicsgat.errors import OmicsInputError


@pytest.fixture()
def tiny(small_scrna):
    adata = small_scrna[:120].copy()
    adata.obs["lab"] = adata.obs["cell_type"].astype(object)
    adata.obs.loc[adata.obs_names[::2], "lab"] = np.nan
    return adata


def test_missing_label_column_names_it_and_lists_the_columns(tiny):
    with pytest.raises(OmicsInputError, match=r"'celltype'.*available columns: cell_type, batch"):
        annotate_cells(tiny, "celltype", epochs=1)


def test_all_labels_missing(tiny):
    tiny.obs["lab"] = ""
    with pytest.raises(OmicsInputError, match=r"No cell .* has a label in obs\['lab'\]"):
        annotate_cells(tiny, "lab", epochs=1)


def test_single_class(tiny):
    tiny.obs["lab"] = np.where(tiny.obs["lab"].isna(), None, "T cell")
    with pytest.raises(OmicsInputError, match="single cell type .*'T cell'"):
        annotate_cells(tiny, "lab", epochs=1)


def test_nothing_to_predict(tiny):
    with pytest.raises(OmicsInputError, match="nothing to predict"):
        annotate_cells(tiny, "cell_type", epochs=1)


def test_zero_shared_genes(tiny):
    query = tiny.copy()
    query.var_names = [f"ENSG{i:011d}" for i in range(query.n_vars)]
    with pytest.raises(OmicsInputError, match=r"share 0 gene names .*symbols vs Ensembl"):
        annotate_cells(query, "lab", tiny, epochs=1)


def test_too_few_shared_genes(tiny):
    query = tiny[:, :30].copy()
    with pytest.raises(OmicsInputError, match="share 30 gene names"):
        annotate_cells(query, "lab", tiny, epochs=1)


def test_reference_label_column_missing_names_the_reference(tiny):
    with pytest.raises(OmicsInputError, match=r"'kind' is not in obs of the reference"):
        annotate_cells(tiny, "kind", tiny, epochs=1)


def test_bad_threshold_and_epochs(tiny):
    with pytest.raises(OmicsInputError, match="unknown_threshold"):
        annotate_cells(tiny, "lab", unknown_threshold=1.5)
    with pytest.raises(OmicsInputError, match="epochs"):
        annotate_cells(tiny, "lab", epochs=0)


def test_input_is_not_modified(tiny):
    before = tiny.copy()
    annotate_cells(tiny, "lab", epochs=1)
    assert (tiny.X != before.X).nnz == 0
    assert tiny.obs.equals(before.obs) and list(tiny.var_names) == list(before.var_names)
    assert "omicsgat" not in tiny.uns


def test_cancel_stops_training(tiny):
    from omicsgat.errors import Cancelled
    from omicsgat.progress import CancelToken

    token, seen = CancelToken(), []

    def progress(fraction, message):
        seen.append(fraction)
        if fraction > 0.2:  # during training
            token.cancel()

    with pytest.raises(Cancelled):
        annotate_cells(tiny, "lab", epochs=50, progress=progress, cancel=token)
    assert seen == sorted(seen) and 0.2 < seen[-1] < 0.85


def test_cancel_reaches_the_linear_start(tiny):
    """The L-BFGS linear start reports at each evaluation, so Cancel does not wait for it to converge."""
    from omicsgat.errors import Cancelled
    from omicsgat.progress import CancelToken

    token, messages = CancelToken(), []

    def progress(fraction, message):
        messages.append(message)
        if message == "fitting the linear start":
            token.cancel()

    with pytest.raises(Cancelled):
        annotate_cells(tiny, "lab", epochs=50, progress=progress, cancel=token)
    assert messages[-1] == "fitting the linear start"
    assert not any(m.startswith("epoch") for m in messages)
