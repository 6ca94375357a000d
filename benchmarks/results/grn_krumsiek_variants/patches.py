"""Model variants for dev.py, monkeypatched onto the engine (nothing here is adopted by being here).

``apply(spec)``, spec a dict (keys combine):
  norm      "entmax15" | "sparsemax" replaces GATv2's per-target softmax by a sparse normalisation over the same
            group (a target's candidate regulators + its null regulator); temp scales the logits first.
  hard      straight-through Gumbel-argmax: each head of each target picks one regulator per step (gumbel = noise
            scale); evaluation uses the softmax (probability of being picked).
  entropy   weight of the mean per-(target, head) attention entropy added to the training loss.
  conv      "gat": GATConv (v1) instead of GATv2Conv.
  keep      random-subspace restarts: each restart sees a fixed random fraction of every target's regulators.
  lag       diagnostic upper bound: predict each cell's expression lag steps later along the known simulation time.
  scaled    contribution re-weighted per cell by the local slope dz/dg of z-scored log expression against its
            rank-Gauss value: "tgt" (target side), "reg" (regulator side), "both", "chain" (target / regulator).
  ztarget   rank-Gauss inputs, z-scored log-expression targets (epoch_factor: more epochs).
  levels    values rounded to that many equal-width levels of each gene's range before the rank transform.
  edge_only gene embeddings fixed at zero: attention is a function of the edge's correlations only.
"""
import numpy as np
import torch


def _groups(index, dim_size):
    order = torch.argsort(index, stable=True)
    counts = torch.bincount(index, minlength=dim_size)
    starts = torch.cumsum(counts, 0) - counts
    pos = torch.empty_like(index)
    pos[order] = torch.arange(index.numel(), device=index.device) - starts[index[order]]
    return pos, int(counts.max())


def entmax15_dense(X, dim=-1):
    X = X / 2
    X = X - X.max(dim=dim, keepdim=True).values
    Xs, _ = torch.sort(X, descending=True, dim=dim)
    rho = torch.arange(1, X.shape[dim] + 1, device=X.device, dtype=X.dtype).view([-1 if i == (dim % X.dim()) else 1 for i in range(X.dim())])
    mean = Xs.cumsum(dim) / rho
    mean_sq = (Xs ** 2).cumsum(dim) / rho
    ss = rho * (mean_sq - mean ** 2)
    delta = (1 - ss) / rho
    tau = mean - torch.sqrt(torch.clamp(delta, min=0))
    support = (tau <= Xs).sum(dim=dim, keepdim=True)
    tau_star = tau.gather(dim, support - 1)
    return torch.clamp(X - tau_star, min=0) ** 2


def sparsemax_dense(X, dim=-1):
    X = X - X.max(dim=dim, keepdim=True).values
    Xs, _ = torch.sort(X, descending=True, dim=dim)
    rho = torch.arange(1, X.shape[dim] + 1, device=X.device, dtype=X.dtype).view([-1 if i == (dim % X.dim()) else 1 for i in range(X.dim())])
    cs = Xs.cumsum(dim) - 1
    support = (Xs * rho > cs).sum(dim=dim, keepdim=True)
    tau = cs.gather(dim, support - 1) / support.to(X.dtype)
    return torch.clamp(X - tau, min=0)


SPEC = {}


def segment_norm(src, index, ptr=None, num_nodes=None, dim=0):
    """Drop-in for torch_geometric.utils.softmax over edges grouped by target (src: E x heads)."""
    norm = SPEC.get("norm", "softmax")
    src = src * SPEC.get("temp", 1.0)
    n = int(num_nodes) if num_nodes is not None else int(index.max()) + 1
    if norm == "softmax":
        from torch_geometric.utils import softmax as pyg_softmax
        return pyg_softmax(src, index, ptr, n)
    pos, width = _groups(index, n)
    dense = torch.full((n, width) + tuple(src.shape[1:]), -1e4, dtype=src.dtype, device=src.device)
    dense = dense.index_put((index, pos), src)
    fn = entmax15_dense if norm == "entmax15" else sparsemax_dense
    out = fn(dense, dim=1)
    return out[index, pos]


