"""Does any cluster-level evidence separate a type the reference lacks from the known type it is called?

For each development case of ``celltype_transfer`` (real both directions, pbmc68k leave-one-type-out,
synthetic seed 0; seed 1 is never read here), the query is mapped onto the reference
(:func:`omicsgat.celltype.mapping.map_query`), clustered (Leiden, as the cluster vote does), and each cluster
assigned the majority of its cells' 15-NN reference labels (a stand-in for the network's calls). Two
cluster-level statistics against the assigned type's reference cells:

* ``centroid``: distance of the cluster's mean (reference PCs) to the type's reference centroid, in units of
  the type's own root-mean-square spread;
* ``marker_gap``: the type's 20 top reference markers (z-scale), reference mean minus the cluster's mean.

And one per cell: ``residual``, the cell's squared residual outside the reference's 30 PCs (the genes'
part the reference's own axes cannot reconstruct) over the median residual of the reference cells of its
assigned type; reported as the median over absent and over known cells.

The threshold is given by the data: the largest value over the reference's own Leiden clusters (the same
statistic, each against its majority type). A query cluster above it is called Unknown. Reported per case:
known and absent cells that rule calls Unknown.

``python -m benchmarks celltype_cluster_evidence [--kang PATH]``
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks._common import Table

N_MARKERS = 20


def _stats(z, space, rows, t, ref_z, ref_space, yr, markers) -> tuple[float, float]:
    own = yr == t
    centre = ref_space[own].mean(0)
    spread = np.sqrt(((ref_space[own] - centre) ** 2).sum(1).mean())
    centroid = float(np.linalg.norm(space[rows].mean(0) - centre) / spread)
    gap = float(ref_z[own][:, markers[t]].mean() - z[rows][:, markers[t]].mean())
    return centroid, gap


def evidence(ref, qry, truth: np.ndarray, seed: int = 0) -> dict:
    """Known / absent cells called Unknown by each cluster statistic at the reference-subcluster maximum."""
    from sklearn.decomposition import PCA
    from sklearn.neighbors import KNeighborsClassifier

    from benchmarks.celltype_transfer import _shared_logs
    from omicsgat.celltype.clusters import cluster_cells
    from omicsgat.celltype.mapping import map_query

    r, q, _ = _shared_logs(ref, qry)
    m = map_query(r, q, n_pcs=30, seed=seed)
    yr = ref.obs["cell_type"].astype(str).to_numpy()
    pred = KNeighborsClassifier(15).fit(m.ref_space, yr).predict(m.query_space)
    markers = {t: np.argsort(-(m.ref_z[yr == t].mean(0) - m.ref_z[yr != t].mean(0)))[:N_MARKERS] for t in np.unique(yr)}
    args = (m.ref_z, m.ref_space, yr, markers)
    ref_ids, _ = cluster_cells(m.ref_space, seed)
    null = np.array(
        [
            _stats(m.ref_z, m.ref_space, np.flatnonzero(ref_ids == c), pd.Series(yr[ref_ids == c]).mode()[0], *args)
            for c in np.unique(ref_ids)
        ]
    )
    ids, _ = cluster_cells(m.query_space, seed)
    stats = np.zeros((len(q), 2))
    for c in np.unique(ids):
        rows = np.flatnonzero(ids == c)
        stats[rows] = _stats(m.query_z, m.query_space, rows, pd.Series(pred[rows]).mode()[0], *args)
    absent, known = truth == "absent", ~np.isin(truth, ["absent", "sibling"])
    pca = PCA(n_components=m.ref_space.shape[1], random_state=seed).fit(m.ref_z)
    ref_res, qry_res = (((z - pca.inverse_transform(pca.transform(z))) ** 2).mean(1) for z in (m.ref_z, m.query_z))
    residual = qry_res / pd.Series(ref_res).groupby(yr).median().reindex(pred).to_numpy()
    out = {
        "residual_known_median": float(np.median(residual[known])),
        "residual_absent_median": float(np.median(residual[absent])) if absent.any() else float("nan"),
        "n_query_clusters": int(ids.max() + 1),
        "n_reference_clusters": int(ref_ids.max() + 1),
    }
    for j, name in enumerate(("centroid", "marker_gap")):
        called = stats[:, j] > null[:, j].max()
        out[f"{name}_threshold"] = float(null[:, j].max())
        out[f"{name}_known_unknown"] = float(called[known].mean())
        out[f"{name}_absent_unknown"] = float(called[absent].mean()) if absent.any() else float("nan")
        out[f"{name}_absent_median"] = float(np.median(stats[absent, j])) if absent.any() else float("nan")
        out[f"{name}_known_max"] = float(stats[known, j].max())
    return out


def main(quick: bool = False, argv: list[str] | None = None) -> Table:
    from benchmarks import celltype_transfer as T
    from benchmarks.celltype_novelty import pbmc_cases, simulated

    argv = argv or []
    kang_path = (
        Path(argv[argv.index("--kang") + 1]) if "--kang" in argv else next(p for p in T.KANG_DEFAULTS if p.exists())
    )
    table = Table("celltype_cluster_evidence")
    ref, qry = T.kang(kang_path), T.pbmc68k()
    labels = qry.obs["cell_type"].astype(str).to_numpy()
    truth = np.array([T.PBMC_TO_KANG.get(v, "absent" if v in T.DISTINCT_ABSENT else "sibling") for v in labels])
    table.add(family="real, across studies", case="Kang -> pbmc68k_reduced", **evidence(ref, qry, truth))
    table.add(
        family="real, across studies",
        case="pbmc68k_reduced -> Kang",
        **evidence(qry, ref, ref.obs["cell_type"].astype(str).to_numpy()),
    )
    for leave, ref_l, qry_l in pbmc_cases(0):
        if leave in T.LOO_TYPES:
            t = qry_l.obs["cell_type"].astype(str).to_numpy()
            table.add(
                family="real, within one study",
                case=f"pbmc68k_reduced, {leave} left out",
                **evidence(ref_l, qry_l, np.where(t == "novel", "absent", t)),
            )
    for name in T.SIM_SCENARIOS:
        ref_s, qry_s = simulated(name, 0)
        t = qry_s.obs["cell_type"].astype(str).to_numpy()
        table.add(
            family="synthetic (seed 0, dev)", case=name, **evidence(ref_s, qry_s, np.where(t == "novel", "absent", t))
        )
    print(table.to_markdown())
    table.save(
        {
            "kang": str(kang_path),
            "stand_in_calls": "15-NN reference labels in the mapped space",
            "threshold": "largest value over the reference's own Leiden clusters",
        }
    )
    return table
