"""Training loops for the GRN modules (unsupervised reconstruction, supervised link prediction)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional

import numpy as np
import pandas as pd

from omicsgat.progress import Progress
from omicsgat.threads import thread_budget


def torch_threads(work: float):
    """Thread budget for one GRN fit: a single thread for small graphs, where a
    thread pool costs more than it saves; else the free cores (see omicsgat.threads)."""
    return thread_budget(max_threads=1 if work < 2e7 else None)


def _init_embedding(expr: np.ndarray, hidden: int):
    """Gene loadings of the top principal axes of the (cells x genes) matrix: a projection of each gene's profile."""
    import torch

    u, s, vt = np.linalg.svd(expr - expr.mean(0), full_matrices=False)
    k = min(hidden, vt.shape[0])
    emb = np.zeros((expr.shape[1], hidden), dtype=np.float32)
    emb[:, :k] = vt[:k].T * (s[:k] / max(s[0], 1e-6))
    return torch.from_numpy(emb)


@dataclass
class UnsupervisedFit:
    attention: np.ndarray  # (E, heads), mean over restarts
    contribution: np.ndarray  # (E,), mean |beta| over restarts
    beta: np.ndarray  # (E,), mean signed beta over restarts
    r2: np.ndarray  # (n_genes,) reconstruction R^2 of the last restart
    states: List[Dict[str, "object"]] = field(default_factory=list)
    losses: List[float] = field(default_factory=list)
    edge_attr: Optional[np.ndarray] = None  # (E + n_genes, 2) edge features incl. the null edges


def edge_features(expr: np.ndarray, edge_index: np.ndarray) -> np.ndarray:
    """|Pearson| and |Spearman| correlation of each regulator -> target pair (E x 2); the null edges get zeros later.

    Unsigned, so attention weighs a repressor and an activator of the same
    strength alike (signed features let a head learn to prefer one sign, and
    strong repressors were ranked last); the sign is estimated separately.
    """
    from scipy.stats import rankdata

    def z(X):
        return (X - X.mean(0)) / np.maximum(X.std(0), 1e-6)

    feats = []
    for X in (expr, rankdata(expr, axis=0)):
        Z = z(X)
        feats.append(np.abs(np.einsum("ce,ce->e", Z[:, edge_index[0]], Z[:, edge_index[1]]) / Z.shape[0]))
    return np.stack(feats, axis=1).astype(np.float32)


def fit_unsupervised(
    expr: np.ndarray,
    edge_index: np.ndarray,
    *,
    epochs: int,
    hidden: int,
    heads: int,
    restarts: int,
    lr: float,
    cells_per_step: int,
    device,
    seed: int,
    progress: Progress,
    combine: str = "linear",
) -> UnsupervisedFit:
    """Train ``restarts`` :class:`AttentionRegression` models; average attention and attributions.

    Every gene is reconstructed from its regulators' ``expr``. Every epoch reconstructs all genes on a random subset of ``cells_per_step``
    (meta)cells; null-regulator edges are added here and dropped from the output.
    """
    import torch

    n_cells, n_genes = expr.shape
    null = np.full(n_genes, n_genes)
    full_index = np.concatenate([edge_index, np.stack([null, np.arange(n_genes)])], axis=1)
    ei = torch.as_tensor(full_index, dtype=torch.long, device=device)
    feats = edge_features(expr, edge_index)
    feats = np.concatenate([feats, np.zeros((n_genes, feats.shape[1]), dtype=np.float32)])
    ea = torch.as_tensor(feats, device=device)
    values = torch.zeros(n_genes + 1, n_cells, device=device)
    values[:n_genes] = torch.as_tensor(expr.T, device=device)
    goal = values[:n_genes]
    has_input = torch.zeros(n_genes, dtype=torch.bool, device=device)
    has_input[torch.as_tensor(edge_index[1], device=device)] = True
    init = _init_embedding(expr, hidden)
    n_edges = edge_index.shape[1]
    fit = UnsupervisedFit(
        np.zeros((n_edges, heads)), np.zeros(n_edges), np.zeros(n_edges), np.zeros(n_genes), edge_attr=feats
    )
    step = max(1, min(cells_per_step, n_cells))
    with torch_threads(float(full_index.shape[1]) * step):
        _restarts(
            fit,
            model_args=(n_genes, hidden, heads, init, ea.shape[1], combine),
            values=values,
            goal=goal,
            ei=ei,
            ea=ea,
            has_input=has_input,
            n_edges=n_edges,
            epochs=epochs,
            restarts=restarts,
            lr=lr,
            step=step,
            device=device,
            seed=seed,
            progress=progress,
        )
    fit.attention = fit.attention / restarts
    fit.contribution = fit.contribution / restarts
    fit.beta = fit.beta / restarts
    return fit


