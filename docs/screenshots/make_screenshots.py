"""Take the README screenshots of the real window (run under Xvfb at 1280x800).

    xvfb-run -s "-screen 0 1280x800x24" .venv/bin/python docs/screenshots/make_screenshots.py

(or with an Xvfb already running: DISPLAY=:99 QT_QPA_PLATFORM=xcb .venv/bin/python docs/screenshots/make_screenshots.py)

Loads the sample data, runs GRN inference and prognosis with short trainings
(the pictures show the layout, not tuned results), and grabs the window.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = Path(__file__).resolve().parent


def main() -> int:
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from omicsgat.io import read_cohort
    from omicsgat_gui.main_window import MainWindow

    app = QApplication(sys.argv[:1])
    window = MainWindow()
    window.resize(1280, 800)
    window.show()

    def wait(signal, ms: int = 600000) -> None:
        loop = QEventLoop()
        signal.connect(loop.quit)
        QTimer.singleShot(ms, loop.quit)
        loop.exec()

    def settle() -> None:
        for _ in range(20):
            app.processEvents()

    def shot(name: str) -> None:
        settle()
        path = OUT / name
        window.grab().save(str(path), "PNG", 9)
        print(f"{path.relative_to(ROOT)}: {path.stat().st_size / 1024:.0f} KB")

    window.open_anndata(str(ROOT / "sample_data" / "pbmc68k_reduced.h5ad"))
    wait(window.runner.idle)
    shot("data_panel.png")

    window.open_anndata(str(ROOT / "sample_data" / "simulated_grn.h5ad"))
    wait(window.runner.idle)
    panel = window.grn_panel
    panel.regulators.setCurrentIndex(3)
    panel.regulators_file.edit.setText(str(ROOT / "sample_data" / "simulated_grn_regulators.txt"))
    panel.genes.setValue(200)
    panel.epochs.setValue(60)
    window.tabs.setCurrentWidget(panel)
    panel.run_button.click()
    wait(window.runner.idle)
    panel.n_edges.setValue(40)
    panel.draw_network()
    shot("grn_network.png")

    window.grn_panel.unsaved = False  # nothing to keep: opening the next file need not ask
    window.open_anndata(str(ROOT / "sample_data" / "celltype_query.h5ad"))
    wait(window.runner.idle)
    panel = window.celltype_panel
    panel.reference.edit.setText(str(ROOT / "sample_data" / "celltype_reference.h5ad"))
    panel.label_key.setCurrentText("cell_type")
    panel.truth.setCurrentText("true_cell_type")
    panel.epochs.setValue(20)
    window.tabs.setCurrentWidget(panel)
    panel.run_button.click()
    wait(window.runner.idle)
    panel.results.setCurrentIndex(1)  # the confusion matrix and its caption (known types vs the absent type)
    shot("celltype_confusion.png")

    cohort_dir = ROOT / "sample_data" / "cohort"
    cohort = read_cohort(
        {m: cohort_dir / f"{m}.csv" for m in ("mRNA", "miRNA", "methylation")},
        cohort_dir / "clinical.csv",
        time_col="OS_time",
        event_col="OS_event",
    )
    cohort.time_unit = "months"  # as asked in the cohort dialog
    window.set_cohort(cohort, "sample_data/cohort")
    panel = window.prognosis_panel
    panel.folds.setValue(3)
    panel.ensemble.setValue(2)
    panel.epochs.setValue(60)
    window.tabs.setCurrentWidget(panel)
    panel.run_button.click()
    wait(window.runner.idle)
    shot("prognosis_km.png")
    for p in window.panels:  # nothing to keep: do not ask before closing
        p.unsaved = False
    window.close()
    from omicsgat_gui.app import shutdown

    shutdown(window)
    return 0


if __name__ == "__main__":
    sys.exit(main())