def apply(spec):
    SPEC.update(spec)
    import torch_geometric.nn.conv.gatv2_conv as g2
    import torch_geometric.nn.conv.gat_conv as g1
    if spec.get("norm", "softmax") != "softmax" or spec.get("temp"):
        g2.softmax = segment_norm
        g1.softmax = segment_norm
    if spec.get("conv") == "gat":
        import omicsgat.grn.model as M
        from torch_geometric.nn import GATConv
        base_init = M.AttentionRegression.__init__

        def init(self, n_genes, hidden=32, heads=4, init_embedding=None, edge_dim=0, **kw):
            base_init(self, n_genes, hidden, heads, init_embedding=init_embedding, edge_dim=edge_dim, **kw)
            self.gat = GATConv(hidden, hidden, heads=heads, add_self_loops=False, edge_dim=edge_dim or None)
        M.AttentionRegression.__init__ = init
    if spec.get("entropy"):
        import omicsgat.grn.train as T
        T._restarts = _restarts_entropy


def _restarts_entropy(fit, *, model_args, values, ei, ea, has_input, n_edges, epochs, restarts, lr, step, device, seed,
                      progress):
    """omicsgat.grn.train._restarts with SPEC['entropy'] x mean per-(target, head) attention entropy added to the loss."""
    from omicsgat.grn.model import AttentionRegression

    lam = float(SPEC["entropy"])
    n_genes, hidden, heads, init, edge_dim, combine = model_args
    n_cells = values.shape[1]
    for rep in range(restarts):
        torch.manual_seed(seed + rep)
        gen = torch.Generator(device="cpu").manual_seed(seed + rep)
        model = AttentionRegression(n_genes, hidden, heads, init_embedding=init, edge_dim=edge_dim, combine=combine).to(device)
        opt = torch.optim.Adam(model.parameters(), lr=lr)
        for epoch in range(epochs):
            cells = torch.randperm(n_cells, generator=gen)[:step].to(device)
            recon, alpha = model(values[:, cells], ei, ea)
            loss = ((recon - values[:n_genes, cells]) ** 2)[has_input].mean()
            ent = -(alpha.clamp_min(1e-9).log() * alpha).sum() / (n_genes * heads)
            opt.zero_grad()
            (loss + lam * ent).backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            recon, alpha_all = model(values, ei, ea)
            beta, contribution = model.edge_gradients(values, ei, alpha_all, n_edges)
            fit.r2 = np.zeros(n_genes)
            fit.losses.append(float(((recon - values[:n_genes]) ** 2)[has_input].mean()))
        fit.attention += alpha_all[:n_edges].double().cpu().numpy()
        fit.contribution += contribution.double().cpu().numpy()
        fit.beta += beta.double().cpu().numpy()
        fit.states.append({k: v.detach().cpu().clone() for k, v in model.state_dict().items()})


