"""BEELINE benchmark: OmicsGAT and baselines on the BEELINE synthetic networks (Pratapa et al. 2020).

Scored as BEELINE does: every ordered pair of distinct genes is a candidate
(every gene a candidate regulator), self-loops dropped from the truth, AUPRC
ratio and EPR against the edge density. Each method runs in this process on
the same ``ExpressionData.csv`` values. Rows: per topology the median over its
replicates, and the median over all data sets; replicates 0 and 1 (on which
the pseudotime mode was designed) and replicate 2 (the untouched check) are
also given apart. Baselines: see :mod:`benchmarks.grn_beeline_baselines`.

``python -m benchmarks grn_beeline [--beeline DIR] [--methods WORD,...] [--replicates R,...] [--previous RUN.json,...] [--quick]``
(default DIR: ``../shared/beeline/synthetic`` next to the repository; ``--quick``:
replicate 0 only; ``--replicates 0,1``: only these; ``--methods``: only methods whose name
contains one of these words; ``--previous A.json[,B.json]``: fill the (method, data set)
rows this run does not compute from earlier runs' JSON, e.g. the slow GENIE3; the
per-data-set rows in the JSON say which run each came from).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks import grn_beeline_baselines as bl
from benchmarks._common import Table, measure

_REPO = Path(__file__).resolve().parents[1]
# ../shared next to the repository (a worktree one level deeper finds it two levels up)
DEFAULT_DIRS = (_REPO.parent / "shared" / "beeline" / "synthetic", _REPO.parent.parent / "shared" / "beeline" / "synthetic")
DEV_REPLICATES = (0, 1)


def datasets(root: Path):
    """(topology, replicate, folder) for every BEELINE folder under ``root`` named <topology>_<replicate>."""
    from omicsgat.io.beeline import is_beeline_path

    out = []
    for folder in sorted(p for p in root.iterdir() if is_beeline_path(p)):
        topo, _, rep = folder.name.rpartition("_")
        out.append((topo or folder.name, int(rep) if rep.isdigit() else 0, folder))
    return out


def _omicsgat(adata, pseudotime: bool, seed: int = 0):
    from omicsgat.grn import infer_grn

    cols = list(adata.uns.get("beeline_pseudotime", [])) if pseudotime else None
    res = infer_grn(adata, genes=adata.n_vars, regulators=None, top_k=None, device="cpu", seed=seed,
                    pseudotime=cols or None)
    return res.edges


def methods(pseudotime_available: bool):
    """Name -> function(adata) returning an edge frame (regulator, target, score)."""

    def values(adata):
        return np.asarray(adata.X, dtype=np.float64)

    def times(adata):
        return adata.obs[list(adata.uns["beeline_pseudotime"])].to_numpy(dtype=float)

    out = {
        "OmicsGAT (no pseudotime)": lambda a: _omicsgat(a, False),
        "OmicsGAT (pseudotime)": lambda a: _omicsgat(a, True),
        "GRNBoost2 (arboreto defaults, sklearn)": lambda a: bl.grnboost2(values(a), list(a.var_names)),
        f"GENIE3 (random forest, {bl.GENIE3_TREES} trees)": lambda a: bl.genie3(values(a), list(a.var_names)),
        "Pearson |r|": lambda a: bl.pearson(values(a), list(a.var_names)),
        "Spearman |rho|": lambda a: bl.spearman(values(a), list(a.var_names)),
        "lagged |Pearson| along pseudotime": lambda a: bl.lagged_pearson(values(a), list(a.var_names), times(a)),
    }
    if not pseudotime_available:
        out = {k: v for k, v in out.items() if "pseudotime" not in k or "no pseudotime" in k}
    return out


def _summary(table: Table, rows: pd.DataFrame, label: str, method: str) -> None:
    dev = rows[rows["replicate"].isin(DEV_REPLICATES)]
    held = rows[~rows["replicate"].isin(DEV_REPLICATES)]

    def med(frame, col):
        return float(frame[col].median()) if len(frame) else float("nan")

    table.add(dataset=label, method=method, n=len(rows), AUROC=med(rows, "AUROC"), AUPRC_ratio=med(rows, "AUPRC_ratio"),
              EPR=med(rows, "EPR"), AUPRC_ratio_dev=med(dev, "AUPRC_ratio"), EPR_dev=med(dev, "EPR"),
              AUPRC_ratio_rep2=med(held, "AUPRC_ratio"), EPR_rep2=med(held, "EPR"),
              seconds=med(rows, "seconds"), peak_MB=float(rows["peak_MB"].max()))


def main(quick: bool = False, argv: list[str] | None = None) -> Table | None:
    from omicsgat.io.beeline import read_beeline
    from omicsgat.metrics.grn import evaluate_edges

    argv = list(argv or [])
    if "--beeline" in argv:
        root = Path(argv[argv.index("--beeline") + 1])
    else:
        root = next((d for d in DEFAULT_DIRS if d.is_dir()), DEFAULT_DIRS[0])
    wanted = argv[argv.index("--methods") + 1].split(",") if "--methods" in argv else None
    if not root.is_dir() or not datasets(root):
        print(f"[grn_beeline] skipped: no BEELINE folders under {root} (give --beeline DIR)")
        return None
    start = time.time()
    # the untouched replicate first, then one replicate of every topology at a time: an interrupted run
    # still covers every topology
    sets = sorted((d for d in datasets(root) if not quick or d[1] == 0),
                  key=lambda d: (d[1] in DEV_REPLICATES, d[1], d[0]))
    if "--replicates" in argv:
        reps = {int(r) for r in argv[argv.index("--replicates") + 1].split(",")}
        sets = [d for d in sets if d[1] in reps]
    records: list = []
    earlier: list = []
    if "--previous" in argv:
        import json

        sources = argv[argv.index("--previous") + 1].split(",")
        names = set(methods(True))
        run_now = {n for n in names if not wanted or any(w.lower() in n.lower() for w in wanted)}
        here = {(t, r) for t, r, _ in sets}
        seen = set()
        for source in sources:
            for r in json.loads(Path(source).read_text(encoding="utf-8"))["meta"]["per_dataset"]:
                key = (r["method"], r["topology"], r["replicate"])
                if key in seen or (r["method"] in run_now and (r["topology"], r["replicate"]) in here):
                    continue
                seen.add(key)
                run = r.get("run", "this run")  # a row that run computed itself is named by its file here
                earlier.append({**r, "run": source if run == "this run" else run})
        meta_previous = (f"rows of (method, data set) pairs this run did not compute come from {', '.join(sources)} "
                         "(earlier runs of this benchmark, same code and data; see 'run' in per_dataset)")
    table = Table("grn_beeline" if not wanted or "--previous" in argv else "grn_beeline_partial")
    meta = {"quick": quick, "data": str(root), "note": "2 CPU cores shared with other engineers' jobs: seconds are "
            "inflated by contention (load average per row in per_dataset)"}
    if earlier:
        meta["previous"] = meta_previous
    for topo, rep, folder in sets:
        adata = read_beeline(folder)
        ref = adata.uns["beeline_reference"]
        genes = list(adata.var_names)
        for name, fn in methods("beeline_pseudotime" in adata.uns).items():
            if wanted and not any(w.lower() in name.lower() for w in wanted):
                continue
            m = measure(lambda: fn(adata))
            metrics = evaluate_edges(m.value, ref, regulators=genes, genes=genes)
            records.append({"run": "this run", "topology": topo, "replicate": rep, "method": name, "AUROC": metrics["AUROC"],
                            "AUPRC_ratio": metrics["AUPRC_ratio"], "EPR": metrics["EPR"], "seconds": m.seconds,
                            "peak_MB": m.peak_mb, "load": os.getloadavg()[0]})
        print(f"  {folder.name} done ({time.time() - start:.0f} s)", flush=True)
        _fill(table, records + earlier, meta, partial=True)
    meta["minutes"] = round((time.time() - start) / 60, 1)
    _fill(table, records + earlier, meta, partial=False)
    print(table.to_markdown())
    return table


def _fill(table: Table, records: list, meta: dict, partial: bool) -> None:
    """Summary rows from the per-data-set records; saved (partial results survive an interrupted run)."""
    table.rows.clear()
    frame = pd.DataFrame(records)
    for method in pd.unique(frame["method"]):
        rows = frame[frame["method"] == method]
        for topo in pd.unique(rows["topology"]):
            _summary(table, rows[rows["topology"] == topo], topo, method)
        _summary(table, rows, f"all {len(rows)} data sets", method)
    table.save({**meta, "partial": partial, "load_average_1min_mean": float(frame["load"].mean()), "per_dataset": records})
