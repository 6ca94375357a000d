"""Which regulators act together: signed interaction scores for pairs of a target's top regulators.

The score is read from the fitted per-target model itself (the MLP head combination of
:class:`omicsgat.grn.model.AttentionRegression`), as its second-order response: the model's prediction of the
target with regulators a and b set to their low and high levels (the 20th and 80th percentiles of their
(meta)cell values) while every other input keeps each cell's own value, averaged over cells::

    interaction = f(a high, b high) - f(a high, b low) - f(a low, b high) + f(a low, b low)

in units of the target's standard deviation. Positive: the effect of one regulator needs the other
("both needed", e.g. ``a and b``, or joint absence); negative: either is enough (``a or b``; also ``a and not
b``); a purely additive response gives zero. The contrast is computed in every restart of the fit;
``stability`` = |mean over restarts| / mean |per restart| (1: all restarts agree in sign; near 0: they cancel)
and ``score`` = interaction x stability.

The significance is a check in the data, apart from the model: the target's observed mean in the 2 x 2 grid of
low / high (below / above median) a and b gives the same contrast, and a Freedman-Lane permutation test
(residuals of the additive fit permuted; p from the normal tail with the permutation null's mean and spread, so
that small p stay resolved) gives ``p``: does the target respond to a and b non-additively at all?
``q`` is Benjamini-Hochberg over the table. A pair is called "both needed" or "either enough" (by the model's
sign) when q <= ``alpha``, else "independent". The sign is the model's, not the grid's: the grid averages over
whatever the other regulators do in each quarter of the cells, which confounds its sign (see docs/grn_pairs.md).

The model is read through a narrow interface only: :meth:`AttentionRegression.attention`,
:meth:`~AttentionRegression.head_outputs` and :meth:`~AttentionRegression.combine_heads` of each saved restart
(block by block for a blocked fit), and the (meta)cell values the model was fitted on (``GRNModel.features``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

from omicsgat.errors import OmicsInputError

PAIR_COLUMNS = ["target", "regulator_a", "regulator_b", "interaction", "logic", "score", "stability", "p", "q"]
GRID_COLUMNS = [
    "model_low_low",
    "model_low_high",
    "model_high_low",
    "model_high_high",
    "observed_low_low",
    "observed_low_high",
    "observed_high_low",
    "observed_high_high",
]
LOGIC = ("both needed", "either enough", "independent")
#: ``pairs="auto"`` computes the table up to this many genes (the added cost stays a small share of the run).
AUTO_MAX_GENES = 3000
TOP_REGULATORS = 5
QUANTILES = (0.2, 0.8)


@dataclass
class PairSettings:
    """How the pair table is computed (recorded in ``params["pairs"]``)."""

    top_regulators: int = TOP_REGULATORS  # pairs among each target's top regulators by edge score
    quantiles: tuple = QUANTILES  # low / high levels of each regulator for the model's corners
    max_cells: int = 256  # (meta)cells the corner predictions are averaged over
    permutations: int = 199
    alpha: float = 0.05  # q threshold for calling a logic
    seed: int = 0
    context: str = "cells"  # the other inputs: each cell's own values ("cells", averaged) or their medians ("typical")

    def validate(self) -> None:
        lo, hi = self.quantiles
        if not 0.0 < lo < hi < 1.0:
            raise OmicsInputError(f"Pair quantiles must satisfy 0 < low < high < 1, got {self.quantiles}.")
        if int(self.top_regulators) < 2:
            raise OmicsInputError(f"Pairs need at least 2 top regulators per target, got {self.top_regulators}.")
        if int(self.permutations) < 1 or int(self.max_cells) < 1:
            raise OmicsInputError("permutations and max_cells must be at least 1.")


def check_pairs_request(pairs, mode: str, combine: str) -> None:
    """Refuse, before any work, a value of ``pairs`` that is not True / False / "auto", or True where no model has pairs."""
    if not (pairs is True or pairs is False or pairs is None or pairs == "auto"):
        raise OmicsInputError(f"pairs must be True, False or 'auto', not {pairs!r}.")
    if pairs is True and (mode != "unsupervised" or combine != "mlp"):
        raise OmicsInputError(
            "Regulator pairs are read from the unsupervised model with combine='mlp'; "
            f"this run has mode={mode!r}, combine={combine!r}. Leave pairs at 'auto' or False."
        )


def availability(model, n_genes: int, pairs) -> tuple[bool, str]:
    """Whether to compute the table for ``pairs`` (True / False / "auto"), and why (the reason is recorded)."""
    if pairs is False or pairs is None:
        return False, "not requested (pairs=False)"
    check_pairs_request(pairs, getattr(model, "mode", "unsupervised"), "mlp")
    if model is None or getattr(model, "mode", None) != "unsupervised":
        why = "regulator pairs are read from the unsupervised per-target model; this run has none"
    elif model.config.get("combine") != "mlp" or model.features is None:
        why = "the linear head combination is additive: every pair's interaction is zero (use combine='mlp')"
    elif pairs == "auto" and n_genes > AUTO_MAX_GENES:
        why = (
            f"{n_genes} genes is above {AUTO_MAX_GENES}, where pairs='auto' stops computing them to keep the run's "
            "cost down; pass pairs=True to compute them anyway"
        )
    else:
        return True, "computed"
    if pairs is True:
        raise OmicsInputError(f"Regulator pairs cannot be computed: {why}.")
    return False, why


def top_pairs(edges: pd.DataFrame, genes: list, top_regulators: int) -> pd.DataFrame:
    """Unordered pairs among each target's ``top_regulators`` best-scored regulators (gene indices)."""
    index = {g: i for i, g in enumerate(genes)}
    ranked = edges.sort_values(["target", "score", "regulator"], ascending=[True, False, True], kind="mergesort")
    rows = []
    for target, group in ranked.groupby("target", sort=True):
        regs = list(group["regulator"].iloc[:top_regulators])
        for i in range(len(regs)):
            for j in range(i + 1, len(regs)):
                a, b = sorted((regs[i], regs[j]), key=lambda g: index[g])
                rows.append((index[target], index[a], index[b]))
    return pd.DataFrame(rows, columns=["t", "a", "b"], dtype=np.int64)