def _restarts(
    fit: UnsupervisedFit,
    *,
    model_args,
    values,
    goal,
    ei,
    ea,
    has_input,
    n_edges,
    epochs,
    restarts,
    lr,
    step,
    device,
    seed,
    progress,
) -> None:
    import torch

    from omicsgat.grn.model import AttentionRegression

    n_genes, hidden, heads, init, edge_dim, combine = model_args
    n_cells = values.shape[1]
    for rep in range(restarts):
        torch.manual_seed(seed + rep)
        gen = torch.Generator(device="cpu").manual_seed(seed + rep)
        model = AttentionRegression(n_genes, hidden, heads, init_embedding=init, edge_dim=edge_dim, combine=combine).to(
            device
        )
        opt = torch.optim.Adam(model.parameters(), lr=lr)
        span = progress.span(rep / restarts, (rep + 1) / restarts)
        for epoch in range(epochs):
            cells = torch.randperm(n_cells, generator=gen)[:step].to(device)
            recon, _ = model(values[:, cells], ei, ea)
            loss = ((recon - goal[:, cells]) ** 2)[has_input].mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            if epoch % 10 == 0 or epoch == epochs - 1:
                span(
                    (epoch + 1) / epochs,
                    f"restart {rep + 1}/{restarts}, epoch {epoch + 1}/{epochs}, loss {loss.item():.3f}",
                )
        model.eval()
        with torch.no_grad():
            recon, alpha_all = model(values, ei, ea)
            beta, contribution = model.edge_gradients(values, ei, alpha_all, n_edges)
            alpha = alpha_all[:n_edges].double().cpu().numpy()
            beta, contribution = beta.double().cpu().numpy(), contribution.double().cpu().numpy()
            resid = ((recon - goal) ** 2).sum(1)
            total = (goal**2).sum(1).clamp_min(1e-9)
            fit.r2 = (1.0 - resid / total).cpu().numpy()
            fit.losses.append(float(((recon - goal) ** 2)[has_input].mean()))
        fit.attention += alpha
        fit.contribution += contribution
        fit.beta += beta
        fit.states.append({k: v.detach().cpu().clone() for k, v in model.state_dict().items()})
        del model, opt


def split_edges(
    prior_pairs: np.ndarray, negative_pairs: np.ndarray, fractions: tuple[float, float], seed: int
) -> pd.DataFrame:
    """Assign known edges (label 1) and the other candidate pairs (label 0) to train/val/test.

    Positives and negatives are split separately with the same fractions, so
    each split has the same density; test pairs are never used in training.
    Returns columns src, dst, label, split.
    """
    rng = np.random.default_rng(seed)
    frames = []
    for label, pairs in ((1, prior_pairs), (0, negative_pairs)):
        n = pairs.shape[1]
        order = rng.permutation(n)
        n_val = int(round(fractions[0] * n))
        n_test = int(round(fractions[1] * n))
        split = np.empty(n, dtype=object)
        split[order[:n_test]] = "test"
        split[order[n_test : n_test + n_val]] = "val"
        split[order[n_test + n_val :]] = "train"
        frames.append(pd.DataFrame({"src": pairs[0], "dst": pairs[1], "label": label, "split": split}))
    return pd.concat(frames, ignore_index=True)


@dataclass
class SupervisedFit:
    scores: np.ndarray  # probability for each candidate pair
    split: pd.DataFrame  # src, dst, label, split
    message_edges: np.ndarray  # (2, E) gene-index edges used for message passing
    loss_pairs: np.ndarray  # (2, P) every pair the loss draws from (training positives + training negative pool)
    attention: np.ndarray  # (n_candidates, heads) second-layer attention, NaN where the pair is no graph edge
    val_auprc: float
    state: Dict[str, "object"]


