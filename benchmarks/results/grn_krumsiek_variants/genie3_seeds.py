"""The GENIE3 baseline's spread on krumsiek11: forest size (50 trees as in benchmarks/grn.py, or more) and tree seed
(fixed 0 as in the benchmark, or = the model seed). ``python genie3_seeds.py [N_TREES ...]``; dev data as in dev.py."""
import sys; sys.path.insert(0,'.')
from dev import *
from benchmarks.grn import _prepared, genie3
N_TREES = [int(a) for a in sys.argv[1:]] or [50, 500]
for label, sets in (("bench", [krumsiek11]), ("dev", [lambda s=s: dev_krumsiek(s) for s in (1,2,3,4,5)])):
    for n_trees in N_TREES:
        for vary in (False, True):
            v = []
            for make in sets:
                adata, ref = make(); regs = sorted(set(ref.regulator))
                for ms in (0, 1, 2):
                    prep = _prepared(adata, regs, ms)
                    m = evaluate_edges(genie3(prep.raw, prep.genes, prep.regulators, seed=ms if vary else 0, n_trees=n_trees), ref, regulators=prep.regulators, genes=prep.genes)
                    v.append((m["AUPRC_ratio"], m["EPR"]))
            a = np.array(v); print(f"{label} GENIE3 n_trees {n_trees} tree seed {'= model seed' if vary else '0'}: AUPRC {a[:,0].mean():.3f} EPR {a[:,1].mean():.3f} {np.round(a[:,1],2).tolist()}", flush=True)
