"""The simulators plant recoverable truth and are seeded."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from omicsgat.errors import OmicsInputError
from omicsgat.simulate import simulate_scrna, simulate_survival_cohort, true_network


def test_planted_network_is_recoverable_by_correlation(small_scrna):
    adata = small_scrna
    net = true_network(adata)
    assert set(net.sign.unique()) <= {1, -1} and len(net) > 50
    X = np.log1p(adata.X.toarray() / adata.X.sum(1).A * 1e4)
    corr = np.corrcoef(X.T)
    idx = {g: i for i, g in enumerate(adata.var_names)}
    regs = adata.var_names[adata.var.is_regulator]
    targets = adata.var_names[adata.var.marker_of == ""]
    truth = set(zip(net.regulator, net.target))
    y, s = [], []
    for r in regs:
        for t in targets:
            if r != t:
                y.append((r, t) in truth)
                s.append(abs(corr[idx[r], idx[t]]))
    assert roc_auc_score(y, s) > 0.65  # chance is 0.5


def test_scrna_is_seeded_and_counts():
    a = simulate_scrna(n_cells=100, n_genes=60, n_regulators=8, n_cell_types=2, seed=1)
    b = simulate_scrna(n_cells=100, n_genes=60, n_regulators=8, n_cell_types=2, seed=1)
    c = simulate_scrna(n_cells=100, n_genes=60, n_regulators=8, n_cell_types=2, seed=2)
    assert (a.X != b.X).nnz == 0
    assert (a.X != c.X).nnz > 0
    assert np.allclose(a.X.data, np.round(a.X.data)) and a.X.data.min() >= 0
    assert a.obs.cell_type.nunique() == 2


def test_planted_markers_are_specific(small_scrna):
    adata = small_scrna
    X = adata.X.toarray()
    for cell_type in adata.obs.cell_type.cat.categories:
        markers = adata.var_names[adata.var.marker_of == cell_type]
        cols = [adata.var_names.get_loc(g) for g in markers]
        inside = X[(adata.obs.cell_type == cell_type).to_numpy()][:, cols].mean()
        outside = X[(adata.obs.cell_type != cell_type).to_numpy()][:, cols].mean()
        assert inside > 10 * outside


def test_bad_sizes_are_clear():
    with pytest.raises(OmicsInputError, match="n_genes"):
        simulate_scrna(n_genes=10, n_regulators=8)


def test_cohort_has_planted_signal(small_cohort):
    from lifelines.utils import concordance_index

    c = small_cohort
    assert 0.15 < 1 - c.event.mean() < 0.5  # censoring near the 30% asked for
    assert concordance_index(c.time, -c.truth["log_hazard"], c.event) > 0.7
    for name, feats in c.truth["prognostic"].items():
        assert set(feats) <= set(c.tables[name].columns)
    meth = c.tables["methylation"].to_numpy()
    assert meth.min() >= 0 and meth.max() <= 1


def test_cohort_is_seeded():
    a = simulate_survival_cohort(n_samples=50, n_features={"x": 20}, n_prognostic=2, seed=5)
    b = simulate_survival_cohort(n_samples=50, n_features={"x": 20}, n_prognostic=2, seed=5)
    assert a.tables["x"].equals(b.tables["x"]) and a.clinical.equals(b.clinical)
