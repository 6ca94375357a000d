"""``infer_grn``: the user-facing GRN analysis."""

from __future__ import annotations

from pathlib import Path
from typing import Optional, Sequence

import numpy as np
import pandas as pd

from omicsgat.compute import one_thread
from omicsgat.defaults import GRN as _D
from omicsgat.errors import OmicsInputError
from omicsgat.grn.pairs import attach_pairs, check_pairs_request
from omicsgat.progress import as_progress
from omicsgat.random import random_state_restored
from omicsgat.threads import with_thread_budget

MODES = ("unsupervised", "supervised")
COMBINES = ("mlp", "linear")
SCORES = ("rank_mean", "contribution", "attention", "conditional", "adaptive")


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
    score: str = "rank_mean",
    cells_per_metacell: int = 5,
    cells_per_step: int = 256,
    lr: float = 0.05,
    val_fraction: float = 0.2,
    test_fraction: float = 0.2,
    transform: str = "rank",
    combine: str = "mlp",
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
        input); edges are scored by the regulator's learned contribution
        (``score="contribution"``, mean |gradient of the reconstruction|,
        best on continuous simulated networks), by the mean attention
        (``score="attention"``, best on Boolean networks), or by the mean of
        the two scores' percentile ranks (``score="rank_mean"``, the default:
        never the worst of the two), averaged over ``restarts``.
        ``"supervised"``: GENELink-style link prediction; the prior edges
        are split into train/val/test (``val_fraction``, ``test_fraction``),
        test edges never enter the graph or the loss; metrics on the test
        split are in ``params["test_metrics"]``.
    combine
        How the unsupervised model turns its attention heads into the
        reconstruction of a target: ``"mlp"`` (default) adds a small
        per-target MLP over the heads to their weighted sum, so that AND / NOT
        combinations of regulators are representable (better on the Boolean
        krumsiek11 network and on the simulated benchmark); the contribution is
        then the mean |gradient| of the reconstruction over the (meta)cells.
        ``"linear"``: the weighted sum alone (the earlier default; its
        contribution is |sum_h w_h alpha_h|, the same in every cell).
    top_k
        Keep, for each target, the ``top_k`` regulators with the largest
        |Spearman| correlation as candidate edges (``None``: all regulators).
    transform
        ``"rank"`` (default): each gene's (meta)cell values are replaced by the
        normal quantiles of their ranks before reconstruction (robust to
        outliers and to monotone nonlinear responses; ranks clearly better on
        the simulated benchmark); ``"zscore"``: plain standardised values.
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
        Unsupervised mode only. Each trajectory is first judged on held-out
        windows (:func:`omicsgat.grn.pseudotime.time_evidence`): where other genes'
        present values do not predict most genes' changes, the trajectory is not
        trusted; with none trusted the run is the one without a pseudotime, with
        some the score mixes both by the trusted cells' share (recorded in
        ``params["time_evidence"]``). On trusted trajectories: cells are averaged in
        windows ordered by pseudotime, each window paired with later ones; edges are ranked by the
        direct lagged effect of a regulator now on its target later (a ridge
        vector autoregression over the windows, conditional on every gene's
        present value), which orients edges that correlation cannot; the
        attention model, trained to reconstruct targets later from regulators
        now, reports its own score as ``model_score``; see
        :mod:`omicsgat.grn.pseudotime`.
    pairs
        Which regulators act together (:mod:`omicsgat.grn.pairs`): ``True`` fills ``result.pairs``, ``False``
        skips it, ``"auto"`` (default) fills it for unsupervised MLP runs up to a size where it stays cheap; what
        was done and why is in ``params["pairs"]``.

    Returns
    -------
    GRNResult
    """
    from omicsgat.compute import executor

    if mode not in MODES:
        raise OmicsInputError(f"Unknown GRN mode {mode!r}: use 'unsupervised' or 'supervised'.")
    if transform not in ("rank", "zscore"):
        raise OmicsInputError(f"Unknown transform {transform!r}: use 'rank' or 'zscore'.")
    if combine not in COMBINES:
        raise OmicsInputError(f"Unknown head combination {combine!r}: use 'mlp' or 'linear'.")
    if score not in SCORES:
        raise OmicsInputError(f"Unknown edge score {score!r}: use {', '.join(map(repr, SCORES))}.")
    if int(epochs) < 1 or int(restarts) < 1:
        raise OmicsInputError("epochs and restarts must be at least 1.")
    if mode == "supervised" and prior is None:
        raise OmicsInputError(
            "Supervised mode learns from known edges: give a prior network (regulator, target columns)."
        )
    check_pairs_request(pairs, mode, combine)
    if block_size is not None and int(block_size) < 1:
        raise OmicsInputError(f"block_size (targets per block) must be at least 1, got {block_size}.")
    with executor(scheduler if mode == "unsupervised" else None) as ex:  # a bad address fails here, before any work
        return _infer(
            adata,
            ex,
            genes=genes,
            regulators=regulators,
            prior=prior,
            mode=mode,
            epochs=epochs,
            device=device,
            seed=seed,
            progress=as_progress(progress, cancel),
            top_k=top_k,
            restarts=restarts,
            hidden=hidden,
            heads=heads,
            score=score,
            cells_per_metacell=cells_per_metacell,
            cells_per_step=cells_per_step,
            lr=lr,
            val_fraction=val_fraction,
            test_fraction=test_fraction,
            transform=transform,
            combine=combine,
            gene_symbols=gene_symbols,
            block_size=block_size,
            pseudotime=pseudotime,
            pairs=pairs,
        )


def _infer(
    adata,
    ex,
    *,
    genes,
    regulators,
    prior,
    mode,
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
    val_fraction,
    test_fraction,
    transform,
    combine,
    gene_symbols,
    block_size,
    pseudotime,
    pairs,
):
    from omicsgat.device import describe_device, resolve_device
    from omicsgat.grn.blocks import CLUSTER_BLOCK_SIZE, target_blocks
    from omicsgat.grn.prepare import aggregated, candidate_edges, prepare
    from omicsgat.grn.result import GRNResult, hub_table
    from omicsgat.io.genes import id_column, lookup_table, symbol_view
    from omicsgat.random import set_seed
    from omicsgat.resources import check_fits, oom_guard

    prog = progress
    times = None
    if pseudotime is not None:
        from omicsgat.grn.pseudotime import pseudotime_matrix

        if mode != "unsupervised":
            raise OmicsInputError(
                "Pseudotime is used by the unsupervised mode only; leave it out for mode='supervised'."
            )
        times = pseudotime_matrix(adata, pseudotime)
    dev = resolve_device(device)
    set_seed(seed)
    prog(0.0, "preparing expression")

    view, ids = symbol_view(adata, gene_symbols)
    prep, prior_frame = prepare(
        view,
        genes=genes,
        regulators=regulators,
        prior=prior,
        cells_per_metacell=1,
        seed=seed,
        species=ids.species,
        lookup=lookup_table(view),
    )
    # the conditional score (omicsgat.grn.scores) reads single cells; the model reads the metacells below
    cells = prep.raw if score in ("conditional", "adaptive") and mode == "unsupervised" else None
    if times is None:
        prep = aggregated(prep, cells_per_metacell, seed=seed)
    evidence, time_blend = None, None
    if times is not None:  # how much the time ordering is trusted is decided on held-out windows of these cells
        from omicsgat.grn.pseudotime import time_evidence

        evidence = time_evidence(prep.raw, times)
        prog(0.05, evidence["decision"])
        if evidence["weight"] < 1.0:  # the steady-state model on metacells, as without a pseudotime
            if evidence["trusted"]:
                time_blend = (evidence["weight"], prep.raw, times[:, evidence["trusted"]])
            prep, times = aggregated(prep, cells_per_metacell, seed=seed), None
    if mode == "supervised":
        edge_index = candidate_edges(prep, None)
    else:
        edge_index = candidate_edges(prep, top_k)
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
    prog(0.1, f"{len(prep.genes)} genes, {len(prep.regulators)} regulators, {edge_index.shape[1]} candidate edges")
    config = {"hidden": hidden, "heads": heads, "epochs": int(epochs), "lr": lr, "transform": transform}
    if mode == "unsupervised":
        config["combine"] = combine
    if block_size is None and ex.distributed:
        block_size = CLUSTER_BLOCK_SIZE
    blocks = target_blocks(edge_index, block_size) if mode == "unsupervised" else []
    if mode == "unsupervised":
        prog(0.1, f"{len(blocks)} block{'s' if len(blocks) > 1 else ''} of targets on {ex.description}")
    with oom_guard("GRN inference", "Use fewer genes, a smaller top_k or run on the CPU."):
        if mode == "unsupervised":
            frame, model, extra, frames = _unsupervised(
                prep,
                edge_index,
                config,
                restarts=int(restarts),
                score=score,
                cells_per_step=cells_per_step,
                device=dev,
                seed=seed,
                progress=prog.span(0.1, 0.95),
                ex=ex,
                blocks=blocks,
                times=times,
                time_blend=time_blend,
                cells=cells,
            )
        else:
            frame, model, extra, frames = _supervised(
                prep,
                prior_frame,
                edge_index,
                config,
                fractions=(val_fraction, test_fraction),
                device=dev,
                seed=seed,
                progress=prog.span(0.1, 0.95),
            )
    prog(0.95, "ranking edges")
    frame = _finish_edges(frame, prep, edge_index, prior_frame)
    hubs = hub_table(frame, prep.genes, prep.regulators)
    if ids.symbol_column is not None:  # named by symbol; keep the data's own IDs beside them
        frame["regulator_id"] = id_column(frame["regulator"], view)
        frame["target_id"] = id_column(frame["target"], view)
        hubs["gene_id"] = id_column(hubs["gene"], view)
    params = {
        "mode": mode,
        "score": ("direct_effect" if times is not None else score) if mode == "unsupervised" else "probability",
        "score_requested": score,
        "seed": seed,
        "epochs": int(epochs),
        "restarts": int(restarts) if mode == "unsupervised" else 1,
        "heads": heads,
        "hidden": hidden,
        "lr": lr,
        "top_k": top_k if mode == "unsupervised" else None,
        "transform": transform if mode == "unsupervised" else None,
        "combine": combine if mode == "unsupervised" else None,
        # the columns given; how far they were trusted is in params["time_evidence"]
        "pseudotime": None
        if not pseudotime
        else (pseudotime.split(",") if isinstance(pseudotime, str) else list(pseudotime)),
        "n_cells": prep.n_cells,
        "n_metacells": prep.n_metacells,
        "n_genes": len(prep.genes),
        "n_regulators": len(prep.regulators),
        "n_candidate_edges": int(edge_index.shape[1]),
        "n_prior_edges": 0 if prior_frame is None else int(len(prior_frame)),
        "warnings": prep.warnings,
        "estimated_bytes": float(needed),
        "gene_ids": ids.describe(),
        "gene_symbols": ids.symbol_column,
        "species": ids.species,
        "scheduler": ex.description,
        "block_size": int(block_size) if block_size is not None and mode == "unsupervised" else None,
        "n_blocks": len(blocks) if mode == "unsupervised" else 1,
        **extra,
    }
    params.setdefault("sign_source", "correlation (the model has no signed effect)")
    if evidence is not None:
        params["time_evidence"] = evidence
    result = GRNResult(
        frame, hubs, params, describe_device(dev), list(prep.genes), list(prep.regulators), model, **frames
    )
    attach_pairs(result, pairs, progress=prog.span(0.96, 0.99))
    prog(1.0, "done")
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
    times=None,
    time_blend=None,
    cells=None,
):
    """Fit the attention model and score edges.

    ``times``: the time-aware path (the model reconstructs targets a lag later; edges ranked by the direct
    lagged effect). ``time_blend`` = (weight, per-cell values, trusted trajectories' pseudotime): the steady-state
    model's score and the direct effect on the trusted trajectories, mixed by percentile rank. ``cells``: single-cell
    values for ``score="conditional"`` (:mod:`omicsgat.grn.scores`).
    """
    from scipy.stats import rankdata

    from omicsgat.grn.blocks import fit_blocks
    from omicsgat.grn.persist import GRNModel
    from omicsgat.grn.prepare import rank_gauss

    targets, direct = None, None
    if times is not None:  # regulators' windows now -> targets' windows a lag later (omicsgat.grn.pseudotime)
        from omicsgat.grn.pseudotime import direct_effects, lagged_pairs

        direct = direct_effects(prep.raw, times, edge_index=edge_index)

        inputs, later = lagged_pairs(prep.raw, times)
        both = np.concatenate([inputs, later])
        both = (
            rank_gauss(both) if config["transform"] == "rank" else (both - both.mean(0)) / np.maximum(both.std(0), 1e-6)
        )
        values, targets = both[: len(inputs)], both[len(inputs) :]
    else:
        values = rank_gauss(prep.raw) if config["transform"] == "rank" else prep.expr
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
        targets=targets,
        **({} if direct is None else {"edge_prior": direct}),
    )
    attention = fit.attention.mean(1)
    scores = {
        "contribution": fit.contribution,
        "attention": attention,
        "rank_mean": (rankdata(fit.contribution) + rankdata(attention)) / (2 * len(attention)),
    }
    conditional = None
    if score in ("conditional", "adaptive") and times is None:  # omicsgat.grn.scores; the model's own: model_score
        from omicsgat.grn.scores import adaptive_score, conditional_dependence, linear_r2

        standardised = (
            rank_gauss(cells)
            if config["transform"] == "rank"
            else (cells - cells.mean(0)) / np.maximum(cells.std(0), 1e-6)
        )
        scores["conditional"], conditional_signed, conditional = conditional_dependence(standardised, edge_index)
        if score == "adaptive":
            linear = linear_r2(values, edge_index)
            scores["adaptive"], use_model, conditional["per_target"] = adaptive_score(
                scores["conditional"], scores["rank_mean"], np.asarray(fit.r2, dtype=float), linear, edge_index
            )
            conditional_signed = np.where(use_model, fit.beta, conditional_signed)
    frame = pd.DataFrame(
        {
            "score": scores.get(score, scores["rank_mean"]),  # with a pseudotime the direct effect replaces it
            "attention": attention,
            "contribution": fit.contribution,
            "coefficient": fit.beta,
        }
    )
    if conditional is not None:
        frame["model_score"] = scores["rank_mean"]
    if times is not None:
        from omicsgat.grn.pseudotime import rank_by_direct_effect, weigh_by_explained

        frame = rank_by_direct_effect(weigh_by_explained(frame, fit.r2, edge_index), direct)
    else:  # shown, not used in the score: how much of the target its candidates explain (comparable across targets)
        frame["target_r2"] = np.clip(np.asarray(fit.r2, dtype=float)[edge_index[1]], 0.0, 1.0)
    frame["signed_effect"] = fit.beta  # mean signed gradient of the reconstruction
    extra = {
        "score_name": STEADY_STATE_SCORE_NAMES[score],
        "sign_source": "model (mean signed gradient of the reconstruction)",
    }
    if conditional is not None:
        frame["signed_effect"] = conditional_signed
        extra.update(conditional_dependence=conditional, sign_source="model (signed ridge coefficient or gradient)")
    if times is not None:
        frame["signed_effect"] = direct_effects(prep.raw, times, edge_index=edge_index, signed=True)
        extra = {"score_name": DIRECT_EFFECT_NAME, "sign_source": "model (signed pseudotime direct effect)"}
    elif time_blend is not None:
        from omicsgat.grn.pseudotime import direct_effects

        weight, per_cell, trusted_times = time_blend
        frame["steady_state_score"] = frame["score"]
        frame["direct_effect"] = direct_effects(per_cell, trusted_times, edge_index=edge_index)
        frame["score"] = weight * _percentile(frame["direct_effect"].to_numpy()) + (1 - weight) * _percentile(
            frame["steady_state_score"].to_numpy()
        )
        extra["score"] = "time_blend"
        extra["score_name"] = (
            f"{weight:.2f} x {DIRECT_EFFECT_NAME} + {1 - weight:.2f} x "
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


def _supervised(prep, prior_frame, edge_index, config, *, fractions, device, seed, progress):
    """Split the known edges, train the link predictor (at half the learning rate: it is less stable), score every pair."""
    from omicsgat.grn.persist import GRNModel
    from omicsgat.grn.train import fit_supervised, split_edges
    from omicsgat.metrics.grn import score_labels

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
    )
    frame = pd.DataFrame({"score": fit.scores})
    with np.errstate(all="ignore"):  # pairs outside the training graph have no attention (NaN)
        frame["attention"] = np.where(
            np.isfinite(fit.attention).any(1), np.nan_to_num(fit.attention).sum(1) / config["heads"], np.nan
        )
    for h in range(config["heads"]):
        frame[f"attention_head{h}"] = fit.attention[:, h]
    split_of = {(a, b): s for a, b, s in zip(split["src"], split["dst"], split["split"])}
    frame["split"] = [split_of[(a, b)] for a, b in edge_index.T.tolist()]
    test = split[split["split"] == "test"]
    score_of = dict(zip(map(tuple, edge_index.T.tolist()), fit.scores))
    test_metrics = score_labels(
        test["label"].to_numpy(), np.array([score_of[(a, b)] for a, b in zip(test["src"], test["dst"])])
    )
    model = GRNModel(
        "supervised",
        list(prep.genes),
        list(prep.regulators),
        config,
        edge_index,
        [fit.state],
        features=prep.expr,
        message_edges=fit.message_edges,
    )
    labels = split["label"].to_numpy()
    extra = {
        "test_metrics": test_metrics,
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
