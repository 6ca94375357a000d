"""Training loop and chunked inference for :class:`~omicsgat.celltype.model.CellTypeGAT`.

Mini-batches are seed cells with a sampled 2-hop neighbourhood
(:mod:`omicsgat.celltype.sampler`). Only the seeds are encoded with
gradients; their neighbours use encodings cached at the last epoch end
(historical embeddings, as in GNNAutoScale), so a batch costs the same on
100,000 cells as on 1,000 and the whole graph never sits on the device.
Inference runs layer by layer over chunks of target cells, which gives the
same numbers as one full-graph pass.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import torch

from omicsgat.celltype.model import CellTypeGAT
from omicsgat.celltype.sampler import batches, sample_subgraph
from omicsgat.progress import Progress


@dataclass
class TrainConfig:
    hidden: int = 64
    heads: int = 4
    dropout: float = 0.5
    attention_hidden: int = 64
    skip: bool = True  # linear path from the attended genes to the logits
    epochs: int = 60
    patience: int = 6
    lr: float = 3e-3
    weight_decay: float = 0.05
    batch_size: int = 512
    fanouts: tuple = (10, 5)
    max_steps_per_epoch: int = 40
    chunk: int = 4096
    linear_start: bool = True  # start the skip path from a fitted logistic regression
    linear_l2: float = 1e-3

    def model_kwargs(self) -> dict:
        return dict(
            hidden=self.hidden,
            heads=self.heads,
            dropout=self.dropout,
            attention_hidden=self.attention_hidden,
            skip=self.skip,
        )


@dataclass
class Fitted:
    model: CellTypeGAT
    proba: np.ndarray  # cells x classes at the best epoch (temperature-scaled)
    history: list = field(default_factory=list)
    best_epoch: int = 0
    temperature: float = 1.0
    linear_l2: float | None = None  # the linear start's L2, chosen on the held-out cells (None: the config's)


TEMPERATURES = torch.exp(torch.linspace(np.log(0.25), np.log(50.0), 64))


def fit_temperature(logits: torch.Tensor, y: torch.Tensor, weights: torch.Tensor | None = None) -> tuple[float, float]:
    """The temperature (from a log grid) that minimizes the (weighted) cross-entropy of ``logits / T``, and that loss.

    A network trained with cross-entropy grows its logits long after its ranking of the types stops improving,
    so its plain validation loss rises while its accuracy still climbs; divided by the best temperature, the
    loss measures the ranking, and the probabilities become calibrated (Guo et al. 2017).
    """
    losses = torch.stack([torch.nn.functional.cross_entropy(logits / t, y, weight=weights) for t in TEMPERATURES])
    i = int(torch.argmin(losses))
    return float(TEMPERATURES[i]), float(losses[i])


def class_weights(y: np.ndarray, n_classes: int) -> torch.Tensor:
    """Inverse-frequency weights (mean 1 over the labelled cells), so rare types count."""
    counts = np.bincount(y, minlength=n_classes).astype(np.float64)
    w = np.where(counts > 0, counts.sum() / (n_classes * np.maximum(counts, 1)), 0.0)
    return torch.tensor(w, dtype=torch.float32)


@torch.no_grad()
def encode_all(model: CellTypeGAT, z: np.ndarray, device, chunk: int) -> torch.Tensor:
    """Encoder output of every cell, on the CPU."""
    model.eval()
    out = [model.encode(torch.from_numpy(z[s : s + chunk]).to(device)).cpu() for s in range(0, len(z), chunk)]
    return torch.cat(out)


@torch.no_grad()
def conv_all(model: CellTypeGAT, layer, x: torch.Tensor, indptr, indices, device, chunk: int) -> torch.Tensor:
    """One graph layer for every node of the graph, over chunks of destination nodes (exact, bounded memory)."""
    n = x.shape[0]
    out = []
    for s in range(0, n, chunk):
        sub = sample_subgraph(indptr, indices, np.arange(s, min(n, s + chunk)), [-1])
        ei = torch.from_numpy(sub.edge_index).to(device)
        out.append(model.conv(layer, x[torch.from_numpy(sub.nodes)].to(device), ei, sub.n_seeds).cpu())
    return torch.cat(out)


@torch.no_grad()
def infer_logits(model: CellTypeGAT, h: torch.Tensor, indptr, indices, device, chunk: int) -> torch.Tensor:
    """Full-graph logits, layer by layer over chunks of target cells (exact, bounded memory)."""
    model.eval()
    n = h.shape[0]
    x = model.graph_input(h)
    for layer in (model.gat1, model.gat2):
        x = conv_all(model, layer, x, indptr, indices, device, chunk)
    return torch.cat(
        [model.readout(h[s : s + chunk].to(device), x[s : s + chunk].to(device)).cpu() for s in range(0, n, chunk)]
    )


def fit_linear(
    z: torch.Tensor, y: torch.Tensor, n_classes: int, weights: torch.Tensor, l2: float, max_iter: int = 200, tick=None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Multinomial logistic regression (weighted cross-entropy + ``l2``/2 |W|^2), full-batch L-BFGS.

    The skip path of the network starts from this fit, so training starts from
    a converged linear classifier (what CellTypist fits) rather than from zero,
    and the graph layers only have to add what it misses. ``tick`` is called
    at every evaluation (a progress callback can cancel there).
    """
    W = torch.zeros(n_classes, z.shape[1], device=z.device, requires_grad=True)
    b = torch.zeros(n_classes, device=z.device, requires_grad=True)
    opt = torch.optim.LBFGS(
        [W, b],
        lr=1.0,
        max_iter=max_iter,
        history_size=20,
        line_search_fn="strong_wolfe",
        tolerance_grad=1e-6,
        tolerance_change=1e-9,
    )

    def closure():
        if tick is not None:
            tick()
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(z @ W.T + b, y, weight=weights) + 0.5 * l2 * (W * W).sum()
        loss.backward()
        return loss

    opt.step(closure)
    return W.detach(), b.detach()


