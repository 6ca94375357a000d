"""Development harness for the krumsiek11 target (issue #3): data the benchmark does not use.

Dev krumsiek: ``scanpy.tl.sim('krumsiek11', seed=s)`` for s in 1..5 (the benchmark's data is scanpy's shipped
krumsiek11, which is exactly seed 0 of the same simulation, checked), cached in /tmp/kdev. Dev simulated:
omicsgat.simulate with seeds 20-24 (the benchmark uses 0-4). Each fit's edge table is scored under several post-hoc
edge scores at once (``scores_of``).

Usage, from this folder: ``OMP_NUM_THREADS=1 python dev.py NAME '{"infer_grn": {...}, "patch": {...},
"baselines": true}' [k|k3|kb|s60|s150|s300 ...]`` (k3 = dev krumsiek x model seeds 0-2; kb = the benchmark's
krumsiek11, for confirmation only; ``patch``: a model variant from patches.py). Rows are appended to
/tmp/kdev/results.jsonl (the session's copy: dev_results.jsonl).
"""
import json, os, sys, time
os.environ.setdefault("OMP_NUM_THREADS", "1")
from pathlib import Path
import numpy as np, pandas as pd
import torch
torch.set_num_threads(1)
sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
from omicsgat.grn import infer_grn
from omicsgat.metrics.grn import evaluate_edges
from benchmarks.grn import krumsiek11, krumsiek11_network, genie3, spearman, _prepared
from scipy.stats import rankdata

OUT = Path("/tmp/kdev/results.jsonl")


def dev_krumsiek(seed):
    import anndata as ad
    path = Path(f"/tmp/kdev/k{seed}.h5ad")
    if not path.exists():
        import scanpy as sc
        sc.settings.verbosity = 0
        a = sc.tl.sim("krumsiek11", seed=seed, writedir=f"/tmp/kdev/w{seed}")
        a.obs_names_make_unique()
        a.write_h5ad(path)
    a = ad.read_h5ad(path)
    return a, krumsiek11_network()


def sim(n_cells, n_genes, n_regs, seed):
    from omicsgat.simulate import simulate_scrna, true_network
    a = simulate_scrna(n_cells=n_cells, n_genes=n_genes, n_regulators=n_regs, n_cell_types=4, seed=seed)
    return a, true_network(a)


SETS = {
    "k": [(f"k{s}", lambda s=s: dev_krumsiek(s), ms) for s in (1, 2, 3, 4, 5) for ms in (0,)],
    "k3": [(f"k{s}", lambda s=s: dev_krumsiek(s), ms) for s in (1, 2, 3, 4, 5) for ms in (0, 1, 2)],
    "kb": [("kbench", krumsiek11, ms) for ms in (0, 1, 2)],
    "s60": [(f"s60_{s}", lambda s=s: sim(600, 60, 10, s), s) for s in range(20, 25)],
    "s150": [(f"s150_{s}", lambda s=s: sim(800, 150, 20, s), s) for s in range(20, 25)],
    "s300": [(f"s300_{s}", lambda s=s: sim(800, 300, 30, s), s) for s in range(20, 25)],
    "s60b": [(f"s60b_{s}", lambda s=s: sim(600, 60, 10, s), s) for s in range(0, 5)],
    "s150b": [(f"s150b_{s}", lambda s=s: sim(800, 150, 20, s), s) for s in range(0, 5)],
    "s300b": [(f"s300b_{s}", lambda s=s: sim(800, 300, 30, s), s) for s in range(0, 5)],
}


def rank01(x):
    return rankdata(x) / len(x)


def scores_of(edges):
    """Post-hoc edge scores from one fit's edge table."""
    out = {"contribution": edges["contribution"].to_numpy(), "attention": edges["attention"].to_numpy()}
    out["rankavg"] = rank01(out["contribution"]) + rank01(out["attention"])
    out["geo"] = np.sqrt(out["contribution"] * out["attention"])
    t = edges["target"].to_numpy()
    def per_target(x, how):
        f = pd.Series(x)
        g = f.groupby(t)
        return (f / g.transform("sum")).to_numpy() if how == "sum" else (f / g.transform("max")).to_numpy()
    for base in ("contribution", "attention"):
        out[base[:4] + "/tsum"] = per_target(out[base], "sum")
        out[base[:4] + "/tmax"] = per_target(out[base], "max")
    out["rankavg/tsum"] = rank01(out["cont/tsum"]) + rank01(out["atte/tsum"])
    out["rankavg/tmax"] = rank01(out["cont/tmax"]) + rank01(out["atte/tmax"])
    for c in edges.columns:
        if c.startswith("extra_"):
            out[c[6:]] = edges[c].to_numpy()
    return out


def main(name, kwargs, sets, baselines=False):
    per = {}
    t0 = time.time()
    for set_name in sets:
        for label, make, ms in SETS[set_name]:
            adata, ref = make()
            regs = sorted(set(ref["regulator"]))
            res = infer_grn(adata, genes=adata.n_vars, regulators=regs, device="cpu", seed=ms, top_k=None, **kwargs)
            for sname, s in scores_of(res.edges).items():
                m = evaluate_edges(res.edges.assign(score=s), ref, regulators=res.regulators, genes=res.genes)
                per.setdefault((set_name, sname), []).append((m["AUPRC_ratio"], m["EPR"]))
            if baselines:
                prep = _prepared(adata, regs, ms)
                for bname, fn in (("GENIE3", genie3), ("Spearman", spearman)):
                    m = evaluate_edges(fn(prep.raw, prep.genes, prep.regulators), ref, regulators=prep.regulators, genes=prep.genes)
                    per.setdefault((set_name, bname), []).append((m["AUPRC_ratio"], m["EPR"]))
    rows = []
    for (set_name, sname), v in per.items():
        a = np.array(v)
        row = {"variant": name, "kwargs": kwargs, "set": set_name, "score": sname, "n": len(v), "AUPRC_ratio": a[:, 0].mean(),
               "EPR": a[:, 1].mean(), "EPR_each": np.round(a[:, 1], 2).tolist(), "AUPRC_each": np.round(a[:, 0], 2).tolist()}
        rows.append(row)
        print(f"{name:28s} {set_name:6s} {sname:14s} AUPRC {row['AUPRC_ratio']:.3f} EPR {row['EPR']:.3f}  {row['EPR_each']}", flush=True)
    with OUT.open("a") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")
    print(f"({time.time() - t0:.0f} s)")


if __name__ == "__main__":
    import importlib
    name = sys.argv[1]
    spec = json.loads(sys.argv[2]) if len(sys.argv) > 2 else {}
    sets = sys.argv[3:] or ["k"]
    patch = spec.pop("patch", None)
    if patch:
        importlib.import_module("patches").apply(patch)
    main(name, spec.pop("infer_grn", {}), sets, baselines=spec.pop("baselines", False))
