"""Unknown calls on a scenario grid: a query type the reference lacks, under batch effects, gene loss, rarity.

Per scenario and method: novelty AUROC (absent-type cells vs known cells, by
the method's novelty score), the share of absent-type cells called Unknown at
the method's operating threshold, the share of known cells called Unknown, and
the known cells' macro-F1 (an Unknown call counts as an error).

Every threshold comes from reference cells held out of that method's training
and index (a stratified 20 %, ``calibration_split``), at the same nominal
level ``ALPHA`` (2 % of such cells called Unknown), except CellTypist, run in
its own probability-threshold mode (p_thres 0.5, "Unassigned" = Unknown).
Baselines: LogReg (balanced) max-probability, kNN distance on the joint PCA
(with LogReg's calls), ingest-style label transfer + distance (the query on
the reference's PCA, 15-NN vote: scanpy.tl.ingest's "pca" recipe without its
numba index, see ``_ingest_distance``), CellTypist (celltypist2, if installed).
"OmicsGAT" is the default rule (distance tests + the probability test);
"OmicsGAT, distance rule only" the same network with the previous round's
default (``unknown_rule="distance"``); "OmicsGAT, Unknown rule of v0.1" the
old neighbourhood rule applied to the same network's calls.

Design data ("dev"): simulated seed 0 here; the probability test was also
chosen on seeds 2 and 3 and on pbmc folds 1 and 2 as query (outside this
script, docs/celltype.md). Reported separately: simulated seed 1 and every
pbmc68k_reduced leave-one-type-out case of fold 0 ("untouched": not used for
choosing either rule). pbmc: one stratified 5-fold split (fold 0 is the
query, folds 1-4 the reference), each of the ten bulk_labels types left out of
the reference in turn (one fold of five, to keep the shared machine free).

``python -m benchmarks.celltype_novelty [sim|pbmc] [SEEDS]`` (one part, its own results file) or
``python -m benchmarks celltype_novelty [--quick]`` (both parts, one table)
"""

from __future__ import annotations

import time
import warnings

import numpy as np
import pandas as pd

from benchmarks._common import Table

ALPHA = 0.02
SCENARIOS = {  # name: simulate_label_transfer arguments (moderate defaults: 1,000 + 1,000 cells)
    "far": dict(absent="far"),
    "near": dict(absent="near"),
    "sibling": dict(absent="sibling"),
    "near, batch moderate": dict(absent="near", batch_effect=0.3),
    "near, batch strong": dict(absent="near", batch_effect=0.6),
    "far, batch strong": dict(absent="far", batch_effect=0.6),
    "near, batch moderate, 80 % genes": dict(absent="near", batch_effect=0.3, gene_overlap=0.8),
    "near, batch moderate, 60 % genes": dict(absent="near", batch_effect=0.3, gene_overlap=0.6),
    "rare (2 %), batch moderate": dict(absent="near", batch_effect=0.3, rare=True),
    "small reference (300), batch moderate": dict(absent="near", batch_effect=0.3, n_reference=300),
}
DEV_SEEDS, TEST_SEEDS = (0,), (1,)


def simulated(name: str, seed: int):
    from omicsgat.simulate import simulate_label_transfer

    kw = {"n_reference": 800, "n_query": 800, "n_genes": 300, **SCENARIOS[name]}
    return simulate_label_transfer(seed=seed, **kw)


def pbmc_cases(seed: int = 0):
    """(left-out type, reference, query) for each bulk_labels type; fold 0 of a stratified 5-fold split is the query."""
    import anndata as ad
    import scanpy as sc
    from sklearn.model_selection import StratifiedKFold

    pbmc = sc.datasets.pbmc68k_reduced()
    data = ad.AnnData(
        X=pbmc.raw.X.copy(),
        obs=pbmc.obs[["bulk_labels"]].rename(columns={"bulk_labels": "cell_type"}),
        var=pbmc.raw.var[[]].copy(),
    )
    y = data.obs["cell_type"].astype(str).to_numpy()
    ref_rows, qry_rows = next(StratifiedKFold(5, shuffle=True, random_state=seed).split(y, y))
    for leave in sorted(set(y)):
        keep = ref_rows[y[ref_rows] != leave]
        qry = data[qry_rows].copy()
        qry.obs["cell_type"] = np.where(y[qry_rows] == leave, "novel", y[qry_rows])
        yield leave, data[keep].copy(), qry