def _restarts_subspace(fit, *, model_args, values, ei, ea, has_input, n_edges, epochs, restarts, lr, step, device, seed,
                       progress):
    """Random-subspace restarts: each restart sees a fixed random subset (SPEC['keep']) of every target's candidate
    regulators, so that collinear co-regulators each get credit in the restarts where the others are absent; an edge's
    score is its mean over the restarts that saw it."""
    from omicsgat.grn.model import AttentionRegression

    keep = float(SPEC["keep"])
    n_genes, hidden, heads, init, edge_dim, combine = model_args
    n_cells = values.shape[1]
    seen = np.zeros(n_edges)
    att = np.zeros((n_edges, heads)); con = np.zeros(n_edges); bet = np.zeros(n_edges)
    rng = np.random.default_rng(seed + 1000)
    for rep in range(restarts):
        torch.manual_seed(seed + rep)
        gen = torch.Generator(device="cpu").manual_seed(seed + rep)
        kept = np.flatnonzero(rng.random(n_edges) < keep)
        idx = torch.as_tensor(np.concatenate([kept, np.arange(n_edges, ei.shape[1])]), device=ei.device)
        ei_s, ea_s = ei[:, idx], ea[idx]
        model = AttentionRegression(n_genes, hidden, heads, init_embedding=init, edge_dim=edge_dim, combine=combine).to(device)
        opt = torch.optim.Adam(model.parameters(), lr=lr)
        for epoch in range(epochs):
            cells = torch.randperm(n_cells, generator=gen)[:step].to(device)
            recon, _ = model(values[:, cells], ei_s, ea_s)
            loss = ((recon - values[:n_genes, cells]) ** 2)[has_input].mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            recon, alpha_all = model(values, ei_s, ea_s)
            beta, contribution = model.edge_gradients(values, ei_s, alpha_all, len(kept))
            fit.losses.append(float(((recon - values[:n_genes]) ** 2)[has_input].mean()))
        att[kept] += alpha_all[:len(kept)].double().cpu().numpy()
        con[kept] += contribution.double().cpu().numpy()
        bet[kept] += beta.double().cpu().numpy()
        seen[kept] += 1
        fit.states.append({k: v.detach().cpu().clone() for k, v in model.state_dict().items()})
    seen = np.maximum(seen, 1)
    fit.attention += att / seen[:, None] * restarts
    fit.contribution += con / seen * restarts
    fit.beta += bet / seen * restarts


_base_apply = apply


def apply(spec):  # noqa: F811
    _base_apply(spec)
    if spec.get("keep"):
        import omicsgat.grn.train as T
        T._restarts = _restarts_subspace


