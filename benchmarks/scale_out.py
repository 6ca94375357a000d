"""In-process vs a 2-worker local Dask cluster for GRN, prognosis and atlas-scale cell typing.

``python -m benchmarks scale_out`` runs the reduced sizes (what a shared 2-core machine finishes in minutes);
``--small`` smaller still (for a heavily loaded machine); ``--only-grn`` / ``--only-prognosis`` / ``--only-celltype`` one analysis; ``--celltype-cluster-only`` the cell-typing cluster rows alone (memory); ``--skip-joint`` no GRN joint-fit row; ``python -m benchmarks scale_out --full`` the sizes of issue #15 (GRN 5,000 cells x 2,000 genes x 200
regulators; prognosis 1,000 samples x 3 x 20,000 features, 5 x 5 models; cell typing 1,000,000 query cells
x 2,000 genes from a 50,000-cell reference, and 100,000 cells). The table records the load average beside
every row: on a machine shared with other CPU-bound programs, speed-ups are depressed. The serial part of each
analysis is measured from the engine's progress messages and gives the Amdahl's-law speed-up for 32 workers.
"""

from __future__ import annotations

import gc
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import psutil

from benchmarks._common import Table

SIZES = {
    "reduced": {
        "grn": dict(cells=2000, genes=500, regulators=50, epochs=60, restarts=1, block_size=125),
        "prognosis": dict(samples=300, features=2000, folds=5, ensemble=5, epochs=60),
        "celltype": dict(reference=10_000, queries=(50_000, 100_000), genes=2000, chunk=25_000),
    },
    "small": {
        "grn": dict(cells=2000, genes=500, regulators=50, epochs=60, restarts=1, block_size=125),
        "prognosis": dict(samples=200, features=500, folds=5, ensemble=5, epochs=40),
        "celltype": dict(reference=5_000, queries=(20_000, 50_000), genes=2000, chunk=10_000),
    },
    "full": {
        "grn": dict(cells=5000, genes=2000, regulators=200, epochs=150, restarts=3, block_size=500),
        "prognosis": dict(samples=1000, features=20_000, folds=5, ensemble=5, epochs=300),
        "celltype": dict(reference=50_000, queries=(100_000, 1_000_000), genes=2000, chunk=50_000),
    },
}


class _Peaks:
    """Peak RSS of this process and of each worker process (children), sampled in a thread."""

    def __init__(self) -> None:
        self.main = 0
        self.worker = 0
        self._stop = threading.Event()
        self._me = psutil.Process()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.main = max(self.main, self._me.memory_info().rss)
                for child in self._me.children(recursive=True):
                    self.worker = max(self.worker, child.memory_info().rss)
            except psutil.Error:
                pass
            time.sleep(0.1)

    def __enter__(self) -> "_Peaks":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


class _Clock:
    """A progress callback that remembers when each message came."""

    def __init__(self) -> None:
        self.start = time.perf_counter()
        self.marks: list[tuple[float, float, str]] = []

    def __call__(self, fraction: float, message: str) -> None:
        self.marks.append((time.perf_counter() - self.start, fraction, message))

    def first(self, text: str) -> float:
        return next(t for t, _, m in self.marks if text in m)

    def last(self, text: str) -> float:
        return [t for t, _, m in self.marks if text in m][-1]


def _amdahl(serial: float, total: float, workers: int = 32, tasks: int | None = None) -> float:
    s = min(max(serial / total, 0.0), 1.0)
    n = workers if tasks is None else min(workers, tasks)
    return 1.0 / (s + (1.0 - s) / n)


