"""The torch / PyG modules of the GRN analysis (no training loop here).

* :class:`AttentionRegression` (unsupervised): genes are nodes with learned
  embeddings (initialised from their expression loadings); a multi-head
  ``GATv2Conv`` attends from each target over its candidate regulators plus a
  "null" regulator (a sink a head can attend to when it has nothing to say).
  Each edge also carries its association scores (Pearson and Spearman
  correlation on the metacells) as GATv2 edge features, so attention starts
  from co-expression and learns to explain away indirect regulators.
  The target's own expression is never an input: it is reconstructed, cell by
  cell, from the head outputs ``m_h[t] = sum_r alpha_h[t, r] * x_r``.
  ``combine="linear"``: ``recon_t = sum_h w_h m_h[t]``; because ``w_h`` can be
  negative, repressors are representable, and ``d recon_t / d x_r = beta[t, r]
  = sum_h w_h alpha_h[t, r]`` is the gradient attribution of regulator r.
  ``combine="mlp"`` (the default of ``infer_grn``): a small per-target MLP over
  the head outputs is added to the linear combination, so that with heads on
  different regulators, AND / AND NOT logic (``relu(m_a + m_b - 1)``,
  ``relu(m_a - m_b)``) is representable; the attribution is then the mean over
  cells of ``|d recon_t / d x_r| = |sum_h (d recon_t / d m_h) alpha_h[t, r]|``
  (attention x gradient), which reduces to ``|beta|`` for the linear case.
* :class:`LinkPredictor` (supervised, GENELink-style): a two-layer GATv2
  encoder over the known (training) edges, with separate regulator and target
  projections and a dot-product decoder, plus a small MLP on the pair's
  evidence from the data alone (co-expression, and in ``infer_grn`` the
  steady-state conditional-dependence score), so that the embeddings only have
  to learn what the known edges add to it.
"""

from __future__ import annotations

import torch
from torch import nn

PAIR_FEATURES = 3  # Pearson r, Spearman rho, |rho| of each gene pair


def pair_features(features: torch.Tensor) -> torch.Tensor:
    """(genes, genes, 3) co-expression of every gene pair from (cells x genes) features."""

    def corr(x: torch.Tensor) -> torch.Tensor:
        x = (x - x.mean(0)) / x.std(0, unbiased=False).clamp_min(1e-6)
        return x.T @ x / x.shape[0]

    ranks = features.argsort(0).argsort(0).to(features.dtype)
    rho = corr(ranks)
    return torch.stack([corr(features), rho, rho.abs()], dim=-1)


