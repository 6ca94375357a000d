"""Label transfer across studies: known types labelled, few false Unknowns, absent types caught.

Cases (each reported apart, by family):

* real, across studies (development): Kang 2018 PBMC (reference, raw counts, 4 types) -> scanpy's
  pbmc68k_reduced (query, ``.raw`` log-normalised, 765 genes); Dendritic and CD34+ are absent from the
  reference and distinct, the two CD8+ labels absent siblings (reported apart). And the reverse,
  pbmc68k_reduced -> Kang, where no type is absent: every Unknown is a false alarm.
* real, within one study: pbmc68k_reduced leave-one-type-out (a stratified 5-fold split, fold 0 the query;
  CD14+ Monocyte, CD19+ B, CD34+ and Dendritic left out of the reference in turn).
* synthetic: the batch scenarios of ``celltype_novelty`` (seed 0 development, seed 1 untouched).

Per case and method: macro-F1 over the query's known types (reference labels mapped onto the query's
vocabulary; an Unknown call counts as an error), known cells called Unknown, absent cells called Unknown
(distinct and sibling apart), seconds and peak memory.

Baselines, each on log-normalised shared genes and configured as its documentation advises:
LogReg (balanced, max-probability Unknown rule, split-conformal cut-off at ``ALPHA`` on held-out reference
cells); kNN (15-NN vote) with a distance rule on a joint PCA of per-data-set standardised genes; the same
after Harmony (harmonypy, batch = data set) on that joint PCA; CellTypist (trained on the reference,
``prob match`` at p 0.5 with ``majority_voting`` over its own over-clustering). scANVI is not run (see docs).

``python -m benchmarks celltype_transfer [--quick] [--kang PATH] [--parts real,loo,sim]``
"""

from __future__ import annotations

import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks._common import Table, measure

ALPHA = 0.02
EPOCHS = 30
_REPO = Path(__file__).resolve().parent.parent
KANG_DEFAULTS = (
    _REPO.parent / "shared" / "celltype" / "kang2018_pbmc_counts.h5ad",
    _REPO.parent.parent / "shared" / "celltype" / "kang2018_pbmc_counts.h5ad",
)
# pbmc68k_reduced's bulk_labels in Kang's vocabulary: matched types, distinct absent ones, siblings
PBMC_TO_KANG = {
    "CD4+/CD25 T Reg": "CD4 T cells",
    "CD4+/CD45RO+ Memory": "CD4 T cells",
    "CD4+/CD45RA+/CD25- Naive T": "CD4 T cells",
    "CD14+ Monocyte": "CD14+ Monocytes",
    "CD19+ B": "B cells",
    "CD56+ NK": "NK cells",
}
DISTINCT_ABSENT = {"Dendritic", "CD34+"}
SIBLINGS = {"CD8+ Cytotoxic T", "CD8+/CD45RA+ Naive Cytotoxic"}
# reverse direction: a CD8+ call on a Kang T cell is a T-cell call (Kang's 4-type copy has no CD8 label)
KANG_VOCAB_OF_PBMC_CALL = {
    **PBMC_TO_KANG,
    "CD8+ Cytotoxic T": "CD4 T cells",
    "CD8+/CD45RA+ Naive Cytotoxic": "CD4 T cells",
}
LOO_TYPES = ("CD14+ Monocyte", "CD19+ B", "CD34+", "Dendritic")
SIM_SCENARIOS = (
    "near, batch moderate",
    "near, batch strong",
    "far, batch strong",
    "near, batch moderate, 80 % genes",
    "near, batch moderate, 60 % genes",
    "rare (2 %), batch moderate",
    "small reference (300), batch moderate",
)


# --- data ------------------------------------------------------------------------------------------------------------


def kang(path: Path):
    import anndata as ad

    data = ad.read_h5ad(path)
    data.obs["cell_type"] = data.obs["cluster_id"].astype(str)
    return data


def pbmc68k():
    import anndata as ad
    import scanpy as sc

    pbmc = sc.datasets.pbmc68k_reduced()
    return ad.AnnData(
        X=pbmc.raw.X.copy(),
        obs=pbmc.obs[["bulk_labels"]].rename(columns={"bulk_labels": "cell_type"}),
        var=pbmc.raw.var[[]].copy(),
    )


