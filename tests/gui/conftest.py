"""GUI test fixtures: settings in a temporary folder, a main window, small data files."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture(autouse=True)
def _temporary_settings(tmp_path_factory):
    """QSettings (recent files, geometry, device) never touch the user's real settings."""
    from PySide6.QtCore import QSettings

    folder = tmp_path_factory.mktemp("qsettings")
    QSettings.setPath(QSettings.IniFormat, QSettings.UserScope, str(folder))
    QSettings.setDefaultFormat(QSettings.IniFormat)
    return folder


@pytest.fixture(autouse=True)
def dialogs(monkeypatch):
    """Message boxes are recorded as (kind, title, text) instead of blocking the offscreen test.

    A question is answered with ``dialogs.answer`` (default: Discard, so that
    closing a window with results at the end of a test does not stall).
    """
    from PySide6.QtWidgets import QMessageBox

    class Shown(list):
        answer = QMessageBox.Discard

    shown = Shown()

    def record(parent, title, text, *a, _n, **k):
        shown.append((_n, title, text))
        return shown.answer if _n == "question" else QMessageBox.Ok

    for name in ("critical", "information", "warning", "question"):
        monkeypatch.setattr(QMessageBox, name, lambda *a, _n=name, **k: record(*a, _n=_n, **k))
    monkeypatch.setattr(QMessageBox, "about", lambda parent, title, text: shown.append(("about", title, text)))
    return shown


@pytest.fixture
def window(qtbot):
    from omicsgat_gui.main_window import MainWindow

    w = MainWindow()
    qtbot.addWidget(w)
    w.show()
    yield w
    w.runner.shutdown()
    w.probe.wait(30000)


@pytest.fixture(scope="session")
def scrna_file(tmp_path_factory):
    """A tiny raw-count .h5ad with a UMAP-like embedding and some missing labels."""
    from omicsgat.simulate import simulate_scrna

    adata = simulate_scrna(n_cells=240, n_genes=60, n_regulators=8, n_cell_types=3, seed=11)
    rng = np.random.default_rng(0)
    adata.obsm["X_umap"] = rng.normal(size=(adata.n_obs, 2)).astype(np.float32)
    partial = adata.obs["cell_type"].astype(object).copy()
    partial[rng.random(adata.n_obs) < 0.3] = np.nan
    adata.obs["partial_label"] = partial.astype("category")
    path = tmp_path_factory.mktemp("scrna") / "cells.h5ad"
    adata.write_h5ad(path)
    return path


@pytest.fixture(scope="session")
def cohort_files(tmp_path_factory):
    """A tiny simulated cohort as CSV files (event written as dead/alive)."""
    from omicsgat.simulate import simulate_survival_cohort

    cohort = simulate_survival_cohort(n_samples=60, n_features={"mRNA": 40, "miRNA": 20}, n_prognostic=3, seed=5)
    folder = tmp_path_factory.mktemp("cohort")
    paths = cohort.save(folder)
    clinical = cohort.clinical.copy()
    clinical["OS_event"] = np.where(clinical["OS_event"].astype(int) == 1, "dead", "alive")
    clinical.rename_axis("sample").to_csv(paths["clinical"])
    return {k: str(v) for k, v in paths.items()}


@pytest.fixture
def load():
    """``load(window, qtbot, path)``: open ``path`` through the window and wait until it is shown."""

    def _load(window, qtbot, path, timeout=60000):
        with qtbot.waitSignal(window.data_loaded, timeout=timeout):
            assert window.open_anndata(str(path))

    return _load
