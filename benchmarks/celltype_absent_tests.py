"""Two more type-level tests for a type the reference lacks, across species: reciprocal mapping and own-gene split.

For each cross-species case of ``celltype_species`` (full depth) and the within-species real pair of
``celltype_transfer`` (Kang <-> pbmc68k_reduced), OmicsGAT's default run gives each query cell a predicted type and
its prepared data (the joint PCA of the mapped expression, where the model's cell graph is built, and the mapped
space of the reference's leading PCs). Query clusters are Leiden clusters (resolution 1, 15-NN, as
:func:`omicsgat.celltype.clusters.cluster_cells` makes them) of the query's cells in the joint PCA; clusters of at
least 20 cells are scored; each takes its cells' majority predicted type T.

* **Reciprocal mapping** (table rows ``test = reciprocal``), in the joint PCA (``space = joint``) and in the mapped
  reference PCs (``space = mapped``): T's reciprocal best cluster is the scored cluster whose centroid is nearest
  T's reference centroid. Per cluster: ``reciprocal`` (it is T's best), ``margin`` = (its distance to T's reference
  centroid - the best cluster's) / s, ``apart`` = its distance to the best cluster's centroid / s, s being the
  median over scored clusters of the distance to the nearest other cluster's centroid (the query's own spread of
  clusters), and ``vote_enrichment``: each reference cell of T votes for the query clusters of its 15 nearest
  query cells; the cluster's share of T's votes over its share of the cells called T (about 1 for a cluster T's
  cells choose as readily as its size says, near 0 for one they never choose).
* **Own-gene split** (rows ``test = own split``): the query alone, log-normalized, its 2,000 most variable genes
  of all it has (not only the shared orthologs), scaled, 30 PCs; each predicted type's query cells (at least 40)
  Leiden-clustered (resolution 0.5) in that space; per sub-cluster of at least 20 cells, ``d_ref`` = median over its
  cells of the mean distance to the 10 nearest reference cells of T in the joint PCA; ``ratio`` = d_ref over the
  smallest d_ref among T's sub-clusters, and ``gap`` = (d_ref - that smallest) / the median absolute deviation of
  the per-cell distances of T's query cells; ``vote_enrichment`` as above, T's reference cells voting among T's
  query cells; ``marker_rho``: Spearman correlation over the one-to-one shared genes (each data set z-scored
  alone) between what sets the sub-cluster apart from its sibling sub-clusters and T's reference markers (T vs the
  other reference types): a part with no counterpart should differ from its siblings *against* T's markers.

Every cluster is listed with its true composition, so absent (``truth`` = absent, the majority of its cells) and
known clusters can be compared (docs/celltype-species.md, "Type-level tests tried"). The default runs are cached
under ``--cache`` (default /tmp/omicsgat_absent_tests) keyed by case and seed.

``python -m benchmarks celltype_absent_tests [--data DIR] [--seed S] [--cache DIR]`` (seed: the model's; another
seed is saved under ``_seed{S}``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks import celltype_species as cs
from benchmarks._common import Table

MIN_CELLS = 20  # smallest cluster scored
MIN_TYPE_CELLS = 40  # smallest predicted type sub-clustered
VOTE_K = 15
DIST_K = 10
JOINT_DIMS = 30
N_HVG = 2000


def _cases(data: Path):
    """(name, family, reference with obs['cell_type'], query with obs['truth'] in {known types, absent, sibling})."""
    from benchmarks import celltype_transfer as ct

    mouse, kang, pbmc = cs.load(data)
    for name, ref, qry in cs.cases(mouse, kang, pbmc):
        yield name, "cross-species", ref, qry, {}
    kang_full = ct.kang(data / "kang2018_pbmc_counts.h5ad")
    p68 = ct.pbmc68k()
    q = p68.copy()
    v = q.obs["cell_type"].astype(str)
    q.obs["truth"] = [ct.PBMC_TO_KANG.get(x, "absent" if x in ct.DISTINCT_ABSENT else "sibling") for x in v]
    del q.obs["cell_type"]
    yield "Kang -> pbmc68k_reduced", "within species", kang_full, q, {"epochs": ct.EPOCHS}
    q = kang_full.copy()
    q.obs["truth"] = q.obs["cell_type"].astype(str).to_numpy()
    del q.obs["cell_type"]
    yield "pbmc68k_reduced -> Kang", "within species", p68, q, {"epochs": ct.EPOCHS}


def _default_run(name: str, ref, qry, seed: int, cache: Path | None, **kw) -> dict:
    """OmicsGAT's default run: its calls and its prepared data's two spaces (kept in ``cache`` when given)."""
    import omicsgat.celltype.annotate as annotate_module
    from omicsgat.celltype import annotate_cells

    path = cache / f"{''.join(c if c.isalnum() else '_' for c in name)}_seed{seed}.npz" if cache else None
    if path is not None and path.exists():
        with np.load(path, allow_pickle=True) as f:
            return {k: f[k] for k in f.files}
    captured = {}
    original = annotate_module.prepare

    def spy(*args, **kwargs):
        captured["prep"] = prep = original(*args, **kwargs)
        return prep

    annotate_module.prepare = spy
    try:
        q = qry.copy()
        del q.obs["truth"]
        res = annotate_cells(q, "cell_type", ref, seed=seed, device="cpu", **kw)
    finally:
        annotate_module.prepare = original
    prep = captured["prep"]
    out = {
        "label": res.labels["label"].astype(str).to_numpy(),
        "predicted": res.labels["predicted"].astype(str).to_numpy(),
        "truth": qry.obs["truth"].astype(str).to_numpy(),
        "ref_type": np.asarray(prep.classes, dtype=object)[prep.y[~prep.is_query]].astype(str),
        "ref_joint": prep.pca[~prep.is_query, :JOINT_DIMS],
        "qry_joint": prep.pca[prep.is_query, :JOINT_DIMS],
        "ref_mapped": prep.aligned[~prep.is_query],
        "qry_mapped": prep.aligned[prep.is_query],
    }
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(path, **out)
    return out


def own_space(qry, seed: int = 0) -> np.ndarray:
    """The query alone: its most variable genes of all it has (not only the shared orthologs), scaled, 30 PCs."""
    import scanpy as sc

    from omicsgat.pp import log_normalized

    q = log_normalized(qry)
    sc.pp.highly_variable_genes(q, n_top_genes=min(N_HVG, q.n_vars - 1), flavor="seurat")
    q = q[:, q.var["highly_variable"]].copy()
    sc.pp.scale(q, max_value=10)
    sc.pp.pca(q, n_comps=min(30, q.n_vars - 1), random_state=seed)
    return np.asarray(q.obsm["X_pca"])


def _composition(truth: np.ndarray) -> tuple[str, float, str]:
    share = pd.Series(truth).value_counts(normalize=True)
    text = ", ".join(f"{k} {v:.0%}" for k, v in share.items() if v >= 0.05)
    return str(share.index[0]), float(share.iloc[0]), text


def reciprocal_rows(run: dict, cluster: np.ndarray, space: str, clustered_in: str) -> list[dict]:
    """Per scored query cluster: is it its called type's reciprocal best cluster, and how far from it."""
    from sklearn.neighbors import NearestNeighbors

    ref, qry = run[f"ref_{space}"], run[f"qry_{space}"]
    ref_type, predicted, truth = run["ref_type"], run["predicted"], run["truth"]
    ids = [c for c in np.unique(cluster) if (cluster == c).sum() >= MIN_CELLS]
    centre = np.array([qry[cluster == c].mean(0) for c in ids])
    called = {c: pd.Series(predicted[cluster == c]).value_counts().index[0] for c in ids}
    between = np.linalg.norm(centre[:, None] - centre[None], axis=2)
    np.fill_diagonal(between, np.inf)
    spread = float(np.median(between.min(1)))
    types = np.unique(ref_type)
    ref_centre = {t: ref[ref_type == t].mean(0) for t in types}
    to_type = {t: np.linalg.norm(centre - ref_centre[t], axis=1) for t in types}
    best = {t: int(np.argmin(to_type[t])) for t in types}
    scored = np.isin(cluster, ids)
    nn = NearestNeighbors(n_neighbors=VOTE_K).fit(qry[scored])
    qry_cluster = cluster[scored]
    rows = []
    for i, c in enumerate(ids):
        t = called[c]
        votes = qry_cluster[nn.kneighbors(ref[ref_type == t])[1].ravel()] if t in ref_centre else np.array([])
        called_t = np.isin(qry_cluster, [k for k in ids if called[k] == t])
        size_share = (qry_cluster == c).sum() / max(1, called_t.sum())
        vote_share = float((votes == c).mean()) if votes.size else np.nan
        top, top_share, text = _composition(truth[cluster == c])
        b = best.get(t, i)
        rows.append(
            {
                "test": "reciprocal",
                "space": space,
                "clusters": clustered_in,
                "cluster": int(c),
                "cells": int((cluster == c).sum()),
                "called": t,
                "truth": top,
                "truth_share": top_share,
                "composition": text,
                "reciprocal": bool(b == i),
                "margin": float((to_type[t][i] - to_type[t][b]) / spread) if t in to_type else np.nan,
                "apart": float(np.linalg.norm(centre[i] - centre[b]) / spread),
                "vote_enrichment": vote_share / size_share,
            }
        )
    return rows


