"""ARACNE's data processing inequality applied to GENIE3 and OmicsGAT scores on dev krumsiek (15 fits). Run from this folder."""
import sys; sys.path.insert(0,'.')
from dev import *
from benchmarks.grn import _prepared, genie3
from omicsgat.grn.prepare import rank_gauss
def dpi(frame, tol=0.0):
    """ARACNE's data processing inequality on directed scores: in each gene triangle, down-weight the weakest pair."""
    genes = sorted(set(frame.regulator) | set(frame.target)); ix = {g: i for i, g in enumerate(genes)}
    n = len(genes); W = np.zeros((n, n))
    for r, t, s in zip(frame.regulator, frame.target, frame.score): W[ix[r], ix[t]] = s
    U = np.maximum(W, W.T); drop = np.zeros((n, n), bool)
    for a in range(n):
        for b in range(a + 1, n):
            for c in range(n):
                if c in (a, b): continue
                if U[a, b] < min(U[a, c], U[b, c]) * (1 - tol): drop[a, b] = drop[b, a] = True
    s = frame.score.to_numpy().copy()
    for k, (r, t) in enumerate(zip(frame.regulator, frame.target)):
        if drop[ix[r], ix[t]]: s[k] *= 0.1
    return frame.assign(score=s)
per = {}
for s in (1,2,3,4,5):
    adata, ref = dev_krumsiek(s); regs = sorted(set(ref.regulator))
    for ms in (0, 1, 2):
        prep = _prepared(adata, regs, ms)
        res = infer_grn(adata, genes=adata.n_vars, regulators=regs, device="cpu", seed=ms, top_k=None)
        e = res.edges
        g = genie3(prep.raw, prep.genes, prep.regulators, seed=ms)
        cands = {"genie3": g, "genie3_rankgauss": genie3(rank_gauss(prep.raw), prep.genes, prep.regulators, seed=ms),
                 "gat_rankavg": e.assign(score=rank01(e.contribution) + rank01(e.attention)),
                 "gat_contribution": e.assign(score=e.contribution)}
        for k in list(cands):
            for tol in (0.0, 0.2):
                cands[f"{k}+dpi{tol}"] = dpi(cands[k], tol)
        for k, f in cands.items():
            m = evaluate_edges(f, ref, regulators=prep.regulators, genes=prep.genes)
            per.setdefault(k, []).append((m["AUPRC_ratio"], m["EPR"]))
for k, v in per.items():
    a = np.array(v); print(f"{k:28s} AUPRC {a[:,0].mean():.3f} EPR {a[:,1].mean():.3f}")
