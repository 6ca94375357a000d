"""What the prognosis risk is made of is visible (#16 items 5, 6, 8): the elastic-net part's coefficients,
each part's out-of-fold C-index, what was actually fitted, the Cox caveat and one features table."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from omicsgat.errors import OmicsInputError

FAST = dict(folds=2, ensemble=1, epochs=5, device="cpu", seed=0, top_k=10)


@pytest.fixture(scope="module")
def cohort():
    from omicsgat.simulate import simulate_survival_cohort

    return simulate_survival_cohort(
        n_samples=160, n_features={"mRNA": 60, "miRNA": 30}, n_prognostic=4, effect_size=1.5, seed=3
    )


@pytest.fixture(scope="module")
def result(cohort):
    from omicsgat.prognosis import run_prognosis

    return run_prognosis(cohort, **FAST)


def test_elastic_net_coefficients_find_the_planted_features(result, cohort):
    genes = result.genes["mRNA"]
    assert {"enet_coef", "enet_frequency"} <= set(genes.columns)
    assert genes["enet_frequency"].between(0, 1).all()
    planted = set(cohort.truth["prognostic"]["mRNA"])
    top = set(genes.reindex(genes["enet_coef"].abs().sort_values(ascending=False).index)["feature"].head(8))
    assert len(planted & top) >= 3, (planted, top)  # 4 planted among 60: chance would give ~0.5
    # the sign follows the planted log-hazard
    coef = genes.set_index("feature")["enet_coef"]
    for feat, beta in cohort.truth["prognostic"]["mRNA"].items():
        if abs(coef[feat]) > 0.05:
            assert np.sign(coef[feat]) == np.sign(beta)


def test_each_part_is_scored_out_of_fold_and_summary_says_what_was_fitted(result, tmp_path):
    s = result.summary
    assert s["risk_model"].startswith("mean of the gene-attention network and an elastic-net")
    parts = s["c_index_parts"]
    assert 0.5 < parts["elastic_net"] <= 1 and 0 < parts["network"] <= 1
    assert {"c_index_network", "c_index_elastic_net"} <= set(result.folds.columns)
    assert parts["elastic_net"] == pytest.approx(result.folds["c_index_elastic_net"].mean())
    assert "same outcomes" in s["cox_columns"]
    paths = result.save(tmp_path)
    summary = json.loads(paths["summary"].read_text())
    assert summary["risk_model"] == s["risk_model"] and summary["c_index_parts"]["network"] == pytest.approx(
        parts["network"]
    )
    features = pd.read_csv(tmp_path / "features.tsv", sep="\t")
    assert list(features.columns[:2]) == ["modality", "feature"]
    assert features.groupby("modality").size().to_dict() == {"mRNA": 60, "miRNA": 30}


def test_network_alone_and_the_old_option_name(cohort):
    from omicsgat.prognosis import GeneAttentionSurvival, run_prognosis

    alone = run_prognosis(cohort, model_options={"elastic_net": False}, **FAST)
    assert alone.summary["risk_model"] == "gene-attention network alone (elastic net not requested)"
    assert alone.summary["c_index_parts"]["elastic_net"] is None
    assert "enet_coef" not in alone.genes["mRNA"]
    assert alone.summary["wide"] == "learned"
    assert GeneAttentionSurvival(wide="blend").params["wide"] == GeneAttentionSurvival(elastic_net=True).params["wide"]
    assert (
        GeneAttentionSurvival(wide="learned").params["wide"] == GeneAttentionSurvival(elastic_net=False).params["wide"]
    )
    with pytest.raises(OmicsInputError, match="contradicts"):
        GeneAttentionSurvival(wide="learned", elastic_net=True)


def test_skipped_elastic_net_is_reported(cohort):
    from omicsgat.prognosis import run_prognosis

    few = cohort.subset(cohort.samples)
    event = few.clinical[few.event_col].to_numpy().copy()
    keep = np.flatnonzero(event == 1)[:12]  # 12 events: ~6 per training half, under the 10 the inner CV needs
    event[:] = 0
    event[keep] = 1
    few.clinical[few.event_col] = event
    out = run_prognosis(few, **FAST)
    assert "skipped in every model" in out.summary["risk_model"]
    assert out.summary["c_index_parts"]["elastic_net"] is None


def test_predict_parts_blend_to_the_risk(cohort):
    from omicsgat.prognosis import GeneAttentionSurvival

    model = GeneAttentionSurvival(epochs=5, device="cpu").fit(cohort)
    parts = model.predict_parts(cohort)
    assert list(parts.columns) == ["network", "elastic_net", "risk"]
    np.testing.assert_allclose(parts["risk"], 0.5 * (parts["network"] + parts["elastic_net"]), atol=1e-4)
    np.testing.assert_allclose(parts["risk"], model.predict_risk(cohort), atol=1e-6)
    coefs = model.enet_coefficients()
    assert set(coefs) == {"mRNA", "miRNA"} and (coefs["mRNA"] != 0).any()


def test_cli_option_names():
    from omicsgat.cli import build_parser
    from omicsgat.prognosis.fitter import resolve_wide

    base = ["prognosis", "--omics", "m=x.csv", "--clinical", "c.csv", "--time", "t", "--event", "e", "--out", "o"]
    parse = build_parser().parse_args
    assert resolve_wide(parse(base).wide, parse(base).elastic_net) == "blend"  # on by default
    args = parse(base + ["--no-elastic-net", "--time-unit", "months"])
    assert resolve_wide(args.wide, args.elastic_net) == "learned" and args.time_unit == "months"
    args = parse(base + ["--wide", "learned"])  # the earlier name still works
    assert resolve_wide(args.wide, args.elastic_net) == "learned"
