"""The distance-based Unknown rule: scenario data, conformal cut-off, alignment, a tiny case with a known answer."""

from __future__ import annotations

import numpy as np
import pytest

from omicsgat.celltype.mapping import aligned_space, mnn_pairs
from omicsgat.celltype.novelty import conformal_pvalues, distance_novelty, probability_novelty
from omicsgat.simulate import simulate_label_transfer


@pytest.mark.parametrize(
    "kw", [dict(absent="far"), dict(absent="sibling", batch_effect=0.6, gene_overlap=0.6, rare=True)]
)
def test_scenario_generator_is_deterministic_and_plants_what_it_says(kw):
    r1, q1 = simulate_label_transfer(n_reference=200, n_query=300, n_genes=300, seed=4, **kw)
    r2, q2 = simulate_label_transfer(n_reference=200, n_query=300, n_genes=300, seed=4, **kw)
    assert (r1.X != r2.X).nnz == 0 and (q1.X != q2.X).nnz == 0 and list(q1.var_names) == list(q2.var_names)
    assert list(q1.obs["cell_type"]) == list(q2.obs["cell_type"])
    assert "novel" not in set(r1.obs["cell_type"]) and "novel" in set(q1.obs["cell_type"])
    assert q1.n_vars == round(kw.get("gene_overlap", 1.0) * 300)
    _, q3 = simulate_label_transfer(n_reference=200, n_query=300, n_genes=300, seed=5, **kw)
    assert (q1.X != q3.X).nnz > 0


def test_conformal_pvalues_cover_exchangeable_cells_within_tolerance():
    rng = np.random.default_rng(0)
    # fresh calibration and test cells from one distribution (exchangeable), 400 times: the guarantee is marginal
    rates = {0.02: [], 0.05: [], 0.1: []}
    for _ in range(400):
        cal, test = rng.gamma(2.0, size=200), rng.gamma(2.0, size=200)
        p = conformal_pvalues(cal, test)
        for alpha in rates:
            rates[alpha].append(np.mean(p <= alpha))
    for alpha, r in rates.items():  # alpha - 1/(n+1) <= P(p <= alpha) <= alpha, up to Monte-Carlo error
        assert alpha - 1 / 201 - 0.004 <= np.mean(r) <= alpha + 0.004
    assert conformal_pvalues(cal, [cal.max() + 1])[0] == pytest.approx(1 / 201)  # beyond every calibration score


def test_tiny_case_the_population_the_reference_lacks_is_unknown_and_known_cells_are_not():
    rng = np.random.default_rng(1)
    centres = np.array([[0, 0], [10, 0], [0, 10]], dtype=float)
    ref = np.vstack([c + rng.normal(size=(200, 2)) for c in centres])
    known = np.vstack([c + rng.normal(size=(100, 2)) for c in centres])
    new = np.array([10, 10]) + rng.normal(size=(60, 2))
    space = np.vstack([ref, known, new])
    y = np.concatenate([np.repeat([0, 1, 2], 200), -np.ones(360, int)])
    novelty, parts = distance_novelty(space, y, np.arange(600, 960), k=5, seed=0)
    assert np.all(novelty[300:] > 1)  # every cell of the absent type
    assert np.mean(novelty[:300] > 1) <= 0.02  # known cells: at most alpha, and the guard holds back more
    assert np.mean(parts["raw"]["p"][:300] <= 0.02) <= 0.05  # the conformal test alone: about alpha of them


def test_alignment_removes_a_gene_shift_whatever_the_query_composition():
    rng = np.random.default_rng(2)
    g = 40
    profiles = rng.normal(0, 2, size=(3, g))
    ref = np.vstack([p + rng.normal(0, 0.3, (150, g)) for p in profiles])
    shift = rng.normal(0, 1.0, g)
    # the query: the three known types and, as large as all of them, a type the reference lacks; every gene shifted
    known = np.vstack([profiles[i % 3] + rng.normal(0, 0.3, g) for i in range(300)])
    novel = rng.normal(0, 2, g) + rng.normal(0, 0.3, (300, g))
    query = np.vstack([known, novel]) + shift
    r, q, info = aligned_space(ref, query, n_pcs=10, seed=0)
    assert info["n_mnn_pairs"] > 100
    gap = np.linalg.norm(r[:150].mean(0) - r[150:300].mean(0))
    # the query's type-0 cells land on the reference's type-0 cells
    assert np.linalg.norm(q[0:300:3].mean(0) - r[:150].mean(0)) < 0.1 * gap
    _, qi = mnn_pairs(r, q, 10)
    assert np.mean(qi < 300) > 0.95  # the absent type barely pairs: it does not vote on the shift


def _top_probability(rng, n, split):
    """Top class probability of cells that are sure (Beta near 1) or, with ``split``, torn between two types."""
    sure = 1.0 - rng.beta(1.0, 30.0, size=n)
    return 0.5 + rng.uniform(0.0, 0.05, size=n) if split else sure


