"""Run every benchmark: ``python -m benchmarks [grn celltype prognosis soak gui_startup gui_cancel under_load] [--quick]``.

``python -m benchmarks scale_out [--full]`` (in-process vs a 2-worker Dask cluster) runs only when named.
"""

from __future__ import annotations

import importlib
import sys

ALL = ("grn", "celltype", "celltype_novelty", "celltype_graph", "prognosis", "soak", "gui_startup", "gui_cancel",
       "under_load")


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    names = [a for a in argv if not a.startswith("-")] or list(ALL)
    for name in names:
        try:
            module = importlib.import_module(f"benchmarks.{name}")
        except ModuleNotFoundError as exc:
            print(f"[{name}] not available: {exc}")
            continue
        print(f"\n## {name}\n", flush=True)
        module.main(quick=quick)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
