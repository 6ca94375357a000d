"""``--help`` of every benchmark prints its usage and runs nothing (a full run takes minutes to hours)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from benchmarks._common import benchmark_names, module_doc

ROOT = Path(__file__).resolve().parents[1]


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=60)


def test_help_of_every_benchmark_prints_its_usage_and_runs_nothing():
    names = benchmark_names()
    assert {"grn", "grn_beeline", "celltype", "prognosis"} <= set(names)
    listing = _run("-m", "benchmarks", "--help")
    assert listing.returncode == 0, listing.stderr
    assert all(f" {name}: " in listing.stdout for name in names)
    usage = _run("-m", "benchmarks", *names, "--help")
    assert usage.returncode == 0, usage.stderr
    # the usages and nothing else: no benchmark started
    assert usage.stdout == "".join(f"## {name}\n\n{module_doc(name)}\n\n" for name in names)
    unknown = _run("-m", "benchmarks", "no_such_benchmark", "-h")
    assert unknown.returncode == 2 and "no_such_benchmark" in unknown.stderr


def test_each_module_run_directly_checks_for_help_before_running():
    """``python -m benchmarks.NAME --help``: the ``__main__`` block's first call is ``exit_if_help``."""
    for name in benchmark_names():
        tree = ast.parse((ROOT / "benchmarks" / f"{name}.py").read_text(encoding="utf-8"))
        blocks = [n for n in tree.body if isinstance(n, ast.If) and "__main__" in ast.unparse(n.test)]
        for block in blocks:
            calls = [s.value for s in block.body if isinstance(s, ast.Expr) and isinstance(s.value, ast.Call)]
            assert calls and ast.unparse(calls[0].func) == "exit_if_help", name
    direct = _run("-m", "benchmarks.soak", "--help")
    assert direct.returncode == 0 and direct.stdout.startswith(module_doc("soak").splitlines()[0])
