"""Survival metrics: Harrell's and Uno's C, time-dependent AUC, integrated Brier score, risk-group tests.

Thin wrappers that put lifelines and scikit-survival behind one convention:
``risk`` is a log relative hazard, higher = worse prognosis.
"""

from __future__ import annotations

import math
from typing import Optional, Sequence

import numpy as np
import pandas as pd


def _surv(time, event):
    from sksurv.util import Surv

    return Surv.from_arrays(np.asarray(event, bool), np.asarray(time, float))


def harrell_c(time, event, risk) -> float:
    """Harrell's concordance index (lifelines); 0.5 = random, 1 = perfect ordering."""
    from lifelines.utils import concordance_index

    return float(concordance_index(np.asarray(time, float), -np.asarray(risk, float), np.asarray(event, bool)))


def uno_c(train_time, train_event, time, event, risk, tau: Optional[float] = None) -> float:
    """Uno's IPCW concordance (scikit-survival), censoring estimated on the training labels; NaN where undefined.

    ``tau`` (pairs compared up to this time) defaults to the 95th percentile
    of the training times, where the censoring weights are still finite.
    """
    from sksurv.metrics import concordance_index_ipcw

    if tau is None:
        tau = float(np.quantile(np.asarray(train_time, float), 0.95))
    try:
        return float(
            concordance_index_ipcw(
                _surv(train_time, train_event), _surv(time, event), np.asarray(risk, float), tau=tau
            )[0]
        )
    except (ValueError, ZeroDivisionError):
        return math.nan


def evaluation_times(train_time, time, event, quantiles: Sequence[float] = (0.25, 0.5, 0.75)) -> np.ndarray:
    """Quantiles of the observed event times that lie inside both follow-up ranges (where IPCW is defined)."""
    time, event = np.asarray(time, float), np.asarray(event, bool)
    if event.sum() < 2:
        return np.array([])
    t = np.quantile(time[event], quantiles)
    hi = min(time.max(), np.max(train_time))
    return np.unique(t[(t >= time.min()) & (t < hi)])


def breslow_survival(train_time, train_event, train_risk, risk, times) -> np.ndarray:
    """S(t | x) = S0(t) ** exp(risk), Breslow baseline from the training samples; shape samples x times."""
    train_time, train_event = np.asarray(train_time, float), np.asarray(train_event, bool)
    w = np.exp(np.asarray(train_risk, float) - np.max(train_risk))
    event_times = np.unique(train_time[train_event])
    at_risk = np.array([w[train_time >= u].sum() for u in event_times])
    deaths = np.array([np.sum(train_event & (train_time == u)) for u in event_times])
    cum_hazard = np.cumsum(deaths / at_risk)
    h0 = np.array(
        [cum_hazard[event_times <= t][-1] if np.any(event_times <= t) else 0.0 for t in np.asarray(times, float)]
    )
    rel = np.exp(np.asarray(risk, float) - np.max(train_risk))
    return np.exp(-np.outer(rel, h0))


def time_dependent_auc(train_time, train_event, time, event, risk, times) -> tuple[np.ndarray, float]:
    """Cumulative/dynamic AUC at ``times`` and its mean (scikit-survival); NaNs where undefined."""
    from sksurv.metrics import cumulative_dynamic_auc

    times = np.asarray(times, float)
    if times.size == 0:
        return np.array([]), math.nan
    try:
        auc, mean = cumulative_dynamic_auc(
            _surv(train_time, train_event), _surv(time, event), np.asarray(risk, float), times
        )
        return np.asarray(auc, float), float(mean)
    except ValueError:
        return np.full(times.size, math.nan), math.nan


def integrated_brier(train_time, train_event, time, event, survival, times) -> float:
    """Integrated Brier score of survival predictions (samples x times); needs at least two times."""
    from sksurv.metrics import integrated_brier_score

    times = np.asarray(times, float)
    if times.size < 2:
        return math.nan
    try:
        return float(integrated_brier_score(_surv(train_time, train_event), _surv(time, event), survival, times))
    except ValueError:
        return math.nan


def group_survival_stats(time, event, group, high: str = "high", low: str = "low") -> dict:
    """Log-rank p across the groups and the hazard ratio of ``high`` vs ``low`` with its 95% CI (lifelines)."""
    from lifelines import CoxPHFitter
    from lifelines.statistics import logrank_test, multivariate_logrank_test

    time, event, group = np.asarray(time, float), np.asarray(event, bool), np.asarray(group).astype(str)
    labels = pd.unique(group)
    out = {
        "logrank_p": math.nan,
        "hazard_ratio": math.nan,
        "hr_ci_low": math.nan,
        "hr_ci_high": math.nan,
        "hr_p": math.nan,
    }
    if len(labels) < 2:
        return out
    if len(labels) == 2:
        a, b = group == labels[0], group == labels[1]
        out["logrank_p"] = float(logrank_test(time[a], time[b], event[a], event[b]).p_value)
    else:
        out["logrank_p"] = float(multivariate_logrank_test(time, group, event).p_value)
    keep = np.isin(group, [high, low])
    if keep.sum() and len(np.unique(group[keep])) == 2 and event[keep].any():
        frame = pd.DataFrame(
            {"T": time[keep], "E": event[keep].astype(int), "high": (group[keep] == high).astype(float)}
        )
        cph = CoxPHFitter().fit(frame, "T", "E")
        s = cph.summary.loc["high"]
        out.update(
            hazard_ratio=float(s["exp(coef)"]),
            hr_ci_low=float(s["exp(coef) lower 95%"]),
            hr_ci_high=float(s["exp(coef) upper 95%"]),
            hr_p=float(s["p"]),
        )
    return out
