"""Supervised GRN mode against its baselines, on the same held-out edges.

``python -m benchmarks grn_supervised [--quick] [--beeline DIR] [--curated DIR]``

Rows, all scored on the test pairs the model held out (a gene pair's two
orientations are always in the same split, so no test edge is seen reversed
in training; degrees are counted on training edges only):

* OmicsGAT supervised (the default: the learned score blended with the
  steady-state score by the weight the validation edges chose), and its two
  parts alone: the steady-state conditional score (no prior used) and the
  learned link predictor;
* the MLP link predictor on [x_regulator, x_target];
* logistic regression on the training degrees only (regulator out-degree,
  target in-degree: the hub shortcut), on |Pearson|, |Spearman| and degrees
  (``benchmarks.grn.degree_link``, the degree-aware baseline of the ratio
  column), and on the same plus OmicsGAT's steady-state score (the strongest
  simple learner on the same evidence).

* simulated networks: the same data, seeds and prior as ``benchmarks/grn.py``
  (the whole true network as prior, split 60 / 20 / 20 train / val / test);
* BEELINE synthetic and curated networks (``../shared/beeline/synthetic`` and
  ``../shared/beeline/curated`` by default), each family reported apart: the
  whole reference network as prior with a third of its edges held out for the
  test (``test_fraction=1/3``), i.e. 2/3 of the true edges known to the
  method (train + validation); every gene a candidate regulator. Data sets with
  fewer than 10 usable reference edges (supervised mode's minimum) are skipped.

The same supervised rows are in ``python -m benchmarks grn``; this module runs
them alone (the unsupervised rows take most of that benchmark's time).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks._common import Table, mean_sd, measure
from benchmarks.grn import DEGREE_BASELINE, _prepared, degree_link, mlp_link

GAT = "OmicsGAT supervised (default: blend chosen on validation edges)"
STEADY = "OmicsGAT steady-state score alone (no prior)"
LEARNED = "OmicsGAT learned link score alone"
MLP = "MLP link predictor (same test edges)"
DEGREE_ONLY = "logistic regression on training degrees only"
STEADY_BASELINE = "logistic regression on OmicsGAT steady-state score, |r|, |rho|, training degrees"


def _logistic(split: pd.DataFrame, columns, seed) -> tuple[np.ndarray, np.ndarray]:
    """Logistic regression on the given per-pair feature columns, trained on the training pairs, scored on test."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    train, test = split[split["split"] == "train"], split[split["split"] == "test"]
    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000, class_weight="balanced", random_state=seed))
    clf.fit(train[columns].to_numpy(float), train["label"].to_numpy())
    return test["label"].to_numpy(), clf.predict_proba(test[columns].to_numpy(float))[:, 1]


def _with_degrees(split: pd.DataFrame, edges: pd.DataFrame) -> pd.DataFrame:
    """The split's pairs with training degrees (known training edges only) and OmicsGAT's steady-state score."""
    known = split[(split["split"] == "train") & (split["label"] == 1)]
    out = split.assign(
        out_degree=split["regulator"].map(known["regulator"].value_counts()).fillna(0).to_numpy(float),
        in_degree=split["target"].map(known["target"].value_counts()).fillna(0).to_numpy(float),
    )
    steady = edges.set_index(["regulator", "target"])["steady_state_score"]
    out["steady"] = steady.reindex(pd.MultiIndex.from_frame(out[["regulator", "target"]])).to_numpy(float)
    return out


def _with_correlations(pairs: pd.DataFrame, prep) -> pd.DataFrame:
    """|Pearson| and |Spearman| of each pair on the prepared (meta)cells, as ``degree_link`` computes them."""
    from scipy.stats import rankdata

    idx = {g: i for i, g in enumerate(prep.genes)}
    with np.errstate(all="ignore"):
        pear = np.nan_to_num(np.abs(np.corrcoef(prep.raw, rowvar=False)))
        spear = np.nan_to_num(np.abs(np.corrcoef(rankdata(prep.raw, axis=0), rowvar=False)))
    r = pairs["regulator"].map(idx).to_numpy()
    t = pairs["target"].map(idx).to_numpy()
    return pairs.assign(r=pear[r, t], rho=spear[r, t])


def _fit_all(adata, ref, regs, seed, *, test_fraction=0.2):
    from omicsgat.grn import infer_grn
    from omicsgat.metrics.grn import score_labels

    prep = _prepared(adata, regs, seed)
    prior = ref[ref["regulator"].isin(prep.genes) & ref["target"].isin(prep.genes)][["regulator", "target"]]
    ms = measure(
        lambda: infer_grn(
            adata,
            genes=adata.n_vars,
            regulators=regs,
            prior=prior,
            mode="supervised",
            device="cpu",
            seed=seed,
            test_fraction=test_fraction,
        )
    )
    res = ms.value
    out = {GAT: (res.params["test_metrics"], ms.seconds, ms.peak_mb)}
    out[STEADY] = (res.params["test_metrics_steady_state"], ms.seconds, ms.peak_mb)
    out[LEARNED] = (res.params["test_metrics_learned"], ms.seconds, ms.peak_mb)
    mm = measure(lambda: mlp_link(prep.expr, prep.genes, res.split, seed))
    out[MLP] = (score_labels(*mm.value), mm.seconds, mm.peak_mb)
    pairs = _with_degrees(res.split, res.edges)
    mo = measure(lambda: _logistic(pairs, ["out_degree", "in_degree"], seed))
    out[DEGREE_ONLY] = (score_labels(*mo.value), mo.seconds, mo.peak_mb)
    md = measure(lambda: degree_link(prep.raw, prep.genes, res.split, seed))
    out[DEGREE_BASELINE] = (score_labels(*md.value), md.seconds, md.peak_mb)
    columns = ["steady", "r", "rho", "out_degree", "in_degree"]
    ms2 = measure(lambda: _logistic(_with_correlations(pairs, prep), columns, seed))
    out[STEADY_BASELINE] = (score_labels(*ms2.value), ms2.seconds, ms2.peak_mb)
    out["_blend"] = res.params["supervised_blend"]["weight_learned"]
    return out, ms.value.params["n_test_edges"]