def split_rows(run: dict, own: np.ndarray, seed: int, space: str, shared: tuple) -> list[dict]:
    """Per sub-cluster (query's own genes) of each predicted type: how far from, and how often chosen by, the
    type's reference cells in ``space``, and whether what sets it apart from its siblings are the type's markers.

    ``shared``: (reference z, its types, query z) over the one-to-one shared genes, each data set z-scored alone.
    """
    from scipy.stats import median_abs_deviation, spearmanr
    from sklearn.neighbors import NearestNeighbors

    from omicsgat.celltype.clusters import cluster_cells

    ref, qry, ref_type = run[f"ref_{space}"], run[f"qry_{space}"], run["ref_type"]
    predicted, truth = run["predicted"], run["truth"]
    rows = []
    for t in np.unique(predicted):
        cells = np.flatnonzero(predicted == t)
        if len(cells) < MIN_TYPE_CELLS or not (ref_type == t).any():
            continue
        index = ref[ref_type == t]
        dist = NearestNeighbors(n_neighbors=min(DIST_K, len(index))).fit(index).kneighbors(qry[cells])[0].mean(1)
        sub, _ = cluster_cells(own[cells], seed, resolution=0.5)
        keep = [s for s in np.unique(sub) if (sub == s).sum() >= MIN_CELLS]
        if not keep:
            continue
        # reciprocal, within the type: T's reference cells vote for the sub-clusters of their nearest T query cells
        votes = sub[NearestNeighbors(n_neighbors=min(VOTE_K, len(cells))).fit(qry[cells]).kneighbors(index)[1].ravel()]
        rz, rz_type, qz = shared
        ref_markers = rz[rz_type == t].mean(0) - rz[rz_type != t].mean(0)
        d = {s: float(np.median(dist[sub == s])) for s in keep}
        low = min(d.values())
        mad = float(median_abs_deviation(dist)) or 1.0
        for s in keep:
            top, top_share, text = _composition(truth[cells[sub == s]])
            rows.append(
                {
                    "test": "own split",
                    "space": space,
                    "clusters": "own genes, per type",
                    "cluster": f"{t}/{s}",
                    "cells": int((sub == s).sum()),
                    "called": t,
                    "truth": top,
                    "truth_share": top_share,
                    "composition": text,
                    "n_sub": len(keep),
                    "d_ref": d[s],
                    "ratio": d[s] / low,
                    "gap": (d[s] - low) / mad,
                    "vote_enrichment": float((votes == s).mean()) / float((sub == s).mean()),
                    # low: what sets this part apart from its siblings goes against the type's reference markers
                    "marker_rho": float(
                        spearmanr(
                            qz[cells[sub == s]].mean(0) - qz[cells[(sub != s) & np.isin(sub, keep)]].mean(0),
                            ref_markers,
                        )[0]
                    )
                    if len(keep) > 1
                    else np.nan,
                }
            )
    return rows


