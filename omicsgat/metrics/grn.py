"""BEELINE-style evaluation of a ranked edge list against a reference network.

Edges are directed (regulator -> target); self-edges are never counted. The
*candidate set* is every pair the method could have scored: by default all
``regulator -> target`` pairs between the given regulators and genes. Reference
edges outside the candidate set are left out (and counted in the result), and
candidate pairs the method did not score are ranked last (tied).

* AUROC, AUPRC (average precision, scikit-learn);
* AUPRC ratio = AUPRC / density, density = true edges / candidate edges;
* EP (early precision) = precision among the top-k edges, k = number of true
  edges in the candidate set; ties at the cut are shared in proportion
  (the expected precision under random tie-breaking);
* EPR = EP / density.
"""

from __future__ import annotations

from typing import Iterable, Optional, Sequence

import numpy as np
import pandas as pd

from omicsgat.errors import OmicsInputError


def early_precision(y_true: np.ndarray, scores: np.ndarray, k: Optional[int] = None) -> float:
    """Precision among the ``k`` highest scores (default k = number of positives), ties shared."""
    y = np.asarray(y_true, dtype=bool)
    s = np.asarray(scores, dtype=float)
    k = int(y.sum()) if k is None else int(k)
    if k <= 0 or y.size == 0:
        return float("nan")
    k = min(k, y.size)
    order = np.sort(s)[::-1]
    cut = order[k - 1]
    above = s > cut
    at = s == cut
    slots = k - int(above.sum())
    hits = y[above].sum() + (y[at].sum() * slots / at.sum() if at.any() else 0.0)
    return float(hits / k)


def score_labels(y_true: Sequence[int], scores: Sequence[float]) -> dict:
    """AUROC, AUPRC, AUPRC ratio, EP and EPR of ``scores`` against 0/1 labels."""
    from sklearn.metrics import average_precision_score, roc_auc_score

    y = np.asarray(y_true, dtype=int)
    s = np.asarray(scores, dtype=float)
    n_true = int(y.sum())
    if n_true == 0 or n_true == y.size:
        raise OmicsInputError(
            f"Cannot evaluate: the candidate set holds {n_true} true edges out of {y.size}; "
            "it needs both true and false candidate edges."
        )
    s = np.where(np.isfinite(s), s, np.nanmin(s[np.isfinite(s)]) - 1.0 if np.isfinite(s).any() else 0.0)
    density = n_true / y.size
    auprc = float(average_precision_score(y, s))
    ep = early_precision(y, s)
    return {
        "AUROC": float(roc_auc_score(y, s)),
        "AUPRC": auprc,
        "AUPRC_ratio": auprc / density,
        "EP": ep,
        "EPR": ep / density,
        "density": density,
        "n_true": n_true,
        "n_candidates": int(y.size),
    }


def candidate_pairs(regulators: Iterable[str], genes: Iterable[str]) -> pd.DataFrame:
    """All directed regulator -> target pairs, self-edges excluded."""
    regs = list(dict.fromkeys(regulators))
    targets = list(dict.fromkeys(genes))
    r = np.repeat(np.asarray(regs, dtype=object), len(targets))
    t = np.tile(np.asarray(targets, dtype=object), len(regs))
    keep = r != t
    return pd.DataFrame({"regulator": r[keep], "target": t[keep]})


def evaluate_edges(
    edges: pd.DataFrame,
    reference: pd.DataFrame,
    *,
    regulators: Optional[Iterable[str]] = None,
    genes: Optional[Iterable[str]] = None,
    candidates: Optional[pd.DataFrame] = None,
    score_col: str = "score",
) -> dict:
    """Evaluate scored edges (regulator, target, score) against reference edges (regulator, target).

    The candidate set is ``candidates`` if given, else all pairs from
    ``regulators`` (default: the regulators in ``edges``) to ``genes``
    (default: every gene in ``edges``). Returns the metrics of
    :func:`score_labels` plus ``n_reference_outside`` (reference edges not in
    the candidate set).
    """
    labels, values, outside = labelled_candidates(
        edges, reference, regulators=regulators, genes=genes, candidates=candidates, score_col=score_col
    )
    out = score_labels(labels.astype(int), values)
    out["n_reference_outside"] = outside
    return out


#: What each metric says, for tooltips and tables (BEELINE's definitions).
METRIC_HELP = {
    "AUROC": "Area under the ROC curve: the chance that a true edge is ranked above a false one (0.5 = random)",
    "AUPRC": "Area under the precision-recall curve (average precision); random = the density of true edges",
    "AUPRC_ratio": "AUPRC divided by the density: how many times better than a random ranking (1 = random)",
    "EP": "Early precision: the share of true edges among the top k, k = the number of true edges",
    "EPR": "Early precision ratio: EP divided by the density (1 = random)",
    "density": "True edges / candidate edges: the precision of a random ranking",
    "n_true": "Reference edges among the candidate pairs (regulator -> gene of this run)",
    "n_candidates": "Directed regulator -> gene pairs this run could score",
    "n_reference_outside": "Reference edges left out: their genes or regulators are not in this run",
}


