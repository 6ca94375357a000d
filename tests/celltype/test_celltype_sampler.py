"""The pure-NumPy neighbour sampler and the chunked inference built on it."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from omicsgat.celltype.sampler import sample_subgraph


def _random_graph(n=200, k=6, seed=0):
    rng = np.random.default_rng(seed)
    rows = np.repeat(np.arange(n), k)
    cols = rng.integers(0, n, size=n * k)
    A = sp.csr_matrix((np.ones(n * k), (rows, cols)), shape=(n, n))
    A = ((A + A.T) > 0).astype(np.float32).tocsr()
    A.setdiag(0)
    A.eliminate_zeros()
    A.sort_indices()
    return A


@pytest.mark.parametrize("fanouts", [(3, 2), (-1,), (-1, -1), (1, 1, 1)])
def test_subgraph_edges_join_sampled_nodes_and_exist(fanouts):
    A = _random_graph()
    seeds = np.array([5, 17, 3, 150])
    sub = sample_subgraph(A.indptr, A.indices, seeds, fanouts, np.random.default_rng(1))
    assert sub.n_seeds == 4
    assert np.array_equal(sub.nodes[:4], seeds)  # seeds first, in order
    assert len(np.unique(sub.nodes)) == len(sub.nodes)
    ei = sub.edge_index
    assert ei.min() >= 0 and ei.max() < len(sub.nodes)  # only among sampled nodes
    src, dst = sub.nodes[ei[0]], sub.nodes[ei[1]]
    assert A[dst, src].A1.all()  # every edge is a real edge of the graph
    assert len(set(zip(ei[0], ei[1]))) == ei.shape[1]  # no duplicates
    # each seed gets at most fanouts[0] sampled neighbours (all of them with -1)
    for i, s in enumerate(seeds):
        n_in = int((ei[1] == i).sum())
        deg = A.indptr[s + 1] - A.indptr[s]
        assert n_in == (deg if fanouts[0] < 0 else min(deg, fanouts[0]))


def test_full_one_hop_is_the_exact_neighbourhood():
    A = _random_graph(n=50, k=3, seed=2)
    seeds = np.arange(10)
    sub = sample_subgraph(A.indptr, A.indices, seeds, [-1])
    expected = set(np.unique(np.concatenate([A.indices[A.indptr[s] : A.indptr[s + 1]] for s in seeds])).tolist()) | set(
        seeds.tolist()
    )
    assert set(sub.nodes.tolist()) == expected


def test_chunked_layerwise_inference_equals_a_full_graph_pass():
    import torch

    from omicsgat.celltype.model import CellTypeGAT
    from omicsgat.celltype.train import infer_logits

    torch.manual_seed(0)
    A = _random_graph(n=120, k=4, seed=3)
    z = np.random.default_rng(0).normal(size=(120, 30)).astype(np.float32)
    net = CellTypeGAT(30, 4, hidden=8, heads=2).eval()
    with torch.no_grad():
        coo = A.tocoo()
        full = net(torch.from_numpy(z), torch.tensor(np.stack([coo.col, coo.row]), dtype=torch.long))
        h = net.encode(torch.from_numpy(z))
    chunked = infer_logits(net, h, A.indptr.astype(np.int64), A.indices.astype(np.int64), torch.device("cpu"), chunk=17)
    assert torch.allclose(full, chunked, atol=1e-5)


def test_trimmed_layers_on_a_full_two_hop_subgraph_equal_the_full_graph():
    import torch

    from omicsgat.celltype.model import CellTypeGAT

    torch.manual_seed(1)
    A = _random_graph(n=150, k=4, seed=4)
    z = torch.from_numpy(np.random.default_rng(1).normal(size=(150, 20)).astype(np.float32))
    net = CellTypeGAT(20, 3, hidden=8, heads=2).eval()
    seeds = np.array([3, 77, 120, 9])
    sub = sample_subgraph(A.indptr, A.indices, seeds, [-1, -1])
    assert sub.sizes[0] == 4 and sub.sizes[-1] == len(sub.nodes)
    with torch.no_grad():
        coo = A.tocoo()
        full = net(z, torch.tensor(np.stack([coo.col, coo.row]), dtype=torch.long))[seeds]
        h = net.encode(z[torch.from_numpy(sub.nodes)])
        trimmed = net.propagate(h, torch.from_numpy(sub.edge_index), sub.n_seeds, sub.sizes)
    assert torch.allclose(full, trimmed, atol=1e-5)
