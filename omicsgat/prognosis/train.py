"""Full-batch training with early stopping on an inner validation split."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional

import numpy as np

from omicsgat.prognosis.loss import CoxLoss
from omicsgat.progress import Progress


@dataclass
class TrainHistory:
    train_loss: List[float] = field(default_factory=list)
    val_loss: List[float] = field(default_factory=list)
    best_epoch: int = 0

    def to_dict(self) -> dict:
        return {"train_loss": self.train_loss, "val_loss": self.val_loss, "best_epoch": self.best_epoch}


def train_network(
    net,
    xs: Dict[str, "object"],
    masks: Dict[str, "object"],
    time: np.ndarray,
    event: np.ndarray,
    train_idx: np.ndarray,
    val_idx: Optional[np.ndarray],
    *,
    epochs: int,
    lr: float,
    weight_decay: float,
    patience: int,
    ties: str,
    progress: Progress,
    l1: float = 0.0,
    min_epochs: int = 0,
) -> TrainHistory:
    """Train ``net`` on ``train_idx``; keep the weights of the epoch with the lowest validation loss.

    Early stopping starts after ``min_epochs``. Without a usable validation split (``val_idx`` None or fewer than 2
    events in it) the net trains for ``epochs`` and keeps the last weights.
    """
    import torch

    device = next(net.parameters()).device
    pick = lambda d, idx: {k: None if v is None else v[idx] for k, v in d.items()}  # noqa: E731
    t_idx = torch.as_tensor(train_idx, device=device)
    train_x, train_m = pick(xs, t_idx), pick(masks, t_idx)
    train_loss_fn = CoxLoss(time[train_idx], event[train_idx], ties, device=device)
    use_val = val_idx is not None and event[val_idx].sum() >= 2
    if use_val:
        v_idx = torch.as_tensor(val_idx, device=device)
        val_x, val_m = pick(xs, v_idx), pick(masks, v_idx)
        val_loss_fn = CoxLoss(time[val_idx], event[val_idx], ties, device=device)
    optimizer = torch.optim.Adam(net.parameters(), lr=lr, weight_decay=weight_decay)
    history = TrainHistory()
    best, best_state, waited = np.inf, None, 0
    for epoch in range(epochs):
        net.train()
        optimizer.zero_grad()
        eta, _ = net(train_x, train_m)
        loss = train_loss_fn(eta)
        (loss + l1 * net.sparsity_penalty() if l1 > 0 else loss).backward()
        optimizer.step()
        history.train_loss.append(float(loss.detach()))
        if use_val:
            net.eval()
            with torch.no_grad():
                val = float(val_loss_fn(net(val_x, val_m)[0]))
            history.val_loss.append(val)
            if epoch + 1 < min_epochs:
                pass  # the sparsity penalty needs a warm-up before validation loss means much
            elif val < best - 1e-4:
                best, waited, history.best_epoch = val, 0, epoch + 1
                best_state = {k: v.detach().clone() for k, v in net.state_dict().items()}
            else:
                waited += 1
        progress((epoch + 1) / epochs, f"epoch {epoch + 1}/{epochs} loss {history.train_loss[-1]:.3f}")
        if use_val and waited >= patience:
            break
    if best_state is not None:
        net.load_state_dict(best_state)
    else:
        history.best_epoch = len(history.train_loss)
    net.eval()
    return history