# --- shared preprocessing for the baselines -------------------------------------------------------------------


def _shared_logs(ref, qry):
    """Log-normalised reference and query on their shared genes (dense), and those genes."""
    from omicsgat.celltype.prepare import _dense, _expression

    genes = [g for g in ref.var_names if g in set(qry.var_names)]
    r, _ = _expression(ref[:, genes])
    q, _ = _expression(qry[:, genes])
    return _dense(r.X), _dense(q.X), genes


def _zscore(x):
    sd = x.std(0)
    sd[sd == 0] = 1.0
    return np.clip((x - x.mean(0)) / sd, -10, 10)


def _split(y, seed):
    from omicsgat.celltype.novelty import calibration_split

    return calibration_split(y, np.arange(len(y)), 0.2, seed)


def _conformal_calls(labels, s_cal, s_q):
    from omicsgat.celltype.novelty import conformal_pvalues

    return np.where(conformal_pvalues(s_cal, s_q) <= ALPHA, "Unknown", labels)


def m_logreg(ref, qry, seed):
    from sklearn.linear_model import LogisticRegression

    r, q, _ = _shared_logs(ref, qry)
    zr, zq = _zscore(r), _zscore(q)
    y = ref.obs["cell_type"].astype(str).to_numpy()
    idx, cal = _split(pd.factorize(y)[0], seed)
    lr = LogisticRegression(max_iter=1000, C=0.1, class_weight="balanced", random_state=seed).fit(zr[idx], y[idx])
    p_q, p_cal = lr.predict_proba(zq), lr.predict_proba(zr[cal])
    return _conformal_calls(lr.classes_[p_q.argmax(1)].astype(str), 1 - p_cal.max(1), 1 - p_q.max(1))


def _knn_calls(ref_pcs, qry_pcs, y, seed):
    from sklearn.neighbors import KNeighborsClassifier

    from omicsgat.celltype.mapping import knn_distance

    idx, cal = _split(pd.factorize(y)[0], seed)
    labels = KNeighborsClassifier(n_neighbors=15).fit(ref_pcs[idx], y[idx]).predict(qry_pcs).astype(str)
    return _conformal_calls(
        labels, knn_distance(ref_pcs[idx], ref_pcs[cal], 10), knn_distance(ref_pcs[idx], qry_pcs, 10)
    )


def _joint_pca(ref, qry, seed, n_pcs=30):
    from sklearn.decomposition import PCA

    r, q, _ = _shared_logs(ref, qry)
    joint = np.vstack([_zscore(r), _zscore(q)])
    pcs = PCA(n_components=min(n_pcs, joint.shape[1] - 1), random_state=seed).fit_transform(joint)
    return pcs, len(r)


def m_knn_pca(ref, qry, seed):
    pcs, n = _joint_pca(ref, qry, seed)
    return _knn_calls(pcs[:n], pcs[n:], ref.obs["cell_type"].astype(str).to_numpy(), seed)


def m_knn_harmony(ref, qry, seed):
    import harmonypy

    pcs, n = _joint_pca(ref, qry, seed)
    meta = pd.DataFrame({"batch": ["reference"] * n + ["query"] * (len(pcs) - n)})
    corrected = np.asarray(harmonypy.run_harmony(pcs, meta, "batch", verbose=False, random_state=seed, ncores=1).Z_corr)
    return _knn_calls(corrected[:n], corrected[n:], ref.obs["cell_type"].astype(str).to_numpy(), seed)


def _over_clustering(test, seed) -> np.ndarray:
    """CellTypist's over-clustering recipe (scaled, 50 PCs, 10-NN graph, Leiden at its default resolution).

    celltypist 1.7.1 runs it through scanpy's ``pp.neighbors``, which fails in this environment above 4,096
    cells (it calls ``getnnz`` on a scipy ``csr_array``); the same recipe runs here with leidenalg.
    """
    import scanpy as sc

    from omicsgat.celltype.clusters import cluster_cells

    tmp = test.copy()
    sc.pp.scale(tmp, max_value=10)
    sc.pp.pca(tmp, n_comps=min(50, tmp.n_vars - 1))
    resolution = 5 if test.n_obs < 5000 else 10  # CellTypist's default below 5,000 / 20,000 cells
    return cluster_cells(tmp.obsm["X_pca"], seed, n_neighbors=10, resolution=resolution)[0].astype(str)


