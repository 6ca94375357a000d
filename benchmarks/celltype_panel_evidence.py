"""Do genes outside the shared panel single out a query population the reference lacks?

Another lab's query often holds genes the reference's file does not (pbmc68k_reduced holds FCER1A and
CLEC10A, the dendritic-cell markers Kang's copy lacks). The model can only use the shared genes, but the
query's own genes can still be read: a query cluster that differs from the other query cells called the same
type mainly in genes the reference never measured would point at a population the reference cannot describe.

Real development cases of ``celltype_transfer``, both directions (no synthetic case: its query has no genes
the reference lacks). The query is mapped onto the reference (:func:`omicsgat.celltype.mapping.map_query` on
the shared genes), clustered (Leiden, as the cluster vote does) and each cell assigned its 15-NN reference
majority (a stand-in for the network's calls). Per query cluster, against the other query cells of its majority
type: the largest difference in the share of cells detecting a gene, among query-only genes and among shared
genes, and how many genes of each kind differ by more than 0.4. Reported with the cluster's true majority label,
so a rule can be read off the table (or seen not to exist) without being fitted to it.

``python -m benchmarks celltype_panel_evidence [--kang PATH]``
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks._common import Table

DETECTION_GAP = 0.4  # "differs": the share of cells detecting the gene differs by more than this


def panel_evidence(ref, qry, truth: np.ndarray, seed: int = 0) -> list[dict]:
    """One row per query cluster: its size, purity, majority call and detection gaps (query-only vs shared)."""
    from sklearn.neighbors import KNeighborsClassifier

    from benchmarks.celltype_transfer import _shared_logs
    from omicsgat.celltype.clusters import cluster_cells
    from omicsgat.celltype.mapping import map_query
    from omicsgat.celltype.prepare import _dense, _expression

    r, q, shared = _shared_logs(ref, qry)
    m = map_query(r, q, n_pcs=30, seed=seed)
    pred = KNeighborsClassifier(15).fit(m.ref_space, ref.obs["cell_type"].astype(str).to_numpy()).predict(m.query_space)
    expr, _ = _expression(qry)
    detected = _dense(expr.X) > 0
    query_only = ~np.isin(np.asarray(expr.var_names), shared)
    ids, _ = cluster_cells(m.query_space, seed)
    rows = []
    for c in np.unique(ids):
        inside = ids == c
        called = pd.Series(pred[inside]).mode()[0]
        rest = (pred == called) & ~inside
        if rest.sum() < 10:  # nothing of its type to compare with
            continue
        gap = detected[inside].mean(0) - detected[rest].mean(0)
        labels = pd.Series(truth[inside]).value_counts()
        rows.append(
            {
                "cluster": int(c),
                "n_cells": int(inside.sum()),
                "called": called,
                "truth": labels.index[0],
                "purity": float(labels.iloc[0] / inside.sum()),
                "query_only_max_gap": float(gap[query_only].max()),
                "query_only_top_gene": str(expr.var_names[query_only][gap[query_only].argmax()]),
                "shared_max_gap": float(gap[~query_only].max()),
                "shared_top_gene": str(expr.var_names[~query_only][gap[~query_only].argmax()]),
                "n_query_only_genes_differ": int((gap[query_only] > DETECTION_GAP).sum()),
                "n_shared_genes_differ": int((gap[~query_only] > DETECTION_GAP).sum()),
                "n_query_only_genes": int(query_only.sum()),
            }
        )
    return rows


def main(quick: bool = False, argv: list[str] | None = None) -> Table:
    from benchmarks import celltype_transfer as T

    argv = argv or []
    kang_path = (
        Path(argv[argv.index("--kang") + 1]) if "--kang" in argv else next(p for p in T.KANG_DEFAULTS if p.exists())
    )
    table = Table("celltype_panel_evidence")
    kang, pbmc = T.kang(kang_path), T.pbmc68k()
    labels = pbmc.obs["cell_type"].astype(str).to_numpy()
    truth = np.array([T.PBMC_TO_KANG.get(v, "absent" if v in T.DISTINCT_ABSENT else "sibling") for v in labels])
    cases = (
        ("Kang -> pbmc68k_reduced", kang, pbmc, truth),
        ("pbmc68k_reduced -> Kang", pbmc, kang, kang.obs["cell_type"].astype(str).to_numpy()),
    )
    for case, ref, qry, t in cases:
        for row in panel_evidence(ref, qry, t):
            table.add(family="real, across studies", case=case, **row)
    print(table.to_markdown())
    table.save({"kang": str(kang_path), "stand_in_calls": "15-NN reference labels in the mapped space"})
    return table
