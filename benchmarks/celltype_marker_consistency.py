"""Across species, do a query cluster's markers match those of the reference type it is called?

For each cross-species case of ``celltype_species`` (full depth, seed 0), OmicsGAT's default run gives each query
cell a predicted type; the query alone (z-scored shared orthologs) is clustered (Leiden, resolution 1) and each
cluster of at least 20 cells takes its cells' majority predicted type T. Two statistics per cluster:

* ``rho``: Spearman correlation over the shared genes between T's reference differences (T vs the other
  reference types) and the cluster's query differences (the cluster vs the rest of the query);
* ``frac_up``: share of T's 50 strongest reference markers whose query difference is positive.

A known type should keep its markers across species and a type the reference lacks should not; the table lists
every cluster with its true composition so the overlap can be read off (docs/celltype-species.md).

``python -m benchmarks celltype_marker_consistency [--data PATH]``
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from benchmarks import celltype_species as cs
from benchmarks._common import Table

MIN_CELLS = 20
TOP_MARKERS = 50


def clusters(qz: np.ndarray, seed: int = 0) -> np.ndarray:
    """Leiden clusters of the query's own z-scored expression."""
    import anndata as ad
    import scanpy as sc

    q = ad.AnnData(qz.astype(np.float32))
    sc.pp.pca(q, n_comps=30, random_state=seed)
    sc.pp.neighbors(q, n_neighbors=15, random_state=seed)
    sc.tl.leiden(q, resolution=1.0, random_state=seed, flavor="igraph", n_iterations=2, directed=False)
    return q.obs["leiden"].astype(str).to_numpy()


def main(quick: bool = False, argv: list[str] | None = None) -> Table:
    argv = list(argv or [])
    data = Path(argv[argv.index("--data") + 1]) if "--data" in argv else cs._default_data()
    mouse, kang, pbmc = cs.load(data)
    table = Table("celltype_marker_consistency")
    for name, ref, qry in cs.cases(mouse, kang, pbmc):
        _, predicted, _ = cs._omicsgat(ref, qry, 0)
        rz, qz, _, _ = cs._shared_z(ref, qry)
        rz, qz = np.asarray(rz), np.asarray(qz)
        ref_labels = ref.obs["cell_type"].astype(str).to_numpy()
        truth = qry.obs["truth"].astype(str).to_numpy()
        cluster = clusters(qz)
        for c in np.unique(cluster):
            rows = cluster == c
            if rows.sum() < MIN_CELLS:
                continue
            assigned = pd.Series(predicted[rows]).value_counts().index[0]
            ref_diff = rz[ref_labels == assigned].mean(0) - rz[ref_labels != assigned].mean(0)
            qry_diff = qz[rows].mean(0) - qz[~rows].mean(0)
            composition = pd.Series(truth[rows]).value_counts(normalize=True)
            table.add(
                case=name,
                cluster=c,
                cells=int(rows.sum()),
                called=assigned,
                truth=composition.index[0],
                truth_share=float(composition.iloc[0]),
                rho=float(spearmanr(ref_diff, qry_diff)[0]),
                frac_up=float((qry_diff[np.argsort(-ref_diff)[:TOP_MARKERS]] > 0).mean()),
            )
    return table.publish({"data": str(data), "seed": 0, "min_cells": MIN_CELLS, "top_markers": TOP_MARKERS})


if __name__ == "__main__":
    from benchmarks._common import exit_if_help

    exit_if_help(__doc__)
    main(quick="--quick" in sys.argv, argv=sys.argv[1:])