BASELINES = (MLP, DEGREE_ONLY, DEGREE_BASELINE, STEADY_BASELINE)


def _add(table, name, per_method):
    """One row per method: mean ± sd over data sets; ratios of mean AUPRC ratio to the degree-aware baseline's and
    to the best baseline's of the same runs; the learned-score weights the runs chose."""
    weights = per_method.pop("_blend")
    mean_auprc = {m: float(np.mean([x["AUPRC_ratio"] for x, *_ in rows])) for m, rows in per_method.items()}
    best = max(BASELINES, key=lambda m: mean_auprc[m])
    for method, rows in per_method.items():
        a = np.array([(m["AUROC"], m["AUPRC_ratio"], m["EPR"], s, p) for m, s, p in rows])
        table.add(
            dataset=name,
            method=method,
            n=len(rows),
            AUROC=mean_sd(a[:, 0]),
            AUPRC_ratio=mean_sd(a[:, 1]),
            EPR=mean_sd(a[:, 2]),
            x_degree_baseline=round(mean_auprc[method] / mean_auprc[DEGREE_BASELINE], 3),
            x_best_baseline=round(mean_auprc[method] / mean_auprc[best], 3),
            weight_learned=" ".join(f"{w:g}" for w in weights) if method == GAT else "",
            seconds=float(a[:, 3].mean()),
            peak_MB=float(a[:, 4].max()),
        )


def run_simulated(table, seeds, sims):
    from omicsgat.simulate import simulate_scrna, true_network

    for n_cells, n_genes, n_regs in sims:
        per_method: dict = {}
        for seed in seeds:
            adata = simulate_scrna(n_cells=n_cells, n_genes=n_genes, n_regulators=n_regs, n_cell_types=4, seed=seed)
            ref = true_network(adata)
            out, _ = _fit_all(adata, ref, sorted(set(ref["regulator"])), seed)
            for k, v in out.items():
                per_method.setdefault(k, []).append(v)
        _add(table, f"simulated {n_genes} genes / {n_regs} regulators ({n_cells} cells)", per_method)
        print(f"  simulated {n_genes} genes done", flush=True)


def run_beeline(table, root: Path, family: str, seed=0):
    from omicsgat.errors import OmicsInputError
    from omicsgat.io import read_anndata

    per_method: dict = {}
    used, skipped = [], []
    for folder in sorted(p for p in root.iterdir() if (p / "ExpressionData.csv").is_file()):
        adata, _ = read_anndata(str(folder))
        ref = adata.uns.pop("beeline_reference")
        try:
            out, n_test = _fit_all(adata, ref, None, seed, test_fraction=1 / 3)
        except OmicsInputError as exc:
            skipped.append(f"{folder.name} ({exc.args[0][:60]}...)")
            continue
        except ValueError as exc:  # the MLP baseline's own validation split needs more training pairs
            skipped.append(f"{folder.name} (too few pairs for the MLP baseline: {str(exc)[:60]})")
            continue
        used.append(folder.name)
        for k, v in out.items():
            per_method.setdefault(k, []).append(v)
        print(
            f"  {folder.name}: GAT {out[GAT][0]['AUPRC_ratio']:.2f}, degree {out[DEGREE_BASELINE][0]['AUPRC_ratio']:.2f} "
            f"({n_test} test edges, weight {out['_blend']:g})",
            flush=True,
        )
    if used:
        _add(table, f"BEELINE {family}, 2/3 of the true edges as prior ({len(used)} data sets)", per_method)
    return used, skipped


def _folder(argv, flag: str, name: str) -> Path:
    """``--flag DIR`` or ``../shared/beeline/<name>`` next to the repository (``/work/shared`` from a worktree)."""
    if flag in argv:
        return Path(argv[argv.index(flag) + 1])
    root = Path(__file__).resolve().parents[1].parent / "shared" / "beeline" / name
    return root if root.is_dir() else Path("/work/shared/beeline") / name


def main(quick: bool = False, argv=None) -> Table:
    argv = list(argv or [])
    start = time.time()
    table = Table("grn_supervised")
    seeds = [0, 1] if quick else [0, 1, 2, 3, 4]
    sims = [(600, 60, 10)] if quick else [(600, 60, 10), (800, 150, 20), (800, 300, 30)]
    meta = {
        "quick": quick,
        "threads": os.environ.get("OMICSGAT_THREADS", "auto"),
        "load_average_start": os.getloadavg()[0],
    }
    run_simulated(table, seeds, sims)
    table.save(meta)
    for family, flag in (("synthetic", "--beeline"), ("curated", "--curated")):
        root = _folder(argv, flag, family)
        if root.is_dir() and not quick:
            used, skipped = run_beeline(table, root, family)
            meta.update({f"beeline_{family}": str(root), f"{family}_used": used, f"{family}_skipped": skipped})
        else:
            print(f"  BEELINE {family} folder {root} absent (or --quick): skipped", flush=True)
    return table.publish(
        {**meta, "load_average_end": os.getloadavg()[0], "minutes": round((time.time() - start) / 60, 1)}
    )


if __name__ == "__main__":  # pragma: no cover
    from benchmarks._common import exit_if_help

    exit_if_help(__doc__)
    main()
