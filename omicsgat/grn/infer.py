"""``infer_grn``: the user-facing GRN analysis."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, Sequence

import numpy as np
import pandas as pd

from omicsgat.compute import Executor, executor, one_thread
from omicsgat.config import GRN_COMBINES, GRN_SCORES
from omicsgat.defaults import GRN as _D
from omicsgat.device import describe_device, resolve_device
from omicsgat.errors import OmicsInputError
from omicsgat.grn.blocks import CLUSTER_BLOCK_SIZE, fit_blocks, target_blocks
from omicsgat.grn.pairs import attach_pairs, check_pairs_request
from omicsgat.grn.persist import GRNModel
from omicsgat.grn.prepare import aggregated, candidate_edges, prepare, rank_gauss
from omicsgat.grn.pseudotime import decide_time_weight, direct_effects, pseudotime_matrix, time_evidence
from omicsgat.grn.result import GRNResult, hub_table
from omicsgat.grn.scores import adaptive_score, conditional_dependence
from omicsgat.grn.train import blend_by_validation, fit_supervised, split_edges
from omicsgat.io.genes import id_column, lookup_table, symbol_view
from omicsgat.metrics.grn import score_labels
from omicsgat.progress import as_progress
from omicsgat.random import random_state_restored, set_seed
from omicsgat.resources import check_fits, oom_guard
from omicsgat.threads import with_thread_budget

MODES = ("unsupervised", "supervised")


def estimate_bytes(
    n_cells: int,
    n_genes: int,
    n_metacells: int,
    n_edges: int,
    *,
    heads: int,
    hidden: int,
    cells_per_step: int,
    mode: str,
) -> float:
    """Peak memory of a run: the dense expression of the chosen genes, and per-edge tensors of the model.

    Unsupervised, the per-gene term also covers the MLP head combination: head outputs and hidden units for
    every (meta)cell at evaluation, and the per-edge term the (heads x edges x 64 cells) gradient chunks.
    """
    dense = 3.0 * 4 * n_cells * n_genes  # log-normalized copy, dense selection, metacell work
    per_gene = 0.0
    if mode == "unsupervised":
        per_edge = 4 * (3 * min(cells_per_step, n_metacells) + 10 * heads * hidden + 2 * heads * 64)
        per_gene = 4.0 * 3 * (heads + 8) * n_metacells
    else:
        per_edge = 4 * 4 * hidden
        # supervised: dense (genes x genes) co-expression and steady-state evidence the decoder reads, float64 work
        per_gene = 4.0 * 2 * 6 * n_genes + 8.0 * 2 * n_genes
    return (
        dense
        + 4.0 * (n_genes + 1) * n_metacells * 2
        + (n_edges + n_genes) * per_edge
        + n_genes * per_gene
        + 300 * 2**20
    )


@with_thread_budget
@one_thread()  # torch's sums follow its thread count: one thread, so the seed alone decides
@random_state_restored()
def infer_grn(
    adata,
    *,
    genes: int | Sequence[str] = _D["genes"],
    regulators: Sequence[str] | str | Path | None = None,
    prior: pd.DataFrame | str | Path | None = None,
    mode: str = "unsupervised",
    epochs: int = _D["epochs"],
    device="auto",
    seed: int = 0,
    progress=None,
    cancel=None,
    top_k: Optional[int] = _D["top_k"],
    restarts: int = 3,
    hidden: int = 32,
    heads: int = 4,
    score: str = _D["score"],
    cells_per_metacell: int = 5,
    cells_per_step: int = 256,
    lr: float = 0.05,
    val_fraction: float = 0.2,
    test_fraction: float = 0.2,
    combine: str = _D["combine"],
    gene_symbols: Optional[str] = None,
    scheduler=None,
    block_size: Optional[int] = None,
    pseudotime: str | Sequence[str] | None = None,
    pairs: bool | str = "auto",
):
    """Infer a gene regulatory network with graph attention.

    Parameters
    ----------
    gene_symbols
        The ``var`` column holding gene symbols when ``var_names`` are IDs
        (Ensembl, Entrez); found automatically when unambiguous (e.g.
        ``feature_name``, ``gene_symbols``). Genes are then named by symbol in
        the result, with the original ID in ``regulator_id`` / ``target_id``.
    genes
        Number of highly variable genes (scanpy, on log-normalized data), or
        an explicit gene list. Regulators and prior genes are always kept.
    regulators
        Candidate regulators: a list, a text file (one gene per line), or
        ``"human"``/``"mouse"`` for the shipped TF lists. ``None``: every gene.
    prior
        Known edges (DataFrame or TSV with regulator, target[, sign]).
        Marked ``in_prior`` in the output; required by ``mode="supervised"``.
    mode
        ``"unsupervised"``: each gene's expression is reconstructed from its
        candidate regulators by attention (its own expression is never an
        input; each gene's (meta)cell values are first replaced by the normal
        quantiles of their ranks, robust to outliers and to monotone nonlinear
        responses); edges are scored per target (``score="adaptive"``, the
        default): by the model's score where the target is nonlinear in its
        regulators on held-out cells, else by conditional dependence (a
        per-target ridge on single cells, ``score="conditional"``; see
        :mod:`omicsgat.grn.scores`); or for every target by the regulator's
        learned contribution (``score="contribution"``, mean |gradient of the
        reconstruction|), the mean attention (``score="attention"``) or the
        mean of the two scores' percentile ranks (``score="rank_mean"``, the
        model's score), averaged over ``restarts``.
        ``"supervised"``: GENELink-style link prediction on top of the
        steady-state conditional score; candidate pairs are split into
        train/val/test by unordered gene pair (``val_fraction``,
        ``test_fraction``), test pairs never enter the graph or the loss; the
        ranking blends the learned and the steady-state score by the weight
        the validation edges support (``params["supervised_blend"]``); metrics
        on the test split are in ``params["test_metrics"]`` (and
        ``test_metrics_steady_state``: the same pairs without the prior).
    combine
        How the unsupervised model turns its attention heads into the
        reconstruction of a target: ``"mlp"`` (default) adds a small
        per-target MLP over the heads to their weighted sum, so that AND / NOT
        combinations of regulators are representable (the two compared:
        docs/benchmarks.md); the contribution is then the mean |gradient| of the
        reconstruction over the (meta)cells. ``"linear"``: the weighted sum alone
        (its contribution is |sum_h w_h alpha_h|, the same in every cell).
    top_k
        Keep, for each target, the ``top_k`` regulators with the largest
        |Spearman| correlation as candidate edges (``None``: all regulators).
    cells_per_metacell
        Cells are averaged into k-means metacells of about this size (at most
        1000 metacells) to denoise and speed up; 1 disables it.
    scheduler
        Where the unsupervised fit runs (:mod:`omicsgat.compute`): ``None`` in-process (or
        ``$OMICSGAT_SCHEDULER``), ``"processes:N"``, or a Dask address ``"tcp://host:8786"``.
        The supervised mode always runs in-process.
    block_size
        Unsupervised: targets per independently trained block (:mod:`omicsgat.grn.blocks`). ``None``: one
        block (the joint fit) in-process, blocks of 500 targets on a cluster. The blocks and their seeds
        depend on the data, ``block_size`` and ``seed`` only, so a given ``block_size`` gives the same
        edges in-process, with 1 worker or with 8.
    pseudotime
        ``obs`` column(s) holding each cell's pseudotime (one per trajectory,
        NaN where a cell is not on it; a comma-separated string or a list).
        Unsupervised mode only. The weight of the time ordering comes from the data
        (:func:`omicsgat.grn.pseudotime.decide_time_weight`: held-out window gain and agreement
        of the direct effect with the steady-state score; weight 0 is exactly the run without a
        pseudotime, recorded in ``params["time_evidence"]``). Cells are averaged in
        windows ordered by pseudotime, each window paired with later ones; the direct lagged
        effect of a regulator now on its target later (a ridge vector autoregression over the
        windows, conditional on every gene's present value) orients edges that correlation
        cannot. With a weight above 0 the ranking blends it with the steady-state score by
        percentile rank (``direct_effect`` and ``steady_state_score`` columns); see
        :mod:`omicsgat.grn.pseudotime`.
    pairs
        Which regulators act together (:mod:`omicsgat.grn.pairs`): ``True`` fills ``result.pairs``, ``False``
        skips it, ``"auto"`` (default) fills it for unsupervised MLP runs up to a size where it stays cheap; what
        was done and why is in ``params["pairs"]``.

    Returns
    -------
    GRNResult
    """
    _check_request(
        mode=mode,
        prior=prior,
        epochs=epochs,
        restarts=restarts,
        score=score,
        combine=combine,
        block_size=block_size,
        pseudotime=pseudotime,
        pairs=pairs,
    )
    shared = {
        "genes": genes,
        "regulators": regulators,
        "prior": prior,
        "epochs": int(epochs),
        "device": device,
        "seed": seed,
        "progress": as_progress(progress, cancel),
        "hidden": hidden,
        "heads": heads,
        "score": score,
        "cells_per_metacell": cells_per_metacell,
        "lr": lr,
        "gene_symbols": gene_symbols,
        "pairs": pairs,
    }
    if mode == "supervised":  # always in-process: one small model on the known edges
        return _run_supervised(adata, Executor(), fractions=(val_fraction, test_fraction), **shared)
    with executor(scheduler) as ex:  # a bad address fails here, before any work
        return _run_unsupervised(
            adata,
            ex,
            top_k=top_k,
            restarts=int(restarts),
            cells_per_step=cells_per_step,
            combine=combine,
            block_size=block_size,
            pseudotime=pseudotime,
            **shared,
        )


def _check_request(*, mode, prior, epochs, restarts, score, combine, block_size, pseudotime, pairs) -> None:
    """Refuse a bad combination of settings before any data is read."""
    if mode not in MODES:
        raise OmicsInputError(f"Unknown GRN mode {mode!r}: use 'unsupervised' or 'supervised'.")
    if combine not in GRN_COMBINES:
        raise OmicsInputError(f"Unknown head combination {combine!r}: use {', '.join(map(repr, GRN_COMBINES))}.")
    if score not in GRN_SCORES:
        raise OmicsInputError(f"Unknown edge score {score!r}: use {', '.join(map(repr, GRN_SCORES))}.")
    if int(epochs) < 1 or int(restarts) < 1:
        raise OmicsInputError("epochs and restarts must be at least 1.")
    if mode == "supervised" and prior is None:
        raise OmicsInputError(
            "Supervised mode learns from known edges: give a prior network (regulator, target columns)."
        )
    if mode == "supervised" and pseudotime is not None:
        raise OmicsInputError("Pseudotime is used by the unsupervised mode only; leave it out for mode='supervised'.")
    check_pairs_request(pairs, mode, combine)
    if block_size is not None and int(block_size) < 1:
        raise OmicsInputError(f"block_size (targets per block) must be at least 1, got {block_size}.")


def _run_unsupervised(
    adata,
    ex,
    *,
    genes,
    regulators,
    prior,
    epochs,
    device,
    seed,
    progress,
    top_k,
    restarts,
    hidden,
    heads,
    score,
    cells_per_metacell,
    cells_per_step,
    lr,
    combine,
    gene_symbols,
    block_size,
    pseudotime,
    pairs,
):
    """Reconstruct each gene from its candidate regulators on metacells and rank the edges; with a pseudotime, the
    direct lagged effect on the single cells is blended in as far as the data's time evidence supports it."""
    prog = progress
    times = pseudotime_matrix(adata, pseudotime) if pseudotime is not None else None
    dev = resolve_device(device)
    set_seed(seed)
    prog(0.0, "preparing expression")
    view, ids, prep, prior_frame = _prepare(
        adata,
        genes=genes,
        regulators=regulators,
        prior=prior,
        gene_symbols=gene_symbols,
        cells_per_metacell=1,
        seed=seed,
    )
    # the conditional score (omicsgat.grn.scores) and the time evidence read single cells; the model, metacells
    cells = prep.raw if score in ("conditional", "adaptive") else None
    evidence, time_blend = None, None
    if times is not None:  # how much the time ordering is trusted is decided on held-out windows of these cells
        evidence = time_evidence(prep.raw, times)
        # the weight of the direct effect is decided once both scores exist (pseudotime.decide_time_weight)
        time_blend = (evidence, prep.raw, times)
    prep = aggregated(prep, cells_per_metacell, seed=seed)
    edge_index = candidate_edges(prep, top_k)
    needed = _check_size(
        prep,
        edge_index,
        dev,
        heads=heads,
        hidden=hidden,
        cells_per_step=cells_per_step,
        mode="unsupervised",
        progress=prog,
    )
    config = {"hidden": hidden, "heads": heads, "epochs": epochs, "lr": lr, "combine": combine}
    if block_size is None and ex.distributed:
        block_size = CLUSTER_BLOCK_SIZE
    blocks = target_blocks(edge_index, block_size)
    prog(0.1, f"{len(blocks)} block{'s' if len(blocks) > 1 else ''} of targets on {ex.description}")
    with oom_guard("GRN inference", "Use fewer genes, a smaller top_k or run on the CPU."):
        fitted = _unsupervised(
            prep,
            edge_index,
            config,
            restarts=restarts,
            score=score,
            cells_per_step=cells_per_step,
            device=dev,
            seed=seed,
            progress=prog.span(0.1, 0.95),
            ex=ex,
            blocks=blocks,
            time_blend=time_blend,
            cells=cells,
        )
    settings = {
        "mode": "unsupervised",
        "score": score,
        "score_requested": score,
        "seed": seed,
        "epochs": epochs,
        "restarts": restarts,
        "heads": heads,
        "hidden": hidden,
        "lr": lr,
        "top_k": top_k,
        "combine": combine,
        # the columns given; how far they were trusted is in params["time_evidence"]
        "pseudotime": None
        if not pseudotime
        else (pseudotime.split(",") if isinstance(pseudotime, str) else list(pseudotime)),
    }
    placement = {
        "scheduler": ex.description,
        "block_size": int(block_size) if block_size is not None else None,
        "n_blocks": len(blocks),
    }
    run = _Run(view, ids, prep, prior_frame, edge_index, needed, dev)
    return _result(fitted, settings, placement, run, evidence=evidence, pairs=pairs, progress=prog)


def _run_supervised(
    adata,
    ex,
    *,
    genes,
    regulators,
    prior,
    epochs,
    device,
    seed,
    progress,
    hidden,
    heads,
    score,
    cells_per_metacell,
    lr,
    fractions,
    gene_symbols,
    pairs,
):
    """Learn links from the known edges (some held out for testing) and score every regulator-gene pair."""
    prog = progress
    dev = resolve_device(device)
    set_seed(seed)
    prog(0.0, "preparing expression")
    view, ids, prep, prior_frame = _prepare(
        adata,
        genes=genes,
        regulators=regulators,
        prior=prior,
        gene_symbols=gene_symbols,
        cells_per_metacell=1,
        seed=seed,
    )
    cells = prep  # the steady-state evidence reads single cells (omicsgat.grn.scores); the link predictor, metacells
    prep = aggregated(prep, cells_per_metacell, seed=seed)
    edge_index = candidate_edges(prep, None)
    needed = _check_size(
        prep, edge_index, dev, heads=heads, hidden=hidden, cells_per_step=0, mode="supervised", progress=prog
    )
    config = {"hidden": hidden, "heads": heads, "epochs": epochs, "lr": lr}
    with oom_guard("GRN inference", "Use fewer genes, a smaller top_k or run on the CPU."):
        fitted = _supervised(
            prep,
            prior_frame,
            edge_index,
            config,
            fractions=fractions,
            device=dev,
            seed=seed,
            progress=prog.span(0.1, 0.95),
            cells=cells,
        )
    settings = {
        "mode": "supervised",
        "score": "supervised_blend",
        "score_requested": score,
        "seed": seed,
        "epochs": epochs,
        "restarts": 1,
        "heads": heads,
        "hidden": hidden,
        "lr": lr,
        "top_k": None,
        "combine": None,
        "pseudotime": None,
    }
    placement = {"scheduler": ex.description, "block_size": None, "n_blocks": 1}
    run = _Run(view, ids, prep, prior_frame, edge_index, needed, dev)
    return _result(fitted, settings, placement, run, evidence=None, pairs=pairs, progress=prog)


@dataclass
class _Run:
    """What both runners hand to the shared result assembly: the data as prepared, the candidates, the device."""

    view: Any  # the data, genes named by symbol
    ids: Any  # how its genes are identified (omicsgat.io.genes)
    prep: Any  # the chosen genes' values (omicsgat.grn.prepare)
    prior_frame: Optional[pd.DataFrame]
    edge_index: np.ndarray
    needed: float  # estimated peak bytes
    device: Any


def _prepare(adata, *, genes, regulators, prior, gene_symbols, cells_per_metacell, seed):
    """The chosen genes' values (cells or metacells) and the prior, named by symbol where the data use IDs."""
    view, ids = symbol_view(adata, gene_symbols)
    prep, prior_frame = prepare(
        view,
        genes=genes,
        regulators=regulators,
        prior=prior,
        cells_per_metacell=cells_per_metacell,
        seed=seed,
        species=ids.species,
        lookup=lookup_table(view),
    )
    return view, ids, prep, prior_frame


def _check_size(prep, edge_index, dev, *, heads, hidden, cells_per_step, mode, progress) -> float:
    """Refuse a run with no candidate edge or one that does not fit the device; return its estimated bytes."""
    if edge_index.shape[1] == 0:
        raise OmicsInputError("There is no candidate edge: give at least one regulator and one other gene.")
    needed = estimate_bytes(
        prep.n_cells,
        len(prep.genes),
        prep.n_metacells,
        edge_index.shape[1],
        heads=heads,
        hidden=hidden,
        cells_per_step=cells_per_step,
        mode=mode,
    )
    check_fits(
        needed,
        dev,
        "GRN inference",
        "Use fewer genes (genes=...), a smaller top_k, larger metacells, or sub-sample the cells.",
    )
    progress(0.1, f"{len(prep.genes)} genes, {len(prep.regulators)} regulators, {edge_index.shape[1]} candidate edges")
    return needed


def _result(fitted, settings, placement, run: _Run, *, evidence, pairs, progress) -> GRNResult:
    """The ranked edges and hubs of a fitted run, with its parameters (settings, data, placement, run-specific)."""
    view, ids, prep, prior_frame, edge_index = run.view, run.ids, run.prep, run.prior_frame, run.edge_index
    frame, model, extra, frames = fitted
    progress(0.95, "ranking edges")
    frame = _finish_edges(frame, prep, edge_index, prior_frame)
    hubs = hub_table(frame, prep.genes, prep.regulators)
    if ids.symbol_column is not None:  # named by symbol; keep the data's own IDs beside them
        frame["regulator_id"] = id_column(frame["regulator"], view)
        frame["target_id"] = id_column(frame["target"], view)
        hubs["gene_id"] = id_column(hubs["gene"], view)
    params = {
        **settings,
        "n_cells": prep.n_cells,
        "n_metacells": prep.n_metacells,
        "n_genes": len(prep.genes),
        "n_regulators": len(prep.regulators),
        "n_candidate_edges": int(edge_index.shape[1]),
        "n_prior_edges": 0 if prior_frame is None else int(len(prior_frame)),
        "warnings": prep.warnings,
        "estimated_bytes": float(run.needed),
        "gene_ids": ids.describe(),
        "gene_symbols": ids.symbol_column,
        "species": ids.species,
        **placement,
        **extra,
    }
    params.setdefault("sign_source", "correlation (the model has no signed effect)")
    if evidence is not None:
        params["time_evidence"] = evidence
    result = GRNResult(
        frame, hubs, params, describe_device(run.device), list(prep.genes), list(prep.regulators), model, **frames
    )
    attach_pairs(result, pairs, progress=progress.span(0.96, 0.99))
    progress(1.0, "done")
    return result


STEADY_STATE_SCORE_NAMES = {
    "rank_mean": "attention + contribution rank mean",
    "attention": "mean attention",
    "contribution": "contribution (mean |gradient| of the reconstruction)",
    "conditional": "conditional dependence (per-target ridge on single cells, penalty by cross-validation)",
    "adaptive": "per target: attention + contribution rank mean where the target is nonlinear, else conditional "
    "dependence",
}
DIRECT_EFFECT_NAME = "pseudotime direct effect (ridge autoregression over windows)"


def _percentile(x: np.ndarray) -> np.ndarray:
    from scipy.stats import rankdata

    return rankdata(x) / max(len(x), 1)


def _unsupervised(
    prep,
    edge_index,
    config,
    *,
    restarts,
    score,
    cells_per_step,
    device,
    seed,
    progress,
    ex,
    blocks,
    time_blend=None,
    cells=None,
):
    """Fit the attention model on the (meta)cells and score edges.

    ``time_blend`` = (time evidence, per-cell values, pseudotime matrix): the direct lagged effect is computed on
    the single cells and mixed with the steady-state score by percentile rank, with the weight
    :func:`omicsgat.grn.pseudotime.decide_time_weight` gives (0: the run without a pseudotime). ``cells``:
    single-cell values for ``score="conditional"`` and ``"adaptive"`` (:mod:`omicsgat.grn.scores`).
    """
    from scipy.stats import rankdata

    values = rank_gauss(prep.raw)
    fit, edge_block = fit_blocks(
        values,
        edge_index,
        blocks,
        ex=ex,
        seed=seed,
        progress=progress,
        epochs=config["epochs"],
        hidden=config["hidden"],
        heads=config["heads"],
        restarts=restarts,
        lr=config["lr"],
        cells_per_step=cells_per_step,
        device=device,
        combine=config.get("combine", "linear"),
    )
    attention = fit.attention.mean(1)
    scores = {
        "contribution": fit.contribution,
        "attention": attention,
        "rank_mean": (rankdata(fit.contribution) + rankdata(attention)) / (2 * len(attention)),
    }
    conditional = None
    if score in ("conditional", "adaptive"):  # omicsgat.grn.scores; the model's own score: model_score
        cells = rank_gauss(cells)
        scores["conditional"], conditional_signed, conditional = conditional_dependence(cells, edge_index)
        if score == "adaptive":
            scores["adaptive"], use_model, conditional["per_target"] = adaptive_score(
                scores["conditional"], scores["rank_mean"], cells, edge_index
            )
            conditional_signed = np.where(use_model, fit.beta, conditional_signed)
    frame = pd.DataFrame(
        {
            "score": scores[score],
            "attention": attention,
            "contribution": fit.contribution,
            "coefficient": fit.beta,
        }
    )
    if conditional is not None:
        frame["model_score"] = scores["rank_mean"]
    # shown, not used in the score: how much of the target its candidates explain (comparable across targets)
    frame["target_r2"] = np.clip(np.asarray(fit.r2, dtype=float)[edge_index[1]], 0.0, 1.0)
    frame["signed_effect"] = fit.beta  # mean signed gradient of the reconstruction
    extra = {
        "score_name": STEADY_STATE_SCORE_NAMES[score],
        "sign_source": "model (mean signed gradient of the reconstruction)",
    }
    if conditional is not None:
        frame["signed_effect"] = conditional_signed
        extra.update(conditional_dependence=conditional, sign_source="model (signed ridge coefficient or gradient)")
    if time_blend is not None:
        evidence, per_cell, all_times = time_blend
        frame["direct_effect"], direct_signed = direct_effects(per_cell, all_times, edge_index=edge_index)
        evidence.update(decide_time_weight(evidence, frame["direct_effect"].to_numpy(), frame["score"].to_numpy()))
        progress(1.0, evidence["decision"])
        weight = evidence["weight"]
        if weight == 0.0:  # the edges are exactly the run without a pseudotime
            frame = frame.drop(columns="direct_effect")
        else:
            frame["steady_state_score"] = frame["score"]
            frame["score"] = (
                frame["direct_effect"]
                if weight == 1.0
                else weight * _percentile(frame["direct_effect"].to_numpy())
                + (1 - weight) * _percentile(frame["steady_state_score"].to_numpy())
            )
            if weight >= 0.5:  # the direct effect dominates the ranking: its sign is the edge's
                frame["signed_effect"] = direct_signed
                extra["sign_source"] = "model (signed pseudotime direct effect)"
            extra["score"] = "time_blend" if weight < 1.0 else "direct_effect"
            extra["score_name"] = (
                DIRECT_EFFECT_NAME
                if weight == 1.0
                else f"{weight:.2f} x {DIRECT_EFFECT_NAME} + {1 - weight:.2f} x "
                f"{STEADY_STATE_SCORE_NAMES[score]} (percentile ranks)"
            )
    for h in range(config["heads"]):
        frame[f"attention_head{h}"] = fit.attention[:, h]
    model = GRNModel(
        "unsupervised",
        list(prep.genes),
        list(prep.regulators),
        {**config, "restarts": restarts},
        edge_index,
        fit.states,
        edge_attr=fit.edge_attr,
        features=values if config.get("combine") == "mlp" else None,
        edge_block=edge_block,
    )
    extra.update({"reconstruction_r2_median": float(np.nanmedian(fit.r2)), "final_loss": fit.losses})
    return frame, model, extra, {}


#: the conditional score regresses each target on at most this many candidate regulators (largest |Spearman|), so a
#: supervised run over every gene pair stays one small ridge per target
SUPERVISED_CONDITIONAL_REGULATORS = 50
SUPERVISED_SCORE_NAME = (
    "supervised blend: {w:g} x link predictor (known edges) + {v:g} x conditional dependence (percentile ranks)"
)


def _supervised_evidence(cells, edge_index) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict]:
    """What the data say about every pair without the prior: the steady-state conditional-dependence score of
    :mod:`omicsgat.grn.scores` on the single cells, as a global percentile and as a rank within the target's
    regulators and within the regulator's targets (relative strength, not degree).

    Returns ((genes, genes, 3) evidence for the link predictor, the global percentile and the signed coefficient
    of every candidate edge, the score's record)."""
    from scipy.stats import rankdata

    n_genes = len(cells.genes)
    ridge_edges = candidate_edges(cells, SUPERVISED_CONDITIONAL_REGULATORS)
    score, signed, record = conditional_dependence(rank_gauss(cells.raw), ridge_edges)
    strength = np.zeros((n_genes, n_genes))
    coefficient = np.zeros((n_genes, n_genes))
    strength[ridge_edges[0], ridge_edges[1]] = score
    coefficient[ridge_edges[0], ridge_edges[1]] = signed
    src, dst = edge_index
    value = strength[src, dst]
    steady = rankdata(value) / max(len(value), 1)

    def within(groups):
        frame = pd.DataFrame({"g": groups, "v": value})
        return frame.groupby("g")["v"].rank(pct=True).to_numpy()

    evidence = np.zeros((n_genes, n_genes, 3), dtype=np.float32)
    evidence[src, dst] = np.stack([steady, within(dst), within(src)], axis=1)
    record["regulators_per_target"] = SUPERVISED_CONDITIONAL_REGULATORS
    return evidence, steady, coefficient[src, dst], record