def _restart_models(model) -> Iterator[tuple[object, object, object, np.ndarray]]:
    """(network, edge_index with null edges, edge features, candidate-edge ids) for every saved restart."""
    import torch

    from omicsgat.grn.model import AttentionRegression

    n_genes = len(model.genes)
    cfg = model.config
    n_edges = model.edge_index.shape[1]
    attr = np.asarray(model.edge_attr, dtype=np.float32)
    block = np.zeros(n_edges, dtype=np.int64) if model.edge_block is None else np.asarray(model.edge_block)
    n_blocks = int(block.max()) + 1 if n_edges else 0
    per_block = max(1, len(model.states) // max(1, n_blocks))
    null = np.stack([np.full(n_genes, n_genes), np.arange(n_genes)])
    for j in range(n_blocks):
        ids = np.flatnonzero(block == j)
        ei = torch.as_tensor(np.concatenate([model.edge_index[:, ids], null], axis=1), dtype=torch.long)
        ea = torch.as_tensor(np.concatenate([attr[:n_edges][ids], np.zeros((n_genes, attr.shape[1]), np.float32)]))
        for state in model.states[j * per_block : (j + 1) * per_block]:
            net = AttentionRegression(
                n_genes, int(cfg["hidden"]), int(cfg["heads"]), edge_dim=attr.shape[1], combine="mlp"
            )
            net.load_state_dict(state)
            net.eval()
            yield net, ei, ea, ids


def corner_predictions(model, pairs: pd.DataFrame, settings: PairSettings) -> np.ndarray:
    """(restarts, pairs, 4) model predictions of the target, averaged over cells, at the corners
    (a low, b low), (a low, b high), (a high, b low), (a high, b high)."""
    import torch

    from omicsgat.grn.train import torch_threads

    values = np.asarray(model.features, dtype=np.float32)  # cells x genes, what the model was fitted on
    n_cells, n_genes = values.shape
    levels = np.quantile(values, settings.quantiles, axis=0).astype(np.float32)  # (2, genes)
    rng = np.random.default_rng(settings.seed)
    cells = np.sort(rng.choice(n_cells, size=min(n_cells, int(settings.max_cells)), replace=False))
    context = values[cells] if settings.context == "cells" else np.median(values, axis=0, keepdims=True)
    sub = torch.as_tensor(np.concatenate([context.T, np.zeros((1, len(context)), np.float32)]))
    edge_of = {(int(r), int(t)): e for e, (r, t) in enumerate(model.edge_index.T)}
    # slot k of a target: its k-th pair; each call of the model evaluates slot k of every target at once
    order = pairs.groupby("t").cumcount().to_numpy()
    ea_id = np.array([edge_of[(a, t)] for t, a in zip(pairs["t"], pairs["a"])], dtype=np.int64)
    eb_id = np.array([edge_of[(b, t)] for t, b in zip(pairs["t"], pairs["b"])], dtype=np.int64)
    t_all, a_all, b_all = (pairs[c].to_numpy() for c in ("t", "a", "b"))
    out: list = []
    block_rows: list = []
    with torch.no_grad(), torch_threads(float(len(model.states)) * 4 * n_genes * len(sub[0]) * 64):
        for net, ei, ea, ids in _restart_models(model):
            alpha = net.attention(ei, ea)  # (block edges + null edges, heads)
            m = net.head_outputs(sub, ei, alpha)  # (heads, genes, cells)
            local = np.full(model.edge_index.shape[1], -1, dtype=np.int64)
            local[ids] = np.arange(len(ids))
            in_block = local[ea_id] >= 0
            preds = np.full((len(pairs), 4), np.nan)
            for k in np.unique(order[in_block]):
                rows = np.flatnonzero((order == k) & in_block)
                t, a, b = t_all[rows], a_all[rows], b_all[rows]
                wa, wb = alpha[local[ea_id[rows]]].T, alpha[local[eb_id[rows]]].T  # (heads, rows)
                xa, xb = sub[a], sub[b]  # (rows, cells)
                for c, (la, lb) in enumerate(((0, 0), (0, 1), (1, 0), (1, 1))):
                    shifted = m.clone()
                    da = torch.as_tensor(levels[la, a])[:, None] - xa
                    db = torch.as_tensor(levels[lb, b])[:, None] - xb
                    shifted[:, t] += wa[:, :, None] * da + wb[:, :, None] * db
                    preds[rows, c] = net.combine_heads(shifted)[t].mean(1).double().numpy()
            out.append(preds)
            block_rows.append(in_block)
    return _stack_restarts(out, block_rows)


def _stack_restarts(preds: list, in_block: list) -> np.ndarray:
    """Restarts of every block side by side: (restarts per block, pairs, 4)."""
    n_pairs = preds[0].shape[0] if preds else 0
    stacked: list = []
    slot = np.zeros(n_pairs, dtype=np.int64)
    for p, rows in zip(preds, in_block):
        for r in np.flatnonzero(rows):
            while len(stacked) <= slot[r]:
                stacked.append(np.full((n_pairs, 4), np.nan))
            stacked[slot[r]][r] = p[r]
            slot[r] += 1
    return np.stack(stacked) if stacked else np.zeros((1, n_pairs, 4))


def observed_check(values: np.ndarray, pairs: pd.DataFrame, settings: PairSettings) -> tuple[np.ndarray, np.ndarray]:
    """The target's observed mean in the 2 x 2 grid of below / above median a and b ((pairs, 4), corners as in
    :func:`corner_predictions`), and the Freedman-Lane permutation p of the grid's interaction contrast."""
    from scipy.stats import norm

    n_cells = values.shape[0]
    high = values > np.median(values, axis=0)
    rng = np.random.default_rng(settings.seed + 1)
    perms = np.stack([rng.permutation(n_cells) for _ in range(int(settings.permutations))])
    grids = np.full((len(pairs), 4), np.nan)
    pvals = np.ones(len(pairs))
    for t, rows in pairs.groupby("t").indices.items():
        y = values[:, t].astype(np.float64)
        a = high[:, pairs["a"].to_numpy()[rows]].T.astype(np.float64)  # (rows, cells)
        b = high[:, pairs["b"].to_numpy()[rows]].T.astype(np.float64)
        corners = np.stack([(1 - a) * (1 - b), (1 - a) * b, a * (1 - b), a * b])  # (4, rows, cells)
        counts = corners.sum(2)
        ok = (counts > 0).all(0)
        with np.errstate(invalid="ignore", divide="ignore"):
            grids[rows] = (corners @ y / counts).T
            weights = (
                corners[3] / counts[3][:, None]
                - corners[2] / counts[2][:, None]
                - corners[1] / counts[1][:, None]
                + corners[0] / counts[0][:, None]
            )
        weights[~ok] = 0.0
        design = np.stack([np.ones_like(a), a, b], axis=2)  # additive fit per pair: (rows, cells, 3)
        beta = np.einsum("rkc,c->rk", np.linalg.pinv(design), y)
        fitted = np.einsum("rck,rk->rc", design, beta)
        resid = y[None, :] - fitted
        stat = weights @ y
        base = np.einsum("rc,rc->r", weights, fitted)
        null = base[:, None] + np.einsum("rpc,rc->rp", resid[:, perms], weights)
        # the permutation null's own mean and spread give a normal tail: p below 1 / permutations stays resolved,
        # which Benjamini-Hochberg over thousands of pairs needs
        centre, spread = null.mean(1), np.maximum(null.std(1), 1e-12)
        pvals[rows] = np.where(ok, 2.0 * norm.sf(np.abs(stat - centre) / spread), 1.0)
    return grids, pvals


def pair_table(model, edges: pd.DataFrame, settings: PairSettings | None = None) -> pd.DataFrame:
    """The ranked pair table (:data:`PAIR_COLUMNS` + the 2 x 2 grids) from a fitted unsupervised MLP model."""
    from scipy.stats import false_discovery_control

    settings = settings or PairSettings()
    settings.validate()
    genes = list(model.genes)
    pairs = top_pairs(edges, genes, int(settings.top_regulators))
    if pairs.empty:
        return pd.DataFrame(columns=PAIR_COLUMNS + GRID_COLUMNS)
    preds = corner_predictions(model, pairs, settings)  # (restarts, pairs, 4)
    per_restart = preds[..., 3] - preds[..., 2] - preds[..., 1] + preds[..., 0]
    with np.errstate(invalid="ignore"):
        interaction = np.nanmean(per_restart, axis=0)
        spread = np.nanmean(np.abs(per_restart), axis=0)
        stability = np.where(spread > 0, np.abs(interaction) / np.where(spread > 0, spread, 1.0), 0.0)
    values = np.asarray(model.features, dtype=np.float64)
    grids, p = observed_check(values, pairs, settings)
    q = false_discovery_control(p, method="bh")
    called = (q <= settings.alpha) & (interaction != 0)
    logic = np.where(called, np.where(interaction > 0, LOGIC[0], LOGIC[1]), LOGIC[2])
    names = np.asarray(genes, dtype=object)
    model_grid = np.nanmean(preds, axis=0)
    frame = pd.DataFrame(
        {
            "target": names[pairs["t"]],
            "regulator_a": names[pairs["a"]],
            "regulator_b": names[pairs["b"]],
            "interaction": interaction,
            "logic": logic,
            "score": interaction * stability,
            "stability": stability,
            "p": p,
            "q": q,
        }
    )
    for i, col in enumerate(GRID_COLUMNS[:4]):
        frame[col] = model_grid[:, i]
    for i, col in enumerate(GRID_COLUMNS[4:]):
        frame[col] = grids[:, i]
    frame["abs_score"] = frame["score"].abs()
    frame = frame.sort_values(
        ["abs_score", "target", "regulator_a", "regulator_b"], ascending=[False, True, True, True], kind="mergesort"
    )
    return frame.drop(columns="abs_score").reset_index(drop=True)


def attach_pairs(result, pairs="auto", settings: PairSettings | None = None, progress=None) -> None:
    """Fill ``result.pairs`` (or leave it None) and record what was done and why in ``result.params["pairs"]``."""
    import time

    start = time.perf_counter()
    enabled, reason = availability(result.model, len(result.genes), pairs)
    record = {"requested": pairs, "computed": enabled, "reason": reason}
    if enabled:
        settings = settings or PairSettings()
        if progress is not None:
            progress(0.0, "scoring regulator pairs")
        result.pairs = pair_table(result.model, result.edges, settings)
        record.update(
            {
                "top_regulators": int(settings.top_regulators),
                "quantiles": list(settings.quantiles),
                "permutations": int(settings.permutations),
                "alpha": settings.alpha,
                "n_pairs": len(result.pairs),
                "seconds": round(time.perf_counter() - start, 3),
            }
        )
    result.params["pairs"] = record
