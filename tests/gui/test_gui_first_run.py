"""The scripted first run (tests/gui/first_run.py) in fresh processes: every analysis, saves, exports, then Quit.

A crash while the app comes down (a thread or widget destroyed in the wrong order) kills the process after
all the work was done, and often only some of the time; so the run is repeated (``OMICSGAT_QUIT_RUNS``, 1 by
default to keep the suite quick; the closing note of a change to object lifetimes runs it 5 times) and every
exit code must be 0.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).with_name("first_run.py")


def test_every_analysis_then_quit_exits_cleanly(tmp_path):
    runs = int(os.environ.get("OMICSGAT_QUIT_RUNS", "1"))
    env = {**os.environ, "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen")}
    for i in range(runs):
        done = subprocess.run(
            [sys.executable, str(SCRIPT), str(tmp_path / f"run{i}")],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        tail = f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        assert done.returncode == 0, f"run {i + 1} of {runs}: exit {done.returncode}\n{tail}"
        assert "0 error(s)" in done.stdout
        assert "Fatal Python error" not in done.stderr and "QThread: Destroyed" not in done.stderr
