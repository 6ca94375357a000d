"""BEELINE benchmark: OmicsGAT and baselines on BEELINE's synthetic networks and curated Boolean models.

Scored as BEELINE does (Pratapa et al. 2020): every ordered pair of distinct genes is a candidate
(every gene a candidate regulator), self-loops dropped from the truth, AUPRC ratio and EPR against
the edge density. Each method runs in this process on the same ``ExpressionData.csv`` values. Every
data family (the folder given: ``synthetic``, ``curated``) is reported apart: per topology / model
(``GSD_50``: the 50 % dropout sets of GSD) the median over its replicates, and the median over the
family; replicates 0 and 1 (development) and replicate 2 (the untouched check) also apart. Baselines:
see :mod:`benchmarks.grn_beeline_baselines`.

``python -m benchmarks grn_beeline [--beeline DIR[,DIR...]] [--methods WORD,...] [--replicates R,...]
[--previous RUN.json,...] [--quick] [--name TABLE]``
(default DIRs: ``../shared/beeline/synthetic`` and ``../shared/beeline/curated`` next to the repository;
``--quick``: replicate 0 only; ``--replicates 0,1``: only these; ``--methods``: only methods whose name
contains one of these words; ``--previous A.json[,B.json]``: fill the (method, data set) rows this run
does not compute from earlier runs' JSON, e.g. the slow GENIE3 and GRNBoost2; the per-data-set rows in
the JSON say which run each came from; ``--name``: the results file name, default ``grn_beeline``).
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks import grn_beeline_baselines as bl
from benchmarks._common import Table, measure

_REPO = Path(__file__).resolve().parents[1]
# ../shared next to the repository (a worktree one level deeper finds it two levels up)
_SHARED = (_REPO.parent / "shared" / "beeline", _REPO.parent.parent / "shared" / "beeline")
FAMILIES = ("synthetic", "curated")
DEV_REPLICATES = (0, 1)


def default_roots() -> list[Path]:
    """The synthetic and curated folders of ``../shared/beeline`` next to the repository (or two levels up)."""
    base = next((d for d in _SHARED if d.is_dir()), _SHARED[0])
    return [base / f for f in FAMILIES if (base / f).is_dir()]


def parse_set_name(name: str) -> tuple[str, int]:
    """(topology, replicate) from BEELINE folder names: ``dyn-BF_2`` -> (dyn-BF, 2); ``GSD_1_50`` -> (GSD_50, 1)."""
    match = re.fullmatch(r"(.+?)_(\d+)(?:_(\d+))?", name)
    if match is None:
        return name, 0
    topo, rep, dropout = match.groups()
    return (f"{topo}_{dropout}" if dropout else topo), int(rep)


def datasets(root: Path):
    """(family, topology, replicate, folder) for every BEELINE folder under ``root``; the family is the folder's name."""
    from omicsgat.io.beeline import is_beeline_path

    out = []
    for folder in sorted(p for p in root.iterdir() if is_beeline_path(p)):
        topo, rep = parse_set_name(folder.name)
        out.append((root.name, topo, rep, folder))
    return out


def selected_sets(argv: list[str], quick: bool) -> tuple[list[Path], list]:
    """(roots, sets) for a design benchmark: ``--beeline`` roots, ``--replicates``, ``quick`` = replicate 0 only."""
    roots = [Path(d) for d in argv[argv.index("--beeline") + 1].split(",")] if "--beeline" in argv else default_roots()
    sets = [d for root in roots if root.is_dir() for d in datasets(root)]
    if "--replicates" in argv:
        reps = {int(r) for r in argv[argv.index("--replicates") + 1].split(",")}
        sets = [d for d in sets if d[2] in reps]
    if quick:
        sets = [d for d in sets if d[2] == 0]
    return roots, sets


def default_edges(adata):
    """The default run's edge table over every gene pair, and its (2, edges) gene-index array."""
    from omicsgat.grn import infer_grn

    genes = list(adata.var_names)
    plain = infer_grn(adata, genes=adata.n_vars, top_k=None, device="cpu", seed=0, score="adaptive").edges
    index = {g: i for i, g in enumerate(genes)}
    return plain, np.stack([plain["regulator"].map(index).to_numpy(), plain["target"].map(index).to_numpy()])


def scored_records(adata, plain, scored: dict, family: str, topo: str, rep: int, **extra) -> list[dict]:
    """One record per alternative score: the default run's edges (``plain``) re-ranked by each of ``scored``'s
    value arrays and evaluated against the set's reference network; ``extra`` is copied into every record."""
    from omicsgat.metrics.grn import evaluate_edges

    genes = list(adata.var_names)
    records = []
    for method, values in scored.items():
        edges = plain[["regulator", "target"]].assign(score=values)
        metrics = evaluate_edges(edges, adata.uns["beeline_reference"], regulators=genes, genes=genes)
        record = {"family": family, "topology": topo, "replicate": rep, "method": method}
        records.append({**record, **extra, "AUPRC_ratio": metrics["AUPRC_ratio"]})
    return records


