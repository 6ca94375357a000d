"""Cell typing across species (human <-> mouse) and sequencing depths, on real data.

Cases (``../shared/celltype``, see its README): the mouse immune cells of ACTINN as reference for two human PBMC
queries (Kang 2018, a random 1,500 of its 8,684 cells; scanpy's pbmc68k_reduced) and Kang (the same 1,500 cells)
as reference for the mouse cells. Types are matched on one vocabulary: B, T (mouse T <-> Kang's CD4 T cells and
pbmc68k's three CD4+ labels), NK, Monocyte. Absent from the reference (should be Unknown): Granulocyte (human ->
mouse), Dendritic and CD34+ (-> pbmc68k). pbmc68k's two CD8+ labels are a sibling of the reference's T cells:
reported apart, never scored. Each query is also thinned binomially to 50, 20 and 10 % of its counts
(pbmc68k_reduced ships log-normalized values; its counts are recovered as expm1 over each cell's smallest non-zero
value, which is one count, and used at every depth).

Methods, all on the same reference and query: OmicsGAT as shipped (the reference converted to the query's
species through the shipped orthologs, the counts of a gene's several orthologs summed; ``depth="auto"``, which decides from the ratio of median counts
per cell over the shared genes, the Unknown tests calibrated on anchored query cells across species, and each
query cell's label called from its class probabilities mixed with those of its nearest query cells,
``query_smoothing``); the same
with the depth handling forced (``none``: the reference as it is; ``match``: thinned to the query's depth when
deeper; ``augment``: one thinned copy of every reference cell at a share drawn from 10-50 %); the same with
``query_smoothing=0`` (each query cell called alone, not mixed with its own neighbours); OmicsGAT with the
``one2one`` ortholog rule (full depth); logistic regression and kNN (15 neighbours, 50 joint PCs) on the one-to-one
orthologs the two share, each data set log-normalized and z-scored gene by gene on its own, Unknown by a
split-conformal test at 2 % on a stratified 20 % of the reference (top probability / mean distance to the 10
nearest reference cells); CellTypist (celltypist) trained on the reference in its own species, converted with its
own ``Model.convert`` (its Ensembl 105 table, one-to-one), its ``prob match`` rule at p 0.5 ("Unassigned" =
Unknown).

``python -m benchmarks celltype_species [--quick] [--data DIR] [--only CASE] [--depths 1,0.2] [--seed S]``
(``--quick``: full depth and 20 % only; ``--only``: the cases whose name holds CASE, saved under their own name;
``--seed``: the methods' seed, the query's thinning keeps seed 0).
"""

from __future__ import annotations

import sys
import time
import warnings
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks._common import Table

ALPHA = 0.02
KANG_CELLS = 1500
DEPTHS = (1.0, 0.5, 0.2, 0.1)
FORCED_DEPTH = ("none", "match", "augment")  # the depth handlings "auto" chooses between, each forced
MOUSE_VOCAB = {"B cell": "B", "T cell": "T", "NK cell": "NK", "Monocyte": "Monocyte", "Granulocyte": "Granulocyte"}
KANG_VOCAB = {"B cells": "B", "CD4 T cells": "T", "NK cells": "NK", "CD14+ Monocytes": "Monocyte"}
PBMC_VOCAB = {
    "CD19+ B": "B",
    "CD4+/CD25 T Reg": "T",
    "CD4+/CD45RO+ Memory": "T",
    "CD4+/CD45RA+/CD25- Naive T": "T",
    "CD56+ NK": "NK",
    "CD14+ Monocyte": "Monocyte",
    "Dendritic": "absent",
    "CD34+": "absent",
    "CD8+ Cytotoxic T": "sibling",
    "CD8+/CD45RA+ Naive Cytotoxic": "sibling",
}
MATCHED = ["B", "Monocyte", "NK", "T"]


def _default_data() -> Path:
    """``../shared/celltype`` next to the repository, or two levels up from a worktree."""
    repo = Path(__file__).resolve().parents[1]
    for base in (repo.parent, repo.parent.parent):
        if (base / "shared" / "celltype").is_dir():
            return base / "shared" / "celltype"
    return repo.parent / "shared" / "celltype"


