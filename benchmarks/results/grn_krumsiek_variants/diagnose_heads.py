"""Per-head attention and contributions for targets Cebpa and Fog1 on dev krumsiek seed 1 (mlp and linear). Run from this folder."""
import sys; sys.path.insert(0,'.')
from dev import *
adata, ref = dev_krumsiek(1); regs = sorted(set(ref.regulator))
for kw in ({}, {"combine": "linear"}):
    res = infer_grn(adata, genes=adata.n_vars, regulators=regs, device="cpu", seed=0, top_k=None, **kw)
    e = res.edges
    print(kw, res.params["final_loss"], "r2 median", res.params["reconstruction_r2_median"])
    for t in ("Cebpa", "Fog1"):
        sub = e[e.target == t].sort_values("contribution", ascending=False)
        print(sub[["regulator", "contribution", "coefficient", "correlation"] + [c for c in e.columns if c.startswith("attention_head")]].round(3).to_string(index=False))
    st = res.model.states[0] if hasattr(res.model, "states") else None
    if st: print("head weights", st["head_weight"])