def run_alternatives(argv: list[str], quick: bool, name: str, score_set, needs_pseudotime: bool = False) -> Table:
    """A design benchmark's run: on every selected set (a set without a pseudotime skipped when
    ``needs_pseudotime``), ``score_set(adata, plain, edge_index)`` re-scores the default run's edges and returns
    ({method: values}, fields copied into each record); the per-family table is published under ``--name`` or
    ``name``."""
    from omicsgat.io.beeline import read_beeline

    roots, sets = selected_sets(argv, quick)
    start, records = time.time(), []
    for family, topo, rep, folder in sets:
        adata = read_beeline(folder)
        if needs_pseudotime and "beeline_pseudotime" not in adata.uns:
            continue
        plain, edge_index = default_edges(adata)
        scored, extra = score_set(adata, plain, edge_index)
        records += scored_records(adata, plain, scored, family, topo, rep, **extra)
        print(f"  {family}/{folder.name} done ({time.time() - start:.0f} s)", flush=True)
    name = argv[argv.index("--name") + 1] if "--name" in argv else name
    meta = {"quick": quick, "data": ",".join(map(str, roots)), "minutes": round((time.time() - start) / 60, 1)}
    return publish_by_family(records, name, meta)


def publish_by_family(records: list, name: str, meta: dict) -> Table:
    """One row per (family, method): median AUPRC ratio over all sets, development and untouched replicates, and
    per topology; the per-set records go into the JSON."""
    frame = pd.DataFrame(records)
    table = Table(name)
    for (family, method), rows in frame.groupby(["family", "method"], sort=False):
        dev, held = rows[rows["replicate"].isin(DEV_REPLICATES)], rows[~rows["replicate"].isin(DEV_REPLICATES)]
        row = {
            "family": family,
            "method": method,
            "all": rows["AUPRC_ratio"].median(),
            "dev": dev["AUPRC_ratio"].median(),
            "untouched": held["AUPRC_ratio"].median(),
        }
        row.update(rows.groupby("topology")["AUPRC_ratio"].median().round(3).to_dict())
        table.add(**row)
    return table.publish({**meta, "per_dataset": records})


def _omicsgat(adata, pseudotime: bool, seed: int = 0, score: str = "rank_mean"):
    from omicsgat.grn import infer_grn

    cols = list(adata.uns.get("beeline_pseudotime", [])) if pseudotime else None
    res = infer_grn(
        adata,
        genes=adata.n_vars,
        regulators=None,
        top_k=None,
        device="cpu",
        seed=seed,
        pseudotime=cols or None,
        score=score,
    )
    evidence = res.params.get("time_evidence")
    if evidence is None and "conditional_dependence" in res.params:  # what the steady-state score chose, and why
        return res.edges, {"score_name": res.params["score_name"], **res.params["conditional_dependence"]}
    return res.edges, (
        None
        if evidence is None
        else {
            "time_weight": evidence["weight"],
            "genes_gaining": [t["genes_gaining"] for t in evidence["trajectories"]],
            "score_name": res.params["score_name"],
        }
    )


