"""Inputs rank-gauss (or z), targets z-scored: patch rank_gauss to stash the z-score, _restarts to use it in the loss."""
import numpy as np, torch
import omicsgat.grn.prepare as P
import omicsgat.grn.train as T
STASH = {}
_rg = P.rank_gauss
def rank_gauss(X):
    STASH["z"] = ((X - X.mean(0)) / np.maximum(X.std(0), 1e-6)).astype(np.float32)
    out = _rg(X)
    return STASH["z"] if STASH.get("inputs") == "z" else out
P.rank_gauss = rank_gauss
_orig = T._restarts
def _restarts(fit, *, values, **kw):
    import omicsgat.grn.model as M
    model_args = kw["model_args"]; ei, ea, has_input = kw["ei"], kw["ea"], kw["has_input"]
    n_genes, hidden, heads, init, edge_dim, combine = model_args
    tgt = torch.as_tensor(STASH["z"].T.copy()) if STASH.get("targets") == "z" else values[:n_genes]
    n_cells = values.shape[1]
    for rep in range(kw["restarts"]):
        torch.manual_seed(kw["seed"] + rep)
        gen = torch.Generator().manual_seed(kw["seed"] + rep)
        model = M.AttentionRegression(n_genes, hidden, heads, init_embedding=init, edge_dim=edge_dim, combine=combine)
        model(values[:, :2], ei, ea)  # materialise lazy params
        opt = torch.optim.Adam(model.parameters(), lr=kw["lr"])
        for epoch in range(kw["epochs"]):
            cells = torch.randperm(n_cells, generator=gen)[:kw["step"]]
            vin = values
            if STASH.get("noise"):
                vin = values.clone(); vin[:n_genes] += STASH["noise"] * torch.randn(vin[:n_genes].shape, generator=gen)
            if STASH.get("subsample"):
                E = kw["n_edges"]
                # per target keep ~sqrt(R) of its R candidate regulators (GENIE3's max_features='sqrt'), null edges always
                dst = ei[1, :E]
                indeg = torch.bincount(dst, minlength=n_genes).float()
                p = (indeg.sqrt() / indeg.clamp_min(1))[dst] if STASH["subsample"] == "sqrt" else torch.full((E,), float(STASH["subsample"]))
                keep = torch.cat([torch.rand(E, generator=gen) < p, torch.ones(ei.shape[1] - E, dtype=torch.bool)])
                recon, _ = model(vin[:, cells], ei[:, keep], ea[keep])
            else:
                recon, _ = model(vin[:, cells], ei, ea)
            if STASH.get("loss") == "huber":
                loss = torch.nn.functional.huber_loss(recon, tgt[:, cells], reduction="none", delta=1.0)[has_input].mean()
            else:
                loss = ((recon - tgt[:, cells]) ** 2)[has_input].mean()
            opt.zero_grad(); loss.backward(); opt.step()
        with torch.no_grad():
            recon, alpha_all = model(values, ei, ea)
            beta, contribution = model.edge_gradients(values, ei, alpha_all, kw["n_edges"])
        fit.attention += alpha_all[:kw["n_edges"]].double().numpy()
        c = contribution.double().numpy()
        if STASH.get("rnorm") == "mean":
            c = c / c.mean()
        elif STASH.get("rnorm") == "rank":
            from scipy.stats import rankdata
            c = rankdata(c) / len(c)
        STASH.setdefault("per_restart", []).append(c)
        fit.contribution += c
        fit.beta += beta.double().numpy()
T._restarts = _restarts