def _supervised(prep, prior_frame, edge_index, config, *, fractions, device, seed, progress, cells):
    """Split the known edges, train the link predictor (at half the learning rate: it is less stable) on the
    data's own evidence plus the gene embeddings, and rank every pair by the blend of the learned and the
    steady-state score that predicts the held-out validation edges best."""
    from omicsgat.grn.model import PAIR_FEATURES

    idx = {g: i for i, g in enumerate(prep.genes)}
    candidates = set(map(tuple, edge_index.T.tolist()))
    known = {(idx[r], idx[t]) for r, t in zip(prior_frame["regulator"], prior_frame["target"])} & candidates
    if len(known) < 10:
        raise OmicsInputError(
            f"Supervised mode needs at least 10 prior edges between the selected regulators and genes; found {len(known)}. "
            "Give a larger prior, or more regulators/genes, or use mode='unsupervised'."
        )
    is_pos = np.array([(a, b) in known for a, b in edge_index.T.tolist()])
    split = split_edges(edge_index[:, is_pos], edge_index[:, ~is_pos], fractions, seed)
    split_of = {(a, b): s for a, b, s in zip(split["src"], split["dst"], split["split"])}
    evidence, steady, signed, conditional = _supervised_evidence(cells, edge_index)
    fit = fit_supervised(
        prep.expr,
        edge_index,
        split,
        epochs=config["epochs"],
        hidden=config["hidden"],
        heads=config["heads"],
        lr=config["lr"] * 0.5,
        device=device,
        seed=seed,
        progress=progress,
        evidence=evidence,
    )
    is_val = (split_flags := np.array([split_of[(a, b)] for a, b in edge_index.T.tolist()])) == "val"
    score, blend = blend_by_validation(fit.scores, steady, is_val, is_pos[is_val].astype(int), seed=seed)
    progress(1.0, f"supervised: weight {blend['weight_learned']:g} on the learned score: {blend['why']}")
    frame = pd.DataFrame({"score": score, "learned_score": fit.scores, "steady_state_score": steady})
    frame["signed_effect"] = signed
    with np.errstate(all="ignore"):  # pairs outside the training graph have no attention (NaN)
        frame["attention"] = np.where(
            np.isfinite(fit.attention).any(1), np.nan_to_num(fit.attention).sum(1) / config["heads"], np.nan
        )
    for h in range(config["heads"]):
        frame[f"attention_head{h}"] = fit.attention[:, h]
    frame["split"] = split_flags
    is_test = split_flags == "test"
    test_metrics = score_labels(is_pos[is_test].astype(int), score[is_test])
    model = GRNModel(
        "supervised",
        list(prep.genes),
        list(prep.regulators),
        {**config, "pair_features": PAIR_FEATURES + evidence.shape[-1]},
        edge_index,
        [fit.state],
        features=prep.expr,
        message_edges=fit.message_edges,
    )
    labels = split["label"].to_numpy()
    extra = {
        "test_metrics": test_metrics,
        # the same test pairs ranked without the prior: what the known edges added
        "test_metrics_steady_state": score_labels(is_pos[is_test].astype(int), steady[is_test]),
        "test_metrics_learned": score_labels(is_pos[is_test].astype(int), fit.scores[is_test]),
        "supervised_blend": blend,
        "conditional_dependence": conditional,
        "score_name": SUPERVISED_SCORE_NAME.format(w=blend["weight_learned"], v=1 - blend["weight_learned"]),
        "sign_source": "model (signed ridge coefficient of the conditional score)",
        "val_auprc": fit.val_auprc,
        "n_train_edges": int(((split["split"] == "train").to_numpy() & (labels == 1)).sum()),
        "n_test_edges": int(((split["split"] == "test").to_numpy() & (labels == 1)).sum()),
    }
    names = np.asarray(prep.genes, dtype=object)

    def named(pairs):
        return pd.DataFrame({"regulator": names[pairs[0]], "target": names[pairs[1]]})

    split_named = named(split[["src", "dst"]].to_numpy().T).assign(label=labels, split=split["split"].to_numpy())
    frames = {"split": split_named, "training_pairs": named(fit.loss_pairs), "message_edges": named(fit.message_edges)}
    return frame, model, extra, frames


