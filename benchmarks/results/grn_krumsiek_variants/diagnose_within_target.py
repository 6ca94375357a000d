"""Within-target AUROC of the true regulators, and per-target rank scores, on dev krumsiek (15 fits). Run from this folder."""
import sys; sys.path.insert(0,'.')
from dev import *
from benchmarks.grn import _prepared, genie3
from sklearn.metrics import roc_auc_score
per = {}
tgt = {}
for s in (1,2,3,4,5):
    adata, ref = dev_krumsiek(s); regs = sorted(set(ref.regulator)); truth = set(zip(ref.regulator, ref.target))
    for ms in (0, 1, 2):
        prep = _prepared(adata, regs, ms)
        res = infer_grn(adata, genes=adata.n_vars, regulators=regs, device="cpu", seed=ms, top_k=None)
        e = res.edges
        cands = {"genie3": genie3(prep.raw, prep.genes, prep.regulators), "gat_contribution": e.assign(score=e.contribution),
                 "gat_attention": e.assign(score=e.attention)}
        for k, f in cands.items():
            f = f.copy(); f["y"] = [(r, t) in truth for r, t in zip(f.regulator, f.target)]
            for t, g in f.groupby("target"):
                if 0 < g.y.sum() < len(g):
                    tgt.setdefault((k, t), []).append(roc_auc_score(g.y, g.score))
            # oracle cross-target calibration is impossible; try within-target rank score: 1/rank
            f["r"] = f.groupby("target").score.rank(ascending=False)
            for name, sc in (("raw", f.score), ("inv_rank", 1 / f.r), ("neg_rank", -f.r + 1e-3 * f.score / f.score.max())):
                m = evaluate_edges(f.assign(score=sc), ref, regulators=prep.regulators, genes=prep.genes)
                per.setdefault((k, name), []).append((m["AUPRC_ratio"], m["EPR"]))
for k, v in per.items():
    a = np.array(v); print(f"{k[0]:18s} {k[1]:9s} AUPRC {a[:,0].mean():.3f} EPR {a[:,1].mean():.3f}")
targets = sorted({t for _, t in tgt})
print("within-target AUROC: target, genie3, gat_contribution, gat_attention")
for t in targets:
    print(f"  {t:7s}", *[f"{np.mean(tgt.get((k, t), [np.nan])):.2f}" for k in ("genie3", "gat_contribution", "gat_attention")])