HIGHER_IS_ABSENT = {
    "margin": True,
    "apart": True,
    "ratio": True,
    "gap": True,
    "vote_enrichment": False,
    "marker_rho": False,
}
CANDIDATE_APART = 1.0  # farther from the reciprocal best cluster than a typical cluster is from its nearest one


def summary(rows: list[dict]) -> list[dict]:
    """Per case, test, space and statistic: the range over absent clusters (most of their cells of a type the
    reference lacks) and over known ones (most of a matched type), whether one threshold splits them, and for the
    reciprocal test the candidate rule (not the type's reciprocal best, and apart > 1) on each group."""
    d = pd.DataFrame(rows)
    out = []
    for (case, test, space, clustered_in), g in d.groupby(["case", "test", "space", "clusters"], sort=False):
        absent = g[g["truth"] == "absent"]
        known = g[~g["truth"].isin(["absent", "sibling"])]
        for stat, higher in HIGHER_IS_ABSENT.items():
            if stat not in g or g[stat].isna().all():
                continue
            a, k = absent[stat].dropna(), known[stat].dropna()
            splits = None
            if len(a) and len(k):
                splits = bool(a.min() > k.max()) if higher else bool(a.max() < k.min())
            out.append(
                {
                    "case": case,
                    "test": test,
                    "space": space,
                    "clusters": clustered_in,
                    "statistic": stat,
                    "absent": ", ".join(f"{v:.2f}" for v in sorted(a)) or "-",
                    "known": f"{k.min():.2f} - {k.max():.2f} (median {k.median():.2f}, {len(k)})" if len(k) else "-",
                    "separates": splits,
                }
            )
        if test == "reciprocal":
            flagged = ~g["reciprocal"].astype(bool) & (g["apart"] > CANDIDATE_APART)
            multi = g["called"].map(g["called"].value_counts()) > 1  # a type that split into several clusters
            known_rows = ~g["truth"].isin(["absent", "sibling"])
            out.append(
                {
                    "case": case,
                    "test": test,
                    "space": space,
                    "clusters": clustered_in,
                    "statistic": f"candidate (not reciprocal, apart > {CANDIDATE_APART:g})",
                    "absent": f"{int(flagged[g['truth'] == 'absent'].sum())} of {int((g['truth'] == 'absent').sum())}",
                    "known": f"{int(flagged[known_rows].sum())} of {int(known_rows.sum())} "
                    f"({int(flagged[known_rows & multi].sum())} of {int((known_rows & multi).sum())} in split types)",
                    "separates": bool(flagged[g["truth"] == "absent"].all() and not flagged[known_rows].any())
                    if (g["truth"] == "absent").any()
                    else None,
                }
            )
    return out


