"""Reference mapping: the query placed in the reference's space before any label or Unknown call.

A query from another lab differs from the reference in ways that are not biology: depth, chemistry,
donors, a different mix of types. Standardising each data set on itself removes the first ones but moves
every gene with the query's composition (a large type the reference lacks shifts every gene's mean, and so
every known cell). :func:`map_query` instead shifts the query onto the reference gene by gene, by the
median difference over mutual-nearest-neighbour pairs (Haghverdi et al. 2018), so cells without a partner
(types one side lacks) do not vote; the query is then scaled with the reference's own means and SDs and
projected on the reference's own principal components, so nothing about the query moves the reference's
space. The network is trained and applied on that mapped expression, and the distance (mapping) test of
:mod:`omicsgat.celltype.novelty` runs in the reference's PCs. Why not Harmony on a joint PCA: docs/celltype.md.

Also the graph helpers the mapping, the network and the Unknown tests share.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

CLIP = 10.0


@dataclass
class Mapping:
    """Reference and query in the reference's scale and PCA."""

    ref_z: np.ndarray  # reference cells x genes, z-scored with the reference's moments (float32)
    query_z: np.ndarray  # query cells x genes, shifted onto the reference, then the same z-score (float32)
    ref_space: np.ndarray  # reference cells x PCs, the reference's own PCA
    query_space: np.ndarray  # query cells x PCs, projected on the reference's PCs
    shift: np.ndarray  # per-gene shift of the query (log scale)
    info: dict = field(default_factory=dict)


def _zscore(x: np.ndarray, mean: np.ndarray, sd: np.ndarray) -> np.ndarray:
    return np.clip((x - mean) / sd, -CLIP, CLIP).astype(np.float32)


def map_query(
    ref_log: np.ndarray, query_log: np.ndarray, n_pcs: int = 30, k: int = 20, seed: int = 0, rounds: int = 3
) -> Mapping:
    """The query shifted onto the reference gene by gene over MNN pairs, in the reference's scale and PCs.

    Pairs are found first with each data set centred on itself, then (``rounds`` times) in the shifted space.
    """
    from sklearn.decomposition import PCA

    m_r, s_r = ref_log.mean(0), ref_log.std(0)
    s_r[s_r == 0] = 1.0
    m_q, s_q = query_log.mean(0), query_log.std(0)
    s_q[s_q == 0] = 1.0
    n = int(min(n_pcs, min(ref_log.shape) - 1))
    ref_z = _zscore(ref_log, m_r, s_r)
    pca = PCA(n_components=n, random_state=seed).fit(ref_z)
    ref_space = pca.transform(ref_z).astype(np.float32)
    query_space = pca.transform(_zscore(query_log, m_q, s_q))  # round 0: each data set centred on itself
    shift = m_q - m_r
    n_pairs = 0
    for _ in range(rounds):  # pairs, then the shift they imply, then pairs again in the shifted space
        ri, qi = mnn_pairs(ref_space, query_space, k)
        if ri.size < 10:
            break
        n_pairs = int(ri.size)
        shift = np.median(query_log[qi] - ref_log[ri], axis=0)
        query_space = pca.transform(_zscore(query_log - shift, m_r, s_r))
    query_z = _zscore(query_log - shift, m_r, s_r)
    how = "MNN gene shift onto the reference" if n_pairs else "each data set centred on itself (no MNN pairs)"
    info = {"mapping": how, "n_mnn_pairs": n_pairs, "n_mapped_pcs": n}
    if not n_pairs:  # nothing paired: fall back to each data set on its own scale
        query_z = _zscore(query_log, m_q, s_q)
    return Mapping(ref_z, query_z, ref_space, query_space.astype(np.float32), shift, info)


def aligned_space(
    ref_log: np.ndarray, query_log: np.ndarray, n_pcs: int = 30, k: int = 20, seed: int = 0, rounds: int = 3
) -> tuple[np.ndarray, np.ndarray, dict]:
    """(reference, query) in the reference's PCs after :func:`map_query`, and its info."""
    m = map_query(ref_log, query_log, n_pcs, k, seed, rounds)
    return m.ref_space, m.query_space, m.info


def knn_graph(pca: np.ndarray, n_neighbors: int) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric exact kNN adjacency (CSR arrays, no self loops) on the PCA.

    scikit-learn's exact search is what scanpy's ``pp.neighbors`` itself uses
    below 4,096 cells; calling it directly skips the UMAP connectivities (and
    their numba compilation), which this model does not use, and stays
    exact and deterministic at every size.
    """
    import scipy.sparse as sp
    from sklearn.neighbors import NearestNeighbors

    k = int(min(n_neighbors, pca.shape[0] - 1))
    A = NearestNeighbors(n_neighbors=k, algorithm="brute").fit(pca).kneighbors_graph(mode="connectivity")
    A = sp.csr_matrix(A)
    A.setdiag(0)
    A = ((A + A.T) > 0).astype(np.float32).tocsr()
    A.eliminate_zeros()
    A.sort_indices()
    return A.indptr.astype(np.int64), A.indices.astype(np.int64)


def smooth_on_graph(values: np.ndarray, indptr: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """Mean of each cell's value and its graph neighbours' values (NaNs ignored; NaN when all are NaN)."""
    import scipy.sparse as sp

    n = len(values)
    A = sp.csr_matrix((np.ones(len(indices), np.float64), indices, indptr), shape=(n, n)) + sp.identity(n, format="csr")
    ok = np.isfinite(values)
    total = A @ np.where(ok, values, 0.0)
    count = A @ ok.astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def mnn_pairs(a: np.ndarray, b: np.ndarray, k: int = 20) -> tuple[np.ndarray, np.ndarray]:
    """Mutual nearest neighbours between the rows of ``a`` and ``b`` (Haghverdi et al. 2018): (rows of a, rows of b)."""
    from sklearn.neighbors import NearestNeighbors

    ka, kb = int(min(k, len(b))), int(min(k, len(a)))
    ab = NearestNeighbors(n_neighbors=ka).fit(b).kneighbors(a, return_distance=False)
    ba = NearestNeighbors(n_neighbors=kb).fit(a).kneighbors(b, return_distance=False)
    rows = np.repeat(np.arange(len(a)), ka)
    cols = ab.ravel()
    back = (ba[cols] == rows[:, None]).any(1)
    return rows[back], cols[back]


def knn_distance(index: np.ndarray, points: np.ndarray, k: int = 10, leave_one_out: bool = False) -> np.ndarray:
    """Mean Euclidean distance from each point to its ``k`` nearest rows of ``index`` (itself excluded when asked)."""
    from sklearn.neighbors import NearestNeighbors

    kk = int(min(k + leave_one_out, len(index)))
    d = NearestNeighbors(n_neighbors=kk).fit(index).kneighbors(points)[0]
    return d[:, int(leave_one_out) :].mean(1)
