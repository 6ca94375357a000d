"""Run benchmarks: ``python -m benchmarks [NAME ...] [--quick] [options]`` (no NAME: the default set below).

``python -m benchmarks --help`` lists every benchmark; ``python -m benchmarks NAME --help`` prints NAME's usage
and runs nothing. Benchmarks outside the default set (``scale_out``, ``grn_scale``, ...) run only when named.
"""

from __future__ import annotations

import importlib
import inspect
import sys

from benchmarks._common import HELP_FLAGS, benchmark_names, module_doc

ALL = (
    "grn",
    "grn_beeline",
    "celltype",
    "celltype_novelty",
    "celltype_graph",
    "prognosis",
    "soak",
    "gui_startup",
    "gui_cancel",
    "under_load",
)


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    valued = {
        "--beeline",
        "--methods",
        "--replicates",
        "--previous",
        "--targets",
        "--variants",
        "--rules",
        "--curated",
        "--synthetic",
        "--cells",
        "--epochs",
        "--kang",
        "--parts",
        "--name",
    }  # options followed by a value
    valued |= {"--data", "--only", "--depths", "--cache", "--seed"}
    named = [a for i, a in enumerate(argv) if not a.startswith("-") and (i == 0 or argv[i - 1] not in valued)]
    if HELP_FLAGS & set(argv):
        return _help(named)
    names = named or list(ALL)
    for name in names:
        try:
            module = importlib.import_module(f"benchmarks.{name}")
        except ModuleNotFoundError as exc:
            print(f"[{name}] not available: {exc}")
            continue
        print(f"\n## {name}\n", flush=True)
        extra = {"argv": argv} if "argv" in inspect.signature(module.main).parameters else {}
        module.main(quick=quick, **extra)
    return 0


def _help(names: list[str]) -> int:
    """Usage of the named benchmarks (their module docstrings), or the list of all of them; nothing is run."""
    known = benchmark_names()
    unknown = [n for n in names if n not in known]
    if unknown:
        print(f"Unknown benchmark(s): {', '.join(unknown)}. Available: {', '.join(known)}.", file=sys.stderr)
        return 2
    if not names:
        print(__doc__.strip() + "\n\nBenchmarks (* in the default set):")
        for name in known:
            print(f"  {'*' if name in ALL else ' '} {name}: {module_doc(name).splitlines()[0]}")
        return 0
    for name in names:
        print(f"## {name}\n\n{module_doc(name)}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
