"""The elastic-net Cox wide path: its loss and gradient, sparse recovery, and how the network starts from it."""

from __future__ import annotations

import numpy as np
import pytest

from omicsgat.errors import OmicsInputError


def _sparse_cox(n=300, p=60, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, p))
    beta = np.zeros(p)
    beta[[3, 17, 40]] = [0.9, -0.8, 0.7]
    t_event = rng.exponential(1 / np.exp(x @ beta))
    t_cens = rng.exponential(2.0, size=n)
    return x, np.minimum(t_event, t_cens), t_event <= t_cens, beta


def test_breslow_loss_and_gradient_agree_with_the_torch_cox_loss():
    import torch

    from omicsgat.prognosis.enet import BreslowCox
    from omicsgat.prognosis.loss import CoxLoss

    rng = np.random.default_rng(1)
    t = np.round(rng.exponential(5, size=80))  # ties
    e = rng.random(80) < 0.6
    eta = rng.normal(size=80)
    loss, grad = BreslowCox(t, e)(eta, grad=True)
    et = torch.tensor(eta, requires_grad=True)
    ref = CoxLoss(t, e, "breslow")(et)
    ref.backward()
    assert loss == pytest.approx(float(ref.detach()), rel=1e-10)
    np.testing.assert_allclose(grad, et.grad.numpy(), atol=1e-12)


def test_cross_validated_elastic_net_finds_the_planted_coefficients_and_little_else():
    from omicsgat.prognosis.enet import cv_enet

    x, t, e, beta = _sparse_cox()
    fit = cv_enet(x, t, e, rng=np.random.default_rng(0))
    found = set(np.flatnonzero(fit.coef))
    assert {3, 17, 40} <= found
    assert len(found) <= 20  # of 60: the penalty was chosen, not the unpenalised end of the path
    assert np.all(np.sign(fit.coef[[3, 17, 40]]) == np.sign(beta[[3, 17, 40]]))
    assert fit.lambdas[-1] < fit.lam < fit.lambdas[0]
    # the largest penalty keeps every coefficient at zero
    from omicsgat.prognosis.enet import BreslowCox, enet_path

    coefs, _ = enet_path(x, BreslowCox(t, e), fit.lambdas[:1])
    assert not coefs[0].any()


def test_the_default_model_averages_the_trained_network_with_an_elastic_net_fit(small_cohort):
    from omicsgat.prognosis import GeneAttentionSurvival
    from omicsgat.prognosis.preprocess import transform_all

    blend = GeneAttentionSurvival(epochs=30, device="cpu", seed=0).fit(small_cohort)
    alone = GeneAttentionSurvival(epochs=30, wide="learned", device="cpu", seed=0).fit(small_cohort)
    assert alone.enet_ is None and blend.enet_ is not None
    assert 0 < blend.enet_.n_nonzero < sum(len(s.features) for s in blend.scalers_.values()) // 4
    z, _ = transform_all(blend.scalers_, {m: t.loc[small_cohort.samples] for m, t in small_cohort.tables.items()})
    linear = np.hstack(list(z.values())) @ blend.enet_.coef
    # the network is trained exactly as without the blend; the risk is the mean of the two log-risks
    np.testing.assert_allclose(
        blend.predict_risk(small_cohort).to_numpy(),
        0.5 * alone.predict_risk(small_cohort).to_numpy() + 0.5 * linear,
        atol=1e-4,
    )
    for m in blend.scalers_:  # attention is the network's own
        np.testing.assert_allclose(blend.attention(small_cohort)[m], alone.attention(small_cohort)[m], rtol=1e-5)
    with pytest.raises(OmicsInputError, match="wide"):
        GeneAttentionSurvival(wide="lasso")
    with pytest.raises(OmicsInputError, match="enet_cv"):
        GeneAttentionSurvival(enet_cv=1)


def test_the_blend_survives_save_and_load(small_cohort, tmp_path):
    from omicsgat.prognosis import GeneAttentionSurvival

    model = GeneAttentionSurvival(epochs=5, device="cpu", seed=1).fit(small_cohort)
    model.save(tmp_path / "m")
    back = GeneAttentionSurvival.load(tmp_path / "m", device="cpu")
    np.testing.assert_allclose(back.predict_risk(small_cohort), model.predict_risk(small_cohort), rtol=1e-6)


def test_strong_rule_screening_gives_the_full_problems_solution():
    from omicsgat.prognosis.enet import BreslowCox, _solve, enet_path, lambda_max

    x, t, e, _ = _sparse_cox(n=200, p=150, seed=2)
    cox = BreslowCox(t, e)
    lambdas = lambda_max(x, cox, 0.5) * np.geomspace(1, 0.1, 6)
    coefs, _ = enet_path(x, cox, lambdas, tol=1e-6)
    # a direct solve of the last penalty on every column, from zero
    direct = _solve(
        np.asfortranarray(x[cox.order]), cox.sorted(), np.zeros(150), np.arange(150), lambdas[-1], 0.5, 1e-8, 1000
    )
    assert 3 <= (coefs[-1] != 0).sum() < 150
    np.testing.assert_allclose(coefs[-1], direct, atol=1e-5)


def test_the_hessian_matches_finite_differences_with_tied_times():
    from omicsgat.prognosis.enet import BreslowCox, _cox_sorted, _hess_cols

    rng = np.random.default_rng(3)
    n = 60
    cox = BreslowCox(np.round(rng.exponential(3, size=n)), rng.random(n) < 0.6).sorted()  # ties
    eta, x = rng.normal(size=n), np.asfortranarray(rng.normal(size=(n, 4)))
    args = (cox.last, cox.first, cox.ev, float(cox.n_events))
    loss, g, w, s, p = _cox_sorted(eta, *args)
    ref_loss, ref_g = cox(eta, grad=True)
    assert loss == pytest.approx(ref_loss, rel=1e-12)
    np.testing.assert_allclose(g, ref_g, atol=1e-14)
    hx = _hess_cols(x, np.arange(4), w, s, p, *args)
    eps = 1e-6
    for j in range(4):
        fd = (cox(eta + eps * x[:, j], grad=True)[1] - cox(eta - eps * x[:, j], grad=True)[1]) / (2 * eps)
        np.testing.assert_allclose(hx[:, j], fd, atol=1e-8)


def test_the_path_meets_the_optimality_conditions_with_tied_times():
    from omicsgat.prognosis.enet import BreslowCox, enet_path, lambda_max

    x, t, e, _ = _sparse_cox(n=150, p=80, seed=4)
    t = np.round(t * 4) / 4  # many ties
    cox = BreslowCox(t, e)
    assert len(np.unique(t[e])) < e.sum()
    lambdas = lambda_max(x, cox, 0.5) * np.geomspace(1, 0.05, 10)
    coefs, _ = enet_path(x, cox, lambdas)
    for lam, b in zip(lambdas, coefs):
        grad = x.T @ cox(x @ b, grad=True)[1] + lam * 0.5 * b
        on = b != 0
        # non-zero: gradient + l1 subgradient vanish; zero: |gradient| within the l1 penalty
        np.testing.assert_allclose(grad[on], -lam * 0.5 * np.sign(b[on]), atol=0.02 * lam * 0.5)
        assert np.all(np.abs(grad[~on]) <= lam * 0.5 * (1 + 1e-3))
    assert (coefs[-1] != 0).sum() >= 3
