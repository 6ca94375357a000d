"""Writes the model folders in this directory with OmicsGAT 0.1.0 (run once, from the 0.1.0 code).

The folders are what ``save(folder)`` of that release wrote; tests/test_model_contract.py loads them
with today's code and checks that they predict what they predicted when they were saved
(``expected_*.tsv``). Run: ``python tests/data/models_0_1_0/make_models.py`` from the repository root.
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent


def celltype_data():
    from omicsgat.simulate import simulate_label_transfer

    return simulate_label_transfer(n_reference=240, n_query=120, n_genes=160, n_types=3, seed=11)


def prognosis_data():
    from omicsgat.simulate import simulate_survival_cohort

    return simulate_survival_cohort(n_samples=60, n_features={"mRNA": 24, "miRNA": 8}, seed=5)


def grn_data():
    from omicsgat.simulate import simulate_scrna

    return simulate_scrna(n_cells=150, n_genes=30, n_regulators=6, n_cell_types=2, seed=4)


def main() -> None:
    from omicsgat.celltype import annotate_cells
    from omicsgat.grn import infer_grn
    from omicsgat.prognosis import GeneAttentionSurvival

    reference, query = celltype_data()
    result = annotate_cells(
        query, "cell_type", reference, epochs=3, max_genes=160, n_pcs=10, hidden=8, heads=2, device="cpu", seed=0
    )
    result.save_model(HERE / "celltype")
    labels = result.model.predict(query, device="cpu")
    labels.to_frame()[["cell", "label", "confidence"]].to_csv(
        HERE / "expected_celltype.tsv", sep="\t", index=False, float_format="%.6g"
    )

    cohort = prognosis_data()
    model = GeneAttentionSurvival(epochs=5, max_features=16, device="cpu", seed=0).fit(cohort)
    model.save(HERE / "prognosis")
    model.predict_risk(cohort).to_csv(HERE / "expected_prognosis.tsv", sep="\t", float_format="%.8g")

    grn = infer_grn(grn_data(), genes=30, epochs=3, restarts=1, hidden=8, heads=1, device="cpu", seed=0)
    grn.save_model(HERE / "grn")


if __name__ == "__main__":
    main()
