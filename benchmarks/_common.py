"""Timing, peak memory and the results table shared by every benchmark."""

from __future__ import annotations

import ast
import json
import os
import platform
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List

import numpy as np
import psutil

RESULTS = Path(__file__).parent / "results"
HELP_FLAGS = {"-h", "--help"}


def benchmark_names() -> list[str]:
    """Every module of this package with a top-level ``main``: what ``python -m benchmarks NAME`` can run."""
    names = []
    for path in sorted(Path(__file__).parent.glob("*.py")):
        if path.stem.startswith("_"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        if any(isinstance(node, ast.FunctionDef) and node.name == "main" for node in tree.body):
            names.append(path.stem)
    return names


def module_doc(name: str) -> str:
    """A benchmark's module docstring (its usage), read from the source without importing it (no heavy imports)."""
    path = Path(__file__).parent / f"{name}.py"
    return (ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or name).strip()


def exit_if_help(doc: str | None, argv: list[str] | None = None) -> None:
    """``python -m benchmarks.NAME --help``: print the module's usage and exit 0 before anything runs."""
    if HELP_FLAGS & set(sys.argv[1:] if argv is None else argv):
        print((doc or "").strip())
        sys.exit(0)


@dataclass
class Measured:
    value: Any
    seconds: float
    peak_mb: float


def measure(fn: Callable[[], Any], interval: float = 0.02) -> Measured:
    """Run ``fn`` and return its value, wall seconds and peak RSS growth (MB).

    RSS is sampled in a thread (tracemalloc misses torch's allocations); the
    figure is the peak above the RSS at the start.
    """
    proc = psutil.Process(os.getpid())
    base = proc.memory_info().rss
    peak = [base]
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], proc.memory_info().rss)
            time.sleep(interval)

    t = threading.Thread(target=sample, daemon=True)
    t.start()
    start = time.perf_counter()
    try:
        value = fn()
    finally:
        seconds = time.perf_counter() - start
        stop.set()
        t.join()
    peak[0] = max(peak[0], proc.memory_info().rss)
    return Measured(value, seconds, (peak[0] - base) / 2**20)


@dataclass
class Table:
    """Rows of a benchmark table; columns are the union of the rows' keys."""

    name: str
    rows: List[Dict[str, Any]] = field(default_factory=list)

    def add(self, **row: Any) -> None:
        self.rows.append(row)

    def columns(self) -> list[str]:
        cols: list[str] = []
        for row in self.rows:
            cols += [k for k in row if k not in cols]
        return cols

    def to_markdown(self) -> str:
        cols = self.columns()

        def fmt(v: Any) -> str:
            if isinstance(v, (float, np.floating)):
                return f"{v:.3f}" if abs(v) < 1000 else f"{v:.0f}"
            return "" if v is None else str(v)

        lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
        lines += ["| " + " | ".join(fmt(r.get(c)) for c in cols) + " |" for r in self.rows]
        return "\n".join(lines)

    def save(self, meta: Dict[str, Any] | None = None) -> Path:
        RESULTS.mkdir(parents=True, exist_ok=True)
        meta = {
            "machine": platform.platform(),
            "cpus": os.cpu_count(),
            "date": time.strftime("%Y-%m-%d %H:%M"),
            **(meta or {}),
        }
        # a --quick run never overwrites the full results
        name = f"{self.name}_quick" if meta.get("quick") else self.name
        md = RESULTS / f"{name}.md"
        md.write_text(f"# {self.name}\n\n{json.dumps(meta)}\n\n{self.to_markdown()}\n", encoding="utf-8")
        (RESULTS / f"{name}.json").write_text(
            json.dumps({"meta": meta, "rows": self.rows}, indent=1, default=float), encoding="utf-8"
        )
        return md

    def publish(self, meta: Dict[str, Any] | None = None) -> "Table":
        """Print the Markdown table and save it with its JSON copy: the end of every benchmark."""
        print(self.to_markdown())
        self.save(meta)
        return self


def mean_sd(values) -> str:
    v = np.asarray(values, dtype=float)
    return f"{v.mean():.3f} ± {v.std(ddof=1) if len(v) > 1 else 0.0:.3f}"
