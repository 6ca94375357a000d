"""GUI start-up: seconds from launching a process to the window on screen, and to the sample data shown.

Each launch is a fresh process (offscreen Qt), as a user starting the app.
The issue asks for the window within 2 s; torch, scanpy and PyG must not be
imported before the window shows.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from benchmarks._common import Table, mean_sd

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data" / "pbmc68k_reduced.h5ad"

CHILD = r"""
import json, sys, time
from PySide6.QtWidgets import QApplication
app = QApplication([])
from omicsgat_gui.main_window import MainWindow
w = MainWindow(); w.show(); app.processEvents()
shown = time.time()
heavy = sorted(m for m in ("torch", "scanpy", "torch_geometric", "anndata") if m in sys.modules)
loaded = None
if len(sys.argv) > 1:
    w.data_loaded.connect(app.quit)
    w.open_anndata(sys.argv[1])
    app.exec()
    loaded = time.time()
w.runner.shutdown(); w.probe.wait()
print(json.dumps({"shown": shown, "loaded": loaded, "heavy": heavy}))
"""


def _launch(sample: Path | None) -> dict:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    start = time.time()
    out = subprocess.run(
        [sys.executable, "-c", CHILD] + ([str(sample)] if sample else []),
        env=env,
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    data = json.loads(out.stdout.strip().splitlines()[-1])
    return {
        "shown": data["shown"] - start,
        "loaded": (data["loaded"] - start) if data["loaded"] else None,
        "heavy": data["heavy"],
    }


def main(quick: bool = False) -> Table:
    n = 3 if quick else 7
    table = Table("gui_startup")
    runs = [_launch(None) for _ in range(n)]
    table.add(
        measure="launch -> window shown (s)",
        runs=n,
        mean_sd=mean_sd([r["shown"] for r in runs]),
        max=max(r["shown"] for r in runs),
        heavy_modules_at_show=",".join(runs[0]["heavy"]) or "none",
    )
    if SAMPLE.exists():
        runs = [_launch(SAMPLE) for _ in range(n)]
        table.add(
            measure=f"launch -> {SAMPLE.name} shown (s)",
            runs=n,
            mean_sd=mean_sd([r["loaded"] for r in runs]),
            max=max(r["loaded"] for r in runs),
            heavy_modules_at_show=",".join(runs[0]["heavy"]) or "none",
        )
    return table.publish({"note": "offscreen Qt; wall-clock on a shared machine"})


if __name__ == "__main__":
    from benchmarks._common import exit_if_help

    exit_if_help(__doc__)
    main(quick="--quick" in sys.argv)
