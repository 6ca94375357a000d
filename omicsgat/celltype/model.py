"""The cell-typing network: gene attention, then graph attention over the cell kNN graph."""

from __future__ import annotations

import torch
from torch import nn
from torch_geometric.nn import GATConv


class GeneAttention(nn.Module):
    """A per-cell softmax weighting over genes, computed from the cell's own expression.

    The weights are scaled so that uniform attention is 1 per gene, and the
    last layer starts at zero, so training starts from a plain linear model and
    learns which genes to emphasise. Averaged over the cells of a type, the
    weights (times expression) give that type's marker ranking.
    """

    def __init__(self, n_genes: int, hidden: int) -> None:
        super().__init__()
        self.score = nn.Sequential(nn.Linear(n_genes, hidden), nn.ReLU(), nn.Linear(hidden, n_genes))
        nn.init.zeros_(self.score[2].weight)
        nn.init.zeros_(self.score[2].bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.score(x), dim=1) * x.shape[1]


class CellTypeGAT(nn.Module):
    """Gene attention -> linear encoder -> two GAT layers, with a skip from the encoder.

    With ``skip``, a linear map from the attended genes adds to the logits, so
    the model contains a (gene-attention-weighted) logistic regression and the
    graph layers and the encoder only add to it. Training starts that path from
    a converged logistic regression with the graph part silent
    (:func:`omicsgat.celltype.train.fit_linear`).

    ``encode`` is per cell (no graph), so inference can encode all cells in
    chunks once and run the graph layers on sampled neighbourhoods.
    """

    def __init__(
        self,
        n_genes: int,
        n_classes: int,
        hidden: int = 64,
        heads: int = 4,
        dropout: float = 0.3,
        attention_hidden: int = 64,
        skip: bool = False,
    ) -> None:
        super().__init__()
        self.hidden = hidden
        # a linear path from the attended genes straight to the logits: the model contains a logistic regression
        self.skip = nn.Linear(n_genes, n_classes) if skip else None
        if self.skip is not None:
            nn.init.zeros_(self.skip.weight)
            nn.init.zeros_(self.skip.bias)
        conv = GATConv
        self.attention = GeneAttention(n_genes, attention_hidden)
        self.encoder = nn.Sequential(nn.Dropout(dropout), nn.Linear(n_genes, hidden), nn.ELU())
        self.gat1 = conv(hidden, hidden, heads=heads, dropout=dropout)
        self.gat2 = conv(hidden * heads, hidden, heads=1, dropout=dropout)
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(2 * hidden, n_classes)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Per-cell features: ``hidden`` encoder outputs (the graph layers' input), then the skip logits if any."""
        xa = x * self.attention(x)
        h = self.encoder(xa)
        return h if self.skip is None else torch.cat([h, self.skip(self.drop(xa))], dim=1)

    def graph_input(self, h: torch.Tensor) -> torch.Tensor:
        return h[:, : self.hidden]

    def readout(self, h: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        """Logits from encoded cells ``h`` and their graph-layer output ``g``."""
        hh = h[:, : self.hidden]
        out = self.head(torch.cat([hh, g], dim=1))
        return out if self.skip is None else out + h[:, self.hidden :]

    def propagate(
        self, h: torch.Tensor, edge_index: torch.Tensor, n_out: int | None = None, sizes: tuple | None = None
    ) -> torch.Tensor:
        """Class logits of the first ``n_out`` nodes (all when None) from encoded nodes.

        With ``sizes`` (cumulative node counts per hop of a sampled subgraph,
        seeds first) each layer computes only the nodes the next one reads:
        layer 1 the seeds and their neighbours, layer 2 the seeds.
        """
        x = self.graph_input(h)
        if sizes is None or len(sizes) < 2:
            g = self.conv(self.gat1, self.drop(x), edge_index)
            g = self.conv(self.gat2, self.drop(g), edge_index)
            n = h.shape[0] if n_out is None else n_out
            return self.readout(h[:n], g[:n])
        n0, n1 = sizes[0], sizes[1]
        src, dst = edge_index
        g = self.conv(self.gat1, self.drop(x), edge_index[:, dst < n1], n1)
        g = self.conv(self.gat2, self.drop(g), edge_index[:, (dst < n0) & (src < n1)], n0)
        return self.readout(h[:n0], g)

    @staticmethod
    def conv(
        layer, x: torch.Tensor, edge_index: torch.Tensor, n_dst: int | None = None, start: int = 0
    ) -> torch.Tensor:
        """One GAT layer + ELU; with ``n_dst``, only for nodes ``start..start + n_dst`` (bipartite call,
        ``edge_index`` destinations counted from ``start``)."""
        out = layer(x, edge_index) if n_dst is None else layer((x, x[start : start + n_dst]), edge_index)
        return torch.nn.functional.elu(out)

    def forward(self, x: torch.Tensor, edge_index: torch.Tensor, n_out: int | None = None) -> torch.Tensor:
        return self.propagate(self.encode(x), edge_index, n_out)
