import sys; sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[3])); sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent))
import numpy as np, torch; torch.set_num_threads(1)
from omicsgat.grn import infer_grn
from omicsgat.metrics.grn import evaluate_edges
from benchmarks.grn import krumsiek11
from omicsgat.simulate import simulate_scrna, true_network
def run(make, seeds, tag):
    acc = {}
    for s in seeds:
        ad, ref = make(s); regs = sorted(set(ref["regulator"]))
        res = infer_grn(ad, genes=ad.n_vars, regulators=regs, device="cpu", seed=s, top_k=None)
        e = res.edges
        for name, sc in {"contribution": e.contribution, "abs_coef": e.coefficient.abs(), "attention": e.attention,
                         "contrib/target-sum": e.contribution / e.groupby("target").contribution.transform("sum"),
                         "contrib/target-max": e.contribution / e.groupby("target").contribution.transform("max")}.items():
            m = evaluate_edges(e.assign(score=sc.to_numpy()), ref, regulators=res.regulators, genes=res.genes)
            acc.setdefault(name, []).append((m["AUPRC_ratio"], m["EPR"]))
    for k, v in acc.items():
        a = np.array(v); print(tag, k, f"AUPRC {a[:,0].mean():.2f}±{a[:,0].std(ddof=1):.2f} EPR {a[:,1].mean():.2f}±{a[:,1].std(ddof=1):.2f}", np.round(a[:,1],2).tolist(), flush=True)
run(lambda s: krumsiek11(), [0,1,2], "krum")
if len(sys.argv) > 1:
    for nc, ng, nr in [(600,60,10),(800,150,20)]:
        run(lambda s: (lambda ad: (ad, true_network(ad)))(simulate_scrna(n_cells=nc, n_genes=ng, n_regulators=nr, n_cell_types=4, seed=s)), range(5), f"sim{ng}")
