"""Does the graph earn its place? OmicsGAT with and without its graph-attention epochs, where neighbours should matter.

Scenarios: few labels (5 % and 10 % labelled), 20 % of the given labels
flipped to another type at random, and a query whose dropout is doubled
(reference -> query). "OmicsGAT (graph off)" is the same run stopped at its
linear start (``graph=False``: the gene-attention-weighted logistic
regression, temperature-scaled); "LogReg (balanced)" is scikit-learn's on the
same features. Macro-F1 of the argmax calls (no Unknown) on the cells whose
labels were hidden, mean over ``SPLITS`` random splits.

``python -m benchmarks celltype_graph [--quick]``
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from benchmarks._common import Table, mean_sd

SPLITS = (0, 1)


def _pbmc():
    from benchmarks.celltype import _pbmc

    a = _pbmc()
    a.obs = a.obs.rename(columns={"bulk_labels": "cell_type"})
    return a


def _sim(seed: int):
    from omicsgat.simulate import simulate_label_transfer

    ref, qry = simulate_label_transfer(
        n_reference=800, n_query=800, n_genes=300, absent="far", batch_effect=0.3, seed=seed
    )
    return ref, qry[qry.obs["cell_type"] != "novel"].copy()


def _within(adata, fraction: float, flip: float, seed: int):
    """(data with obs['given'] partly hidden and partly flipped, hidden rows, true labels)."""
    rng = np.random.default_rng([seed, 11])
    y = adata.obs["cell_type"].astype(str).to_numpy()
    from sklearn.model_selection import StratifiedShuffleSplit

    lab_rows, _ = next(StratifiedShuffleSplit(1, train_size=fraction, random_state=seed).split(y, y))
    given = np.full(len(y), None, dtype=object)
    given[lab_rows] = y[lab_rows]
    if flip:
        types = np.unique(y)
        flips = lab_rows[rng.random(len(lab_rows)) < flip]
        for i in flips:
            given[i] = rng.choice(types[types != y[i]])
    a = adata.copy()
    a.obs["given"] = given
    hidden = np.setdiff1d(np.arange(len(y)), lab_rows)
    return a, hidden, y


def _double_dropout(qry, seed: int):
    """Zero each query count again with the simulator's dropout probability (0.1 e^(-0.2 count)): about twice the zeros."""
    rng = np.random.default_rng([seed, 13])
    q = qry.copy()
    X = q.X.tocsr(copy=True)
    X.data[rng.random(X.data.size) < 0.1 * np.exp(-0.2 * X.data)] = 0.0
    X.eliminate_zeros()
    q.X = X
    return q


def _logreg(prep, seed):
    from sklearn.linear_model import LogisticRegression

    lab = prep.y >= 0
    clf = LogisticRegression(max_iter=1000, C=0.1, class_weight="balanced", random_state=seed)
    clf.fit(prep.z[lab], np.asarray(prep.classes, dtype=object)[prep.y[lab]])
    return clf.predict(prep.z[prep.is_query])


def run_case(adata, label_key, reference, truth: pd.Series, seed: int, epochs: int) -> dict:
    from omicsgat.celltype import annotate_cells
    from omicsgat.celltype.prepare import prepare
    from omicsgat.metrics.classification import classification_scores

    out = {}
    for name, graph in (("OmicsGAT", True), ("OmicsGAT (graph off)", False)):
        t = time.time()
        r = annotate_cells(
            adata, label_key, reference, epochs=epochs, seed=seed, device="cpu", graph=graph, novelty=False
        )
        pred = r.labels["predicted"].reindex(truth.index).astype(str)
        out[name] = (classification_scores(truth, pred)["macro_f1"], time.time() - t)
    t = time.time()
    prep = prepare(adata, label_key, reference, seed=seed)
    names = prep.cells[prep.is_query]
    pred = pd.Series(_logreg(prep, seed), index=names).reindex(truth.index).astype(str)
    out["LogReg (balanced)"] = (classification_scores(truth, pred)["macro_f1"], time.time() - t)
    return out


def main(quick: bool = False) -> None:
    import os

    t0 = time.time()
    epochs = 20 if quick else 40
    splits = SPLITS[:1] if quick else SPLITS
    cases = []
    for data_name, make in (("pbmc68k_reduced", lambda s: _pbmc()), ("simulated", lambda s: _sim(s)[0])):
        for scen, frac, flip in (
            ("5 % labelled", 0.05, 0.0),
            ("10 % labelled", 0.10, 0.0),
            ("20 % labels flipped (50 % labelled)", 0.5, 0.2),
        ):
            cases.append((f"{data_name}, {scen}", "within", make, frac, flip))
    cases.append(("simulated ref->query, query dropout doubled", "transfer", _sim, None, None))
    table = Table("celltype_graph")
    for name, kind, make, frac, flip in cases:
        runs = []
        for s in splits:
            if kind == "within":
                a, hidden, y = _within(make(s), frac, flip, s)
                truth = pd.Series(y[hidden], index=a.obs_names[hidden])
                runs.append(run_case(a, "given", None, truth, s, epochs))
            else:
                ref, qry = make(s)
                qry = _double_dropout(qry, s)
                truth = qry.obs["cell_type"].astype(str)
                q = qry.copy()
                del q.obs["cell_type"]
                runs.append(run_case(q, "cell_type", ref, truth, s, epochs))
        f1 = {m: [r[m][0] for r in runs] for m in runs[0]}
        gain = np.mean(f1["OmicsGAT"]) - np.mean(f1["OmicsGAT (graph off)"])
        for m in f1:
            table.add(
                scenario=name,
                method=m,
                macro_f1=mean_sd(f1[m]),
                seconds=float(np.mean([r[m][1] for r in runs])),
                **(
                    {
                        "graph_gain": gain,
                        "beats_logreg": bool(np.mean(f1["OmicsGAT"]) >= np.mean(f1["LogReg (balanced)"]) - 1e-9),
                    }
                    if m == "OmicsGAT"
                    else {}
                ),
            )
        print(f"  {name}: graph gain {gain:+.3f}", flush=True)
    meta = {
        "quick": quick,
        "epochs": epochs,
        "splits": list(splits),
        "total_seconds": time.time() - t0,
        "loadavg": os.getloadavg(),
    }
    table.save(meta)
    print(f"\n### {table.name}\n\n{table.to_markdown()}\n", flush=True)


if __name__ == "__main__":
    import sys

    from benchmarks._common import exit_if_help

    exit_if_help(__doc__)
    main(quick="--quick" in sys.argv)
