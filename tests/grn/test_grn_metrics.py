"""BEELINE-style metrics: hand-computed values, candidate-set rules, agreement with scikit-learn."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omicsgat.errors import OmicsInputError
from omicsgat.metrics.grn import candidate_pairs, early_precision, evaluate_edges, held_out_metrics, score_labels


def test_hand_computed_example():
    # 6 candidates, 2 true edges ranked 1st and 4th.
    y = [1, 0, 0, 1, 0, 0]
    s = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4]
    m = score_labels(y, s)
    # AUROC: positive pairs ranked above negatives: 0.9 beats 4/4, 0.6 beats 2/4 -> 6/8
    assert m["AUROC"] == pytest.approx(0.75)
    # AP = (1/1 + 2/4) / 2 = 0.75
    assert m["AUPRC"] == pytest.approx(0.75)
    assert m["density"] == pytest.approx(2 / 6)
    assert m["AUPRC_ratio"] == pytest.approx(0.75 * 3)
    # top-2 holds one true edge -> EP 0.5, EPR 1.5
    assert m["EP"] == pytest.approx(0.5)
    assert m["EPR"] == pytest.approx(1.5)


def test_early_precision_shares_ties_at_the_cut():
    # k = 2; one clear winner (true), then three tied scores holding one true edge:
    # the last slot is filled by the tie, expected hits 1/3.
    y = np.array([1, 1, 0, 0])
    s = np.array([0.9, 0.5, 0.5, 0.5])
    assert early_precision(y, s) == pytest.approx((1 + 1 / 3) / 2)


def test_evaluate_edges_respects_direction_self_edges_and_candidate_set():
    edges = pd.DataFrame(
        {"regulator": ["A", "B", "A", "B"], "target": ["B", "A", "C", "C"], "score": [0.9, 0.8, 0.1, 0.2]}
    )
    # reference: A->B true (scored 0.9), C->A outside the candidate set (C is no regulator), self-edge ignored.
    reference = pd.DataFrame({"regulator": ["A", "C", "A"], "target": ["B", "A", "A"]})
    m = evaluate_edges(edges, reference, regulators=["A", "B"], genes=["A", "B", "C"])
    assert m["n_candidates"] == 4  # A->B, A->C, B->A, B->C
    assert m["n_true"] == 1
    assert m["n_reference_outside"] == 1
    assert m["AUROC"] == pytest.approx(1.0)
    # reversed direction B->A must not count as A->B
    rev = evaluate_edges(
        edges.assign(score=[0.1, 0.9, 0.2, 0.3]), reference, regulators=["A", "B"], genes=["A", "B", "C"]
    )
    assert rev["AUROC"] == pytest.approx(0.0)


def test_unscored_candidates_rank_last():
    edges = pd.DataFrame({"regulator": ["A"], "target": ["B"], "score": [0.5]})
    reference = pd.DataFrame({"regulator": ["A"], "target": ["C"]})
    m = evaluate_edges(edges, reference, regulators=["A"], genes=["A", "B", "C"])
    assert m["AUROC"] == pytest.approx(0.0)


def test_candidate_pairs_exclude_self_edges():
    pairs = candidate_pairs(["A", "B"], ["A", "B", "C"])
    assert len(pairs) == 4 and not (pairs["regulator"] == pairs["target"]).any()


def test_no_true_edge_is_a_clear_error():
    with pytest.raises(OmicsInputError, match="true edges"):
        score_labels([0, 0, 0], [0.1, 0.2, 0.3])


def test_missing_column_is_named():
    with pytest.raises(OmicsInputError, match="score"):
        evaluate_edges(
            pd.DataFrame({"regulator": ["A"], "target": ["B"]}), pd.DataFrame({"regulator": ["A"], "target": ["B"]})
        )


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.floats(-5, 5, allow_nan=False)), min_size=2, max_size=60))
def test_metrics_in_range_and_agree_with_sklearn(rows):
    from sklearn.metrics import average_precision_score, roc_auc_score

    y = np.array([r[0] for r in rows], dtype=int)
    s = np.array([r[1] for r in rows])
    if y.sum() in (0, len(y)):
        with pytest.raises(OmicsInputError):
            score_labels(y, s)
        return
    m = score_labels(y, s)
    assert m["AUROC"] == pytest.approx(roc_auc_score(y, s))
    assert m["AUPRC"] == pytest.approx(average_precision_score(y, s))
    eps = 1e-12  # scikit-learn's average precision sums floats: a perfect ranking can give 1.0000000000000002
    assert 0.0 <= m["AUROC"] <= 1.0 + eps and 0.0 <= m["AUPRC"] <= 1.0 + eps and 0.0 <= m["EP"] <= 1.0 + eps
    assert m["EPR"] == pytest.approx(m["EP"] / m["density"])
    assert m["EPR"] <= 1.0 / m["density"] + 1e-9


def test_held_out_metrics_score_only_the_pairs_held_out_of_training(supervised_edges):
    """The prior's own (train) edges are ranked first and are all true; only the test pairs count, where the one
    true edge ranks second of four (AUROC 2/3), and runs without a split or with one class give None."""
    edges, reference = supervised_edges
    m = held_out_metrics(edges, reference)
    assert m["n_pairs"] == 4 and m["n_true"] == 1
    assert m["AUROC"] == pytest.approx(2 / 3) and m["AUPRC_ratio"] == pytest.approx(0.5 / 0.25)
    assert evaluate_edges(edges, reference, regulators=list("ABCD"), genes=list("ABCD"))["AUROC"] > m["AUROC"]
    assert held_out_metrics(edges.drop(columns="split"), reference) is None
    assert held_out_metrics(edges, reference.iloc[:2]) is None  # no test pair is a reference edge
