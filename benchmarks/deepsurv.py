"""DeepSurv-style baseline for the prognosis benchmark: the same inputs, training and Cox loss, no attention.

Not part of the product: it exists to show what the gene attention adds. It
reuses :class:`~omicsgat.prognosis.fitter.GeneAttentionSurvival`'s
preprocessing, training loop and early stopping, with a plain MLP over the
concatenated modalities and no elastic-net blend.
"""

from __future__ import annotations

from typing import Dict

import torch
from torch import nn

from omicsgat.prognosis.fitter import GeneAttentionSurvival


class MLPSurvivalNet(nn.Module):
    """A two-layer MLP giving the log-risk, with the same group-lasso input penalty as the attention network."""

    def __init__(
        self, n_features: Dict[str, int], hidden: int = 64, latent: int = 16, dropout: float = 0.3, **_
    ) -> None:
        super().__init__()
        self.modalities = list(n_features)
        self.net = nn.Sequential(
            nn.Linear(sum(n_features.values()), hidden),
            nn.ELU(),
            nn.Dropout(dropout),
            nn.Linear(hidden, latent),
            nn.ELU(),
            nn.Linear(latent, 1, bias=False),
        )

    def sparsity_penalty(self):
        return torch.sqrt(self.net[0].weight.pow(2).sum(0) + 1e-12).sum()

    def forward(self, xs, masks):
        return self.net(torch.cat([xs[m] for m in self.modalities], dim=1)).squeeze(-1), {}


class DeepSurvFitter(GeneAttentionSurvival):
    """``run_prognosis(..., fitter=DeepSurvFitter)``: the MLP alone (no attention, no elastic-net blend)."""

    has_attention = False

    def __init__(self, **options) -> None:
        super().__init__(**{**options, "wide": "learned"})

    def _build(self, n_features: Dict[str, int]):
        p = self.params
        return MLPSurvivalNet(n_features, hidden=p["hidden"], latent=p["latent"], dropout=p["dropout"])