def fit_supervised(
    expr: np.ndarray,
    candidates: np.ndarray,
    split: pd.DataFrame,
    *,
    epochs: int,
    hidden: int,
    heads: int,
    lr: float,
    device,
    seed: int,
    progress: Progress,
) -> SupervisedFit:
    """GENELink-style link prediction: the graph holds only training positives; the best epoch is chosen on validation."""
    with torch_threads(float(candidates.shape[1]) * hidden):
        return _fit_supervised(
            expr,
            candidates,
            split,
            epochs=epochs,
            hidden=hidden,
            heads=heads,
            lr=lr,
            device=device,
            seed=seed,
            progress=progress,
        )


def _fit_supervised(expr, candidates, split, *, epochs, hidden, heads, lr, device, seed, progress) -> SupervisedFit:
    import torch
    from sklearn.metrics import average_precision_score

    from omicsgat.grn.model import LinkPredictor, pair_features

    torch.manual_seed(seed)
    x = torch.as_tensor(expr.T.copy(), device=device)
    pf = pair_features(torch.as_tensor(expr, device=device))
    train = split[split["split"] == "train"]
    val = split[split["split"] == "val"]
    pos = train[train["label"] == 1][["src", "dst"]].to_numpy().T
    neg_pool = train[train["label"] == 0][["src", "dst"]].to_numpy().T
    message = np.concatenate([pos, pos[::-1]], axis=1)  # both directions: regulators also learn from their targets
    graph = torch.as_tensor(message, dtype=torch.long, device=device)
    pos_t = torch.as_tensor(pos, dtype=torch.long, device=device)
    neg_t = torch.as_tensor(neg_pool, dtype=torch.long, device=device)
    val_pairs = torch.as_tensor(val[["src", "dst"]].to_numpy().T, dtype=torch.long, device=device)
    val_y = val["label"].to_numpy()
    gen = torch.Generator(device="cpu").manual_seed(seed)
    model = LinkPredictor(expr.shape[0], hidden, heads).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=1e-4)
    bce = torch.nn.BCEWithLogitsLoss()
    best = (-1.0, None)
    n_pos = pos.shape[1]
    for epoch in range(epochs):
        model.train()
        pick = torch.randint(0, max(1, neg_t.shape[1]), (n_pos,), generator=gen).to(device)
        pairs = torch.cat([pos_t, neg_t[:, pick]], dim=1)
        y = torch.cat([torch.ones(n_pos), torch.zeros(n_pos)]).to(device)
        z = model.encode(x, graph)
        loss = bce(model.decode(z, pairs, pf), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if epoch % 5 == 0 or epoch == epochs - 1:
            model.eval()
            with torch.no_grad():
                s = model.decode(model.encode(x, graph), val_pairs, pf).cpu().numpy()
            ap = float(average_precision_score(val_y, s)) if 0 < val_y.sum() < len(val_y) else -float(loss.item())
            if ap > best[0]:
                best = (ap, {k: v.detach().clone() for k, v in model.state_dict().items()})
            progress((epoch + 1) / epochs, f"epoch {epoch + 1}/{epochs}, loss {loss.item():.3f}, val AUPRC {ap:.3f}")
    model.load_state_dict(best[1])
    model.eval()
    with torch.no_grad():
        cand = torch.as_tensor(candidates, dtype=torch.long, device=device)
        scores = torch.sigmoid(model.decode(model.encode(x, graph), cand, pf)).cpu().numpy()
        ei, alpha = model.attention(x, graph)
    att = np.full((candidates.shape[1], heads), np.nan)
    pos_of = {(int(a), int(b)): i for i, (a, b) in enumerate(candidates.T)}
    for (a, b), row in zip(ei.cpu().numpy().T, alpha.cpu().numpy()):
        i = pos_of.get((int(a), int(b)))
        if i is not None:
            att[i] = row
    return SupervisedFit(
        scores.astype(float),
        split,
        message,
        np.concatenate([pos, neg_pool], axis=1),
        att,
        best[0],
        {k: v.cpu() for k, v in model.state_dict().items()},
    )
