"""Run every benchmark: ``python -m benchmarks [grn grn_beeline celltype prognosis soak gui_startup gui_cancel under_load] [--quick]``.

``python -m benchmarks scale_out [--full]`` (in-process vs a 2-worker Dask cluster) runs only when named.
"""

from __future__ import annotations

import importlib
import inspect
import sys

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
    valued |= {"--data", "--only", "--depths"}
    names = [a for i, a in enumerate(argv) if not a.startswith("-") and (i == 0 or argv[i - 1] not in valued)] or list(
        ALL
    )
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


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