LINEAR_L2_GRID = (1e-3, 1e-2, 3e-2, 1e-1)


def choose_linear_l2(
    z: np.ndarray,
    y_t: torch.Tensor,
    train_idx: np.ndarray,
    val_idx: np.ndarray,
    n_classes: int,
    device,
    progress: Progress,
    grid=LINEAR_L2_GRID,
) -> float:
    """The linear start's L2 with the lowest temperature-scaled, class-weighted loss on the held-out cells.

    A weak penalty fits wrong labels (docs/celltype.md); a strong one blurs rare types. The
    held-out cells decide, as they decide the epochs; ties go to the weaker penalty.
    """
    weights = class_weights(y_t[train_idx].numpy(), n_classes).to(device)
    zt, yt = torch.from_numpy(z[train_idx]).to(device), y_t[train_idx].to(device)
    zv, yv = torch.from_numpy(z[val_idx]).to(device), y_t[val_idx].to(device)
    best, best_loss = grid[0], np.inf
    for l2 in grid:
        W, b = fit_linear(zt, yt, n_classes, weights, l2, tick=lambda: progress(0.0, "choosing the linear start"))
        loss = fit_temperature(zv @ W.T + b, yv, weights)[1]
        if loss < best_loss - 1e-4:
            best, best_loss = l2, loss
    return float(best)


def _start(z, y_t, train_idx, n_classes: int, config: TrainConfig, device, progress: Progress):
    """A fresh network, its optimizer and class weights; with ``linear_start`` it starts as the linear fit."""
    model = CellTypeGAT(z.shape[1], n_classes, **config.model_kwargs()).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    weights = class_weights(y_t[train_idx].numpy(), n_classes).to(device)
    if config.linear_start and model.skip is not None:
        W, b = fit_linear(
            torch.from_numpy(z[train_idx]).to(device),
            y_t[train_idx].to(device),
            n_classes,
            weights,
            config.linear_l2,
            tick=lambda: progress(0.0, "fitting the linear start"),
        )
        with torch.no_grad():
            model.skip.weight.copy_(W)
            model.skip.bias.copy_(b)
            model.head.weight.zero_()  # the graph part starts silent: the model starts as the linear fit
            model.head.bias.zero_()
    return model, opt, weights


