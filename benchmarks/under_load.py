"""Each analysis beside competing CPU-bound programs: seconds and slowdown against its idle run.

Runs the three analyses through the command line, as a user would, on the
shipped sample data (GRN on ``simulated_grn.h5ad`` with its regulators,
cell typing of ``celltype_query.h5ad`` from ``celltype_reference.h5ad``,
prognosis on the sample cohort with the CLI defaults). Each runs once idle and
once beside one and beside two busy-looping processes that this benchmark
starts and stops itself. The target (issue #16) is at most 3x the idle time.

The "before" rows run the prognosis with the thread budget switched off
through a private escape hatch of this benchmark (``--no-budget`` of the child
runner patches :func:`omicsgat.threads._threads_for` to always answer "every
core", which is what torch and OpenBLAS do on their own). ``OMICSGAT_THREADS``
cannot do that: it is an upper bound on top of the measured free cores. A
"before" run is stopped after ``cap`` seconds and reported as ``> cap``.

On a shared machine the "idle" run is not idle: the load average before each
run is recorded beside it.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks._common import Table

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data"

#: The child: the omicsgat CLI, optionally with the thread budget disabled.
CHILD = r"""
import sys
if sys.argv[1] == "--no-budget":
    from omicsgat import threads
    threads._threads_for = lambda others: threads.usable_cores()  # the pre-#16 behaviour: every core, always
    del sys.argv[1]
else:
    del sys.argv[1]
from omicsgat.cli import main
sys.exit(main(sys.argv[1:]))
"""


def _commands(out: Path, quick: bool) -> dict[str, list[str]]:
    cohort = SAMPLE / "cohort"
    prognosis = [
        "prognosis",
        "--clinical",
        str(cohort / "clinical.csv"),
        "--time",
        "OS_time",
        "--event",
        "OS_event",
        "--out",
        str(out / "prognosis"),
    ]
    prognosis += [f"--omics={m}={cohort / f'{m}.csv'}" for m in ("mRNA", "miRNA", "methylation")]
    grn = [
        "grn",
        str(SAMPLE / "simulated_grn.h5ad"),
        "--regulators",
        str(SAMPLE / "simulated_grn_regulators.txt"),
        "--out",
        str(out / "edges.tsv"),
    ]
    celltype = [
        "celltype",
        str(SAMPLE / "celltype_query.h5ad"),
        "--reference",
        str(SAMPLE / "celltype_reference.h5ad"),
        "--label-key",
        "cell_type",
        "--out",
        str(out / "labels.tsv"),
    ]
    if quick:
        grn += ["--epochs", "30"]
        celltype += ["--epochs", "10"]
        prognosis += ["--folds", "3", "--ensemble", "2", "--epochs", "60"]
    return {"GRN inference": grn, "Cell typing": celltype, "Prognosis": prognosis}


def _spin(stop, parent: int) -> None:
    """Busy-loop until told to stop, or until the benchmark that started it is gone (killed: no orphans)."""
    n = 0
    while not stop.is_set():
        n += 1
        if n % 200_000 == 0 and os.getppid() != parent:
            return


class Competitors:
    """``n`` busy-looping processes for the duration of a ``with`` block."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.procs: list = []

    def __enter__(self) -> "Competitors":
        ctx = mp.get_context("spawn")
        self.stop = ctx.Event()
        self.procs = [ctx.Process(target=_spin, args=(self.stop, os.getpid()), daemon=True) for _ in range(self.n)]
        for p in self.procs:
            p.start()
        if self.n:
            time.sleep(1.0)  # let them be scheduled before the analysis measures the free cores
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        for p in self.procs:
            p.join(timeout=10)
            if p.is_alive():
                p.kill()
                p.join()


def _run(args: list[str], budget: bool, cap: float) -> tuple[float, str]:
    """Seconds of one CLI run, and "ok", "stopped" (past ``cap``) or "failed"."""
    env = {**os.environ, "OMICSGAT_LOG_DIR": tempfile.gettempdir()}
    env.pop("OMICSGAT_THREADS", None)
    env.pop("OMP_NUM_THREADS", None)
    start = time.perf_counter()
    try:
        proc = subprocess.run(
            [sys.executable, "-c", CHILD, "--budget" if budget else "--no-budget", *args, "--quiet", "--device", "cpu"],
            env=env,
            capture_output=True,
            text=True,
            timeout=cap,
            cwd=ROOT,
        )
    except subprocess.TimeoutExpired:
        return time.perf_counter() - start, "stopped"
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        print(proc.stderr[-2000:], file=sys.stderr)
        return seconds, "failed"
    return seconds, "ok"


def main(quick: bool = False) -> Table:
    table = Table("under_load")
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    with tempfile.TemporaryDirectory() as tmp:
        commands = _commands(Path(tmp), quick)
        plan = [(name, budget, n) for name in commands for budget, n in ((True, 0), (True, 1), (True, 2))]
        plan += [("Prognosis", False, 0), ("Prognosis", False, 2)]
        idle: dict[tuple[str, bool], float] = {}
        for name, budget, n in plan:
            load = os.getloadavg()[0]
            base = idle.get((name, budget))
            # a run without the budget may crawl for many minutes: stop it at 10x its idle time
            cap = 600.0 if base is None else min(600.0, max(60.0, 10 * base))
            with Competitors(n):
                seconds, status = _run(commands[name], budget, cap)
            if n == 0 and status == "ok":
                idle[(name, budget)] = seconds
            base = idle.get((name, budget))
            ratio = seconds / base if base else float("nan")
            row = {
                "analysis": name,
                "thread budget": "on" if budget else "off (before)",
                "competitors": n,
                "seconds": seconds if status == "ok" else f"> {seconds:.0f} ({status})",
                "x idle": ratio if status == "ok" else f"> {ratio:.1f}",
                "target <= 3x": ("yes" if ratio <= 3 else "no") if status == "ok" and n else "",
                "load avg before": round(load, 2),
            }
            table.add(**row)
            print(
                f"{name} budget={'on' if budget else 'off'} competitors={n}: {row['seconds']} s ({status}), "
                f"load {load:.2f}",
                flush=True,
            )
    print(table.to_markdown())
    path = table.save(
        {
            "quick": quick,
            "usable_cores": cores,
            "note": "shared machine: other users' load is in 'load avg before'; idle is not idle",
        }
    )
    print(f"\nsaved {path}")
    return table


if __name__ == "__main__":  # pragma: no cover
    from benchmarks._common import exit_if_help

    exit_if_help(__doc__)
    main(quick="--quick" in sys.argv)