def test_probability_test_tiny_case_cells_torn_between_two_types_are_unknown_and_sure_ones_are_not():
    rng = np.random.default_rng(3)
    held_out = _top_probability(rng, 300, split=False)  # held-out labelled cells: the classifier is sure of them
    query = np.concatenate([_top_probability(rng, 400, split=False), _top_probability(rng, 40, split=True)])
    novelty, parts = probability_novelty(held_out, query, alpha=0.02)
    assert np.all(novelty[400:] > 1)  # every cell the classifier splits between two types
    assert np.mean(novelty[:400] > 1) <= 0.04  # known cells: about alpha
    # a whole query that is less sure (a batch effect) is not called Unknown wholesale: the robust-z guard keeps
    # only its own upper tail (skewed scores: ~6 % above z = 3 here), where the conformal test alone calls every cell
    shifted, parts = probability_novelty(held_out, query[:400] - 0.3, alpha=0.02)
    assert np.mean(parts["p"] <= 0.02) > 0.95
    assert np.mean(shifted > 1) <= 0.10


def test_probability_test_covers_exchangeable_cells_within_tolerance():
    rng = np.random.default_rng(4)
    rates = []
    for _ in range(300):  # calibration and test cells from one distribution: P(Unknown) <= alpha, marginally
        novelty, _ = probability_novelty(
            _top_probability(rng, 150, False), _top_probability(rng, 150, False), alpha=0.05
        )
        rates.append(np.mean(novelty > 1))
    assert np.mean(rates) <= 0.05 + 0.005


def test_probability_test_on_a_chunk_uses_the_whole_querys_bulk():
    """A chunk of an ordered query may hold only the cells of an absent type: judged against its own bulk none
    stands out; against the bulk of the whole query (measured on a sample of it) they are Unknown."""
    from omicsgat.celltype.novelty import bulk

    rng = np.random.default_rng(5)
    held_out = _top_probability(rng, 300, split=False)
    known, torn = _top_probability(rng, 2000, split=False), _top_probability(rng, 100, split=True)
    center = bulk(1.0 - np.concatenate([known, torn])[rng.permutation(2100)[:500]])  # a sample of the query
    alone, _ = probability_novelty(held_out, torn, alpha=0.02)
    against_query, _ = probability_novelty(held_out, torn, alpha=0.02, center=center)
    assert np.mean(alone > 1) < 0.2 and np.all(against_query > 1)
    assert np.mean(probability_novelty(held_out, known[:300], alpha=0.02, center=center)[0] > 1) <= 0.04


def test_distance_test_ignores_the_tail_a_batch_effect_gives_known_cells_but_calls_a_lone_far_cell():
    rng = np.random.default_rng(3)
    centres = np.array([[0, 0, 0], [8, 0, 0], [0, 8, 0]], dtype=float)
    ref = np.vstack([c + rng.normal(size=(200, 3)) for c in centres])
    # the query's known cells: shifted as a whole and heavy-tailed (another lab), plus one cell like no other
    known = np.vstack([c + 1.0 + rng.standard_t(5, size=(150, 3)) for c in centres])
    lone = np.array([[30.0, 30.0, 30.0]])
    space = np.vstack([ref, known, lone])
    y = np.concatenate([np.repeat([0, 1, 2], 200), -np.ones(451, int)])
    novelty, parts = distance_novelty(space, y, np.arange(600, 1051), k=10, seed=0)
    assert np.mean(novelty[:450] > 1) <= 0.01
    assert novelty[-1] > 1
    assert np.mean(np.minimum(0.02 / parts["raw"]["p"], parts["raw"]["z"] / 4.0)[:450] > 1) > 0.01  # a weak guard


def test_probability_test_with_a_sure_query_bulk_calls_a_small_less_sure_group_and_not_the_bulk():
    """Most query cells at top probability 1 (the MAD of their scores is 0): the guard passes what the conformal
    test calls, so a small group only slightly less sure than the held-out cells is Unknown, the sure bulk not."""
    rng = np.random.default_rng(6)
    held_out = 1.0 - 10.0 ** rng.uniform(-9, -7, 300)  # held-out labelled cells: sure to 1e-7 or better
    bulk_cells = np.ones(480)  # the query's known cells: top probability 1 (float32 rounds the rest away)
    less_sure = 1.0 - 10.0 ** rng.uniform(-5, -4, 20)  # a small population the classifier is a little less sure of
    novelty, parts = probability_novelty(held_out, np.concatenate([bulk_cells, less_sure]), alpha=0.02)
    assert np.all(novelty[480:] > 1)
    assert not np.any(novelty[:480] > 1)
    assert np.median(np.abs(parts["score"] - np.median(parts["score"]))) == 0.0  # the collapsed bulk it relies on