class AttentionRegression(nn.Module):
    def __init__(
        self,
        n_genes: int,
        hidden: int = 32,
        heads: int = 4,
        init_embedding: torch.Tensor | None = None,
        edge_dim: int = 0,
        combine: str = "linear",
        combine_hidden: int = 8,
    ) -> None:
        from torch_geometric.nn import GATv2Conv

        super().__init__()
        self.n_genes = n_genes
        self.heads = heads
        self.combine = combine
        self.embed = nn.Embedding(n_genes + 1, hidden)  # row n_genes: the null regulator
        if init_embedding is not None:
            with torch.no_grad():
                self.embed.weight[:n_genes] = init_embedding
        self.gat = GATv2Conv(
            hidden, hidden, heads=heads, add_self_loops=False, share_weights=False, edge_dim=edge_dim or None
        )
        signs = torch.tensor([1.0 if h % 2 == 0 else -1.0 for h in range(heads)])
        self.head_weight = nn.Parameter(signs)
        self.bias = nn.Parameter(torch.zeros(n_genes))
        if combine == "mlp":
            # a small per-target MLP over the head outputs, added to the linear combination: with heads on
            # different regulators, AND / AND NOT combinations (e.g. relu(m_a - m_b)) become representable
            k = int(combine_hidden)
            self.mlp_in = nn.Parameter(torch.randn(n_genes, k, heads) / heads**0.5)
            self.mlp_bias = nn.Parameter(torch.zeros(n_genes, k))
            self.mlp_out = nn.Parameter(torch.zeros(n_genes, k))
        elif combine != "linear":
            raise ValueError(f"combine must be 'linear' or 'mlp', not {combine!r}")

    def attention(self, edge_index: torch.Tensor, edge_attr: torch.Tensor | None = None) -> torch.Tensor:
        """Attention of each edge (E x heads); ``edge_index`` includes the null-regulator edges."""
        x = self.embed.weight
        _, (_, alpha) = self.gat((x, x[: self.n_genes]), edge_index, edge_attr=edge_attr, return_attention_weights=True)
        return alpha

    def head_outputs(
        self, values: torch.Tensor, edge_index: torch.Tensor, alpha: torch.Tensor, sparse: bool | None = None
    ) -> torch.Tensor:
        """(heads, n_genes, n_cells): m_h[t] = sum_r alpha_h[t, r] x_r.

        On CPU and CUDA (``sparse=None``) each head is a sparse (targets x regulators) matrix times the values:
        faster than gathering an (edges x cells) copy per head, and nothing of that size is kept for the
        backward pass. Elsewhere (MPS) the gather + ``index_add_`` path.
        """
        src, dst = edge_index
        alpha = alpha.to(values.dtype)
        if sparse is None:
            sparse = values.device.type in ("cpu", "cuda")
        if sparse:
            index = torch.stack([dst, src])
            shape = (self.n_genes, values.shape[0])
            return torch.stack(
                [
                    torch.sparse.mm(torch.sparse_coo_tensor(index, alpha[:, h], shape, check_invariants=False), values)
                    for h in range(self.heads)
                ]
            )
        m = torch.zeros(self.heads, self.n_genes, values.shape[1], device=values.device, dtype=values.dtype)
        xs = values[src]
        for h in range(self.heads):
            m[h].index_add_(0, dst, alpha[:, h : h + 1] * xs)
        return m

    def combine_heads(self, m: torch.Tensor) -> torch.Tensor:
        """Reconstruction (n_genes x n_cells) from the head outputs."""
        recon = torch.einsum("h,htc->tc", self.head_weight.to(m.dtype), m)
        if self.combine == "mlp":
            hid = torch.nn.functional.elu(
                torch.einsum("tkh,htc->tkc", self.mlp_in.to(m.dtype), m) + self.mlp_bias.to(m.dtype).unsqueeze(-1)
            )
            recon = recon + torch.einsum("tk,tkc->tc", self.mlp_out.to(m.dtype), hid)
        return recon + self.bias.to(m.dtype).unsqueeze(1)

    def forward(
        self, values: torch.Tensor, edge_index: torch.Tensor, edge_attr: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Reconstruct every gene from its regulators.

        ``values``: (n_genes + 1, n_cells) z-scored expression, last row zeros
        (the null regulator); ``edge_attr``: per-edge association features.
        Returns (reconstruction n_genes x n_cells, alpha).
        """
        alpha = self.attention(edge_index, edge_attr)
        if self.combine == "linear":  # one pass over the edges instead of one per head
            beta = (alpha * self.head_weight).sum(dim=1)
            src, dst = edge_index
            recon = torch.zeros(self.n_genes, values.shape[1], device=values.device, dtype=values.dtype)
            recon.index_add_(0, dst, beta.unsqueeze(1) * values[src])
            return recon + self.bias.unsqueeze(1), alpha
        return self.combine_heads(self.head_outputs(values, edge_index, alpha)), alpha

    def edge_gradients(
        self, values: torch.Tensor, edge_index: torch.Tensor, alpha: torch.Tensor, n_edges: int, chunk: int = 64
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean over cells of d recon_t / d x_r for the first ``n_edges`` edges: (signed mean, mean |.|).

        Linear combination: the gradient is ``beta = sum_h w_h alpha_h`` in every cell. MLP combination:
        ``sum_h (d recon_t / d m_h) alpha_h[t, r]``, cell by cell (attention x gradient).
        """
        alpha = alpha[:n_edges].detach()
        if self.combine == "linear":
            beta = (alpha.double() * self.head_weight.detach().double()).sum(1)
            return beta, beta.abs()
        _, dst = edge_index[0, :n_edges], edge_index[1, :n_edges]
        signed = torch.zeros(n_edges, dtype=alpha.dtype, device=alpha.device)
        absolute = torch.zeros_like(signed)
        n_cells = values.shape[1]
        padded = self._pad_to_edges(alpha, edge_index)
        for start in range(0, n_cells, chunk):
            m = self.head_outputs(values[:, start : start + chunk].to(alpha.dtype), edge_index, padded)
            with torch.enable_grad():
                m = m.detach().requires_grad_(True)
                (g,) = torch.autograd.grad(self.combine_heads(m).sum(), m)  # recon_t depends on m[:, t] only
            per_cell = torch.einsum("hec,eh->ec", g[:, dst], alpha)
            signed += per_cell.sum(1)
            absolute += per_cell.abs().sum(1)
        return signed / n_cells, absolute / n_cells

    def _pad_to_edges(self, alpha: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
        """Pad the candidate-edge attention with zeros for the remaining (null) edges: they carry zero values."""
        if alpha.shape[0] == edge_index.shape[1]:
            return alpha
        pad = torch.zeros(edge_index.shape[1] - alpha.shape[0], alpha.shape[1], dtype=alpha.dtype, device=alpha.device)
        return torch.cat([alpha, pad])


class LinkPredictor(nn.Module):
    def __init__(
        self, in_features: int, hidden: int = 32, heads: int = 4, dropout: float = 0.1, n_pair: int = PAIR_FEATURES
    ) -> None:
        from torch_geometric.nn import GATv2Conv

        super().__init__()
        self.proj = nn.Linear(in_features, hidden)
        self.conv1 = GATv2Conv(hidden, hidden, heads=heads, concat=False, dropout=dropout)
        self.conv2 = GATv2Conv(hidden, hidden, heads=heads, concat=False, dropout=dropout)
        self.as_regulator = nn.Linear(hidden, hidden)
        self.as_target = nn.Linear(hidden, hidden)
        self.pair = nn.Sequential(nn.Linear(n_pair, 16), nn.ELU(), nn.Linear(16, 1))
        # the embeddings' term starts at zero: the model begins as a calibration of the pair evidence and the
        # known edges' structure enters only as far as it lowers the loss
        self.embedding_gain = nn.Parameter(torch.zeros(()))
        self.dropout = nn.Dropout(dropout)

    def encode(self, x: torch.Tensor, graph: torch.Tensor) -> torch.Tensor:
        h = torch.nn.functional.elu(self.proj(self.dropout(x)))
        h = torch.nn.functional.elu(self.conv1(h, graph)) + h
        return self.conv2(h, graph) + h

    def decode(self, z: torch.Tensor, pairs: torch.Tensor, pair_features: torch.Tensor) -> torch.Tensor:
        """Logit of regulator pairs[0] -> target pairs[1]; ``pair_features``: (genes, genes, n_pair) evidence."""
        dot = (self.as_regulator(z[pairs[0]]) * self.as_target(z[pairs[1]])).sum(dim=-1)
        return self.embedding_gain * dot + self.pair(pair_features[pairs[0], pairs[1]]).squeeze(-1)

    def attention(self, x: torch.Tensor, graph: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Second-layer attention (edge_index, E x heads) over the message-passing graph."""
        h = torch.nn.functional.elu(self.proj(x))
        h = torch.nn.functional.elu(self.conv1(h, graph)) + h
        _, (ei, alpha) = self.conv2(h, graph, return_attention_weights=True)
        return ei, alpha
