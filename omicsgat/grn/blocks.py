"""Target blocks: the unsupervised GRN fit cut into pieces that train independently (in-process or on Dask workers).

Every target is reconstructed from its own candidate regulators, so the targets can be split into blocks that
each train a model of their own on the same metacells and regulators; the edge scores of the blocks are then
put side by side. The blocks are contiguous runs of target indices (balanced, at most ``block_size`` targets
each) and block ``j`` trains with seed ``seed + BLOCK_SEED_STEP * j``: both depend on the data, ``block_size`` and
the seed only, never on how many workers there are, so a run gives the same edges in-process, with one worker or
with eight. One block is exactly the unblocked fit (block 0 keeps ``seed``).

What differs from one joint fit: the blocks do not share the learned regulator embeddings and attention weights
(each block learns its own from its targets), so blocked and unblocked runs give slightly different scores.
"""

from __future__ import annotations

import math
from typing import Optional

import numpy as np

from omicsgat.compute import one_thread
from omicsgat.grn.train import UnsupervisedFit, fit_unsupervised
from omicsgat.progress import as_progress

#: Targets per block when a Dask scheduler is given and ``block_size`` is not.
CLUSTER_BLOCK_SIZE = 500
BLOCK_SEED_STEP = 100_003


def target_blocks(edge_index: np.ndarray, block_size: Optional[int]) -> list[np.ndarray]:
    """Balanced contiguous blocks of the targets that have candidate edges (``None``: one block)."""
    targets = np.unique(edge_index[1])
    if block_size is None or block_size >= len(targets):
        return [targets]
    n_blocks = math.ceil(len(targets) / int(block_size))
    return [b for b in np.array_split(targets, n_blocks) if len(b)]


def block_seed(seed: int, block: int) -> int:
    return int(seed) + BLOCK_SEED_STEP * int(block)


def fit_block(
    targets: np.ndarray, seed: int, *, values, edge_index, fit_kwargs, single_thread: bool = True, progress=None
):
    """One block's fit (a task): only the candidate edges into ``targets`` are trained and scored.

    With ``single_thread`` (every blocked fit) the whole fit runs on one thread (:func:`omicsgat.compute.one_thread`),
    so a block gives the same numbers in-process and on any worker; one block alone keeps the caller's thread pool.
    """
    import contextlib

    mask = np.isin(edge_index[1], targets)
    with one_thread() if single_thread else contextlib.nullcontext():
        fit = fit_unsupervised(values, edge_index[:, mask], seed=seed, progress=as_progress(progress), **fit_kwargs)
    return mask, fit


def fit_blocks(values: np.ndarray, edge_index: np.ndarray, blocks: list, *, ex, seed: int, progress, **fit_kwargs):
    """Fit every block with ``ex`` (an :class:`omicsgat.compute.Executor`) and merge them into one fit.

    Returns the merged :class:`~omicsgat.grn.train.UnsupervisedFit` (states of block 0, then block 1, ...) and
    the block of each candidate edge.
    """
    shared = {
        "values": ex.scatter(values),
        "edge_index": ex.scatter(edge_index),
        "fit_kwargs": fit_kwargs,
        "single_thread": len(blocks) > 1,
    }
    tasks = [(targets, block_seed(seed, j)) for j, targets in enumerate(blocks)]
    fits = ex.map(fit_block, tasks, shared=shared, progress=progress, label="GRN block", inner_progress=True)
    if len(fits) == 1:  # exactly the unblocked fit
        return fits[0][1], None
    n_edges, n_genes, heads = edge_index.shape[1], values.shape[1], fits[0][1].attention.shape[1]
    merged = UnsupervisedFit(
        np.zeros((n_edges, heads)), np.zeros(n_edges), np.zeros(n_edges), np.full(n_genes, np.nan), edge_attr=None
    )
    edge_block = np.zeros(n_edges, dtype=np.int64)
    attrs = np.zeros((n_edges, fits[0][1].edge_attr.shape[1]), dtype=np.float32)
    for j, ((mask, fit), targets) in enumerate(zip(fits, blocks)):
        merged.attention[mask] = fit.attention
        merged.contribution[mask] = fit.contribution
        merged.beta[mask] = fit.beta
        merged.r2[targets] = fit.r2[targets]
        merged.states += fit.states
        merged.losses += fit.losses
        attrs[mask] = fit.edge_attr[: int(mask.sum())]
        edge_block[mask] = j
    merged.edge_attr = np.concatenate([attrs, np.zeros((n_genes, attrs.shape[1]), dtype=np.float32)])
    return merged, edge_block
