"""Apply a saved prognosis model to a cohort: risks, risk groups at the training cut-offs, external validation.

A model trained on one cohort is judged on another by scoring it with the
training cohort's cut-offs (not the new cohort's own median), and, when the
new cohort has outcomes, by its C-index and the survival of the groups.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Union

import numpy as np
import pandas as pd

from omicsgat.errors import OmicsInputError
from omicsgat.io.atomic import write_table_atomic, write_text_atomic
from omicsgat.metrics import survival as sm
from omicsgat.persist import jsonable
from omicsgat.pl.figure import save_figure_formats
from omicsgat.prognosis.result import RISK_KEY as KEY
from omicsgat.prognosis.result import km_figure, write_risk


def training_cutoffs(reference: dict, groups: Union[str, float]) -> tuple[list, list]:
    """(cut-offs on the raw risk, group names low to high) of a grouping at the training risks.

    ``groups``: "median", "tertiles" or a number on the training-standardised scale (0 = the training mean,
    1 = one SD above), as in :func:`omicsgat.prognosis.run_prognosis`.
    """
    if isinstance(groups, str) and groups.strip().lower() == "median":
        return [reference["median"]], ["low", "high"]
    if isinstance(groups, str) and groups.strip().lower() == "tertiles":
        return list(reference["tertiles"]), ["low", "intermediate", "high"]
    try:
        cut = float(groups)
    except (TypeError, ValueError):
        raise OmicsInputError(
            f"Unknown risk grouping {groups!r}: use 'median', 'tertiles' or a number "
            "(a cut-off on the training-standardised risk)."
        ) from None
    return [reference["mean"] + cut * reference["sd"]], ["low", "high"]


@dataclass
class AppliedPrognosis:
    """What :func:`apply_model` returns.

    risk
        One row per sample: ``sample``, ``risk`` (the model's log relative risk, as
        ``predict_risk`` gives it), ``risk_z`` (standardised with the training
        samples' mean and SD), ``group`` (at the training cut-offs), and ``time``,
        ``event`` when the cohort has outcomes.
    summary
        Sizes, the grouping and its cut-offs, the modalities and features used; with
        outcomes: ``c_index`` (Harrell), log-rank p and hazard ratio high vs low.
    """

    risk: pd.DataFrame
    summary: dict
    params: dict = field(default_factory=dict)
    notes: List[str] = field(default_factory=list)

    @property
    def has_outcomes(self) -> bool:
        return "event" in self.risk

    @property
    def group_order(self) -> List[str]:
        present = set(self.risk["group"])
        return [g for g in ["low", "intermediate", "high"] if g in present]

    def to_frame(self) -> pd.DataFrame:
        return self.risk.copy()

    def save(self, out_dir: Union[str, Path]) -> Dict[str, Path]:
        """risk.tsv, summary.json and, with outcomes, km.png/.svg/.pdf, each written atomically."""
        import json

        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        paths = {
            "risk": write_table_atomic(self.risk, out / "risk.tsv"),
            "summary": write_text_atomic(out / "summary.json", json.dumps(jsonable(self.summary), indent=1)),
        }
        if self.has_outcomes:
            for p in save_figure_formats(self.plot_km(), out / "km"):
                paths[p.name] = p
        return paths

    def write_to(self, adata, key_added: str = KEY, param: str = "key_added") -> None:
        """Risks and groups of the samples of an AnnData (see :func:`omicsgat.prognosis.result.write_risk`)."""
        write_risk(adata, self.risk, self.summary, self.group_order, key_added, param)

    def plot_km(self, ax=None):
        if not self.has_outcomes:
            raise OmicsInputError("This cohort has no outcomes (time and event): there is no survival curve to draw.")
        title = f"Saved model, training cut-offs (C-index {self.summary['c_index']:.3f})"
        return km_figure(self.risk, self.summary, self.group_order, title, ax=ax)


def apply_model(model, cohort, *, groups: Union[str, float, None] = None) -> AppliedPrognosis:
    """Score ``cohort`` (a :class:`~omicsgat.io.multiomics.MultiOmics`, or ``{modality: samples x features}``)
    with a fitted or loaded :class:`~omicsgat.prognosis.GeneAttentionSurvival`.

    ``groups`` (default: the grouping the model card records, else "median") is cut at the training risks.
    The cohort must have every modality and feature the model was trained on (an :class:`OmicsInputError`
    names what is missing); extra modalities and features are ignored and counted in the summary.
    """
    reference = getattr(model, "risk_reference_", None)
    if reference is None:
        raise OmicsInputError(
            "This model has no record of its training risks (it was saved by OmicsGAT 0.1.0), so "
            "its training cut-offs are unknown: train and save it again with this version."
        )
    tables = getattr(cohort, "tables", cohort)
    if not isinstance(tables, dict) or not tables:
        raise OmicsInputError("Give the omics tables to score as a MultiOmics cohort or {modality: table}.")
    features = model.features_
    notes = []
    extra = sorted(set(tables) - set(features))
    if extra:
        notes.append(f"modalities not used by the model (ignored): {', '.join(extra)}")
    if groups is None:
        groups = model.card.get("parameters", {}).get("groups", "median")
    cuts, names = training_cutoffs(reference, groups)
    risk = model.predict_risk(cohort)
    values = risk.to_numpy()
    group = np.asarray(names, dtype=object)[np.searchsorted(np.asarray(cuts), values, side="left")]
    frame = pd.DataFrame(
        {
            "sample": risk.index.astype(str),
            "risk": values,
            "risk_z": (values - reference["mean"]) / reference["sd"],
            "group": group,
        }
    )
    summary = {
        "n_samples": int(len(frame)),
        "groups": str(groups),
        "cutoffs": cuts,
        "group_sizes": pd.Series(group).value_counts().to_dict(),
        "modalities": list(features),
        "n_features_used": {m: len(f) for m, f in features.items()},
        "n_features_ignored": {m: int(tables[m].shape[1] - len(f)) for m, f in features.items() if m in tables},
        "training_samples": reference["n_samples"],
        "training_events": reference["n_events"],
    }
    time, event = _outcomes(cohort, frame["sample"])
    if time is not None:
        frame["time"], frame["event"] = time, event.astype(int)
        summary.update(
            n_events=int(event.sum()),
            c_index=sm.harrell_c(time, event, values),
            **sm.group_survival_stats(time, event, group),
        )
        summary["time_col"], summary["event_col"] = cohort.time_col, cohort.event_col
    params = {"groups": groups, "model_card": model.card}
    return AppliedPrognosis(frame, summary, params, notes)


def _outcomes(cohort, samples: pd.Series):
    """(time, event) of the scored samples when the cohort has a clinical table, else (None, None)."""
    if getattr(cohort, "clinical", None) is None or not getattr(cohort, "time_col", None):
        return None, None
    clinical = cohort.clinical.set_axis(cohort.clinical.index.astype(str))
    rows = clinical.reindex(samples.to_numpy())
    time = rows[cohort.time_col].to_numpy(dtype=float)
    event = rows[cohort.event_col].to_numpy()
    if np.isnan(time).any() or pd.isna(event).any():
        return None, None
    return time, np.asarray(event, dtype=float).astype(bool)
