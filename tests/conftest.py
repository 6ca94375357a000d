"""Shared fixtures. Qt runs offscreen; matplotlib draws without a display."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("MPLBACKEND", "Agg")

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _log_dir(tmp_path_factory, monkeypatch):
    """Tracebacks and GUI settings go to a temporary folder, never the user's home."""
    logs = tmp_path_factory.mktemp("logs")
    monkeypatch.setenv("OMICSGAT_LOG_DIR", str(logs))
    return logs


@pytest.fixture(scope="session")
def small_scrna():
    """600 cells x 120 genes from a planted network (20 regulators, 3 types)."""
    from omicsgat.simulate import simulate_scrna

    return simulate_scrna(n_cells=600, n_genes=120, n_regulators=20, n_cell_types=3, seed=7)


@pytest.fixture(scope="session")
def small_cohort():
    """200 samples, 3 modalities with 5 planted prognostic features each."""
    from omicsgat.simulate import simulate_survival_cohort

    return simulate_survival_cohort(n_samples=200, n_features={"mRNA": 200, "miRNA": 60, "methylation": 100}, seed=3)


@pytest.fixture
def supervised_edges():
    """A supervised run's ranked edges and its reference: the prior's own (train) edges first and all true; among
    the four held-out test pairs one true edge, ranked second."""
    import pandas as pd

    edges = pd.DataFrame(
        {
            "regulator": ["A", "A", "B", "C", "D", "B"],
            "target": ["B", "C", "C", "D", "A", "D"],
            "score": [0.9, 0.8, 0.7, 0.6, 0.5, 0.4],
            "split": ["train", "train", "test", "test", "test", "test"],
        }
    )
    return edges, pd.DataFrame({"regulator": ["A", "A", "C"], "target": ["B", "C", "D"]})
