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

    Both orientations of a gene pair go to the same split, so a held-out edge is never seen reversed in training
    (message passing runs both ways, and a mutual edge would otherwise hand the test its answer). Pairs holding a
    known edge and pairs without one are split separately with the same fractions, so each split has about the
    same density. Returns columns src, dst, label, split.
    """
    rng = np.random.default_rng(seed)
    src = np.concatenate([prior_pairs[0], negative_pairs[0]]).astype(np.int64)
    dst = np.concatenate([prior_pairs[1], negative_pairs[1]]).astype(np.int64)
    label = np.concatenate([np.ones(prior_pairs.shape[1], int), np.zeros(negative_pairs.shape[1], int)])
    low, high = np.minimum(src, dst), np.maximum(src, dst)
    keys, group = np.unique(np.stack([low, high], axis=1), axis=0, return_inverse=True)
    group = np.asarray(group).ravel()
    has_edge = np.zeros(len(keys), dtype=bool)
    has_edge[group[label == 1]] = True
    split_of = np.empty(len(keys), dtype=object)
    for members in (np.flatnonzero(has_edge), np.flatnonzero(~has_edge)):
        order = members[rng.permutation(len(members))]
        n_val = int(round(fractions[0] * len(order)))
        n_test = int(round(fractions[1] * len(order)))
        split_of[order[:n_test]] = "test"
        split_of[order[n_test : n_test + n_val]] = "val"
        split_of[order[n_test + n_val :]] = "train"
    return pd.DataFrame({"src": src, "dst": dst, "label": label, "split": split_of[group]})


@dataclass
class SupervisedFit:
    scores: np.ndarray  # logit of each candidate pair
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
    evidence: Optional[np.ndarray] = None,
) -> SupervisedFit:
    """GENELink-style link prediction: the graph holds only training positives; the best epoch is chosen on validation.

    ``evidence``: (genes, genes, k) per-pair scores from the data alone, fed to the decoder beside co-expression.
    """
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
            evidence=evidence,
        )


#: share of the training edges that carry messages in an epoch; the others are what the loss scores that epoch
MESSAGE_SHARE = 0.5


def _fit_supervised(
    expr, candidates, split, *, epochs, hidden, heads, lr, device, seed, progress, evidence=None
) -> SupervisedFit:
    """Each epoch the training edges are split afresh into message edges and scored edges, so the loss never scores
    an edge that is in the graph: otherwise the encoder learns "linked in the graph" and held-out edges, which never
    are, look like non-edges. Validation and the final scores use every training edge as a message."""
    import torch
    from sklearn.metrics import average_precision_score

    from omicsgat.grn.model import LinkPredictor, pair_features

    torch.manual_seed(seed)
    x = torch.as_tensor(expr.T.copy(), device=device)
    pf = pair_features(torch.as_tensor(expr, device=device))
    if evidence is not None:
        pf = torch.cat([pf, torch.as_tensor(evidence, dtype=pf.dtype, device=device)], dim=-1)
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
    model = LinkPredictor(expr.shape[0], hidden, heads, n_pair=pf.shape[-1]).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=1e-4)
    bce = torch.nn.BCEWithLogitsLoss()
    best = (-1.0, None)
    n_pos = pos.shape[1]
    n_message = int(round(MESSAGE_SHARE * n_pos)) if n_pos > 1 else 0
    for epoch in range(epochs):
        model.train()
        order = torch.randperm(n_pos, generator=gen).to(device)
        carried, scored = pos_t[:, order[:n_message]], pos_t[:, order[n_message:]]
        n_scored = scored.shape[1]
        pick = torch.randint(0, max(1, neg_t.shape[1]), (n_scored,), generator=gen).to(device)
        pairs = torch.cat([scored, neg_t[:, pick]], dim=1)
        y = torch.cat([torch.ones(n_scored), torch.zeros(n_scored)]).to(device)
        z = model.encode(x, torch.cat([carried, carried.flip(0)], dim=1))
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
        logits = model.decode(model.encode(x, graph), cand, pf).cpu().numpy()
        ei, alpha = model.attention(x, graph)
    att = np.full((candidates.shape[1], heads), np.nan)
    pos_of = {(int(a), int(b)): i for i, (a, b) in enumerate(candidates.T)}
    for (a, b), row in zip(ei.cpu().numpy().T, alpha.cpu().numpy()):
        i = pos_of.get((int(a), int(b)))
        if i is not None:
            att[i] = row
    return SupervisedFit(
        logits.astype(float),
        split,
        message,
        np.concatenate([pos, neg_pool], axis=1),
        att,
        best[0],
        {k: v.cpu() for k, v in model.state_dict().items()},
    )


#: weights of the learned score tried against the data's own evidence (percentile ranks); 0: the prior is not used
BLEND_WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0)
#: bootstrap resamples of the validation pairs that measure how uncertain their AUPRC is
BLEND_BOOTSTRAPS = 200


def blend_by_validation(
    learned: np.ndarray, steady: np.ndarray, is_val: np.ndarray, val_labels: np.ndarray, seed: int = 0
) -> tuple[np.ndarray, dict]:
    """How far the ranking follows what the known edges taught, decided on the validation pairs (held-out training
    edges and non-edges).

    Each weight of ``BLEND_WEIGHTS`` mixes the learned score's percentile rank with the steady-state score's. The
    weight chosen is the smallest whose validation AUPRC is within one bootstrap standard error of the best
    weight's (the one-standard-error rule): with few validation edges a gain of the learned score is within noise
    and the data's own evidence is kept. Returns (score of every candidate pair, record of the decision)."""
    from scipy.stats import rankdata
    from sklearn.metrics import average_precision_score

    n = max(len(learned), 1)
    learned_rank, steady_rank = rankdata(learned) / n, rankdata(steady) / n
    if not 0 < val_labels.sum() < len(val_labels):
        record = {"weight_learned": 0.0, "why": "no validation edge to decide on: the steady-state score alone"}
        return steady_rank, record
    mixed = {w: w * learned_rank[is_val] + (1 - w) * steady_rank[is_val] for w in BLEND_WEIGHTS}
    per_weight = {w: float(average_precision_score(val_labels, m)) for w, m in mixed.items()}
    best = max(BLEND_WEIGHTS, key=lambda w: (per_weight[w], -w))
    rng = np.random.default_rng(seed)
    pos, neg = np.flatnonzero(val_labels == 1), np.flatnonzero(val_labels == 0)
    resampled = []
    for _ in range(BLEND_BOOTSTRAPS):
        pick = np.concatenate([rng.choice(pos, len(pos)), rng.choice(neg, len(neg))])
        resampled.append(average_precision_score(val_labels[pick], mixed[best][pick]))
    se = float(np.std(resampled))
    chosen = min(w for w in BLEND_WEIGHTS if per_weight[w] >= per_weight[best] - se)
    record = {
        "weights_tried": list(BLEND_WEIGHTS),
        "val_auprc_per_weight": {f"{w:g}": round(v, 4) for w, v in per_weight.items()},
        "val_auprc_standard_error": round(se, 4),
        "n_val_edges": int(len(pos)),
        "weight_learned": chosen,
        "why": f"smallest weight of the learned score within one bootstrap standard error ({se:.3f}) of the best "
        f"validation AUPRC ({per_weight[best]:.3f} at weight {best:g}), over {len(pos)} validation edges",
    }
    return chosen * learned_rank + (1 - chosen) * steady_rank, record
