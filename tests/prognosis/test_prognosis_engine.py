"""run_prognosis end to end on a simulated cohort: planted genes, out-of-fold guarantee, exports, determinism."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from omicsgat.errors import Cancelled, OmicsInputError


@pytest.fixture(scope="module")
def result(small_cohort):
    from omicsgat.prognosis import run_prognosis

    return run_prognosis(small_cohort, folds=3, ensemble=2, epochs=150, top_k=20, device="cpu", seed=0)


def test_planted_prognostic_features_are_ranked_at_the_top(result, small_cohort):
    planted = small_cohort.truth["prognostic"]
    hits = sum(f in set(result.genes[m]["feature"].head(20)) for m in planted for f in planted[m])
    total = sum(len(v) for v in planted.values())
    # chance: 20/200 + 20/60 + 20/100 of the 5 planted per modality ~ 3.2 of 15
    assert hits >= 0.7 * total, result.genes


def test_out_of_fold_c_index_well_above_chance_and_overfitting_is_visible(result):
    s = result.summary
    assert s["c_index"] > 0.6
    assert s["c_index_oof"] > 0.6
    assert len(s["c_index_per_fold"]) == 3
    assert s["train_c_index"] > s["c_index"]  # training C is reported and optimistic
    assert 0.5 < s["c_index_uno"] <= 1.0
    assert 0.0 < s["integrated_brier_score"] < 0.25
    assert s["logrank_p"] < 0.05 and s["hazard_ratio"] > 1.0
    assert s["hr_ci_low"] < s["hazard_ratio"] < s["hr_ci_high"]


def test_every_risk_comes_from_models_that_never_saw_the_sample(result):
    risk = result.risk
    assert list(risk.columns[:4]) == ["sample", "risk", "group", "fold"]
    assert risk["sample"].is_unique and risk["risk"].notna().all()
    assert len(result.members) == 3 * 2
    assert (result.members["enet_features"] > 0).all() and result.summary["wide"] == "blend"
    for _, member in result.members.iterrows():
        held_out = set(risk.loc[risk["fold"] == member["fold"], "sample"])
        seen = set(member["train_samples"]) | set(member["val_samples"])
        assert held_out and not held_out & seen
        assert len(held_out) + len(seen) == len(risk)  # the model saw every other sample


def test_risk_groups_and_gene_table_columns(result, small_cohort):
    assert set(result.risk["group"]) == {"low", "high"}
    assert (result.risk["group"] == "high").sum() == len(result.risk) // 2
    hi = result.risk.loc[result.risk["group"] == "high", "risk"].min()
    assert hi > result.risk.loc[result.risk["group"] == "low", "risk"].max()
    g = result.genes["miRNA"]
    assert list(g.columns[:7]) == ["feature", "attention", "rank", "topk_frequency", "cox_hr", "cox_p", "cox_fdr"]
    assert len(g) == small_cohort.tables["miRNA"].shape[1]
    assert g["rank"].tolist() == list(range(1, len(g) + 1))
    assert g["attention"].is_monotonic_decreasing
    assert g["cox_p"].head(20).notna().all() and g["cox_p"].iloc[20:].isna().all()
    assert (g["cox_fdr"].head(20) >= g["cox_p"].head(20) - 1e-12).all()
    assert g["topk_frequency"].between(0, 1).all()


def test_save_writes_files_that_parse_back(result, tmp_path):
    paths = result.save(tmp_path / "out")
    out = tmp_path / "out"
    risk = pd.read_csv(out / "risk.tsv", sep="\t")
    assert list(risk.columns[:4]) == ["sample", "risk", "group", "fold"]
    np.testing.assert_allclose(risk["risk"], result.risk["risk"])
    for m in ("mRNA", "miRNA", "methylation"):
        genes = pd.read_csv(out / f"genes_{m}.tsv", sep="\t")
        assert {"feature", "attention", "rank", "topk_frequency", "cox_hr", "cox_p", "cox_fdr"} <= set(genes.columns)
    summary = json.loads((out / "summary.json").read_text())
    assert {
        "c_index",
        "c_index_sd",
        "c_index_per_fold",
        "c_index_uno",
        "train_c_index",
        "logrank_p",
        "hazard_ratio",
        "hr_ci_low",
        "hr_ci_high",
    } <= set(summary)
    assert summary["c_index"] == pytest.approx(result.summary["c_index"])
    assert (out / "km.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (out / "km.pdf").read_bytes()[:4] == b"%PDF"
    assert b"<svg" in (out / "km.svg").read_bytes()[:2000]
    assert not list(out.glob(".*tmp*"))  # atomic writes left no temporary file
    assert set(paths) >= {"risk", "summary", "km.png"}


def test_plots_show_the_result(result):
    fig = result.plot_km()
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["low (n=100)", "high (n=100)"]
    assert "log-rank p" in ax.get_title() and "HR" in ax.get_title()
    assert len(fig.axes) == 2  # the number-at-risk table axis
    fig = result.plot_genes("mRNA", n=10)
    assert len(fig.axes[0].patches) == 10
    assert fig.axes[0].get_yticklabels()[-1].get_text() == result.genes["mRNA"]["feature"].iloc[0]
    fig = result.plot_cindex()
    assert len(fig.axes[0].patches) == 2 * 3
    with pytest.raises(OmicsInputError, match="RNA"):
        result.plot_genes("protein")


def test_same_seed_same_result_and_other_seed_differs(small_cohort):
    from omicsgat.prognosis import run_prognosis

    small = small_cohort.subset(small_cohort.samples[:80])
    kw = dict(modalities=["miRNA"], folds=2, ensemble=1, epochs=20, device="cpu", top_k=5)
    a, b = run_prognosis(small, seed=1, **kw), run_prognosis(small, seed=1, **kw)
    c = run_prognosis(small, seed=2, **kw)
    pd.testing.assert_frame_equal(a.risk, b.risk)
    pd.testing.assert_frame_equal(a.genes["miRNA"], b.genes["miRNA"])
    assert not np.allclose(a.risk["risk"], c.risk["risk"])


def _cohort(clinical: pd.DataFrame, n_features: int = 8, seed: int = 0):
    from omicsgat.io.multiomics import MultiOmics

    rng = np.random.default_rng(seed)
    table = pd.DataFrame(
        rng.normal(size=(len(clinical), n_features)), index=clinical.index, columns=[f"f{i}" for i in range(n_features)]
    )
    return MultiOmics(tables={"rna": table}, clinical=clinical, time_col="T", event_col="E")


def _clinical(n: int = 30, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {"T": rng.uniform(1, 100, n).round(1), "E": (rng.random(n) < 0.6).astype(int)},
        index=[f"P{i}" for i in range(n)],
    )


@pytest.mark.parametrize(
    "edit, pattern",
    [
        (lambda c: c.assign(T=c["T"].where(c.index != "P3", -5.0)), r"'T'.*negative.*'P3'"),
        (lambda c: c.assign(E=c["E"].where(c.index != "P4", 2)), r"'E'.*0 \(censored\) or 1.*'P4'"),
        (lambda c: c.assign(E=0), r"'E' has no events"),
        (lambda c: c.assign(T=c["T"].where(c.index != "P5", np.nan)), r"'T'.*missing.*'P5'"),
        (lambda c: c.drop(columns="E"), r"no column 'E'"),
    ],
)
def test_bad_clinical_data_is_refused_before_training(edit, pattern):
    from omicsgat.prognosis import run_prognosis

    cohort = _cohort(_clinical())
    cohort.clinical = edit(cohort.clinical)
    with pytest.raises(OmicsInputError, match=pattern):
        run_prognosis(cohort, folds=2, ensemble=1, epochs=2, device="cpu")


def test_sample_missing_from_a_table_and_bad_options_are_refused():
    from omicsgat.prognosis import run_prognosis

    cohort = _cohort(_clinical())
    cohort.tables["rna"] = cohort.tables["rna"].drop(index="P7")
    with pytest.raises(OmicsInputError, match=r"'P7'.*missing from omics table 'rna'"):
        run_prognosis(cohort, folds=2, ensemble=1, epochs=2, device="cpu")
    cohort = _cohort(_clinical())
    with pytest.raises(OmicsInputError, match="Unknown modality 'protein'"):
        run_prognosis(cohort, modalities=["protein"], device="cpu")
    with pytest.raises(OmicsInputError, match="risk grouping"):
        run_prognosis(cohort, groups="quartiles", device="cpu")
    with pytest.raises(OmicsInputError, match="folds"):
        run_prognosis(cohort, folds=1, device="cpu")


def test_cancel_stops_the_run():
    from omicsgat.prognosis import run_prognosis
    from omicsgat.progress import CancelToken

    token = CancelToken()
    calls = []

    def progress(fraction, message):
        calls.append(fraction)
        if len(calls) == 3:
            token.cancel()

    with pytest.raises(Cancelled):
        run_prognosis(
            _cohort(_clinical()), folds=2, ensemble=2, epochs=50, device="cpu", progress=progress, cancel=token
        )
    assert len(calls) == 3


def test_missing_values_are_imputed_masked_and_reported():
    from omicsgat.prognosis import GeneAttentionSurvival, run_prognosis
    from omicsgat.simulate import simulate_survival_cohort

    cohort = simulate_survival_cohort(n_samples=60, n_features={"mRNA": 30}, missing_rate=0.1, seed=5)
    res = run_prognosis(cohort, folds=2, ensemble=1, epochs=5, top_k=5, device="cpu")
    assert res.risk["risk"].notna().all()
    assert any("missing values" in n and "imputed" in n for n in res.summary["notes"])
    model = GeneAttentionSurvival(epochs=5, device="cpu").fit(cohort)
    att = model.attention(cohort)["mRNA"]
    missing = cohort.tables["mRNA"][model.features_["mRNA"]].isna().to_numpy()
    assert (att.to_numpy()[missing] < 1e-6).all()  # a missing value gets no attention
    np.testing.assert_allclose(att.sum(axis=1), (~missing).sum(axis=1), rtol=1e-4)
