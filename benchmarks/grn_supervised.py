"""Supervised GRN mode against its baselines only, on the same held-out edges (issue #18).

``python -m benchmarks grn_supervised [--quick] [--beeline DIR]``

Rows: OmicsGAT supervised (GENELink-style link prediction), the MLP link
predictor on [x_regulator, x_target], and the degree baseline (logistic
regression on |Pearson|, |Spearman|, the regulator's out-degree and the
target's in-degree among the training edges; ``benchmarks.grn.degree_link``),
all scored on the test split the model held out.

* simulated networks: the same data, seeds and prior as ``benchmarks/grn.py``
  (the whole true network as prior, split 60 / 20 / 20 train / val / test);
* BEELINE synthetic networks (``../shared/beeline/synthetic`` by default): the
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

from benchmarks._common import Table, mean_sd, measure
from benchmarks.grn import DEGREE_BASELINE, _prepared, degree_link, mlp_link

GAT = "OmicsGAT supervised (held-out test edges)"
MLP = "MLP link predictor (same test edges)"


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
    out = {GAT: (ms.value.params["test_metrics"], ms.seconds, ms.peak_mb)}
    mm = measure(lambda: mlp_link(prep.expr, prep.genes, ms.value.split, seed))
    out[MLP] = (score_labels(*mm.value), mm.seconds, mm.peak_mb)
    md = measure(lambda: degree_link(prep.raw, prep.genes, ms.value.split, seed))
    out[DEGREE_BASELINE] = (score_labels(*md.value), md.seconds, md.peak_mb)
    return out, ms.value.params["n_test_edges"]


def _add(table, name, per_method, extra=None):
    deg = np.array([m["AUPRC_ratio"] for m, *_ in per_method[DEGREE_BASELINE]])
    for method, rows in per_method.items():
        a = np.array([(m["AUROC"], m["AUPRC_ratio"], m["EPR"], s, p) for m, s, p in rows])
        ratio = float(a[:, 1].mean() / deg.mean()) if deg.mean() > 0 else float("nan")
        table.add(
            dataset=name,
            method=method,
            n=len(rows),
            AUROC=mean_sd(a[:, 0]),
            AUPRC_ratio=mean_sd(a[:, 1]),
            EPR=mean_sd(a[:, 2]),
            x_degree_baseline=round(ratio, 3),
            seconds=float(a[:, 3].mean()),
            peak_MB=float(a[:, 4].max()),
            **(extra or {}),
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


def run_beeline(table, root: Path, seed=0):
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
        used.append(folder.name)
        for k, v in out.items():
            per_method.setdefault(k, []).append(v)
        print(
            f"  {folder.name}: GAT {out[GAT][0]['AUPRC_ratio']:.2f}, degree {out[DEGREE_BASELINE][0]['AUPRC_ratio']:.2f} "
            f"({n_test} test edges)",
            flush=True,
        )
    if per_method:
        _add(table, f"BEELINE synthetic, 2/3 of the true edges as prior ({len(used)} data sets)", per_method)
    return used, skipped


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
    root = (
        Path(argv[argv.index("--beeline") + 1])
        if "--beeline" in argv
        else Path(__file__).resolve().parents[1].parent / "shared" / "beeline" / "synthetic"
    )
    if not root.is_dir():
        root = Path("/work/shared/beeline/synthetic")
    if root.is_dir() and not quick:
        used, skipped = run_beeline(table, root)
        meta.update(beeline=str(root), beeline_used=used, beeline_skipped=skipped)
    else:
        print(f"  BEELINE folder {root} absent (or --quick): skipped", flush=True)
    return table.publish(
        {**meta, "load_average_end": os.getloadavg()[0], "minutes": round((time.time() - start) / 60, 1)}
    )


if __name__ == "__main__":  # pragma: no cover
    from benchmarks._common import exit_if_help

    exit_if_help(__doc__)
    main()