def m_celltypist(ref, qry, seed):
    """CellTypist as its docs advise for a custom model: trained on log1p(CP10k) reference cells, majority voting."""
    import anndata as ad
    import celltypist

    r, q, genes = _shared_logs(ref, qry)
    train = ad.AnnData(
        X=r,
        obs=pd.DataFrame({"y": ref.obs["cell_type"].astype(str).to_numpy()}, index=[f"r{i}" for i in range(len(r))]),
        var=pd.DataFrame(index=genes),
    )
    test = ad.AnnData(X=q, obs=pd.DataFrame(index=[f"q{i}" for i in range(len(q))]), var=pd.DataFrame(index=genes))
    over = _over_clustering(test, seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # use_SGD: the default solver path passes multi_class='ovr', which scikit-learn 1.8+ removed
        model = celltypist.train(train, "y", check_expression=False, use_SGD=True, n_jobs=1)
        pred = celltypist.annotate(
            test, model, mode="prob match", p_thres=0.5, majority_voting=True, over_clustering=over
        )
    labels = pred.predicted_labels["majority_voting"].astype(str).to_numpy()
    return np.where(labels == "Unassigned", "Unknown", labels)


def m_omicsgat(ref, qry, seed):
    from omicsgat.celltype import annotate_cells

    q = qry.copy()
    del q.obs["cell_type"]
    res = annotate_cells(q, "cell_type", ref, epochs=EPOCHS, seed=seed, device="cpu")
    m_omicsgat.last = res
    return res.labels["label"].astype(str).to_numpy()


METHODS = {
    "OmicsGAT": m_omicsgat,
    "LogReg max-prob": m_logreg,
    "kNN distance, joint PCA": m_knn_pca,
    "kNN distance, Harmony": m_knn_harmony,
    "CellTypist (majority voting)": m_celltypist,
}


# --- scoring ---------------------------------------------------------------------------------------------------------


def score(truth: np.ndarray, calls: np.ndarray, call_vocab: dict | None = None) -> dict:
    """``truth``: query labels in the reference's vocabulary, ``"absent"`` / ``"sibling"`` for the rest."""
    from sklearn.metrics import f1_score

    calls = np.array([call_vocab.get(c, c) for c in calls] if call_vocab else calls, dtype=object)
    known = ~np.isin(truth, ["absent", "sibling"])
    types = sorted(set(truth[known]))
    row = {
        "known_macro_f1": float(
            np.mean(f1_score(truth[known], calls[known], labels=types, average=None, zero_division=0))
        ),
        "known_called_unknown": float(np.mean(calls[known] == "Unknown")),
    }
    for part in ("absent", "sibling"):
        mask = truth == part
        row[f"{part}_called_unknown"] = float(np.mean(calls[mask] == "Unknown")) if mask.any() else np.nan
    return row


def run(
    table: Table, family: str, case: str, split: str, ref, qry, truth, seed: int, call_vocab=None, methods=None
) -> None:
    for name, fn in METHODS.items():
        if methods and not any(name.startswith(m.strip()) for m in methods):
            continue
        try:
            m = measure(lambda fn=fn: fn(ref, qry, seed))
        except Exception as exc:  # noqa: BLE001 - a baseline that fails is reported, not fatal
            note = f"failed: {type(exc).__name__}: {exc}"[:200]
            table.add(family=family, case=case, split=split, method=name, note=note)
            print(f"  {case} / {name}: failed ({exc})", flush=True)
            continue
        row = score(truth, m.value, call_vocab)
        extra = {}
        if name == "OmicsGAT":
            res = m_omicsgat.last
            reasons = res.labels.get("unknown_reason")
            if reasons is not None:
                counts = reasons[reasons.astype(str) != ""].value_counts().to_dict()
                extra["unknown_reasons"] = ", ".join(f"{k} {v}" for k, v in counts.items()) or "-"
        table.add(
            family=family,
            case=case,
            split=split,
            method=name,
            **row,
            seconds=round(m.seconds, 1),
            peak_mb=round(m.peak_mb),
            **extra,
        )
        print(f"  {case} / {name}: {row} {m.seconds:.0f} s", flush=True)


def real_cases(table: Table, kang_path: Path, seed: int, methods=None) -> None:
    ref, qry = kang(kang_path), pbmc68k()
    q_labels = qry.obs["cell_type"].astype(str).to_numpy()
    truth = np.array(
        [PBMC_TO_KANG.get(v, "absent" if v in DISTINCT_ABSENT else "sibling") for v in q_labels], dtype=object
    )
    run(table, "real, across studies", "Kang -> pbmc68k_reduced", "dev", ref, qry, truth, seed, methods=methods)
    truth_rev = ref.obs["cell_type"].astype(str).to_numpy().astype(object)
    run(
        table,
        "real, across studies",
        "pbmc68k_reduced -> Kang",
        "dev",
        qry,
        ref,
        truth_rev,
        seed,
        call_vocab=KANG_VOCAB_OF_PBMC_CALL,
        methods=methods,
    )


def loo_cases(table: Table, seed: int, methods=None) -> None:
    from benchmarks.celltype_novelty import pbmc_cases

    for leave, ref, qry in pbmc_cases(seed):
        if leave not in LOO_TYPES:
            continue
        truth = qry.obs["cell_type"].astype(str).to_numpy().astype(object)
        truth[truth == "novel"] = "absent"
        run(
            table,
            "real, within one study",
            f"pbmc68k_reduced, {leave} left out",
            "dev",
            ref,
            qry,
            truth,
            seed,
            methods=methods,
        )


def sim_cases(table: Table, seeds, methods=None) -> None:
    from benchmarks.celltype_novelty import simulated

    for seed in seeds:
        for name in SIM_SCENARIOS:
            ref, qry = simulated(name, seed)
            truth = qry.obs["cell_type"].astype(str).to_numpy().astype(object)
            truth[truth == "novel"] = "absent"
            run(table, "synthetic", name, "dev" if seed == 0 else "untouched", ref, qry, truth, seed, methods=methods)


def main(quick: bool = False, argv: list[str] | None = None) -> Table:
    import os

    argv = list(argv or [])
    kang_path = (
        Path(argv[argv.index("--kang") + 1])
        if "--kang" in argv
        else next((p for p in KANG_DEFAULTS if p.exists()), KANG_DEFAULTS[0])
    )
    parts = argv[argv.index("--parts") + 1].split(",") if "--parts" in argv else ["real", "loo", "sim"]
    methods = argv[argv.index("--methods") + 1].split(",") if "--methods" in argv else None
    t0 = time.time()
    table = Table(
        "celltype_transfer"
        + ("_quick" if quick else "")
        + ("" if parts == ["real", "loo", "sim"] else "_" + "_".join(parts))
    )
    if "real" in parts:
        real_cases(table, kang_path, 0, methods)
    if "loo" in parts:
        loo_cases(table, 0, methods)
    if "sim" in parts:
        sim_cases(table, (0,) if quick else (0, 1), methods)
    meta = {
        "quick": quick,
        "epochs": EPOCHS,
        "alpha": ALPHA,
        "kang": str(kang_path),
        "total_seconds": time.time() - t0,
        "loadavg": os.getloadavg(),
        "celltypist": "celltypist 1.7.1, trained on the reference (use_SGD), prob match p 0.5, majority_voting",
        "harmony": "harmonypy 2.1.0 on a 30-PC joint PCA, batch = data set",
        "scanvi": "not run (see docs/celltype.md)",
    }
    table.save(meta)
    print(f"\n### {table.name}\n\n{table.to_markdown()}\n", flush=True)
    return table


if __name__ == "__main__":
    import sys

    from benchmarks._common import exit_if_help

    exit_if_help(__doc__)
    main(quick="--quick" in sys.argv, argv=sys.argv[1:])