def _load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def _grn(table: Table, cfg: dict, client) -> None:
    from omicsgat.grn import infer_grn
    from omicsgat.metrics.grn import evaluate_edges
    from omicsgat.simulate import simulate_scrna, true_network

    data = simulate_scrna(
        n_cells=cfg["cells"], n_genes=cfg["genes"], n_regulators=cfg["regulators"], n_cell_types=4, seed=3
    )
    regs = list(data.var_names[data.var["is_regulator"].to_numpy()])
    truth = true_network(data)  # the planted network: blocked vs joint fit quality
    kw = dict(genes=cfg["genes"], regulators=regs, epochs=cfg["epochs"], restarts=cfg["restarts"], device="cpu", seed=0)
    size = f"{cfg['cells']} cells x {cfg['genes']} genes x {cfg['regulators']} regulators"
    runs = {}
    variants = (
        ("in-process, one joint fit (default)", {}),
        ("in-process, same blocks", {"block_size": cfg["block_size"]}),
        ("processes:2, same blocks", {"block_size": cfg["block_size"], "scheduler": client}),
    )
    if "--skip-joint" in sys.argv:  # the speed-up and identity rows only
        variants = variants[1:]
    for name, extra in variants:
        clock = _Clock()
        load = _load()
        t = time.perf_counter()
        result = infer_grn(data, progress=clock, **kw, **extra)
        seconds = time.perf_counter() - t
        runs[name] = result
        parallel = clock.last("ranking edges") - clock.first("of targets on")
        quality = evaluate_edges(result.edges, truth, regulators=result.regulators, genes=result.genes)
        table.add(
            analysis="GRN",
            size=size,
            run=name,
            seconds=seconds,
            tasks=result.params["n_blocks"],
            serial_s=seconds - parallel,
            AUPRC_ratio=quality["AUPRC_ratio"],
            EPR=quality["EPR"],
            load=load,
        )
    base = runs["in-process, same blocks"]
    other = runs["processes:2, same blocks"]
    identical = base.edges.equals(other.edges)
    rows = [r for r in table.rows if r["analysis"] == "GRN"]
    blocks_in_process = next(r for r in rows if r["run"] == "in-process, same blocks")
    for r in rows:
        r["speedup_vs_in_process_blocks"] = blocks_in_process["seconds"] / r["seconds"]
        r["identical_edges"] = identical if "blocks" in r["run"] else "n/a (other model)"
        r["amdahl_32_workers"] = _amdahl(r["serial_s"], r["seconds"], tasks=r["tasks"])


def _prognosis(table: Table, cfg: dict, client) -> None:
    from omicsgat.prognosis import run_prognosis
    from omicsgat.simulate import simulate_survival_cohort

    n = cfg["features"]
    cohort = simulate_survival_cohort(
        n_samples=cfg["samples"], n_features={"mRNA": n, "miRNA": n, "methylation": n}, seed=5
    )
    kw = dict(folds=cfg["folds"], ensemble=cfg["ensemble"], epochs=cfg["epochs"], device="cpu", seed=0)
    size = f"{cfg['samples']} samples x 3 x {n} features, {cfg['folds']} x {cfg['ensemble']} models"
    results = []
    for name, extra in (("in-process", {}), ("processes:2", {"scheduler": client})):
        clock = _Clock()
        load = _load()
        t = time.perf_counter()
        results.append(run_prognosis(cohort, progress=clock, **kw, **extra))
        seconds = time.perf_counter() - t
        n_models = cfg["folds"] * cfg["ensemble"]
        parallel = clock.last(f"model {n_models}/{n_models} done") - clock.first("models on")
        table.add(
            analysis="prognosis",
            size=size,
            run=name,
            seconds=seconds,
            tasks=cfg["folds"] * cfg["ensemble"],
            serial_s=seconds - parallel,
            load=load,
        )
    identical = bool(np.array_equal(results[0].risk["risk"].to_numpy(), results[1].risk["risk"].to_numpy()))
    rows = [r for r in table.rows if r["analysis"] == "prognosis"]
    for r in rows:
        r["speedup"] = rows[0]["seconds"] / r["seconds"]
        r["identical_risks"] = identical
        r["amdahl_32_workers"] = _amdahl(r["serial_s"], r["seconds"], tasks=r["tasks"])


def _write_query(path: Path, pool, n_cells: int, seed: int) -> None:
    """A query .h5ad of ``n_cells`` written in pieces (rows resampled from ``pool`` with thinned counts)."""
    import anndata as ad
    import h5py
    import pandas as pd
    import scipy.sparse as sp
    from anndata.io import sparse_dataset, write_elem

    rng = np.random.default_rng(seed)
    piece = 20_000
    names = []
    for start in range(0, n_cells, piece):
        m = min(piece, n_cells - start)
        rows = pool.X[rng.integers(0, pool.n_obs, m)].tocsr()
        rows.data = rng.binomial(rows.data.astype(np.int64), 0.8).astype(np.float32)
        rows.eliminate_zeros()
        names += [f"q{start + i}" for i in range(m)]
        if start == 0:
            ad.AnnData(X=rows, obs=pd.DataFrame(index=names[:m]), var=pd.DataFrame(index=pool.var_names)).write_h5ad(
                path
            )
            continue
        with h5py.File(path, "a") as f:
            sparse_dataset(f["X"]).append(sp.csr_matrix(rows))
    with h5py.File(path, "a") as f:
        del f["obs"]
        write_elem(f, "obs", pd.DataFrame(index=pd.Index(names)))


