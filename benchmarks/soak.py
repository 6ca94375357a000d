"""Soak: each analysis 20 times in one process; does memory grow?

A leak (a cached graph, a model kept alive by a closure, CUDA tensors never
freed) shows as resident memory climbing run after run. We report RSS after
each run (after ``gc.collect()``), and the growth from the mean of runs 3–7
to the mean of the last five, which should be within noise (a few MB).
"""

from __future__ import annotations

import gc
import os

import numpy as np
import psutil

from benchmarks._common import Table


def _rss_mb() -> float:
    gc.collect()
    return psutil.Process(os.getpid()).memory_info().rss / 2**20


def _analyses(quick: bool):
    from omicsgat.simulate import simulate_scrna, simulate_survival_cohort

    scrna = simulate_scrna(n_cells=300 if quick else 600, n_genes=80, n_regulators=12, n_cell_types=3, seed=1)
    labelled = scrna.copy()
    labels = labelled.obs["cell_type"].astype(object).copy()
    labels.iloc[::3] = np.nan
    labelled.obs["partial"] = labels
    cohort = simulate_survival_cohort(n_samples=120, n_features={"mRNA": 100, "miRNA": 40}, seed=1)

    def grn():
        from omicsgat.grn import infer_grn

        infer_grn(scrna, genes=60, epochs=20 if quick else 50, seed=0)

    def celltype():
        from omicsgat.celltype import annotate_cells

        annotate_cells(labelled, "partial", epochs=20 if quick else 50, seed=0)

    def prognosis():
        from omicsgat.prognosis import run_prognosis

        run_prognosis(cohort, folds=3, ensemble=2, epochs=20 if quick else 50, seed=0)

    return {"grn": grn, "celltype": celltype, "prognosis": prognosis}


def main(quick: bool = False) -> None:
    runs = 10 if quick else 20
    table = Table("soak")
    for name, fn in _analyses(quick).items():
        rss = []
        for _ in range(runs):
            fn()
            rss.append(_rss_mb())
        early = float(np.mean(rss[2:7]))
        late = float(np.mean(rss[-5:]))
        table.add(
            analysis=name,
            runs=runs,
            rss_first_mb=rss[0],
            rss_last_mb=rss[-1],
            growth_mb=late - early,
            growth_per_run_mb=(late - early) / max(1, runs - 7),
        )
        print(f"{name}: RSS per run (MB) {np.round(rss, 1).tolist()}", flush=True)
    table.publish({"quick": quick})


if __name__ == "__main__":
    from benchmarks._common import exit_if_help

    exit_if_help(__doc__)
    main()
