"""A kill or a failure in the middle of an export never leaves a half-written file."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest

from omicsgat.io.atomic import write_table_atomic

CHILD = r"""
import sys, numpy as np, pandas as pd
from omicsgat.io.atomic import write_table_atomic
frame = pd.DataFrame(np.random.default_rng(0).normal(size=(400_000, 8)))
print("ready", flush=True)
write_table_atomic(frame, sys.argv[1])
print("done", flush=True)
"""


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_sigkill_during_a_big_export_leaves_the_old_file(tmp_path):
    target = tmp_path / "results.csv"
    old = pd.DataFrame({"gene": ["A", "B"], "score": [1.0, 2.0]})
    write_table_atomic(old, target)
    old_sum = hashlib.sha256(target.read_bytes()).hexdigest()
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(target)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    deadline = time.monotonic() + 120
    killed_mid_write = False
    while time.monotonic() < deadline and proc.poll() is None:
        temps = [p for p in tmp_path.iterdir() if p.name.startswith(".results.csv.")]
        if temps and temps[0].stat().st_size > 1_000_000:
            os.kill(proc.pid, signal.SIGKILL)
            killed_mid_write = True
            break
        time.sleep(0.005)
    proc.wait(timeout=60)
    proc.stdout.close()
    assert killed_mid_write, "the child finished before the kill; the export was too small to test"
    assert proc.returncode == -signal.SIGKILL
    assert hashlib.sha256(target.read_bytes()).hexdigest() == old_sum
    pd.testing.assert_frame_equal(pd.read_csv(target), old)


def test_a_failure_during_export_keeps_the_old_file_and_cleans_up(tmp_path):
    target = tmp_path / "genes.tsv"
    write_table_atomic(pd.DataFrame({"a": [1]}), target)
    before = target.read_bytes()

    class Exploding(pd.DataFrame):
        def to_csv(self, path, **kwargs):
            with open(path, "w") as fh:
                fh.write("a\tpartial")
            raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_table_atomic(Exploding({"a": [1, 2]}), target)
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["genes.tsv"]


def test_atomic_outputs_get_ordinary_file_permissions(tmp_path):
    umask = os.umask(0o022)
    try:
        path = write_table_atomic(pd.DataFrame({"a": [1]}), tmp_path / "x.csv")
    finally:
        os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o644