def _train_epoch(
    model, opt, loss_fn, z, y_t, cache, train_idx, indptr, indices, config: TrainConfig, device, rng, report
) -> float:
    """One epoch of seed batches (at most ``max_steps_per_epoch``); the mean training loss."""
    model.train()
    n_steps = min(config.max_steps_per_epoch, -(-len(train_idx) // config.batch_size))
    total, steps = 0.0, 0
    for seeds in batches(train_idx, config.batch_size, rng):
        if steps == n_steps:
            break
        sub = sample_subgraph(indptr, indices, seeds, config.fanouts, rng)
        h = cache[torch.from_numpy(sub.nodes)].to(device)
        fresh = model.encode(torch.from_numpy(z[seeds]).to(device))
        h = torch.cat([fresh, h[sub.n_seeds :]])
        logits = model.propagate(h, torch.from_numpy(sub.edge_index).to(device), sub.n_seeds, sub.sizes)
        loss = loss_fn(logits, y_t[seeds].to(device))
        opt.zero_grad()
        loss.backward()
        opt.step()
        total += float(loss.detach())
        steps += 1
        report(steps / n_steps)
    return total / max(1, steps)


def fit(
    z: np.ndarray,
    y: np.ndarray,
    train_idx: np.ndarray,
    val_idx: np.ndarray,
    indptr,
    indices,
    n_classes: int,
    config: TrainConfig,
    device,
    rng: np.random.Generator,
    progress: Progress,
) -> Fitted:
    """Train on ``train_idx``; keep the epoch with the lowest temperature-scaled weighted loss on ``val_idx``.

    The returned probabilities are divided by that epoch's temperature, so the
    confidence of a call is calibrated on the held-out cells. Epoch 0 (with
    ``linear_start``) is the linear fit alone: the graph layers are kept only
    when they lower the held-out loss.
    """
    y_t = torch.from_numpy(y)
    if config.linear_start and config.skip and np.intersect1d(train_idx, val_idx).size == 0:
        config = replace(config, linear_l2=choose_linear_l2(z, y_t, train_idx, val_idx, n_classes, device, progress))
    model, opt, weights = _start(z, y_t, train_idx, n_classes, config, device, progress)
    loss_fn = torch.nn.CrossEntropyLoss(weight=weights)
    best = (np.inf, 0, None, None, 1.0)  # (calibrated loss, epoch, state, probabilities, temperature)
    history = []
    cache = encode_all(model, z, device, config.chunk)

    def validate(epoch: int, train_loss: float) -> bool:
        """Score the model on ``val_idx``, keep it if best; False when patience has run out."""
        nonlocal best
        logits = infer_logits(model, cache, indptr, indices, device, config.chunk)
        lv, yv = logits[val_idx].to(device), y_t[val_idx].to(device)
        val_loss = float(torch.nn.functional.cross_entropy(lv, yv, weight=weights))
        temperature, cal_loss = fit_temperature(lv, yv, weights)
        val_acc = float((logits[val_idx].argmax(1) == y_t[val_idx]).float().mean())
        history.append(
            {
                "epoch": epoch,
                "train_loss": train_loss,
                "val_loss": val_loss,
                "val_loss_calibrated": cal_loss,
                "temperature": temperature,
                "val_accuracy": val_acc,
            }
        )
        if cal_loss < best[0] - 1e-4:
            state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            best = (cal_loss, epoch, state, torch.softmax(logits / temperature, 1).numpy(), temperature)
        progress(epoch / max(1, config.epochs), f"epoch {epoch}: validation accuracy {val_acc:.3f}")
        return epoch - best[1] < config.patience

    if config.linear_start and model.skip is not None:
        validate(0, float("nan"))  # epoch 0: the linear fit alone
    for epoch in range(config.epochs):
        train_loss = _train_epoch(
            model,
            opt,
            loss_fn,
            z,
            y_t,
            cache,
            train_idx,
            indptr,
            indices,
            config,
            device,
            rng,
            lambda f: progress((epoch + f) / config.epochs, f"epoch {epoch + 1}/{config.epochs}"),
        )
        cache = encode_all(model, z, device, config.chunk)
        if not validate(epoch + 1, train_loss):
            break
    model.load_state_dict(best[2])
    model.eval()
    return Fitted(
        model=model, proba=best[3], history=history, best_epoch=best[1], temperature=best[4], linear_l2=config.linear_l2
    )


def refit(
    z: np.ndarray,
    y: np.ndarray,
    train_idx: np.ndarray,
    indptr,
    indices,
    n_classes: int,
    epochs: int,
    config: TrainConfig,
    device,
    rng: np.random.Generator,
    progress: Progress,
) -> CellTypeGAT:
    """Train a fresh network on ``train_idx`` for exactly ``epochs`` epochs (no held-out cells).

    After :func:`fit` has chosen the number of epochs and the temperature on
    held-out cells, this trains on every labelled cell, as logistic regression
    baselines do, so no labelled cell is wasted on early stopping.
    """
    y_t = torch.from_numpy(y)
    model, opt, weights = _start(z, y_t, train_idx, n_classes, config, device, progress)
    loss_fn = torch.nn.CrossEntropyLoss(weight=weights)
    for epoch in range(epochs):
        cache = encode_all(model, z, device, config.chunk)  # the neighbours' encodings as of this epoch's start
        _train_epoch(
            model,
            opt,
            loss_fn,
            z,
            y_t,
            cache,
            train_idx,
            indptr,
            indices,
            config,
            device,
            rng,
            lambda f: progress(
                (epoch + f) / max(1, epochs), f"refit on all labelled cells: epoch {epoch + 1}/{epochs}"
            ),
        )
    model.eval()
    return model


@torch.no_grad()
def predict_proba(
    model: CellTypeGAT, z: np.ndarray, indptr, indices, temperature: float, device, chunk: int
) -> np.ndarray:
    """Temperature-scaled class probabilities of every cell (encode in chunks, then the graph layers)."""
    h = encode_all(model, z, device, chunk)
    return torch.softmax(infer_logits(model, h, indptr, indices, device, chunk) / temperature, 1).numpy()


@torch.no_grad()
def attention_by_class(model: CellTypeGAT, z: np.ndarray, assign: np.ndarray, n_classes: int, device, chunk: int):
    """Per class: mean gene attention and mean attention x standardized expression, plus the overall means."""
    model.eval()
    g = z.shape[1]
    att = np.zeros((n_classes, g))
    contrib = np.zeros((n_classes, g))
    all_contrib = np.zeros(g)
    counts = np.zeros(n_classes)
    for s in range(0, len(z), chunk):
        x = torch.from_numpy(z[s : s + chunk]).to(device)
        a = model.attention(x)
        c = (a * x).double().cpu().numpy()
        a = a.double().cpu().numpy()
        all_contrib += c.sum(0)
        lab = assign[s : s + chunk]
        for k in np.unique(lab[lab >= 0]):
            m = lab == k
            att[k] += a[m].sum(0)
            contrib[k] += c[m].sum(0)
            counts[k] += m.sum()
    return att, contrib, counts, all_contrib, len(z)
