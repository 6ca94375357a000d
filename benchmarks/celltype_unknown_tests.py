"""Which Unknown test calls which cells: each test's calls on known and absent cells, per development case.

The network is trained once per case (``annotate_cells``, as ``celltype_transfer`` runs it); its inputs to
the Unknown rule are kept and every test is then scored on its own, together with the two distance tests of
the previous rule (the single-cell test at robust-z guard 4, and its score averaged over 15 query neighbours
at guard 3), so the choice between them can be read off one table. Per test: known cells it calls, absent
cells it calls, and absent cells it calls that no other test of its rule calls (the previous rule's, for the
tests both rules share); per rule: known and absent cells it calls, and macro-F1 over the known types.

Candidate rules (tried, none adopted; docs/celltype.md): the probability test replaced by each of
:func:`candidate_probability_calls`, and the current rule plus a per-cluster test
(:func:`candidate_cluster_calls`), scored on the same captured outputs.

Development cases only: Kang <-> pbmc68k_reduced, pbmc68k_reduced leave-one-type-out (fold 0) and the
simulated batch scenarios at seeds 0, 2, 3, 4, 5. Seed 1 stays untouched (``celltype_transfer`` reports it).

``python -m benchmarks celltype_unknown_tests [--kang PATH] [--seeds 0,2,3,4,5]``
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from benchmarks._common import Table

UNTOUCHED_SEED = 1


def _captured_run(ref, qry, seed: int) -> dict:
    """The inputs of the Unknown rule and the confidence threshold of one ``annotate_cells`` run."""
    import omicsgat.celltype.annotate as annotate

    captured: dict = {}
    novelty = annotate._novelty

    def keep(prep, y, proba, train_idx, *rule, held_out=None):
        captured.update(z=prep.z, aligned=prep.aligned, y=y.copy(), proba=proba.copy(), held=held_out)
        captured["is_query"] = prep.is_query.copy()
        captured["n_classes"] = len(prep.classes)
        return novelty(prep, y, proba, train_idx, *rule, held_out=held_out)

    q = qry.copy()
    del q.obs["cell_type"]
    annotate._novelty = keep
    try:
        res = annotate.annotate_cells(q, "cell_type", ref, epochs=30, seed=seed, device="cpu")
    finally:
        annotate._novelty = novelty
    captured.update(threshold=res.threshold, classes=list(res.classes), seed=seed)
    return captured


def _previous_distance_tests(space, y, targets, seed, alpha=0.02, k=10, smooth_k=15):
    """The previous rule's single-cell (guard 4) and neighbourhood-averaged (guard 3) distance tests."""
    from omicsgat.celltype.mapping import knn_distance, knn_graph, smooth_on_graph
    from omicsgat.celltype.novelty import calibration_split, conformal_pvalues, robust_z

    labelled = np.flatnonzero(y >= 0)
    index, cal = calibration_split(y, labelled, 0.2, seed)
    d_ref = np.empty(len(y))
    d_ref[index] = knn_distance(space[index], space[index], k, leave_one_out=True)
    d_ref[cal] = knn_distance(space[index], space[cal], k)
    d_q = knn_distance(space[index], space[targets], k)
    single = np.minimum(alpha / conformal_pvalues(d_ref[cal], d_q), robust_z(d_q) / 4.0) > 1
    ri, rj = knn_graph(space[labelled], smooth_k)
    qi, qj = knn_graph(space[targets], smooth_k)
    s_cal = smooth_on_graph(d_ref[labelled], ri, rj)[np.searchsorted(labelled, cal)]
    s_q = smooth_on_graph(d_q, qi, qj)
    averaged = np.minimum(alpha / conformal_pvalues(s_cal, s_q), robust_z(s_q) / 3.0) > 1
    return single, averaged


def calls_per_test(run: dict) -> dict:
    """Per test, a boolean per query cell: does it call the cell Unknown."""
    from omicsgat.celltype.novelty import distance_novelty, mixing_novelty, probability_novelty

    y, seed = run["y"], run["seed"]
    targets = np.flatnonzero(y < 0)
    space = run["aligned"][:, : max(2, run["n_classes"])]
    conf = run["proba"][targets].max(1)
    single, averaged = _previous_distance_tests(space, y, targets, seed)
    held = run["held"]
    return {
        "lone cell (guard 8)": distance_novelty(space, y, targets, seed=seed)[0] > 1,
        "mixing": mixing_novelty(run["z"], y, targets, seed=seed)[0] > 1,
        "probability": (
            probability_novelty(held, conf)[0] > 1 if held is not None and len(held) else np.zeros(len(conf), bool)
        ),
        "confidence threshold": conf < run["threshold"],
        "previous: single cell (guard 4)": single,
        "previous: averaged (guard 3)": averaged,
    }