def methods(pseudotime_available: bool):
    """Name -> function(adata) returning an edge frame (regulator, target, score)."""

    def values(adata):
        return np.asarray(adata.X, dtype=np.float64)

    def times(adata):
        return adata.obs[list(adata.uns["beeline_pseudotime"])].to_numpy(dtype=float)

    out = {
        "OmicsGAT (no pseudotime)": lambda a: _omicsgat(a, False),
        "OmicsGAT (pseudotime)": lambda a: _omicsgat(a, True),
        "OmicsGAT (no pseudotime, conditional score)": lambda a: _omicsgat(a, False, score="conditional"),
        "OmicsGAT (no pseudotime, adaptive score)": lambda a: _omicsgat(a, False, score="adaptive"),
        "OmicsGAT (pseudotime, adaptive score)": lambda a: _omicsgat(a, True, score="adaptive"),
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

    table.add(
        dataset=label,
        method=method,
        n=len(rows),
        AUROC=med(rows, "AUROC"),
        AUPRC_ratio=med(rows, "AUPRC_ratio"),
        EPR=med(rows, "EPR"),
        AUPRC_ratio_dev=med(dev, "AUPRC_ratio"),
        EPR_dev=med(dev, "EPR"),
        AUPRC_ratio_rep2=med(held, "AUPRC_ratio"),
        EPR_rep2=med(held, "EPR"),
        seconds=med(rows, "seconds"),
        peak_MB=float(rows["peak_MB"].max()),
    )


def _previous_rows(sources: list[str], run_now: set) -> list[dict]:
    """Rows of earlier runs for the (method, data set) pairs this run does not compute; older files name no family."""
    import json

    seen, out = set(), []
    for source in sources:
        meta = json.loads(Path(source).read_text(encoding="utf-8"))["meta"]
        family_of_file = Path(meta.get("data", "synthetic").split(",")[0]).name
        for r in meta["per_dataset"]:
            r = {**r, "family": r.get("family", family_of_file)}
            key = (r["method"], r["family"], r["topology"], r["replicate"])
            if key in seen or r["method"] in run_now:  # a method this run computes never mixes with older rows
                continue
            seen.add(key)
            run = r.get("run", "this run")  # a row that run computed itself is named by its file here
            out.append({**r, "run": source if run == "this run" else run})
    return out


def main(quick: bool = False, argv: list[str] | None = None) -> Table | None:
    from omicsgat.io.beeline import read_beeline
    from omicsgat.metrics.grn import evaluate_edges

    argv = list(argv or [])
    roots = [Path(d) for d in argv[argv.index("--beeline") + 1].split(",")] if "--beeline" in argv else default_roots()
    wanted = argv[argv.index("--methods") + 1].split(",") if "--methods" in argv else None
    found = [d for root in roots if root.is_dir() for d in datasets(root)]
    if not found:
        print(
            f"[grn_beeline] skipped: no BEELINE folders under {', '.join(map(str, roots))} (give --beeline DIR[,DIR])"
        )
        return None
    start = time.time()
    # the untouched replicate first, then one replicate of every topology at a time: an interrupted run
    # still covers every topology
    sets = sorted(
        (d for d in found if not quick or d[2] == 0), key=lambda d: (d[2] in DEV_REPLICATES, d[2], d[0], d[1])
    )
    if "--replicates" in argv:
        reps = {int(r) for r in argv[argv.index("--replicates") + 1].split(",")}
        sets = [d for d in sets if d[2] in reps]
    records: list = []
    earlier: list = []
    if "--previous" in argv:
        sources = argv[argv.index("--previous") + 1].split(",")
        run_now = {n for n in methods(True) if not wanted or any(w.lower() in n.lower() for w in wanted)}
        earlier = _previous_rows(sources, run_now)
    name = (
        argv[argv.index("--name") + 1]
        if "--name" in argv
        else ("grn_beeline" if not wanted or "--previous" in argv else "grn_beeline_partial")
    )
    table = Table(name)
    meta = {
        "quick": quick,
        "data": ",".join(map(str, roots)),
        "note": "2 CPU cores shared with other engineers' jobs: "
        "seconds are inflated by contention (load average per row in per_dataset)",
    }
    if earlier:
        meta["previous"] = (
            f"rows of (method, data set) pairs this run did not compute come from {', '.join(sources)} "
            "(earlier runs of this benchmark; see 'run' in per_dataset)"
        )
    for family, topo, rep, folder in sets:
        adata = read_beeline(folder)
        ref = adata.uns["beeline_reference"]
        genes = list(adata.var_names)
        for method, fn in methods("beeline_pseudotime" in adata.uns).items():
            if wanted and not any(w.lower() in method.lower() for w in wanted):
                continue
            m = measure(lambda: fn(adata))
            edges, choice = m.value if isinstance(m.value, tuple) else (m.value, None)
            metrics = evaluate_edges(edges, ref, regulators=genes, genes=genes)
            records.append(
                {
                    "run": "this run",
                    "family": family,
                    "topology": topo,
                    "replicate": rep,
                    "method": method,
                    "AUROC": metrics["AUROC"],
                    "AUPRC_ratio": metrics["AUPRC_ratio"],
                    "EPR": metrics["EPR"],
                    "seconds": m.seconds,
                    "peak_MB": m.peak_mb,
                    "load": os.getloadavg()[0],
                    **({"choice": choice} if choice is not None else {}),
                }
            )
        print(f"  {family}/{folder.name} done ({time.time() - start:.0f} s)", flush=True)
        _fill(table, records + earlier, meta, partial=True)
    meta["minutes"] = round((time.time() - start) / 60, 1)
    _fill(table, records + earlier, meta, partial=False)
    print(table.to_markdown())
    return table


def _fill(table: Table, records: list, meta: dict, partial: bool) -> None:
    """Summary rows from the per-data-set records, per family; saved (partial results survive an interrupted run)."""
    table.rows.clear()
    frame = pd.DataFrame(records)
    for family in pd.unique(frame["family"]):
        fam = frame[frame["family"] == family]
        for method in pd.unique(fam["method"]):
            rows = fam[fam["method"] == method]
            for topo in sorted(pd.unique(rows["topology"])):
                _summary(table, rows[rows["topology"] == topo], f"{family}: {topo}", method)
            _summary(table, rows, f"{family}: all {len(rows)} data sets", method)
    table.save(
        {**meta, "partial": partial, "load_average_1min_mean": float(frame["load"].mean()), "per_dataset": records}
    )
