"""Cox loss, preprocessing, metrics, risk groups and model files, on hand-checked examples."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from omicsgat.errors import OmicsInputError


@pytest.fixture(scope="module")
def tied():
    rng = np.random.default_rng(0)
    n = 60
    x = rng.normal(size=n)
    t = np.round(rng.exponential(5, size=n))  # many ties
    e = rng.random(n) < 0.7
    return x, t, e


def test_efron_loss_equals_lifelines_log_likelihood_and_its_gradient_vanishes_at_the_fit(tied):
    import torch
    from lifelines import CoxPHFitter

    from omicsgat.prognosis.loss import CoxLoss

    x, t, e = tied
    cph = CoxPHFitter().fit(pd.DataFrame({"x": x, "t": t, "e": e.astype(int)}), "t", "e")
    eta = torch.tensor(cph.params_["x"] * x, requires_grad=True)
    loss = CoxLoss(t, e, "efron")(eta)
    assert float(loss.detach()) * e.sum() == pytest.approx(-cph.log_likelihood_, rel=1e-7)
    loss.backward()
    assert abs(float((eta.grad * torch.tensor(x)).sum())) < 1e-6


def test_breslow_loss_on_a_hand_computed_example():
    import torch

    from omicsgat.prognosis.loss import CoxLoss

    # times 1 (event), 1 (event), 2 (censored), 3 (event); eta = 0, log 2, 0, log 3
    eta = torch.tensor([0.0, np.log(2), 0.0, np.log(3)])
    w = np.array([1, 2, 1, 3.0])
    ll_breslow = (0 + np.log(2) - 2 * np.log(w.sum())) + (np.log(3) - np.log(3))
    ll_efron = (0 + np.log(2) - np.log(w.sum()) - np.log(w.sum() - 0.5 * 3)) + 0.0
    t, e = np.array([1, 1, 2, 3.0]), np.array([1, 1, 0, 1])
    assert float(CoxLoss(t, e, "breslow")(eta)) == pytest.approx(-ll_breslow / 3)
    assert float(CoxLoss(t, e, "efron")(eta)) == pytest.approx(-ll_efron / 3)
    assert np.isfinite(float(CoxLoss(t, e)(eta * 400)))  # extreme risks stay finite
    with pytest.raises(OmicsInputError, match="at least one event"):
        CoxLoss(t, np.zeros(4))


def test_cox_screening_statistic_agrees_with_lifelines(tied):
    from lifelines import CoxPHFitter

    from omicsgat.prognosis.preprocess import cox_score_z

    x, t, e = tied
    rng = np.random.default_rng(1)
    t2 = t + 0.01 * rng.random(len(t))  # untied: the score test equals lifelines' up to Wald vs score
    z = cox_score_z(np.c_[x, rng.normal(size=len(x))], t2, e)
    cph = CoxPHFitter().fit(pd.DataFrame({"x": x, "t": t2, "e": e.astype(int)}), "t", "e")
    assert z[0] == pytest.approx(
        cph.log_likelihood_ratio_test().test_statistic ** 0.5 * np.sign(cph.params_["x"]), rel=0.15
    )


def test_scaler_uses_training_statistics_only_and_masks_missing_values():
    from omicsgat.prognosis.preprocess import ModalityScaler

    train = pd.DataFrame({"a": [0.0, 2.0, 4.0], "b": [1.0, np.nan, 3.0], "c": [5.0, 5.0, 5.0]}, index=["x", "y", "z"])
    sc = ModalityScaler.fit("rna", train, log=False)
    assert sc.features == ["a", "b"]  # the constant feature is dropped
    test = pd.DataFrame({"a": [2.0, 100.0], "b": [np.nan, 2.0], "c": [0.0, 0.0]}, index=["u", "v"])
    z, mask = sc.transform(test)
    np.testing.assert_allclose(z[:, 0], [0.0, (100 - 2) / np.std([0, 2, 4])], rtol=1e-6)
    assert mask.tolist() == [[True, False], [True, True]] and z[0, 1] == 0.0
    counts = pd.DataFrame(np.random.default_rng(0).poisson(200, size=(10, 3)).astype(float), columns=list("abc"))
    assert ModalityScaler.fit("rna", counts).log
    with pytest.raises(OmicsInputError, match=r"'rna' lacks 1 feature.*b"):
        sc.transform(test.drop(columns="b"))


def test_group_statistics_match_lifelines_on_a_fixed_example():
    from lifelines import CoxPHFitter
    from lifelines.statistics import logrank_test, multivariate_logrank_test

    from omicsgat.metrics.survival import group_survival_stats
    from omicsgat.prognosis.result import assign_groups

    time = np.array([5, 8, 12, 3, 9, 15, 20, 18, 7, 11, 4, 6.0])
    event = np.array([1, 1, 0, 1, 1, 0, 0, 1, 1, 1, 0, 1])
    risk = np.array([0.2, 0.9, -1.0, 1.5, 0.1, -0.5, -2.0, 2.2, 0.4, -0.3, 1.1, 0.7])
    groups = assign_groups(risk, "median")
    assert groups.tolist() == ["low", "high", "low", "high", "low", "low", "low", "high", "high", "low", "high", "high"]
    stats = group_survival_stats(time, event, groups)
    hi = groups == "high"
    assert stats["logrank_p"] == pytest.approx(logrank_test(time[hi], time[~hi], event[hi], event[~hi]).p_value)
    cph = CoxPHFitter().fit(pd.DataFrame({"T": time, "E": event, "h": hi.astype(float)}), "T", "E")
    assert stats["hazard_ratio"] == pytest.approx(float(np.exp(cph.params_["h"])))
    assert stats["hr_ci_low"] < stats["hazard_ratio"] < stats["hr_ci_high"]
    tert = assign_groups(risk, "tertiles")
    assert (tert == "intermediate").sum() == 4 and tert[np.argmax(risk)] == "high" and tert[np.argmin(risk)] == "low"
    s3 = group_survival_stats(time, event, tert)
    assert s3["logrank_p"] == pytest.approx(multivariate_logrank_test(time, tert, event).p_value)
    assert assign_groups(risk, 1.0).tolist().count("high") == 3
    with pytest.raises(OmicsInputError, match="every sample in one group"):
        assign_groups(risk, 10.0)


def test_c_index_and_survival_predictions():
    from omicsgat.metrics.survival import breslow_survival, harrell_c, integrated_brier, uno_c

    time = np.array([1, 2, 3, 4.0])
    event = np.array([1, 1, 0, 1])
    # comparable pairs (i had the event first): (0,1) (0,2) (0,3) (1,2) (1,3); risk 3,1,2,0 orders 4 of 5
    assert harrell_c(time, event, np.array([3, 1, 2, 0.0])) == pytest.approx(4 / 5)
    assert harrell_c(time, event, -time) == 1.0
    rng = np.random.default_rng(0)
    t = rng.exponential(10, 200)
    e = rng.random(200) < 0.7
    assert uno_c(t, e, t, e, -t) == pytest.approx(1.0)
    times = np.quantile(t[e], [0.25, 0.5, 0.75])
    surv = breslow_survival(t, e, np.zeros(200), np.array([-1.0, 0.0, 1.0]), times)
    assert (np.diff(surv, axis=1) <= 0).all() and (np.diff(surv, axis=0) <= 0).all()
    good = integrated_brier(t, e, t, e, breslow_survival(t, e, -np.log(t), -np.log(t), times), times)
    flat = integrated_brier(t, e, t, e, breslow_survival(t, e, np.zeros(200), np.zeros(200), times), times)
    assert 0 <= good < flat < 0.3


@pytest.fixture(scope="module")
def fitted(small_cohort):
    from omicsgat.prognosis import GeneAttentionSurvival

    small = small_cohort.subset(small_cohort.samples[:100])
    model = GeneAttentionSurvival(epochs=30, max_features=50, device="cpu", seed=3).fit(
        small, modalities=["mRNA", "miRNA"]
    )
    return model, small


def test_model_save_load_round_trip_and_feature_check(fitted, tmp_path):
    from omicsgat.prognosis import GeneAttentionSurvival

    model, cohort = fitted
    assert {m: len(f) for m, f in model.features_.items()} == {"mRNA": 50, "miRNA": 50}
    model.save(tmp_path / "model")
    meta = json.loads((tmp_path / "model" / "model.json").read_text())
    assert meta["params"]["modalities"]["mRNA"]["features"] == model.features_["mRNA"]
    loaded = GeneAttentionSurvival.load(tmp_path / "model", device="cpu")
    pd.testing.assert_series_equal(loaded.predict_risk(cohort), model.predict_risk(cohort))
    att = loaded.attention(cohort)["miRNA"]
    np.testing.assert_allclose(att.mean(axis=1), 1.0, rtol=1e-5)  # attention averages 1 per sample
    other = cohort.subset(cohort.samples)
    other.tables = {**other.tables, "mRNA": other.tables["mRNA"].rename(columns=lambda c: f"X{c}")}
    with pytest.raises(OmicsInputError, match="'mRNA' lacks 50 feature"):
        loaded.predict_risk(other)
    with pytest.raises(OmicsInputError, match="needs the omics table 'miRNA'"):
        loaded.predict_risk({"mRNA": cohort.tables["mRNA"]})
    (tmp_path / "bad.json").write_text("{not json")
    (tmp_path / "bad.safetensors").write_bytes(b"")
    with pytest.raises(OmicsInputError, match="not a valid model"):
        GeneAttentionSurvival.load(tmp_path / "bad")


def test_fit_is_deterministic_and_memory_is_checked_first(fitted, monkeypatch):
    import omicsgat.resources
    from omicsgat.prognosis import GeneAttentionSurvival

    model, cohort = fitted
    again = GeneAttentionSurvival(epochs=30, max_features=50, device="cpu", seed=3).fit(
        cohort, modalities=["mRNA", "miRNA"]
    )
    pd.testing.assert_series_equal(again.predict_risk(cohort), model.predict_risk(cohort))
    monkeypatch.setattr(omicsgat.resources, "available_bytes", lambda device: 1_000_000)
    with pytest.raises(OmicsInputError, match="needs about .* GiB.*max_features"):
        GeneAttentionSurvival(epochs=1, device="cpu").fit(cohort)


def test_feature_filter_keeps_prognostic_features_of_ordinary_variance():
    """With more features than max_features, a variance filter alone would drop these planted features."""
    from omicsgat.prognosis.preprocess import fit_scalers

    rng = np.random.default_rng(0)
    n, p = 300, 3000
    values = rng.normal(size=(n, p)) * np.where(np.arange(p) < 100, 1.0, 3.0)  # planted 0..4 have low variance
    log_hazard = values[:, :5].sum(axis=1)
    time = rng.exponential(np.exp(-log_hazard))
    event = rng.random(n) < 0.8
    table = pd.DataFrame(values, columns=[f"f{i}" for i in range(p)])
    kept = fit_scalers({"rna": table}, max_features=200, time=time, event=event)["rna"]
    assert len(kept.features) == 200
    assert {f"f{i}" for i in range(5)} <= set(kept.features)
    assert any("univariate Cox" in note for note in kept.notes)
    unsupervised = fit_scalers({"rna": table}, max_features=200)["rna"]  # no survival given: variance only
    assert not {f"f{i}" for i in range(5)} & set(unsupervised.features)