def _scaled_mnn_paired(ref: np.ndarray, qry: np.ndarray, k: int = 20) -> np.ndarray:
    """Bool per query row: it has a mutual nearest reference neighbour, ``k`` scaled by the other side's size
    (so a query much larger than the reference is not unpaired for its size alone)."""
    from sklearn.neighbors import NearestNeighbors

    k_q = int(min(len(ref), max(k, round(k * len(ref) / len(qry)))))
    k_r = int(min(len(qry), max(k, round(k * len(qry) / len(ref)))))
    to_ref = NearestNeighbors(n_neighbors=k_q).fit(ref).kneighbors(qry, return_distance=False)
    to_qry = NearestNeighbors(n_neighbors=k_r).fit(qry).kneighbors(ref, return_distance=False)
    return np.array([(to_qry[to_ref[i]] == i).any() for i in range(len(qry))])


def candidate_probability_calls(run: dict) -> dict:
    """Per candidate replacement of the probability test, a boolean per query cell (tried, none adopted).

    * alpha 0.01: the same test at half the level;
    * gated by mixing: a call kept only where the mixing test's robust z is above the query's median;
    * log-odds guard: the robust-z guard measured on log((1 - p) / p) of the top probability, where the
      query's bulk does not pile up at 0 (on 1 - p its MAD is ~0 whenever most cells are sure);
    * anchored query cells: also significant against the MNN-anchored query cells of the predicted type
      (the cross-species calibration, ``species_novelty.anchored_novelty``, applied within one species).
    """
    from omicsgat.celltype.novelty import mixing_novelty, probability_novelty, robust_z
    from omicsgat.celltype.species_novelty import anchored_cells, anchored_novelty

    y, held = run["y"], run["held"]
    targets = np.flatnonzero(y < 0)
    conf = run["proba"][targets].max(1)
    none = np.zeros(len(conf), bool)
    if held is None or not len(held):
        return dict.fromkeys(CANDIDATES, none)
    nov, parts = probability_novelty(held, conf)
    space = run["aligned"][:, : max(2, run["n_classes"])]
    mixing_z = mixing_novelty(run["z"], y, targets, seed=run["seed"])[1].get("z", np.zeros(len(conf)))
    sure = np.clip(conf.astype(np.float64), 1e-12, 1 - 1e-12)
    log_odds_z = robust_z(np.log1p(-sure) - np.log(sure))
    anchored = anchored_cells(space[~run["is_query"]], space[targets])
    by_anchors = anchored_novelty(1.0 - conf, run["proba"][targets].argmax(1), anchored, 0.02)
    return {
        "probability at alpha 0.01": np.minimum(0.01 / parts["p"], parts["z"] / 3.0) > 1,
        "probability gated by mixing (z > 0)": (nov > 1) & (mixing_z > 0),
        "probability, log-odds guard": np.minimum(0.02 / parts["p"], log_odds_z / 3.0) > 1,
        "probability, also vs anchored query cells": np.minimum(nov, by_anchors) > 1,
    }


def _query_clusters(run: dict) -> np.ndarray:
    """Leiden clusters of the query cells in the mapped space, as ``annotate_cells(cluster_vote=True)`` makes."""
    from omicsgat.celltype.clusters import cluster_cells

    if "clusters" not in run:
        run["clusters"] = cluster_cells(run["aligned"][run["y"] < 0], run["seed"])[0]
    return run["clusters"]


def candidate_cluster_calls(run: dict) -> np.ndarray:
    """Per query cell: its Leiden cluster (mapped space) pairs with the reference (scaled-k MNN) at less than
    half the query's overall rate, i.e. the cluster maps poorly as a group (tried, not adopted)."""
    y = run["y"]
    targets = np.flatnonzero(y < 0)
    space = run["aligned"][:, : max(2, run["n_classes"])]
    paired = _scaled_mnn_paired(space[~run["is_query"]], space[targets])
    clusters = _query_clusters(run)
    out = np.zeros(len(targets), bool)
    for c in np.unique(clusters):
        rows = clusters == c
        out[rows] = paired[rows].mean() < 0.5 * paired.mean()
    return out


def _cluster_vote(run: dict, unknown: np.ndarray, predicted: np.ndarray):
    """The per-cluster majority vote of ``annotate_cells(cluster_vote=True)`` over the current rule's calls."""
    import pandas as pd

    from omicsgat.celltype.clusters import cluster_vote

    conf = run["proba"][run["y"] < 0].max(1)
    frame = pd.DataFrame({"label": np.where(unknown, "Unknown", predicted), "predicted": predicted, "confidence": conf})
    return cluster_vote(frame, _query_clusters(run))[0]


CANDIDATES = (
    "probability at alpha 0.01",
    "probability gated by mixing (z > 0)",
    "probability, log-odds guard",
    "probability, also vs anchored query cells",
)


