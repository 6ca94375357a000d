"""Which Unknown test calls which cells: each test's calls on known and absent cells, per development case.

The network is trained once per case (``annotate_cells``, as ``celltype_transfer`` runs it); its inputs to
the Unknown rule are kept and every test is then scored on its own, together with the two distance tests of
the previous rule (the single-cell test at robust-z guard 4, and its score averaged over 15 query neighbours
at guard 3), so the choice between them can be read off one table. Per test: known cells it calls, absent
cells it calls, and absent cells it calls that no other test of its rule calls (the previous rule's, for the
tests both rules share); per rule: known and absent cells it calls.

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


def add_case(table: Table, family: str, case: str, run: dict, truth: np.ndarray) -> None:
    calls = calls_per_test(run)
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
    for rule, tests in (("rule: current", current), ("rule: previous", previous)):
        called = np.logical_or.reduce([calls[t] for t in tests])
        table.add(
            family=family,
            case=case,
            test=rule,
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
    add_case(table, "real, across studies", "pbmc68k_reduced -> Kang", _captured_run(pbmc, kang, 0), kang_truth)
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
