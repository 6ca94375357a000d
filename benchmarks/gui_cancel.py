"""Cancel latency in the GUI: seconds from pressing Cancel mid-training to the run having stopped.

Each analysis runs on the sample data with its default parameters through
its real panel (offscreen Qt); Cancel is pressed once training has reported
a few epochs. The issue asks for a clean stop within a second or two.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from benchmarks._common import Table, mean_sd

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data"


def _wait(app, predicate, timeout: float = 600.0) -> None:
    end = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > end:
            raise TimeoutError("the GUI did not reach the expected state")
        app.processEvents()
        time.sleep(0.005)


def main(quick: bool = False) -> Table:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from omicsgat.io import read_cohort
    from omicsgat_gui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    window = MainWindow()
    window.show()
    cohort_dir = SAMPLE / "cohort"
    cohort = read_cohort(
        {m: cohort_dir / f"{m}.csv" for m in ("mRNA", "miRNA", "methylation")},
        cohort_dir / "clinical.csv",
        time_col="OS_time",
        event_col="OS_event",
    )
    cases = [
        ("GRN inference", "simulated_grn.h5ad", window.grn_panel),
        ("Cell typing", "celltype_query.h5ad", window.celltype_panel),
        ("Prognosis", None, window.prognosis_panel),
    ]
    epochs: list = []
    outcome: list = []
    window.runner.progressed.connect(lambda f, m: epochs.append(m) if "epoch" in m else None)
    window.runner.cancelled.connect(lambda n: outcome.append(time.monotonic()))
    table = Table("gui_cancel")
    repeats = 2 if quick else 5
    for name, file, panel in cases:
        if file:
            window.open_anndata(str(SAMPLE / file))
            _wait(app, lambda: window.adata is not None and not window.runner.busy)
            if panel is window.celltype_panel:
                panel.label_key.setEditText("cell_type")
                panel.reference.edit.setText(str(SAMPLE / "celltype_reference.h5ad"))
        else:
            window.set_cohort(cohort, "sample cohort")
        latencies = []
        for _ in range(repeats):
            epochs.clear()
            outcome.clear()
            panel.run_button.click()
            _wait(app, lambda: len(epochs) >= 3)
            pressed = time.monotonic()
            panel.cancel_button.click()
            _wait(app, lambda: outcome and not window.runner.busy)
            latencies.append(outcome[0] - pressed)
        table.add(
            analysis=name,
            runs=repeats,
            cancel_latency_s=mean_sd(latencies),
            max_s=max(latencies),
            device=window.device_text,
        )
    window.close()
    return table.publish({"note": "offscreen Qt, default parameters, sample data; wall-clock on a shared machine"})


if __name__ == "__main__":
    from benchmarks._common import exit_if_help

    exit_if_help(__doc__)
    main(quick="--quick" in sys.argv)
