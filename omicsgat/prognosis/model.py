"""Torch modules: per-modality gene attention + encoder, attention fusion over modalities, Cox risk head.

After GAENET (Lee 2022) and Multi-PEN (Choi & Lee 2022): each modality has a
gene attention layer that weights every feature for every sample (softmax
over the features, rescaled so the mean weight is 1); the weighted profile
goes through a small encoder; the modality embeddings are fused by attention
over modalities; a linear head gives the log-risk used by the Cox loss.
The attention logits are a per-feature bias plus a low-rank, sample-specific
term, so 20,000 features cost 2 x rank x 20,000 weights instead of 20,000².
"""

from __future__ import annotations

from typing import Dict, List, Optional

import torch
from torch import nn


class GeneAttention(nn.Module):
    """Per-sample attention over the features of one modality; missing values get no attention."""

    def __init__(self, n_features: int, rank: int = 16) -> None:
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(n_features))
        self.down = nn.Linear(n_features, rank, bias=False)
        self.up = nn.Linear(rank, n_features, bias=False)
        nn.init.zeros_(self.up.weight)  # start uniform: attention is learned, not random

    def forward(self, x: torch.Tensor, mask: Optional[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        """``mask`` (True = measured) is None when nothing is missing, which saves two passes over the data."""
        logits = self.bias + self.up(torch.tanh(self.down(x)))
        if mask is None:
            return x * (attn := torch.softmax(logits, dim=1) * x.shape[1]), attn
        logits = logits.masked_fill(~mask, -1e9)
        n_obs = mask.sum(dim=1, keepdim=True).clamp(min=1).to(x.dtype)
        attn = torch.softmax(logits, dim=1) * n_obs
        return x * attn, attn


class ModalityEncoder(nn.Module):
    def __init__(self, n_features: int, hidden: int, latent: int, dropout: float, rank: int) -> None:
        super().__init__()
        self.attention = GeneAttention(n_features, rank)
        self.encoder = nn.Sequential(
            nn.Linear(n_features, hidden),
            nn.ELU(),
            nn.Dropout(dropout),
            nn.Linear(hidden, latent),
            nn.ELU(),
        )

        self.linear = nn.Linear(n_features, 1, bias=False)  # the "wide" Cox path over the attended features
        nn.init.zeros_(self.linear.weight)

    def forward(self, x, mask):
        weighted, attn = self.attention(x, mask)
        return self.encoder(weighted), self.linear(weighted).squeeze(-1), attn


class GeneAttentionNet(nn.Module):
    """Multi-omics gene attention survival network; ``forward`` returns (log-risk, attention per modality)."""

    def __init__(
        self, n_features: Dict[str, int], hidden: int = 64, latent: int = 16, dropout: float = 0.3, rank: int = 16
    ) -> None:
        super().__init__()
        self.modalities: List[str] = list(n_features)
        self.encoders = nn.ModuleDict(
            {m: ModalityEncoder(p, hidden, latent, dropout, rank) for m, p in n_features.items()}
        )
        self.fusion_score = nn.Sequential(nn.Linear(latent, latent), nn.Tanh(), nn.Linear(latent, 1, bias=False))
        self.head = nn.Linear(latent, 1, bias=False)  # a Cox model has no intercept
        # an elastic-net Cox fit on the z-scored inputs, set after training (GeneAttentionSurvival's wide="blend");
        # the log-risk is (1 - enet_share) * network + enet_share * elastic net; share 0 = the network alone
        self.enet = nn.ModuleDict({m: nn.Linear(p, 1, bias=False) for m, p in n_features.items()})
        for lin in self.enet.values():
            nn.init.zeros_(lin.weight)
            lin.weight.requires_grad_(False)
        self.register_buffer("enet_share", torch.zeros(()))

    def forward(self, xs: Dict[str, torch.Tensor], masks: Dict[str, torch.Tensor]):
        embeddings, attentions, linear = [], {}, 0.0
        for m in self.modalities:
            h, lin, attentions[m] = self.encoders[m](xs[m], masks[m])
            embeddings.append(h)
            linear = linear + lin
        stacked = torch.stack(embeddings, dim=1)  # samples x modalities x latent
        weights = torch.softmax(self.fusion_score(stacked), dim=1)
        fused = (weights * stacked).sum(dim=1) * len(self.modalities)  # uniform weights = plain sum
        attentions["__modalities__"] = weights.squeeze(-1)
        eta = self.head(fused).squeeze(-1) + linear
        if float(self.enet_share) > 0:
            wide = sum(self.enet[m](xs[m]).squeeze(-1) for m in self.modalities)
            eta = (1 - self.enet_share) * eta + self.enet_share * wide
        return eta, attentions

    def sparsity_penalty(self):
        """Group lasso over input features (linear weight + the feature's encoder column).

        The penalty is on the weights only, not on the attention, so the cheapest
        way to use a feature is to attend to it: attention concentrates on the
        features that carry risk, which is what makes it a ranking.
        """
        total = 0.0
        for enc in self.encoders.values():
            first = enc.encoder[0].weight  # hidden x features
            total = total + torch.sqrt(first.pow(2).sum(0) + enc.linear.weight.pow(2).sum(0) + 1e-12).sum()
        return total
