"""Variants of the unsupervised GRN model on krumsiek11 (monkeypatched onto the engine; nothing here is adopted).

Usage, from this folder: ``OMP_NUM_THREADS=1 python variants.py '{"gate": true}' k`` (``ks``: also the 60/150-gene
simulated rows, 5 seeds; third argument: JSON keyword arguments for ``infer_grn``). Variant keys: gate (learned
per-edge tanh gate), a0 (its initial slope), score ("grad", "ablate", "permute", "pratt", "pratt_abs"), act (MLP
activation), and, applied by ``split.py``: targets/inputs ("z"), subsample ("sqrt" or a keep probability), loss
("huber"), noise (input noise sd), rnorm (per-restart "mean" or "rank" normalisation). Figures:
../grn_krumsiek_variants.md.
"""
import os, sys, time
os.environ.setdefault("OMP_NUM_THREADS", "1")
import numpy as np, torch
torch.set_num_threads(1)
sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[3])); sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent))
import omicsgat.grn.model as M
from omicsgat.grn import infer_grn
from omicsgat.metrics.grn import evaluate_edges
from benchmarks.grn import krumsiek11, genie3, _prepared

Base = M.AttentionRegression
VARIANT = {}

class Variant(Base):
    def __init__(self, n_genes, *a, **k):
        super().__init__(n_genes, *a, **k)
        self.gate = VARIANT.get("gate", False)
        self.score = VARIANT.get("score", "grad")
        self._E = None

    def _gate_params(self, n_edges, device):
        if not hasattr(self, "gate_a"):
            a0 = VARIANT.get("a0", 0.5)
            self.gate_a = torch.nn.Parameter(torch.full((n_edges,), float(np.log(np.expm1(a0))), device=device))
            self.gate_b = torch.nn.Parameter(torch.zeros(n_edges, device=device))
            self._a0 = a0
        return torch.nn.functional.softplus(self.gate_a), self.gate_b

    def edge_values(self, values, edge_index, n_edges):
        src = edge_index[0]
        xs = values[src]  # (E_all, C)
        if not self.gate:
            return xs
        a, b = self._gate_params(n_edges, values.device)
        g = torch.tanh(a.unsqueeze(1) * (xs[:n_edges] - b.unsqueeze(1))) / self._a0
        return torch.cat([g, xs[n_edges:]])

    def head_outputs(self, values, edge_index, alpha, sparse=None):
        if not self.gate:
            return super().head_outputs(values, edge_index, alpha, sparse)
        n_edges = edge_index.shape[1] - self.n_genes
        vals = self.edge_values(values, edge_index, n_edges)
        dst = edge_index[1]
        m = torch.zeros(self.heads, self.n_genes, values.shape[1], dtype=values.dtype)
        for h in range(self.heads):
            m[h].index_add_(0, dst, alpha[:, h:h + 1].to(values.dtype) * vals)
        return m

    def combine_heads(self, m):
        act = VARIANT.get("act")
        if not act or self.combine != "mlp":
            return super().combine_heads(m)
        f = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu}[act]
        recon = torch.einsum("h,htc->tc", self.head_weight.to(m.dtype), m)
        hid = f(torch.einsum("tkh,htc->tkc", self.mlp_in, m) + self.mlp_bias.unsqueeze(-1))
        return recon + torch.einsum("tk,tkc->tc", self.mlp_out, hid) + self.bias.unsqueeze(1)

    def forward(self, values, edge_index, edge_attr=None):
        alpha = self.attention(edge_index, edge_attr)
        return self.combine_heads(self.head_outputs(values, edge_index, alpha)), alpha

    def edge_gradients(self, values, edge_index, alpha, n_edges, chunk=64):
        if self.score == "grad" and not self.gate:
            return super().edge_gradients(values, edge_index, alpha, n_edges, chunk)
        alpha_all = alpha.detach()
        src, dst = edge_index[0, :n_edges], edge_index[1, :n_edges]
        signed = torch.zeros(n_edges, dtype=torch.float64)
        absolute = torch.zeros(n_edges, dtype=torch.float64)
        n_cells = values.shape[1]
        for start in range(0, n_cells, chunk):
            v = values[:, start:start + chunk]
            if self.score in ("pratt", "pratt_abs"):  # Pratt's measure: covariance of the linearised contribution with the target
                m = self.head_outputs(v, edge_index, alpha_all)
                with torch.enable_grad():
                    m = m.detach().requires_grad_(True)
                    (gm,) = torch.autograd.grad(self.combine_heads(m).sum(), m)
                per_cell = torch.einsum("hec,eh->ec", gm[:, dst], alpha_all[:n_edges])
                pr = (per_cell * v[src] * v[dst]).sum(1).double()
                signed += pr; absolute += pr.abs() if self.score == "pratt_abs" else pr
                continue
            if self.score == "grad":  # gated gradient: chain rule through the gate
                vv = v[src].clone().requires_grad_(True)
                with torch.enable_grad():
                    a, b = self._gate_params(n_edges, v.device)
                    g = torch.tanh(a.unsqueeze(1) * (vv - b.unsqueeze(1))) / self._a0
                    (dg,) = torch.autograd.grad(g.sum(), vv)
                m = self.head_outputs(v, edge_index, alpha_all)
                with torch.enable_grad():
                    m = m.detach().requires_grad_(True)
                    (gm,) = torch.autograd.grad(self.combine_heads(m).sum(), m)
                per_cell = torch.einsum("hec,eh->ec", gm[:, dst], alpha_all[:n_edges]) * dg
                signed += per_cell.sum(1).double(); absolute += per_cell.abs().sum(1).double()
            else:  # ablation: replace x_r by 0 (its mean) in edge e only; increase in squared error of target t
                m = self.head_outputs(v, edge_index, alpha_all)
                recon = self.combine_heads(m)
                err = (recon - v[:self.n_genes]) ** 2  # (T, C)
                vals = self.edge_values(v, edge_index, n_edges)[:n_edges] if self.gate else v[src]
                if self.gate:  # gate of a zero input
                    a, b = self._gate_params(n_edges, v.device)
                    zero = (torch.tanh(a * (0 - b)) / self._a0).unsqueeze(1)
                else:
                    zero = torch.zeros(n_edges, 1)
                if self.score == "permute":
                    gen = torch.Generator().manual_seed(start)
                    perm = torch.randperm(v.shape[1], generator=gen)
                    zero = vals[:, perm]
                mt = m[:, dst] + alpha_all[:n_edges].T.unsqueeze(-1) * (zero - vals).unsqueeze(0)  # (H, E, C)
                # combine per edge with the target's parameters
                w = self.head_weight
                rec = torch.einsum("h,hec->ec", w, mt)
                if self.combine == "mlp":
                    hid = torch.nn.functional.elu(torch.einsum("ekh,hec->ekc", self.mlp_in[dst], mt) + self.mlp_bias[dst].unsqueeze(-1))
                    rec = rec + torch.einsum("ek,ekc->ec", self.mlp_out[dst], hid)
                rec = rec + self.bias[dst].unsqueeze(1)
                d = (rec - v[dst]) ** 2 - err[dst]
                signed += d.sum(1).double(); absolute += d.sum(1).double()
        if self.score == "pratt":
            return (signed / n_cells).float(), (absolute / n_cells).float()
        return (signed / n_cells).float(), (absolute / n_cells).clamp_min(0).float()