def edge_curves(edges: pd.DataFrame, reference: pd.DataFrame, **kwargs) -> dict:
    """ROC (``fpr``, ``tpr``) and precision-recall (``recall``, ``precision``) curves of the ranking, and ``density``."""
    from sklearn.metrics import precision_recall_curve, roc_curve

    labels, values, _ = labelled_candidates(edges, reference, **kwargs)
    if labels.all() or not labels.any():
        raise OmicsInputError("Cannot draw the curves: the candidate set needs both true and false edges.")
    fpr, tpr, _ = roc_curve(labels.astype(int), values)
    precision, recall, _ = precision_recall_curve(labels.astype(int), values)
    return {"fpr": fpr, "tpr": tpr, "recall": recall, "precision": precision, "density": float(labels.mean())}


def labelled_candidates(
    edges: pd.DataFrame,
    reference: pd.DataFrame,
    *,
    regulators: Optional[Iterable[str]] = None,
    genes: Optional[Iterable[str]] = None,
    candidates: Optional[pd.DataFrame] = None,
    score_col: str = "score",
) -> tuple[np.ndarray, np.ndarray, int]:
    """(is-true label, score) per candidate pair, and the number of reference edges outside the candidates."""
    for name, frame, cols in (
        ("edges", edges, ("regulator", "target", score_col)),
        ("reference", reference, ("regulator", "target")),
    ):
        missing = [c for c in cols if c not in frame.columns]
        if missing:
            raise OmicsInputError(f"The {name} table has no column(s) {missing}; it needs {list(cols)}.")
    if candidates is None:
        regs = list(regulators) if regulators is not None else list(pd.unique(edges["regulator"]))
        gene_list = (
            list(genes) if genes is not None else list(pd.unique(pd.concat([edges["regulator"], edges["target"]])))
        )
        candidates = candidate_pairs(regs, gene_list)
    cand = candidates[["regulator", "target"]].astype(str)
    cand = cand[cand["regulator"] != cand["target"]].drop_duplicates()
    ref = reference[["regulator", "target"]].astype(str).drop_duplicates()
    ref = ref[ref["regulator"] != ref["target"]]
    ref_keys = set(zip(ref["regulator"], ref["target"]))
    cand_keys = list(zip(cand["regulator"], cand["target"]))
    labels = np.fromiter((k in ref_keys for k in cand_keys), dtype=bool, count=len(cand_keys))
    scored = edges[["regulator", "target", score_col]].copy()
    scored["regulator"] = scored["regulator"].astype(str)
    scored["target"] = scored["target"].astype(str)
    lookup = scored.groupby(["regulator", "target"], sort=False)[score_col].max().to_dict()
    floor = float(np.nanmin(scored[score_col])) - 1.0 if len(scored) else 0.0
    values = np.array([lookup.get(k, floor) for k in cand_keys], dtype=float)
    return labels, values, int(len(ref_keys) - labels.sum())


def beeline_table(
    edges: pd.DataFrame, reference: pd.DataFrame, genes: Iterable[str], score_col: str = "score"
) -> pd.DataFrame:
    """BEELINE's evaluation as a one-row table: every ordered pair of distinct ``genes`` is a candidate.

    Columns AUROC, AUPRC, AUPRC_ratio, EP, EPR, density, n_true, n_candidates,
    n_reference_outside (reference edges naming genes outside ``genes``).
    Pairs the method did not score are ranked last; self-loops never count.
    """
    gene_list = [str(g) for g in genes]
    metrics = evaluate_edges(edges, reference, regulators=gene_list, genes=gene_list, score_col=score_col)
    keys = ("AUROC", "AUPRC", "AUPRC_ratio", "EP", "EPR", "density", "n_true", "n_candidates", "n_reference_outside")
    return pd.DataFrame([{k: metrics[k] for k in keys}])


def held_out_metrics(edges: pd.DataFrame, reference: pd.DataFrame) -> Optional[dict]:
    """A supervised run's honest figure: AUROC, AUPRC ratio, ... over the pairs held out of training only.

    A supervised ranking also holds the prior's own edges, which the model was trained on; scoring them says
    nothing about new edges. Returns ``None`` when ``edges`` has no ``split`` column (an unsupervised run) or
    its test pairs are all true or all false; else ``score_labels``' metrics with ``n_pairs`` and ``n_true``.
    """
    if "split" not in edges.columns:
        return None
    held = edges[edges["split"] == "test"]
    truth = set(zip(reference["regulator"].astype(str), reference["target"].astype(str)))
    labels = [(r, t) in truth for r, t in zip(held["regulator"].astype(str), held["target"].astype(str))]
    if not 0 < sum(labels) < len(labels):
        return None
    return {**score_labels(labels, held["score"].to_numpy()), "n_pairs": len(held), "n_true": int(sum(labels))}
