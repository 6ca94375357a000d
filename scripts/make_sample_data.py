"""Regenerate everything in sample_data/ (seeded; atomic writes; no download).

    .venv/bin/python scripts/make_sample_data.py [--out sample_data]

See sample_data/README.md for what each file is.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from omicsgat.io.atomic import atomic_path, write_table_atomic, write_text_atomic

SEED = 20261125


def _write_h5ad(adata, path: Path) -> None:
    with atomic_path(path) as tmp:
        adata.write_h5ad(tmp, compression="gzip")


def make_pbmc(out: Path) -> None:
    """scanpy's bundled pbmc68k_reduced (700 cells, 765 genes; X scaled, raw log-normalized)."""
    import scanpy as sc

    _write_h5ad(sc.datasets.pbmc68k_reduced(), out / "pbmc68k_reduced.h5ad")


def make_grn(out: Path) -> None:
    """1000 cells x 200 genes from a planted network, its regulators, and half of its edges as a prior."""
    from omicsgat.simulate import simulate_scrna, true_network

    adata = simulate_scrna(n_cells=1000, n_genes=200, n_regulators=20, n_cell_types=4, seed=SEED)
    _write_h5ad(adata, out / "simulated_grn.h5ad")
    regulators = adata.var_names[adata.var["is_regulator"].to_numpy()]
    write_text_atomic(out / "simulated_grn_regulators.txt", "\n".join(regulators) + "\n")
    net = true_network(adata)
    rng = np.random.default_rng(SEED)
    half = net.iloc[np.sort(rng.choice(len(net), size=len(net) // 2, replace=False))]
    write_table_atomic(half, out / "simulated_grn_prior.tsv")


def make_celltype(out: Path) -> None:
    """Reference and query: two batches of one simulation, with a batch effect.

    The reference lacks one cell type (the query's cells of that type should
    come out "Unknown") and each side lacks a different 10% of the genes.
    """
    from omicsgat.simulate import simulate_scrna

    adata = simulate_scrna(
        n_cells=1600, n_genes=300, n_regulators=30, n_cell_types=5, n_batches=2, batch_effect=0.5, seed=SEED + 1
    )
    rng = np.random.default_rng(SEED + 1)
    genes = adata.var_names.to_numpy()
    shuffled = rng.permutation(len(genes))
    n_drop = len(genes) // 10
    ref_genes = np.sort(np.setdiff1d(np.arange(len(genes)), shuffled[:n_drop]))
    query_genes = np.sort(np.setdiff1d(np.arange(len(genes)), shuffled[n_drop : 2 * n_drop]))
    missing_type = adata.obs["cell_type"].cat.categories[-1]
    in_ref = (adata.obs["batch"] == "batch0").to_numpy() & (adata.obs["cell_type"] != missing_type).to_numpy()
    in_query = (adata.obs["batch"] == "batch1").to_numpy()
    ref = adata[in_ref, ref_genes].copy()
    ref.obs["cell_type"] = ref.obs["cell_type"].cat.remove_unused_categories()
    query = adata[in_query, query_genes].copy()
    query.obs = query.obs.rename(columns={"cell_type": "true_cell_type"})
    for a in (ref, query):
        a.uns["simulation"] = {"seed": SEED + 1, "x_kind": "counts", "missing_from_reference": str(missing_type)}
    _write_h5ad(ref, out / "celltype_reference.h5ad")
    _write_h5ad(query, out / "celltype_query.h5ad")


def make_cohort(out: Path) -> None:
    """200 samples, mRNA/miRNA/methylation tables, clinical with dead/alive words."""
    from omicsgat.simulate import simulate_survival_cohort

    cohort = simulate_survival_cohort(
        n_samples=200, n_features={"mRNA": 300, "miRNA": 100, "methylation": 200}, missing_rate=0.005, seed=SEED + 2
    )
    folder = out / "cohort"
    for name, table in cohort.tables.items():
        write_table_atomic(table.round(4).rename_axis("sample"), folder / f"{name}.csv", index=True)
    clinical = cohort.clinical.copy()
    clinical["OS_event"] = np.where(clinical["OS_event"].to_numpy() == 1, "dead", "alive")
    write_table_atomic(clinical.rename_axis("sample"), folder / "clinical.csv", index=True)
    truth = pd.DataFrame(
        [(m, f, c) for m, feats in cohort.truth["prognostic"].items() for f, c in feats.items()],
        columns=["modality", "feature", "log_hazard_per_sd"],
    )
    write_table_atomic(truth, folder / "truth_prognostic.tsv")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "sample_data"))
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for make in (make_pbmc, make_grn, make_celltype, make_cohort):
        make(out)
        print(f"{make.__name__}: done")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
