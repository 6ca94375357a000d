"""Property tests: survival metrics stay in range and agree with an independent implementation."""

from __future__ import annotations

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from omicsgat.metrics.survival import harrell_c, uno_c


@st.composite
def cohorts(draw):
    n = draw(st.integers(min_value=5, max_value=60))
    seed = draw(st.integers(min_value=0, max_value=2**31 - 1))
    rng = np.random.default_rng(seed)
    time = np.round(rng.exponential(10, size=n), draw(st.sampled_from([0, 1, 3])))  # rounding makes ties
    time = np.maximum(time, 0.1)
    event = rng.random(n) < draw(st.floats(min_value=0.2, max_value=1.0))
    event[0] = True  # at least one event
    risk = np.round(rng.normal(size=n), draw(st.sampled_from([0, 1, 6])))  # tied risks too
    return time, event, risk


def _has_comparable_pair(time, event, before=np.inf) -> bool:
    """Some sample with an event (before ``before``) died earlier than another sample's follow-up ended."""
    return any(event[i] and time[i] < before and (time > time[i]).any() for i in range(len(time)))


@settings(max_examples=40, deadline=None)
@given(cohorts())
def test_harrell_c_matches_scikit_survival(data):
    """harrell_c wraps lifelines; scikit-survival is an independent implementation to agree with."""
    from sksurv.metrics import concordance_index_censored

    time, event, risk = data
    assume(_has_comparable_pair(time, event))  # otherwise the index is undefined in both libraries
    expected = concordance_index_censored(event, time, risk)[0]
    c = harrell_c(time, event, risk)
    assert np.isfinite(c) and abs(c - expected) < 1e-9


def test_harrell_c_orders_a_known_cohort():
    time = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    event = np.array([True, True, False, True, False])
    assert harrell_c(time, event, -time) == 1.0  # risk falls with survival time: every pair concordant
    assert harrell_c(time, event, time) == 0.0
    assert harrell_c(time, event, np.zeros(5)) == 0.5  # all ties: one half each


@settings(max_examples=25, deadline=None)
@given(cohorts())
def test_uno_c_is_defined_exactly_when_pairs_are_comparable_and_flips_with_the_risk(data):
    time, event, risk = data
    tau = float(np.quantile(time, 0.95))
    c = uno_c(time, event, time, event, risk)
    if not _has_comparable_pair(time, event, before=tau):
        assert np.isnan(c)
        return
    flipped = uno_c(time, event, time, event, -risk)
    assert np.isfinite(c) and np.isfinite(flipped)
    assert 0.0 <= c <= 1.0
    # reversing the ranking mirrors the concordance (ties in risk count one half both ways)
    assert abs(c + flipped - 1.0) < 1e-6