def main(quick: bool = False, argv: list[str] | None = None) -> Table:
    from omicsgat.celltype.clusters import cluster_cells

    argv = list(argv or [])
    data = Path(argv[argv.index("--data") + 1]) if "--data" in argv else cs._default_data()
    seed = int(argv[argv.index("--seed") + 1]) if "--seed" in argv else 0
    cache = Path(argv[argv.index("--cache") + 1]) if "--cache" in argv else None
    table = Table("celltype_absent_tests" + (f"_seed{seed}" if seed else ""))
    for name, family, ref, qry, kw in _cases(data):
        run = _default_run(name, ref, qry, seed, cache, **kw)
        rows = []
        for clustered_in in ("joint", "mapped"):
            cluster, _ = cluster_cells(run[f"qry_{clustered_in}"], seed)
            for space in ("joint", "mapped"):
                rows += reciprocal_rows(run, cluster, space, clustered_in)
        own = own_space(qry, seed)
        rz, qz, _, _ = cs._shared_z(ref, qry)
        shared = (np.asarray(rz), ref.obs["cell_type"].astype(str).to_numpy(), np.asarray(qz))
        rows += split_rows(run, own, seed, "joint", shared) + split_rows(run, own, seed, "mapped", shared)
        for row in rows:
            table.add(case=name, family=family, **row)
        print(name, "done", flush=True)
    meta = {"data": str(data), "seed": seed, "min_cells": MIN_CELLS, "vote_k": VOTE_K, "n_hvg": N_HVG}
    digest = Table(f"{table.name}_summary", summary(table.rows))
    digest.publish(meta)
    return table.publish(meta)


if __name__ == "__main__":
    from benchmarks._common import exit_if_help

    exit_if_help(__doc__)
    main(quick="--quick" in sys.argv, argv=sys.argv[1:])
