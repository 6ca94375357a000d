"""Every analysis seeds only its own run: same seed, same result, and the caller's random state is untouched."""

from __future__ import annotations

import random

import numpy as np
import pandas as pd
import pytest


def _grn(small_scrna, small_cohort, seed):
    from omicsgat.grn import infer_grn

    regs = list(small_scrna.var_names[small_scrna.var["is_regulator"].to_numpy()])[:8]
    result = infer_grn(small_scrna, genes=40, regulators=regs, device="cpu", epochs=5, restarts=1, seed=seed)
    return result.edges.set_index(["regulator", "target"])["score"]


def _celltype(small_scrna, small_cohort, seed):
    from omicsgat.celltype import annotate_cells

    adata = small_scrna.copy()
    labels = adata.obs["cell_type"].astype(object).copy()
    labels[np.arange(adata.n_obs) % 2 == 0] = np.nan
    adata.obs["partial"] = labels
    result = annotate_cells(adata, "partial", epochs=3, device="cpu", seed=seed, n_pcs=10)
    return pd.Series(result.proba[:, 0], index=result.labels.index)


def _prognosis(small_scrna, small_cohort, seed):
    from omicsgat.prognosis import GeneAttentionSurvival

    model = GeneAttentionSurvival(epochs=5, wide="learned", device="cpu", seed=seed).fit(small_cohort)
    return model.predict_risk(small_cohort)


@pytest.mark.parametrize("run", [_grn, _celltype, _prognosis], ids=["grn", "celltype", "prognosis"])
def test_run_is_reproducible_and_restores_the_callers_random_state(run, small_scrna, small_cohort):
    import torch

    random.seed(5)
    np.random.seed(6)
    torch.manual_seed(7)
    expected = (random.random(), np.random.rand(), torch.rand(1).item())
    random.seed(5)
    np.random.seed(6)
    torch.manual_seed(7)
    deterministic = torch.are_deterministic_algorithms_enabled()

    first = run(small_scrna, small_cohort, 0)
    assert (random.random(), np.random.rand(), torch.rand(1).item()) == expected
    assert torch.are_deterministic_algorithms_enabled() == deterministic

    second = run(small_scrna, small_cohort, 0)
    pd.testing.assert_series_equal(first, second)
