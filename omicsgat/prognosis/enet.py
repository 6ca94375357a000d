"""Elastic-net Cox regression by proximal gradient (FISTA), for the network's "wide" linear path.

On sparse linear truth a penalised Cox model with its penalty chosen out of
sample (glmnet's, scikit-survival's Coxnet) is hard to beat, and a network
trained by Adam with a subgradient penalty never makes weights exactly zero.
So each ensemble member also fits an elastic-net Cox model (``wide="blend"``
in :class:`~omicsgat.prognosis.fitter.GeneAttentionSurvival`): a path of
penalties from the smallest one that zeroes every coefficient down to
``min_ratio`` of it, warm-started, each solved by FISTA with backtracking on
the Breslow partial likelihood (averaged over events, like the network's
loss), the penalty chosen by K-fold cross-validated C-index as the Coxnet
baseline does (the partial likelihood of small folds over-penalises: on
GSE7390, ~17 events per fold, it kept almost nothing).

NumPy only, with strong-rule screening and early path stops, rather than
scikit-survival's Coxnet: the default ensemble fits 25 members x 6 paths, and
an own solver is several times faster per cross-validated fit (measured in
docs/benchmarks.md, "Engine timings").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np


class BreslowCox:
    """Negative Breslow log partial likelihood over events, and its gradient in the linear predictor."""

    def __init__(self, time: np.ndarray, event: np.ndarray) -> None:
        time = np.asarray(time, float)
        self.event = np.asarray(event, bool)
        self.order = np.argsort(-time, kind="stable")
        t = time[self.order]
        self.last = np.searchsorted(-t, -t, side="right") - 1   # risk set of position i: prefix up to last[i]
        self.first = np.searchsorted(-t, -t, side="left")       # events at or before t: positions >= first[i]
        self.ev = self.event[self.order]
        self.n_events = max(int(self.event.sum()), 1)

    def __call__(self, eta: np.ndarray, grad: bool = False):
        e = eta[self.order]
        m = e.max()
        w = np.exp(e - m)
        s = np.cumsum(w)[self.last]
        loss = -(e[self.ev].sum() - (np.log(s[self.ev]) + m).sum()) / self.n_events
        if not grad:
            return loss
        c = np.where(self.ev, 1.0 / s, 0.0)
        rc = np.cumsum(c[::-1])[::-1]
        g_sorted = -(self.ev - w * rc[self.first]) / self.n_events
        g = np.empty_like(g_sorted)
        g[self.order] = g_sorted
        return loss, g


@dataclass
class EnetFit:
    coef: np.ndarray            # per feature, on the z-scored inputs
    lam: float                  # chosen penalty (loss units: averaged over events)
    lambdas: np.ndarray
    cv_loss: np.ndarray         # per penalty: minus the event-weighted held-out C-index, summed over folds
    n_nonzero: int


def lambda_max(x: np.ndarray, cox: BreslowCox, l1_ratio: float) -> float:
    """The smallest penalty that keeps every coefficient at zero."""
    _, g = cox(np.zeros(len(x)), grad=True)
    return float(np.abs(x.T @ g).max()) / max(l1_ratio, 1e-3)


def _fista(x: np.ndarray, cox: BreslowCox, beta: np.ndarray, lam: float, l1_ratio: float, step: float,
           max_iter: int, tol: float):
    """Minimise loss + elastic net from ``beta`` by FISTA with backtracking; returns (beta, last step)."""
    ridge, thresh_unit = lam * (1 - l1_ratio), lam * l1_ratio

    def smooth(b, with_grad=False):
        if not with_grad:
            return cox(x @ b) + 0.5 * ridge * b @ b
        loss, g = cox(x @ b, grad=True)
        return loss + 0.5 * ridge * b @ b, x.T @ g + ridge * b

    prev, y, t_k = beta.copy(), beta.copy(), 1.0
    for _ in range(max_iter):
        f_y, g = smooth(y, True)
        while True:  # backtracking: the quadratic model at y must bound f at the new point
            z = y - step * g
            new = np.sign(z) * np.maximum(np.abs(z) - step * thresh_unit, 0.0)
            d = new - y
            if smooth(new) <= f_y + g @ d + d @ d / (2 * step) + 1e-12:
                break
            step *= 0.5
        t_next = (1 + np.sqrt(1 + 4 * t_k * t_k)) / 2
        change = np.abs(new - prev).max()
        y = new + (t_k - 1) / t_next * (new - prev)
        prev, t_k = new, t_next
        if change < tol:
            break
        step *= 1.1
    return prev, step


def enet_path(x: np.ndarray, cox: BreslowCox, lambdas: np.ndarray, *, l1_ratio: float = 0.5, max_iter: int = 300,
              tol: float = 1e-4, val=None, patience: Optional[int] = None, cancel=None):
    """Warm-started FISTA along ``lambdas``; returns (coefficients per penalty, validation loss per penalty).

    Each penalty is solved on the features the sequential strong rule (Tibshirani et al. 2012) keeps plus
    those already non-zero, then the optimality (KKT) conditions are checked on every feature and violators
    added until none is left, so the answer is the full problem's while most iterations touch a few
    hundred columns. ``val`` maps coefficients to a validation loss. With ``patience`` the path stops that
    many penalties after the validation loss last improved.
    """
    n, p = x.shape
    beta = np.zeros(p)
    step = 1.0
    coefs, val_loss = [], []
    best, waited = np.inf, 0
    prev_lam = lambdas[0]
    for lam in lambdas:
        ridge, cut = lam * (1 - l1_ratio), lam * l1_ratio
        _, g = cox(x @ beta, grad=True)
        grad = x.T @ g + ridge * beta
        work = (np.abs(grad) >= l1_ratio * (2 * lam - prev_lam)) | (beta != 0)
        for _ in range(50):
            cols = np.flatnonzero(work)
            sub = np.zeros(p)
            if len(cols):
                b_sub, step = _fista(x[:, cols], cox, beta[cols], lam, l1_ratio, step, max_iter, tol)
                sub[cols] = b_sub
            _, g = cox(x @ sub, grad=True)
            grad = x.T @ g + ridge * sub
            violators = ~work & (np.abs(grad) > cut * (1 + 1e-3))
            if not violators.any():
                break
            work |= violators
        beta, prev_lam = sub, lam
        coefs.append(beta.copy())
        if cancel is not None:
            cancel()
        if val is not None:
            v = val(beta)
            val_loss.append(v)
            if v < best - 1e-9:
                best, waited = v, 0
            else:
                waited += 1
                if patience is not None and waited >= patience:
                    break
    return coefs, np.asarray(val_loss)


def cv_enet(x: np.ndarray, time: np.ndarray, event: np.ndarray, *, folds: int = 5, rng: np.random.Generator,
            l1_ratio: float = 0.5, n_lambdas: int = 20, min_ratio: float = 0.02, cancel=None) -> EnetFit:
    """Elastic-net Cox on every row of ``x``, the penalty chosen by ``folds``-fold cross-validated C-index.

    Folds are stratified by event and drawn with ``rng``, so ensemble members see different splits; each
    fold's Harrell C is weighted by its events. (The held-out partial likelihood over-penalises small
    folds; see the module docstring.) Each fold's path stops 4 penalties after its C last improved.
    """
    from lifelines.utils import concordance_index

    x = np.asarray(x, float)
    event = np.asarray(event, bool)
    cox_all = BreslowCox(time, event)
    lambdas = lambda_max(x, cox_all, l1_ratio) * np.geomspace(1.0, min_ratio, n_lambdas)
    fold_of = np.zeros(len(event), dtype=int)
    for label in (True, False):
        idx = rng.permutation(np.flatnonzero(event == label))
        fold_of[idx] = np.arange(len(idx)) % folds
    total = np.zeros(n_lambdas)
    for k in range(folds):
        tr, va = fold_of != k, fold_of == k
        if event[va].sum() < 2 or event[tr].sum() < 2:
            continue
        n_ev = event[va].sum()

        def val(b, va=va, n_ev=n_ev):
            return -n_ev * (concordance_index(time[va], -(x[va] @ b), event[va]) if b.any() else 0.5)

        _, v = enet_path(x[tr], BreslowCox(time[tr], event[tr]), lambdas, l1_ratio=l1_ratio, val=val, patience=4,
                         cancel=cancel)
        total += np.concatenate([v, np.full(n_lambdas - len(v), v[-1])])  # past the stop the loss only grows
    best = int(np.argmin(total))
    coefs, _ = enet_path(x, cox_all, lambdas[:best + 1], l1_ratio=l1_ratio, cancel=cancel)
    return EnetFit(coef=coefs[-1], lam=float(lambdas[best]), lambdas=lambdas, cv_loss=total,
                   n_nonzero=int((coefs[-1] != 0).sum()))
