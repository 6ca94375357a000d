"""Cell-typing metrics: accuracy, macro-F1, per-class F1, share of Unknown calls (scikit-learn underneath)."""

from __future__ import annotations

import numpy as np
import pandas as pd

UNKNOWN = "Unknown"


def confusion_frame(true_labels, predicted) -> pd.DataFrame:
    """Counts with true types as rows and predicted types (including Unknown) as columns."""
    from sklearn.metrics import confusion_matrix

    t = np.asarray(true_labels, dtype=str)
    p = np.asarray(predicted, dtype=str)
    rows = sorted(set(t))
    cols = sorted(set(rows) | (set(p) - {UNKNOWN})) + ([UNKNOWN] if UNKNOWN in set(p) else [])
    labels = list(dict.fromkeys(rows + cols))
    m = confusion_matrix(t, p, labels=labels)
    frame = pd.DataFrame(m, index=labels, columns=labels)
    return frame.loc[rows, cols]


def classification_scores(true_labels, predicted) -> dict:
    """``accuracy``, ``macro_f1`` (over the true types), ``per_class_f1`` and ``unknown_fraction``.

    An ``Unknown`` call counts as wrong; macro-F1 averages over the types that
    occur in ``true_labels`` (a type that is only predicted scores no class of its own).
    """
    from sklearn.metrics import accuracy_score, f1_score

    t = np.asarray(true_labels, dtype=str)
    p = np.asarray(predicted, dtype=str)
    if t.shape != p.shape or t.size == 0:
        raise ValueError(f"need two equally long, non-empty label arrays (got {t.shape} and {p.shape})")
    classes = sorted(set(t))
    f1 = f1_score(t, p, labels=classes, average=None, zero_division=0)
    return {
        "accuracy": float(accuracy_score(t, p)),
        "macro_f1": float(np.mean(f1)),
        "per_class_f1": {c: float(v) for c, v in zip(classes, f1)},
        "unknown_fraction": float(np.mean(p == UNKNOWN)),
    }