def load(data: Path):
    """(mouse, kang, pbmc) with obs['truth'] in the shared vocabulary and raw counts in X."""
    import anndata as ad
    import scanpy as sc
    import scipy.sparse as sp

    mouse = ad.read_h5ad(data / "mouse_immune_actinn.h5ad")
    mouse.obs["truth"] = mouse.obs["cell_type"].astype(str).map(MOUSE_VOCAB)
    kang = ad.read_h5ad(data / "kang2018_pbmc_counts.h5ad")
    rows = np.sort(np.random.default_rng(0).choice(kang.n_obs, KANG_CELLS, replace=False))
    kang = kang[rows].copy()
    kang.obs["truth"] = kang.obs["cluster_id"].astype(str).map(KANG_VOCAB)
    p = sc.datasets.pbmc68k_reduced()
    logx = p.raw.X.toarray() if sp.issparse(p.raw.X) else np.asarray(p.raw.X)
    e = np.expm1(logx.astype(np.float64))
    one = np.array([r[r > 0].min() for r in e])
    counts = np.round(e / one[:, None]).astype(np.float32)
    truth = pd.DataFrame({"truth": p.obs["bulk_labels"].astype(str).map(PBMC_VOCAB)}, index=p.obs_names)
    pbmc = ad.AnnData(X=sp.csr_matrix(counts), obs=truth, var=p.raw.var[[]].copy())
    return mouse, kang, pbmc


def cases(mouse, kang, pbmc):
    """(name, reference with obs['cell_type'], query with obs['truth'])."""
    ref_mouse = mouse.copy()
    ref_mouse.obs["cell_type"] = ref_mouse.obs["truth"]
    ref_kang = kang.copy()
    ref_kang.obs["cell_type"] = ref_kang.obs["truth"]
    yield "mouse -> human (Kang)", ref_mouse, kang
    yield "mouse -> human (pbmc68k)", ref_mouse, pbmc
    query_mouse = mouse.copy()  # Granulocyte: a type the human reference lacks
    query_mouse.obs["truth"] = query_mouse.obs["truth"].replace({"Granulocyte": "absent"})
    yield "human (Kang) -> mouse", ref_kang, query_mouse


# --- methods ---------------------------------------------------------------------------------------------------


def _omicsgat(ref, qry, seed, **kw):
    from omicsgat.celltype import annotate_cells

    q = qry.copy()
    del q.obs["truth"]
    res = annotate_cells(q, "cell_type", ref, seed=seed, device="cpu", **kw)
    return res.labels["label"].astype(str).to_numpy(), res.labels["predicted"].astype(str).to_numpy(), res.params


def _shared_z(ref, qry):
    """Per-data-set z-scored log expression of the one-to-one orthologs both have (reference converted)."""
    from omicsgat.celltype.prepare import _expression, _standardize
    from omicsgat.io.orthologs import reference_in_query_species

    conv_ref, _, conv = reference_in_query_species(ref, qry)
    genes = [g for g in conv_ref.var_names if g in set(qry.var_names)]
    r, _ = _expression(conv_ref[:, genes])
    q, _ = _expression(qry[:, genes])
    return _standardize(r.X), _standardize(q.X), genes, conv


def _conformal_unknown(score_cal, score_q, labels):
    """Split-conformal test: Unknown when (1 + #calibration scores >= s) / (n + 1) <= ALPHA."""
    cal = np.sort(np.asarray(score_cal))
    p = (1 + len(cal) - np.searchsorted(cal, score_q, side="left")) / (len(cal) + 1)
    return np.where(p <= ALPHA, "Unknown", labels)


def _knn_distance(index, points, k=10):
    from sklearn.neighbors import NearestNeighbors

    return NearestNeighbors(n_neighbors=k).fit(index).kneighbors(points)[0].mean(1)


