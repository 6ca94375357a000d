"""A scripted first run of the desktop app, as a user would do it, in its own process.

open single-cell data -> GRN, cell typing -> reopen a cohort from Open Recent -> prognosis -> every panel's
"Save all results" and File > Export of every table and plot -> File > Quit (Discard). Exits 0 only when every
step worked, no error dialog appeared and the process came down cleanly: a crash at shutdown shows as a
non-zero exit code of this process. ``python tests/gui/first_run.py OUT [SCREENSHOTS]`` (OUT: a scratch
folder; SCREENSHOTS: where to save a PNG of each main panel). Runs under any Qt platform (offscreen, xcb).
"""

from __future__ import annotations

import sys
from pathlib import Path


def wait_for(signal, start, timeout_ms: int = 300000) -> None:
    """Call ``start()`` and run the event loop until ``signal`` fires (or fail after ``timeout_ms``)."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    fired = []
    signal.connect(lambda *a: (fired.append(a), loop.quit()))
    timer = QTimer(singleShot=True, interval=timeout_ms)
    timer.timeout.connect(loop.quit)
    timer.start()
    start()
    if not fired:
        loop.exec()
    timer.stop()
    if not fired:
        raise SystemExit(f"timed out waiting for {signal}")


def make_inputs(folder: Path) -> tuple[Path, dict]:
    import numpy as np

    from omicsgat.simulate import simulate_scrna, simulate_survival_cohort

    adata = simulate_scrna(n_cells=240, n_genes=60, n_regulators=8, n_cell_types=3, seed=11)
    rng = np.random.default_rng(0)
    adata.obsm["X_umap"] = rng.normal(size=(adata.n_obs, 2)).astype(np.float32)
    partial = adata.obs["cell_type"].astype(object).copy()
    partial[rng.random(adata.n_obs) < 0.3] = np.nan
    adata.obs["partial_label"] = partial.astype("category")
    h5ad = folder / "cells.h5ad"
    adata.write_h5ad(h5ad)
    cohort = simulate_survival_cohort(n_samples=60, n_features={"mRNA": 40, "miRNA": 20}, n_prognostic=3, seed=5)
    paths = cohort.save(folder / "cohort")
    spec = {
        "omics": {"mRNA": str(paths["mRNA"]), "miRNA": str(paths["miRNA"])},
        "clinical": str(paths["clinical"]),
        "time_col": "OS_time",
        "event_col": "OS_event",
        "time_unit": "months",
    }
    return h5ad, spec


def main(out: Path, screenshots: Path | None = None) -> int:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox

    from omicsgat_gui import settings
    from omicsgat_gui.app import shutdown
    from omicsgat_gui.main_window import MainWindow

    out.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    from PySide6.QtCore import QSettings

    QSettings.setPath(QSettings.IniFormat, QSettings.UserScope, str(out / "settings"))
    errors: list[str] = []
    for kind in ("critical", "warning"):
        setattr(QMessageBox, kind, staticmethod(lambda parent, title, text, *a, **k: errors.append(f"{title}: {text}")))
    QMessageBox.information = staticmethod(lambda *a, **k: QMessageBox.Ok)
    QMessageBox.question = staticmethod(lambda *a, **k: QMessageBox.Discard)  # Quit > Discard

    h5ad, spec = make_inputs(out)
    settings.add_recent_cohort(spec)
    window = MainWindow()
    window.resize(1280, 800)
    window.show()
    shots = []

    def shot(widget, name: str) -> None:
        if screenshots is not None:
            window.tabs.setCurrentWidget(widget)
            app.processEvents()
            screenshots.mkdir(parents=True, exist_ok=True)
            window.grab().save(str(screenshots / f"{name}.png"))
            shots.append(name)

    def run(panel, **fields) -> None:
        window.tabs.setCurrentWidget(panel)
        panel.epochs.setValue(2)
        panel.device.setCurrentText("cpu")
        for name, value in fields.items():
            getattr(panel, name).setValue(value) if hasattr(getattr(panel, name), "setValue") else getattr(
                panel, name
            ).setCurrentText(value)
        wait_for(window.runner.idle, panel.run_button.click)
        if panel.result is None:
            errors.append(f"{panel.title}: no result ({panel.status.text()})")

    wait_for(window.data_loaded, lambda: window.open_anndata(str(h5ad)))
    shot(window.data_panel, "data")
    run(window.grn_panel, genes=30)
    shot(window.grn_panel, "grn")
    run(window.celltype_panel, label_key="partial_label", holdout=0)
    shot(window.celltype_panel, "celltype")
    recent = [a for a in window.recent_menu.actions() if a.text().startswith("Cohort:")]
    wait_for(window.data_loaded, recent[0].trigger)
    run(window.prognosis_panel, folds=2, ensemble=1)
    shot(window.prognosis_panel, "prognosis")

    saved = out / "saved"
    saved.mkdir(exist_ok=True)
    for panel in window.panels:
        target = str(saved / panel.task_name)
        QFileDialog.getExistingDirectory = staticmethod(lambda *a, t=target, **k: t)
        if not panel.save_dialog() or len(list(Path(target).iterdir())) < 4:
            errors.append(f"{panel.title}: Save all results wrote too little")
    from omicsgat_gui.export_dialog import ExportDialog

    dialog = ExportDialog(window.exportables(), window)
    exported = 0
    for row in range(dialog.list.count()):
        dialog.list.setCurrentRow(row)
        stem = "".join(c if c.isalnum() else "_" for c in dialog.list.item(row).text())
        exported += dialog.export_current(str(out / "export" / stem)) is not None
    dialog.deleteLater()
    if exported != dialog.list.count() or exported < 10:
        errors.append(f"export: {exported} of {dialog.list.count()} items written")

    print(window.log_view.toPlainText())
    QTimer.singleShot(0, window.quit_action.trigger)
    code = app.exec()
    if window.isVisible():
        errors.append("the window did not close on Quit")
    shutdown(window)
    for error in errors:
        print("ERROR", error, file=sys.stderr)
    print(f"first run: {exported} exports, screenshots {shots}, {len(errors)} error(s)")
    return 1 if errors else code


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2]) if len(sys.argv) > 2 else None))
