"""Classification metrics on a hand-computed example, and against scikit-learn."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omicsgat.metrics.classification import classification_scores, confusion_frame


def test_hand_computed_example():
    truth = ["A", "A", "A", "B", "B", "C"]
    pred = ["A", "A", "B", "B", "Unknown", "C"]
    s = classification_scores(truth, pred)
    assert s["accuracy"] == pytest.approx(4 / 6)
    # A: P=1, R=2/3 -> F1=0.8; B: P=1/2, R=1/2 -> 0.5; C: 1
    assert s["per_class_f1"] == pytest.approx({"A": 0.8, "B": 0.5, "C": 1.0})
    assert s["macro_f1"] == pytest.approx((0.8 + 0.5 + 1.0) / 3)
    assert s["unknown_fraction"] == pytest.approx(1 / 6)
    cm = confusion_frame(truth, pred)
    assert list(cm.columns) == ["A", "B", "C", "Unknown"] and list(cm.index) == ["A", "B", "C"]
    assert cm.loc["A", "B"] == 1 and cm.loc["B", "Unknown"] == 1 and cm.to_numpy().sum() == 6


@settings(max_examples=30, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from("ABC"), st.sampled_from(["A", "B", "C", "Unknown"])), min_size=1, max_size=40)
)
def test_agrees_with_sklearn_and_stays_in_range(pairs):
    from sklearn.metrics import accuracy_score, f1_score

    t, p = map(list, zip(*pairs))
    s = classification_scores(t, p)
    assert 0 <= s["macro_f1"] <= 1 and 0 <= s["accuracy"] <= 1
    assert s["accuracy"] == pytest.approx(accuracy_score(t, p))
    assert s["macro_f1"] == pytest.approx(f1_score(t, p, labels=sorted(set(t)), average="macro", zero_division=0))
    assert confusion_frame(t, p).to_numpy().sum() == len(t)


def test_length_mismatch_is_refused():
    with pytest.raises(ValueError):
        classification_scores(["A"], ["A", "B"])
    assert np.isfinite(classification_scores(["A"], ["A"])["macro_f1"])