def _baselines(ref, qry, seed):
    from sklearn.decomposition import PCA
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split
    from sklearn.neighbors import KNeighborsClassifier

    t0 = time.perf_counter()
    zr, zq, genes, _ = _shared_z(ref, qry)
    y = ref.obs["cell_type"].astype(str).to_numpy()
    idx, cal = train_test_split(np.arange(len(y)), test_size=0.2, stratify=y, random_state=seed)
    prep_s = time.perf_counter() - t0
    out = {}
    t0 = time.perf_counter()
    lr = LogisticRegression(max_iter=1000, C=0.1, class_weight="balanced", random_state=seed).fit(zr[idx], y[idx])
    pq, pc = lr.predict_proba(zq), lr.predict_proba(zr[cal])
    pred = lr.classes_[pq.argmax(1)].astype(str)
    out["LogReg (1:1 orthologs)"] = (
        _conformal_unknown(1 - pc.max(1), 1 - pq.max(1), pred),
        pred,
        prep_s + time.perf_counter() - t0,
    )
    t0 = time.perf_counter()
    pca = PCA(n_components=min(50, len(genes) - 1), random_state=seed).fit(np.vstack([zr, zq]))
    pr, pqq = pca.transform(zr), pca.transform(zq)
    knn = KNeighborsClassifier(n_neighbors=15).fit(pr[idx], y[idx])
    d_cal, d_q = _knn_distance(pr[idx], pr[cal]), _knn_distance(pr[idx], pqq)
    pred = knn.predict(pqq).astype(str)
    out["kNN (1:1 orthologs, joint PCA)"] = (
        _conformal_unknown(d_cal, d_q, pred),
        pred,
        prep_s + time.perf_counter() - t0,
    )
    return out


def _celltypist(ref, qry, seed):
    """CellTypist on the reference's own genes, converted to the query's species by CellTypist itself."""
    import anndata as ad
    import celltypist

    from omicsgat.pp import log_normalized

    r, q = log_normalized(ref), log_normalized(qry)
    r.obs["y"] = ref.obs["cell_type"].astype(str).to_numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # use_SGD: celltypist2 1.7.1's default solver passes multi_class="ovr", which scikit-learn 1.8+ removed
        model = celltypist.train(
            r, "y", check_expression=False, feature_selection=False, use_SGD=True, n_jobs=1, random_state=seed
        )
        model.convert()  # its Ensembl 105 human <-> mouse table, one-to-one orthologs, direction detected
        q = ad.AnnData(X=q.X, obs=pd.DataFrame(index=qry.obs_names), var=pd.DataFrame(index=qry.var_names))
        pred = celltypist.annotate(q, model, mode="best match")
    # "prob match" at p 0.5 with one label per cell: Unassigned when no type reaches 0.5 (read from the probability
    # matrix: celltypist2 1.7.1 returned "U" for "Unassigned" in its predicted_labels here)
    prob = pred.probability_matrix
    best = prob.idxmax(axis=1).astype(str).to_numpy()
    return np.where(prob.max(axis=1).to_numpy() < 0.5, "Unknown", best), best


# --- scores ----------------------------------------------------------------------------------------------------


def score(truth: np.ndarray, calls: np.ndarray, predicted: np.ndarray) -> dict:
    from sklearn.metrics import f1_score

    truth = np.asarray(truth, dtype=object)
    known = np.isin(truth, MATCHED)
    absent = truth == "absent"
    sibling = truth == "sibling"
    present = [t for t in MATCHED if (truth == t).any()]
    out = {
        "macro_f1": f1_score(truth[known], calls[known], labels=present, average="macro", zero_division=0),
        "macro_f1_no_unknown": f1_score(
            truth[known], predicted[known], labels=present, average="macro", zero_division=0
        ),
        "known_unknown": float((calls[known] == "Unknown").mean()),
        "absent_unknown": float((calls[absent] == "Unknown").mean()) if absent.any() else None,
    }
    if sibling.any():
        out["cd8_unknown"] = float((calls[sibling] == "Unknown").mean())
        out["cd8_as_t_or_nk"] = float(np.isin(calls[sibling], ["T", "NK"]).mean())
    return out