# --- the shared preprocessing and the baselines -------------------------------------------------------------------


def _logs(ref, qry, genes):
    from omicsgat.celltype.prepare import _dense, _expression

    r, _ = _expression(ref)
    q, _ = _expression(qry)
    return _dense(r[:, genes].X), _dense(q[:, genes].X)


def _celltypist(ref, qry, index_rows, genes):
    """CellTypist trained on the index cells (log1p of counts per 10,000, as it requires), p_thres 0.5 mode."""
    import anndata as ad
    import celltypist

    r_log, q_log = _logs(ref, qry, genes)
    train = ad.AnnData(
        X=r_log[index_rows],
        obs=pd.DataFrame({"y": ref.obs["cell_type"].astype(str).to_numpy()[index_rows]}),
        var=pd.DataFrame(index=genes),
    )
    train.obs_names = [f"r{i}" for i in range(train.n_obs)]
    test = ad.AnnData(X=q_log, var=pd.DataFrame(index=genes))
    test.obs_names = [f"q{i}" for i in range(test.n_obs)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # use_SGD: celltypist2 1.7.1's default solver path passes multi_class="ovr", which scikit-learn 1.8+ removed;
        # its SGD logistic regression (one-vs-rest, as CellTypist's models are) still runs
        model = celltypist.train(train, "y", check_expression=False, feature_selection=False, use_SGD=True, n_jobs=1)
        pred = celltypist.annotate(test, model, mode="prob match", p_thres=0.5)
    prob = pred.probability_matrix.to_numpy()
    labels = pred.predicted_labels["predicted_labels"].astype(str).to_numpy()
    return 1.0 - prob.max(1), np.where(labels == "Unassigned", "Unknown", labels)


def _ingest_distance(z_ref, y_ref, z_qry, index_rows, cal_rows, seed):
    """``scanpy.tl.ingest``'s recipe without its numba index: the query projected on the reference's PCA (50 PCs),
    labels by majority of the 15 nearest reference cells; novelty = mean distance to the 10 nearest.

    scanpy.tl.ingest itself builds a pynndescent/UMAP index whose numba compilation took over 14 minutes on this
    shared, loaded 2-core machine; with ``embedding_method="pca"`` its label transfer is this kNN vote.
    """
    from sklearn.decomposition import PCA
    from sklearn.neighbors import KNeighborsClassifier

    from omicsgat.celltype.mapping import knn_distance
    from omicsgat.celltype.novelty import conformal_pvalues

    pca = PCA(n_components=min(50, z_ref.shape[1] - 1, len(index_rows) - 1), random_state=seed).fit(z_ref[index_rows])
    ref_pcs = pca.transform(z_ref[index_rows])
    knn = KNeighborsClassifier(n_neighbors=15).fit(ref_pcs, y_ref[index_rows])
    q_pcs, cal_pcs = pca.transform(z_qry), pca.transform(z_ref[cal_rows])
    d_q, d_cal = knn_distance(ref_pcs, q_pcs, 10), knn_distance(ref_pcs, cal_pcs, 10)
    labels = knn.predict(q_pcs).astype(str)
    return d_q, np.where(conformal_pvalues(d_cal, d_q) <= ALPHA, "Unknown", labels)


def _omicsgat(q, ref, seed: int, epochs: int, rule: str = "distance+probability"):
    from omicsgat.celltype import annotate_cells

    res = annotate_cells(q, "cell_type", ref, epochs=epochs, seed=seed, device="cpu", unknown_rule=rule)
    return res.labels, res.threshold


def run_case(ref, qry, seed: int, epochs: int, with_celltypist: bool) -> dict:
    """{method: (novelty score per query cell, call per query cell)}."""
    from sklearn.linear_model import LogisticRegression

    from omicsgat.celltype.mapping import knn_distance
    from omicsgat.celltype.novelty import calibration_split, conformal_pvalues, neighbourhood_novelty
    from omicsgat.celltype.prepare import prepare

    q = qry.copy()
    del q.obs["cell_type"]
    out = {}
    lab, threshold = _omicsgat(q, ref, seed, epochs)
    calls = lab["label"].astype(str).to_numpy()
    conf = lab["confidence"].to_numpy()
    nov = np.nan_to_num(lab["novelty"].to_numpy(), nan=0.0)
    out["OmicsGAT"] = (np.maximum(nov, (1 - conf) / max(1e-9, 1 - threshold)), calls)
    # the default of the previous round (distance tests only), same seed, so the same network
    lab_d, _ = _omicsgat(q, ref, seed, epochs, rule="distance")
    nov_d = np.nan_to_num(lab_d["novelty"].to_numpy(), nan=0.0)
    out["OmicsGAT, distance rule only"] = (
        np.maximum(nov_d, (1 - lab_d["confidence"].to_numpy()) / max(1e-9, 1 - threshold)),
        lab_d["label"].astype(str).to_numpy(),
    )

    prep = prepare(q, "cell_type", ref, seed=seed)
    n_ref = prep.n_cells - q.n_obs
    labelled = np.flatnonzero(prep.y >= 0)
    qrows = np.arange(n_ref, prep.n_cells)
    # the rule of v0.1 on the same network's calls: neighbourhood distance to the predicted type, 10 joint PCs
    pred_idx = pd.Index(prep.classes).get_indexer(lab["predicted"].astype(str))
    pred_all = prep.y.copy()
    pred_all[qrows] = pred_idx
    old, _ = neighbourhood_novelty(prep.pca[:, :10], prep.y, pred_all, labelled, prep.indptr, prep.indices)
    old_q = old[qrows]
    old_calls = np.where((conf < threshold) | (old_q > 1.0), "Unknown", lab["predicted"].astype(str).to_numpy())
    out["OmicsGAT, Unknown rule of v0.1"] = (np.maximum(old_q, 1 - conf), old_calls)

    index_rows, cal_rows = calibration_split(prep.y, labelled, 0.2, seed)
    classes = np.asarray(prep.classes, dtype=object)
    y_str = classes[np.maximum(prep.y, 0)]
    # baselines on the same features and the same calibration cells
    lr = LogisticRegression(max_iter=1000, C=0.1, class_weight="balanced", random_state=seed)
    lr.fit(prep.z[index_rows], y_str[index_rows])
    p_q, p_cal = lr.predict_proba(prep.z[qrows]), lr.predict_proba(prep.z[cal_rows])
    lr_lab = lr.classes_[p_q.argmax(1)].astype(str)
    out["LogReg max-prob"] = (
        1 - p_q.max(1),
        np.where(conformal_pvalues(1 - p_cal.max(1), 1 - p_q.max(1)) <= ALPHA, "Unknown", lr_lab),
    )
    d_cal = knn_distance(prep.pca[index_rows], prep.pca[cal_rows], 10)
    d_q = knn_distance(prep.pca[index_rows], prep.pca[qrows], 10)
    out["kNN distance, joint PCA"] = (d_q, np.where(conformal_pvalues(d_cal, d_q) <= ALPHA, "Unknown", lr_lab))
    out["ingest-style kNN + distance"] = _ingest_distance(
        prep.z[:n_ref], y_str[:n_ref], prep.z[qrows], index_rows, cal_rows, seed
    )
    if with_celltypist:
        out["CellTypist (SGD, p 0.5)"] = _celltypist(ref, q, index_rows, prep.genes)
    return out


def score(truth: np.ndarray, out: dict) -> dict:
    from sklearn.metrics import f1_score, roc_auc_score

    novel = truth == "novel"
    known_types = sorted(set(truth[~novel]))
    rows = {}
    for method, (s, call) in out.items():
        s = np.nan_to_num(np.asarray(s, dtype=float), nan=np.nanmax(s))
        rows[method] = dict(
            auroc=float(roc_auc_score(novel, s)) if novel.any() else np.nan,
            absent_called_unknown=float(np.mean(call[novel] == "Unknown")) if novel.any() else np.nan,
            known_called_unknown=float(np.mean(call[~novel] == "Unknown")),
            known_macro_f1=float(
                np.mean(f1_score(truth[~novel], call[~novel], labels=known_types, average=None, zero_division=0))
            ),
        )
    return rows


def targets(rows: dict) -> dict:
    """The issue's targets for OmicsGAT against the best baseline in one scenario."""
    base = {m: r for m, r in rows.items() if not m.startswith("OmicsGAT")}
    ours = rows.get("OmicsGAT")
    if ours is None:
        return {}
    best_recall = max(r["absent_called_unknown"] for r in base.values())
    best_f1 = max(r["known_macro_f1"] for r in base.values())
    any_auroc = max(r["auroc"] for r in rows.values())
    return {
        "recall_ge_best_baseline": ours["absent_called_unknown"] >= best_recall - 1e-9,
        "recall_ge_70_where_auroc_85": ours["absent_called_unknown"] >= 0.7 if any_auroc >= 0.85 else None,
        "known_unknown_le_3pct": ours["known_called_unknown"] <= 0.03,
        "macro_f1_ge_best_baseline": ours["known_macro_f1"] >= best_f1 - 1e-9,
    }


def main(quick: bool = False, only: str | None = None, seeds=None) -> None:
    """``only``: "sim" or "pbmc" (one part; its own results file), ``seeds``: the simulated seeds (default dev + untouched)."""
    import os

    t0 = time.time()
    epochs = 20
    try:
        import celltypist  # noqa: F401

        with_ct, ct_note = (
            True,
            (
                "celltypist2 1.7.1 (pip install celltypist2), CPU, same process; trained with use_SGD=True "
                "(its default path passes multi_class='ovr', removed in scikit-learn 1.8+), mode 'prob match', p_thres 0.5"
            ),
        )
    except ImportError:
        with_ct, ct_note = False, "not installed: skipped"
    table = Table("celltype_novelty" + (f"_{only}" if only else ""))
    cases = []
    if only in (None, "sim"):
        for name in SCENARIOS:
            for seed in seeds or (DEV_SEEDS + (() if quick else TEST_SEEDS)):
                cases.append(
                    (name, "dev" if seed in DEV_SEEDS else "untouched", seed, lambda n=name, s=seed: simulated(n, s))
                )
    if only in (None, "pbmc"):
        for leave, ref, qry in pbmc_cases():
            cases.append((f"pbmc68k_reduced, {leave} left out", "untouched", 0, lambda r=ref, q=qry: (r, q)))
    for name, split, seed, make in cases:
        ref, qry = make()
        t = time.time()
        rows = score(qry.obs["cell_type"].astype(str).to_numpy(), run_case(ref, qry, seed, epochs, with_ct))
        goal = targets(rows)
        for method, r in rows.items():
            table.add(
                scenario=name,
                split=split,
                seed=seed,
                method=method,
                **r,
                **(
                    {"targets": ", ".join(k for k, v in goal.items() if v is False) or "met"}
                    if method == "OmicsGAT"
                    else {}
                ),
            )
        print(f"  {name} (seed {seed}): {time.time() - t:.0f} s", flush=True)
    meta = {
        "quick": quick,
        "epochs": epochs,
        "alpha": ALPHA,
        "celltypist": ct_note,
        "total_seconds": time.time() - t0,
        "loadavg": os.getloadavg(),
    }
    table.save(meta)
    print(f"\n### {table.name}\n\n{table.to_markdown()}\n", flush=True)


if __name__ == "__main__":
    import sys

    from benchmarks._common import exit_if_help

    exit_if_help(__doc__)
    args = [a for a in sys.argv[1:] if not a.startswith("-")]
    main(
        quick="--quick" in sys.argv,
        only=args[0] if args else None,
        seeds=tuple(int(x) for x in args[1].split(",")) if len(args) > 1 else None,
    )