def _finish_edges(scores: pd.DataFrame, prep, edge_index, prior_frame) -> pd.DataFrame:
    """Add names, sign (the model's signed effect where it has one, else the Pearson correlation on the
    (meta)cells), prior membership; sort and rank."""
    names = np.asarray(prep.genes, dtype=object)
    xc = (prep.raw - prep.raw.mean(0)) / np.maximum(prep.raw.std(0), 1e-6)
    corr = np.einsum("ce,ce->e", xc[:, edge_index[0]], xc[:, edge_index[1]]) / xc.shape[0]
    prior_keys = set(zip(prior_frame["regulator"], prior_frame["target"])) if prior_frame is not None else set()
    frame = pd.DataFrame(
        {"regulator": names[edge_index[0]], "target": names[edge_index[1]], "score": scores["score"].to_numpy()}
    )
    signed = scores["signed_effect"].to_numpy(dtype=float) if "signed_effect" in scores else np.zeros(len(corr))
    signed = np.nan_to_num(signed)
    frame["sign"] = np.where(signed != 0, np.sign(signed), np.where(corr >= 0, 1, -1)).astype(int)
    frame["correlation"] = corr
    frame["in_prior"] = [k in prior_keys for k in zip(frame["regulator"], frame["target"])]
    frame = pd.concat([frame, scores.drop(columns="score").reset_index(drop=True)], axis=1)
    frame = frame.sort_values(
        ["score", "regulator", "target"], ascending=[False, True, True], kind="mergesort"
    ).reset_index(drop=True)
    frame.insert(3, "rank", np.arange(1, len(frame) + 1))
    return frame