def run(
    data: Path, quick: bool = False, seed: int = 0, only: str = "", depths=None, thin_seed: int = 0
) -> tuple[Table, dict]:
    from omicsgat.celltype.depth import thinned

    try:
        import celltypist  # noqa: F401

        with_ct = True
    except ImportError:
        with_ct = False
    mouse, kang, pbmc = load(data)
    table = Table("celltype_species")
    meta: dict = {"seed": seed, "alpha": ALPHA, "kang_cells": KANG_CELLS, "celltypist": with_ct, "species": {}}
    depths = depths or ((1.0, 0.2) if quick else DEPTHS)
    for name, ref, qry in cases(mouse, kang, pbmc):
        if only and only not in name:
            continue
        for depth in depths:
            q = qry if depth == 1.0 else thinned(qry, depth, seed=thin_seed)
            q.obs["truth"] = qry.obs["truth"].to_numpy()
            truth = q.obs["truth"].to_numpy()
            runs = [("OmicsGAT", partial(_omicsgat, ref, q, seed))]
            for how in FORCED_DEPTH:
                runs.append((f"OmicsGAT, depth {how}", partial(_omicsgat, ref, q, seed, depth=how)))
            runs.append(("OmicsGAT, query smoothing 0", partial(_omicsgat, ref, q, seed, query_smoothing=0.0)))
            if depth == 1.0:
                runs.append(
                    ("OmicsGAT, ortholog rule one2one", partial(_omicsgat, ref, q, seed, ortholog_rule="one2one"))
                )
            for method, fn in runs:
                t0 = time.perf_counter()
                calls, predicted, params = fn()
                secs = time.perf_counter() - t0
                if method == "OmicsGAT":
                    keys = ("species_pair", "n_orthologs", "n_reference_genes_with_ortholog", "n_genes_used")
                    keys += ("ortholog_rule", "depth_handling", "depth_ratio", "depth_reason", "n_anchored_query_cells")
                    meta["species"][f"{name} @ {depth:g}"] = {k: params.get(k) for k in keys}
                    print(f"{name} @ {depth:g}: depth {params.get('depth_handling')} ({params.get('depth_reason')})")
                table.add(case=name, depth=depth, method=method, **score(truth, calls, predicted), seconds=secs)
                print(table.rows[-1], flush=True)
            for method, (calls, predicted, secs) in _baselines(ref, q, seed).items():
                table.add(case=name, depth=depth, method=method, **score(truth, calls, predicted), seconds=secs)
                print(table.rows[-1], flush=True)
            if with_ct:
                t0 = time.perf_counter()
                try:
                    calls, predicted = _celltypist(ref, q, seed)
                    table.add(
                        case=name,
                        depth=depth,
                        method="CellTypist (own convert)",
                        **score(truth, calls, predicted),
                        seconds=time.perf_counter() - t0,
                    )
                    print(table.rows[-1], flush=True)
                except Exception as exc:  # noqa: BLE001 - a peer that fails is reported, not fatal
                    meta.setdefault("celltypist_errors", []).append(f"{name} {depth}: {exc}")
    return table, meta


def main(quick: bool = False, argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    data = Path(argv[argv.index("--data") + 1]) if "--data" in argv else _default_data()
    t0 = time.time()
    only = argv[argv.index("--only") + 1] if "--only" in argv else ""
    depths = tuple(float(d) for d in argv[argv.index("--depths") + 1].split(",")) if "--depths" in argv else None
    seed = int(argv[argv.index("--seed") + 1]) if "--seed" in argv else 0
    table, meta = run(data, quick=quick, seed=seed, only=only, depths=depths)
    meta.update(total_seconds=time.time() - t0, quick=quick, data=str(data), only=only)
    if only:  # a partial rerun never overwrites the full table
        table.name = f"{table.name}_{''.join(c if c.isalnum() else '_' for c in only).strip('_')}"
    if seed:  # another seed never overwrites seed 0's table
        table.name = f"{table.name}_seed{seed}"
    table.publish(meta)


if __name__ == "__main__":
    from benchmarks._common import exit_if_help

    exit_if_help(__doc__)
    main(quick="--quick" in sys.argv)