def _celltype(table: Table, cfg: dict, client) -> None:
    import scipy.sparse as sp

    from omicsgat.celltype import annotate_cells
    from omicsgat.celltype.atlas import predict_atlas, query_sample
    from omicsgat.simulate import simulate_scrna

    data = simulate_scrna(
        n_cells=2 * cfg["reference"],
        n_genes=cfg["genes"],
        n_regulators=50,
        n_cell_types=6,
        n_batches=2,
        batch_effect=0.3,
        seed=1,
    )
    data.X = sp.csr_matrix(data.X)
    data.X.data = np.random.default_rng(0).binomial(data.X.data.astype(np.int64), 0.15).astype(np.float32)
    data.X.eliminate_zeros()  # ~10 % non-zero, like droplet data
    ref = data[data.obs["batch"] == "batch0"].copy()
    pool = data[data.obs["batch"] == "batch1"].copy()
    with tempfile.TemporaryDirectory(dir=os.environ.get("OMICSGAT_BENCH_TMP")) as tmp:
        for n_cells in cfg["queries"]:
            _write_query(Path(tmp) / f"query_{n_cells}.h5ad", pool, n_cells, 0)
        del data, pool  # the main process then holds what a user's would: the reference and the model
        gc.collect()
        first = Path(tmp) / f"query_{cfg['queries'][0]}.h5ad"
        t = time.perf_counter()
        model = annotate_cells(query_sample(str(first)), "cell_type", ref, epochs=20, seed=0).model
        train_s = time.perf_counter() - t
        gc.collect()  # keep the model only, as a user's script that loads a saved model would
        runs = [("in-process", None), ("processes:2", client)]
        if "--celltype-cluster-only" in sys.argv:  # memory per worker / main process: the cluster rows only
            runs = runs[1:]
        for n_cells in cfg["queries"]:
            path = Path(tmp) / f"query_{n_cells}.h5ad"
            for name, sched in runs:
                clock = _Clock()
                load = _load()
                with _Peaks() as peaks:
                    base = psutil.Process().memory_info().rss
                    t = time.perf_counter()
                    summary = predict_atlas(
                        model,
                        str(path),
                        ref,
                        out=Path(tmp) / "labels.parquet",
                        label_key="cell_type",
                        chunk_size=cfg["chunk"],
                        scheduler=sched,
                        progress=clock,
                    )
                    seconds = time.perf_counter() - t
                parallel = (
                    clock.last("statistics chunk")
                    - clock.first("query gene statistics")
                    + clock.last("prediction chunk")
                    - clock.last("statistics chunk")
                )
                table.add(
                    analysis="cell typing (atlas)",
                    size=f"{n_cells} query cells, {cfg['reference']} reference, {cfg['genes']} genes, .h5ad on disk",
                    run=name,
                    seconds=seconds,
                    tasks=summary["n_chunks"],
                    serial_s=seconds - parallel,
                    cells_per_s=n_cells / seconds,
                    main_peak_gb=peaks.main / 2**30,
                    main_growth_gb=(peaks.main - base) / 2**30,
                    worker_peak_gb=peaks.worker / 2**30 if sched is not None else None,
                    amdahl_32_workers=_amdahl(seconds - parallel, seconds, tasks=None),
                    train_s_not_included=train_s,
                    load=load,
                )


def _warm() -> None:
    import torch_geometric.nn  # noqa: F401

    import omicsgat.celltype.atlas  # noqa: F401
    import omicsgat.grn.train  # noqa: F401
    import omicsgat.prognosis.fitter  # noqa: F401


def main(quick: bool = False) -> None:
    from distributed import Client

    from omicsgat.compute import local_cluster

    size = next((k for k in ("full", "small") if f"--{k}" in sys.argv), "reduced")
    only = [a for a in ("grn", "prognosis", "celltype") if f"--only-{a}" in sys.argv] or [
        "grn",
        "prognosis",
        "celltype",
    ]
    cfg = SIZES[size]
    name = "scale_out" if size == "full" else f"scale_out_{size}"
    table = Table(name if len(only) == 3 else f"{name}_{'_'.join(only)}")
    cluster = local_cluster(2)
    client = Client(cluster, set_as_default=False)
    t0 = time.perf_counter()
    client.run(_warm)  # worker start-up (importing torch and PyG) is not part of any analysis's time
    _warm()
    try:
        for name in only:
            {"grn": _grn, "prognosis": _prognosis, "celltype": _celltype}[name](table, cfg[name], client)
            print(table.to_markdown(), flush=True)
    finally:
        client.close()
        cluster.close()
    path = table.save(
        {
            "quick": quick,
            "size": size,
            "only": only,
            "cores": len(os.sched_getaffinity(0)),
            "load_average_end": _load(),
            "wall_s": time.perf_counter() - t0,
            "note": "load = 1/5/15-min load averages at the start of each row; the machine was shared",
        }
    )
    print(f"\nsaved {path}")