def _restarts_lagged(fit, *, model_args, values, ei, ea, has_input, n_edges, epochs, restarts, lr, step, device, seed,
                     progress):
    """Diagnostic upper bound: targets are each cell's expression SPEC['lag'] steps later along the known simulation
    time (cells in order, SPEC['block'] cells per realization; needs cells_per_metacell=1); inputs are the cell now."""
    from omicsgat.grn.model import AttentionRegression

    lag, block = int(SPEC["lag"]), int(SPEC.get("block", 160))
    n_genes, hidden, heads, init, edge_dim, combine = model_args
    n_cells = values.shape[1]
    i = np.arange(n_cells)
    ok = ((i + lag) // block == i // block) & (i + lag < n_cells)
    src_cells = torch.as_tensor(i[ok]); dst_cells = torch.as_tensor(i[ok] + lag)
    targets = values[:n_genes][:, dst_cells]
    inputs = values[:, src_cells]
    m_cells = inputs.shape[1]
    for rep in range(restarts):
        torch.manual_seed(seed + rep)
        gen = torch.Generator(device="cpu").manual_seed(seed + rep)
        model = AttentionRegression(n_genes, hidden, heads, init_embedding=init, edge_dim=edge_dim, combine=combine).to(device)
        opt = torch.optim.Adam(model.parameters(), lr=lr)
        for epoch in range(epochs):
            cells = torch.randperm(m_cells, generator=gen)[:step].to(device)
            recon, _ = model(inputs[:, cells], ei, ea)
            loss = ((recon - targets[:, cells]) ** 2)[has_input].mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            recon, alpha_all = model(inputs, ei, ea)
            beta, contribution = model.edge_gradients(inputs, ei, alpha_all, n_edges)
            fit.losses.append(float(loss))
        fit.attention += alpha_all[:n_edges].double().cpu().numpy()
        fit.contribution += contribution.double().cpu().numpy()
        fit.beta += beta.double().cpu().numpy()
        fit.states.append({k: v.detach().cpu().clone() for k, v in model.state_dict().items()})


_base_apply2 = apply


def apply(spec):  # noqa: F811
    _base_apply2(spec)
    if spec.get("lag"):
        import omicsgat.grn.train as T
        T._restarts = _restarts_lagged


def scale_slopes(raw, g, window=0.05):
    """d z / d g per gene and cell: slope of the z-scored log expression against its rank-Gauss value, over a window
    of +- window x n cells in rank order (the local stretch of the rank transform)."""
    z = (raw - raw.mean(0)) / np.maximum(raw.std(0), 1e-6)
    n = z.shape[0]
    w = max(2, int(round(window * n)))
    D = np.zeros_like(z, dtype=np.float64)
    for j in range(z.shape[1]):
        order = np.argsort(g[:, j], kind="mergesort")
        zs, gs = z[order, j], g[order, j]
        lo = np.clip(np.arange(n) - w, 0, n - 1)
        hi = np.clip(np.arange(n) + w, 0, n - 1)
        D[order, j] = (zs[hi] - zs[lo]) / np.maximum(gs[hi] - gs[lo], 1e-6)
    return D


def _install_scaled_contribution():
    import omicsgat.grn.infer as I
    import omicsgat.grn.model as M
    from omicsgat.grn.prepare import rank_gauss

    base = I._unsupervised

    def _unsupervised(prep, edge_index, config, **kw):
        g = rank_gauss(prep.raw)
        SPEC["D"] = torch.as_tensor(scale_slopes(prep.raw, g, SPEC.get("window", 0.05)).T.astype(np.float32))  # genes x cells
        return base(prep, edge_index, config, **kw)
    I._unsupervised = _unsupervised

    def edge_gradients(self, values, edge_index, alpha, n_edges, chunk=64):
        alpha = alpha[:n_edges].detach()
        src, dst = edge_index[0, :n_edges], edge_index[1, :n_edges]
        signed = torch.zeros(n_edges, dtype=alpha.dtype)
        absolute = torch.zeros_like(signed)
        n_cells = values.shape[1]
        padded = self._pad_to_edges(alpha, edge_index)
        D = SPEC["D"].to(alpha.dtype)
        mode = SPEC["scaled"]
        for start in range(0, n_cells, chunk):
            m = self.head_outputs(values[:, start: start + chunk].to(alpha.dtype), edge_index, padded)
            with torch.enable_grad():
                m = m.detach().requires_grad_(True)
                (gr,) = torch.autograd.grad(self.combine_heads(m).sum(), m)
            per_cell = torch.einsum("hec,eh->ec", gr[:, dst], alpha)
            Dc = D[:, start: start + chunk]
            if mode in ("tgt", "both", "chain"):
                per_cell = per_cell * Dc[dst]
            if mode == "both":
                per_cell = per_cell * Dc[src]
            if mode == "chain":
                per_cell = per_cell / Dc[src].clamp_min(0.05)
            if mode == "reg":
                per_cell = per_cell * Dc[src]
            signed += per_cell.sum(1)
            absolute += per_cell.abs().sum(1)
        return signed / n_cells, absolute / n_cells
    M.AttentionRegression.edge_gradients = edge_gradients


_base_apply3 = apply


def apply(spec):  # noqa: F811
    _base_apply3(spec)
    if spec.get("scaled"):
        _install_scaled_contribution()


def _restarts_ztarget(fit, *, model_args, values, ei, ea, has_input, n_edges, epochs, restarts, lr, step, device, seed,
                      progress):
    """Inputs rank-Gauss (as the engine), targets the z-scored log expression (SPEC['Z'], genes x cells), so that the
    loss is dominated by switches between states rather than by the order of cells within a state."""
    from omicsgat.grn.model import AttentionRegression

    Z = SPEC["Z"].to(values.dtype)
    n_genes, hidden, heads, init, edge_dim, combine = model_args
    n_cells = values.shape[1]
    for rep in range(restarts):
        torch.manual_seed(seed + rep)
        gen = torch.Generator(device="cpu").manual_seed(seed + rep)
        model = AttentionRegression(n_genes, hidden, heads, init_embedding=init, edge_dim=edge_dim, combine=combine).to(device)
        opt = torch.optim.Adam(model.parameters(), lr=lr)
        for epoch in range(int(epochs * SPEC.get("epoch_factor", 1))):
            cells = torch.randperm(n_cells, generator=gen)[:step].to(device)
            recon, _ = model(values[:, cells], ei, ea)
            loss = ((recon - Z[:, cells]) ** 2)[has_input].mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            recon, alpha_all = model(values, ei, ea)
            beta, contribution = model.edge_gradients(values, ei, alpha_all, n_edges)
            fit.losses.append(float(((recon - Z) ** 2)[has_input].mean()))
        fit.attention += alpha_all[:n_edges].double().cpu().numpy()
        fit.contribution += contribution.double().cpu().numpy()
        fit.beta += beta.double().cpu().numpy()
        fit.states.append({k: v.detach().cpu().clone() for k, v in model.state_dict().items()})


_base_apply4 = apply


def apply(spec):  # noqa: F811
    _base_apply4(spec)
    if spec.get("ztarget"):
        import omicsgat.grn.infer as I
        import omicsgat.grn.train as T
        base = I._unsupervised

        def _unsupervised(prep, edge_index, config, **kw):
            raw = prep.raw
            SPEC["Z"] = torch.as_tensor(((raw - raw.mean(0)) / np.maximum(raw.std(0), 1e-6)).T.astype(np.float32))
            return base(prep, edge_index, config, **kw)
        I._unsupervised = _unsupervised
        T._restarts = _restarts_ztarget


def st_gumbel_norm(src, index, ptr=None, num_nodes=None, dim=0):
    """Hard choice: each head of each target picks ONE regulator (or the null one) per step, a Gumbel-argmax sample
    of the softmax, with straight-through gradients; without gradients (evaluation) the softmax itself, i.e. the
    probability of each regulator being chosen."""
    from torch_geometric.utils import softmax as pyg_softmax
    n = int(num_nodes) if num_nodes is not None else int(index.max()) + 1
    p = pyg_softmax(src, index, ptr, n)
    if not torch.is_grad_enabled():
        return p
    pos, width = _groups(index, n)
    noise = -torch.log(-torch.log(torch.rand_like(p).clamp_min(1e-9)).clamp_min(1e-9)) * SPEC.get("gumbel", 1.0)
    dense = torch.full((n, width) + tuple(p.shape[1:]), -1e9, dtype=p.dtype, device=p.device)
    dense = dense.index_put((index, pos), (p.clamp_min(1e-12).log() + noise).detach())
    best = dense.argmax(dim=1)  # (n, heads)
    hard = (best[index] == pos.unsqueeze(-1)).to(p.dtype)
    return hard + p - p.detach()


_base_apply5 = apply


def apply(spec):  # noqa: F811
    _base_apply5(spec)
    if spec.get("hard"):
        import torch_geometric.nn.conv.gatv2_conv as g2
        g2.softmax = st_gumbel_norm


_base_apply6 = apply


def apply(spec):  # noqa: F811
    """``levels``: before the rank transform, each gene's values are rounded to that many equal-width levels of its
    range (ties then share a rank-Gauss value), so that noise within an expression state carries no order."""
    _base_apply6(spec)
    if spec.get("levels"):
        import omicsgat.grn.prepare as P
        base = P.rank_gauss
        L = int(spec["levels"])

        def rank_gauss(X):
            lo, hi = X.min(0), X.max(0)
            Q = np.round((X - lo) / np.maximum(hi - lo, 1e-9) * (L - 1))
            return base(Q)
        P.rank_gauss = rank_gauss


_base_apply7 = apply


def apply(spec):  # noqa: F811
    """``edge_only``: gene embeddings fixed at zero, so attention is a learned function of the edge's correlations only."""
    _base_apply7(spec)
    if spec.get("edge_only"):
        import omicsgat.grn.model as M
        base_init = M.AttentionRegression.__init__

        def init(self, *a, **k):
            base_init(self, *a, **k)
            with torch.no_grad():
                self.embed.weight.zero_()
            self.embed.weight.requires_grad_(False)
        M.AttentionRegression.__init__ = init