def add_case(table: Table, family: str, case: str, run: dict, truth: np.ndarray, call_vocab=None) -> None:
    from benchmarks.celltype_transfer import score

    calls = calls_per_test(run)
    predicted = np.asarray(run["classes"], dtype=object)[run["proba"][run["y"] < 0].argmax(1)]
    known, absent = ~np.isin(truth, ["absent", "sibling"]), truth == "absent"
    current = ("lone cell (guard 8)", "mixing", "probability", "confidence threshold")
    previous = ("previous: single cell (guard 4)", "previous: averaged (guard 3)", *current[1:])
    for name, called in calls.items():
        rule = previous if name in previous else current  # "no other test": of the previous rule, where it belongs
        others = np.logical_or.reduce([calls[t] for t in rule if t != name])
        table.add(
            family=family,
            case=case,
            test=name,
            known_called=float(called[known].mean()),
            absent_called=float(called[absent].mean()) if absent.any() else float("nan"),
            absent_only_this_test=float((called & ~others)[absent].mean()) if absent.any() else float("nan"),
        )
    rules = {"rule: current": np.logical_or.reduce([calls[t] for t in current])}
    rules["rule: previous"] = np.logical_or.reduce([calls[t] for t in previous])
    others = np.logical_or.reduce([calls[t] for t in current if t != "probability"])
    for name, called in candidate_probability_calls(run).items():
        rules[f"candidate: {name}"] = others | called
    rules["candidate: + cluster with few MNN partners"] = rules["rule: current"] | candidate_cluster_calls(run)
    labels = {rule: predicted for rule in rules}
    voted = _cluster_vote(run, rules["rule: current"], predicted)
    rules["candidate: + cluster vote (cluster_vote=True)"] = (
        rules["rule: current"] | voted["cluster_unknown"].to_numpy()
    )
    labels["candidate: + cluster vote (cluster_vote=True)"] = voted["cluster_label"].to_numpy(dtype=object)
    for rule, called in rules.items():
        calls_or_unknown = np.where(called, "Unknown", labels[rule])
        f1 = score(np.asarray(truth, dtype=object), calls_or_unknown, call_vocab)["known_macro_f1"]
        table.add(
            family=family,
            case=case,
            test=rule,
            known_macro_f1=f1,
            known_called=float(called[known].mean()),
            absent_called=float(called[absent].mean()) if absent.any() else float("nan"),
            absent_only_this_test=float("nan"),
        )


def main(quick: bool = False, argv: list[str] | None = None) -> Table:
    from benchmarks import celltype_transfer as T
    from benchmarks.celltype_novelty import pbmc_cases, simulated

    argv = argv or []
    kang_path = (
        Path(argv[argv.index("--kang") + 1]) if "--kang" in argv else next(p for p in T.KANG_DEFAULTS if p.exists())
    )
    seeds = [int(s) for s in argv[argv.index("--seeds") + 1].split(",")] if "--seeds" in argv else [0, 2, 3, 4, 5]
    if UNTOUCHED_SEED in seeds:
        raise SystemExit(f"seed {UNTOUCHED_SEED} is the untouched split: run celltype_transfer for it")
    table = Table("celltype_unknown_tests")
    kang, pbmc = T.kang(kang_path), T.pbmc68k()
    labels = pbmc.obs["cell_type"].astype(str).to_numpy()
    truth = np.array([T.PBMC_TO_KANG.get(v, "absent" if v in T.DISTINCT_ABSENT else "sibling") for v in labels])
    add_case(table, "real, across studies", "Kang -> pbmc68k_reduced", _captured_run(kang, pbmc, 0), truth)
    kang_truth = kang.obs["cell_type"].astype(str).to_numpy()
    reverse = _captured_run(pbmc, kang, 0)
    add_case(table, "real, across studies", "pbmc68k_reduced -> Kang", reverse, kang_truth, T.KANG_VOCAB_OF_PBMC_CALL)
    for leave, ref, qry in pbmc_cases(0):
        if leave in T.LOO_TYPES:
            t = qry.obs["cell_type"].astype(str).to_numpy()
            run = _captured_run(ref, qry, 0)
            add_case(
                table,
                "real, within one study",
                f"pbmc68k_reduced, {leave} left out",
                run,
                np.where(t == "novel", "absent", t),
            )
    for seed in seeds[:1] if quick else seeds:
        for name in T.SIM_SCENARIOS:
            ref, qry = simulated(name, seed)
            t = qry.obs["cell_type"].astype(str).to_numpy()
            run = _captured_run(ref, qry, seed)
            add_case(table, f"synthetic (seed {seed}, dev)", name, run, np.where(t == "novel", "absent", t))
    print(table.to_markdown())
    table.save({"kang": str(kang_path), "seeds": seeds, "epochs": 30, "alpha": 0.02})
    return table
