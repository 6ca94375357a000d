"""Dev check (issue #3, adopted): unsigned edge features. Run from this folder: python edge_features_abs.py abs|absonly k3 [kb s60 s150 s300]."""
import sys, os
os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, "/work/main/benchmarks/results/grn_krumsiek_variants")
sys.path.insert(0, "/work/main")
import numpy as np
import omicsgat.grn.train as T
mode = sys.argv[1]
_orig = T.edge_features
def feats(expr, edge_index):
    f = _orig(expr, edge_index)
    if mode == "abs":
        return np.concatenate([f, np.abs(f)], axis=1).astype(np.float32)
    if mode == "absonly":
        return np.abs(f).astype(np.float32)
    return f
T.edge_features = feats
import dev
dev.OUT = __import__("pathlib").Path("/tmp/kabs_results.jsonl")
dev.main(f"edgefeat-{mode}", {}, sys.argv[2:])