M.AttentionRegression = Variant
import split

def krum(seeds=(0, 1, 2), **kw):
    adata, ref = krumsiek11()
    regs = sorted(set(ref["regulator"]))
    out = []
    for s in seeds:
        res = infer_grn(adata, genes=adata.n_vars, regulators=regs, device="cpu", seed=s, top_k=None, **kw)
        m = evaluate_edges(res.edges, ref, regulators=res.regulators, genes=res.genes)
        out.append((m["AUPRC_ratio"], m["EPR"]))
    return np.array(out)

def sim(n_cells, n_genes, n_regs, seeds=range(5), **kw):
    from omicsgat.simulate import simulate_scrna, true_network
    out = []
    for s in seeds:
        ad = simulate_scrna(n_cells=n_cells, n_genes=n_genes, n_regulators=n_regs, n_cell_types=4, seed=s)
        ref = true_network(ad)
        regs = sorted(set(ref["regulator"]))
        res = infer_grn(ad, genes=ad.n_vars, regulators=regs, device="cpu", seed=s, top_k=None, **kw)
        m = evaluate_edges(res.edges, ref, regulators=res.regulators, genes=res.genes)
        out.append((m["AUPRC_ratio"], m["EPR"]))
    return np.array(out)

def fmt(a):
    return f"AUPRC {a[:,0].mean():.2f}±{a[:,0].std(ddof=1):.2f} EPR {a[:,1].mean():.2f}±{a[:,1].std(ddof=1):.2f}  per-seed EPR {np.round(a[:,1],2).tolist()}"

if __name__ == "__main__":
    import json
    VARIANT.update(json.loads(sys.argv[1]))
    split.STASH.update(inputs=VARIANT.get('inputs'), targets=VARIANT.get('targets'), subsample=VARIANT.get('subsample'), loss=VARIANT.get('loss'), noise=VARIANT.get('noise'), rnorm=VARIANT.get('rnorm'))
    which = sys.argv[2] if len(sys.argv) > 2 else "k"
    kw = json.loads(sys.argv[3]) if len(sys.argv) > 3 else {}
    t = time.time()
    if "k" in which:
        print(VARIANT, kw, "krumsiek11", fmt(krum(**kw)), f"{time.time()-t:.0f}s", flush=True)
    if "s" in which:
        print(VARIANT, kw, "sim60", fmt(sim(600, 60, 10, **kw)), f"{time.time()-t:.0f}s", flush=True)
        print(VARIANT, kw, "sim150", fmt(sim(800, 150, 20, **kw)), f"{time.time()-t:.0f}s", flush=True)
