"""From probabilities and test results to the per-cell table: label, mapping score, why a cell is Unknown.

Two questions are answered apart. "Is this cell like any reference cell at all?" is the mapping test
(distance to the reference in the mapped space, :mod:`omicsgat.celltype.novelty`), reported per cell as
``mapping_score`` in 0-1: ``0.5 ** novelty_distance``, so 1 is a cell as close to the reference as the
reference's own cells, and below 0.5 the test says no. "Which known type is it?" is the label with its
calibrated confidence. A cell is Unknown when the mapping says no, or when the classifier cannot choose
between the reference's types (the probability test or the confidence threshold), or, with the optional
per-cluster vote, when most of its cluster is Unknown; ``unknown_reason`` names the test that called it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

UNKNOWN = "Unknown"
#: ``unknown_reason`` values, in the order they are checked (the first that fires is named)
REASONS = ("distance", "probability", "cluster")
MAPPING_UNKNOWN_BELOW = 0.5  # mapping_score below this: the distance test says the cell is like no reference cell


def mapping_score(novelty_distance: np.ndarray) -> np.ndarray:
    """0-1, 1 = as close to the reference as its own cells; monotone decreasing in the distance novelty."""
    nov = np.asarray(novelty_distance, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        return np.where(np.isfinite(nov), 0.5 ** np.maximum(nov, 0.0), np.nan)


def apply_unknown(labels: pd.DataFrame, threshold: float) -> pd.DataFrame:
    """Recompute ``label`` and ``unknown_reason``: given labels stay; query cells failing a test are Unknown.

    Tests, in order: distance (``novelty_distance`` > 1, i.e. ``mapping_score`` < 0.5), probability
    (confidence below ``threshold`` or ``novelty_probability`` > 1), cluster (``cluster_unknown``, set by
    the per-cluster vote). Tables from before the split carry only ``novelty``: it counts as distance.
    """
    out = labels.copy()
    nan = pd.Series(np.nan, out.index)
    distance = out["novelty_distance"] if "novelty_distance" in out else out.get("novelty", nan)
    by_distance = distance.fillna(0.0).to_numpy() > 1.0
    by_probability = out["confidence"].to_numpy() < threshold
    if "novelty_probability" in out:
        by_probability |= out["novelty_probability"].fillna(0.0).to_numpy() > 1.0
    by_cluster = (
        out["cluster_unknown"].fillna(False).to_numpy(dtype=bool)
        if "cluster_unknown" in out
        else np.zeros(len(out), bool)
    )
    reason = np.select([by_distance, by_probability, by_cluster], list(REASONS), default="")
    query = out["is_query"].to_numpy(dtype=bool)
    reason = np.where(query, reason, "")
    predicted = out["cluster_label"] if "cluster_label" in out else out["predicted"]
    call = predicted.astype(object).where(reason == "", UNKNOWN)
    out["label"] = np.where(query, call, out["given"].astype(object))
    out["unknown_reason"] = reason.astype(object)
    return out


def labels_frame(
    cells,
    proba: np.ndarray,
    classes: list,
    novelty_distance: np.ndarray,
    novelty_probability: np.ndarray,
    given,
    is_query: np.ndarray,
    threshold: float,
) -> pd.DataFrame:
    """The per-cell table (see :class:`~omicsgat.celltype.result.CellTypeResult`), Unknown calls applied."""
    frame = pd.DataFrame(index=pd.Index(cells, name="cell"))
    frame["label"] = ""
    frame["confidence"] = proba.max(1)
    for i, c in enumerate(classes):
        frame[f"prob_{c}"] = proba[:, i]
    frame["predicted"] = np.asarray(classes, dtype=object)[proba.argmax(1)]
    dist = np.asarray(novelty_distance, dtype=np.float64)
    prob = np.asarray(novelty_probability, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        frame["novelty"] = np.where(np.isnan(dist), prob, np.where(np.isnan(prob), dist, np.fmax(dist, prob)))
    frame["novelty_distance"] = dist
    frame["novelty_probability"] = prob
    frame["mapping_score"] = mapping_score(dist)
    frame["given"] = given
    frame["is_query"] = is_query
    return apply_unknown(frame, threshold)
