"""Pure-NumPy neighbour sampling, so training never needs the whole cell graph on the device.

PyG's ``NeighborLoader`` needs the compiled ``pyg-lib`` or ``torch-sparse``,
which do not install from the package registry on every platform. This is the
small part of it we need: from a CSR adjacency, take seed cells, sample up to
``k`` neighbours per hop, and return the subgraph with the seeds first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, Optional, Sequence

import numpy as np


@dataclass
class Subgraph:
    nodes: np.ndarray  # global ids; nodes[:n_seeds] are the seeds, in order
    edge_index: np.ndarray  # 2 x E local ids, row 0 = source (neighbour), row 1 = target
    n_seeds: int
    sizes: tuple = ()  # cumulative node counts: seeds, seeds + hop 1, ... (nodes are ordered by hop)


def _sample_rows(
    indptr, indices, rows: np.ndarray, k: int, rng: Optional[np.random.Generator]
) -> tuple[np.ndarray, np.ndarray]:
    """(target, neighbour) pairs: up to ``k`` random neighbours of each row (all when ``k < 0``)."""
    starts, ends = indptr[rows], indptr[rows + 1]
    deg = ends - starts
    total = int(deg.sum())
    if total == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    owner = np.repeat(np.arange(len(rows)), deg)
    offsets = np.arange(total) - np.repeat(np.cumsum(deg) - deg, deg)
    pos = np.repeat(starts, deg) + offsets
    if k >= 0 and (deg > k).any():
        keys = rng.random(total) if rng is not None else offsets.astype(float)
        order = np.lexsort((keys, owner))  # random order within each row
        rank = np.empty(total, np.int64)
        rank[order] = np.arange(total) - np.repeat(np.cumsum(deg) - deg, deg)
        keep = rank < k
        owner, pos = owner[keep], pos[keep]
    return rows[owner], indices[pos]


def sample_subgraph(
    indptr: np.ndarray,
    indices: np.ndarray,
    seeds: np.ndarray,
    fanouts: Sequence[int],
    rng: Optional[np.random.Generator] = None,
) -> Subgraph:
    """The ``len(fanouts)``-hop sampled neighbourhood of ``seeds``.

    Hop ``h`` takes up to ``fanouts[h]`` neighbours (``-1`` = all) of the cells
    reached at hop ``h - 1``; edges point from neighbour to the cell that drew
    it, so messages flow towards the seeds. Every edge joins two sampled nodes.
    """
    seeds = np.asarray(seeds, dtype=np.int64)
    nodes = [seeds]
    frontier = seeds
    src_all, dst_all = [], []
    for k in fanouts:
        if frontier.size == 0:
            break
        dst, src = _sample_rows(indptr, indices, frontier, int(k), rng)
        src_all.append(src)
        dst_all.append(dst)
        new = np.setdiff1d(src, np.concatenate(nodes))
        nodes.append(new)
        frontier = new
    hops = nodes
    nodes = np.concatenate(hops)
    src = np.concatenate(src_all) if src_all else np.empty(0, np.int64)
    dst = np.concatenate(dst_all) if dst_all else np.empty(0, np.int64)
    order = np.argsort(nodes, kind="stable")
    local = order[np.searchsorted(nodes[order], np.stack([src, dst]))]
    # one message per (neighbour, target) pair even when a pair was drawn at two hops
    key = np.unique(local[0] * len(nodes) + local[1])
    edge_index = np.stack([key // len(nodes), key % len(nodes)]).astype(np.int64)
    sizes = tuple(int(x) for x in np.cumsum([len(n) for n in hops]))
    return Subgraph(nodes=nodes, edge_index=edge_index, n_seeds=len(seeds), sizes=sizes)


def batches(cells: np.ndarray, batch_size: int, rng: Optional[np.random.Generator]) -> Iterator[np.ndarray]:
    """Seed batches over ``cells``, shuffled when ``rng`` is given."""
    cells = np.asarray(cells, dtype=np.int64)
    if rng is not None:
        cells = cells[rng.permutation(len(cells))]
    for start in range(0, len(cells), batch_size):
        yield cells[start : start + batch_size]
