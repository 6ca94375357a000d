"""``PrognosisResult``: out-of-fold risks, risk groups, gene rankings and metrics, with exports and plots."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Union

import numpy as np
import pandas as pd

from omicsgat.anndata_keys import claim, uns_section
from omicsgat.errors import OmicsInputError
from omicsgat.io.atomic import write_table_atomic, write_text_atomic
from omicsgat.metrics.survival import group_survival_stats
from omicsgat.persist import jsonable
from omicsgat.pl.figure import save_figure_formats
from omicsgat.pl.ranking import plot_ranking
from omicsgat.pl.survival import plot_cindex, plot_km

GROUP_ORDERS = {2: ["low", "high"], 3: ["low", "intermediate", "high"]}
RISK_KEY = "omicsgat_risk"


def write_risk(
    adata, risk: pd.DataFrame, summary: dict, order: List[str], key_added: str = RISK_KEY, param: str = "key_added"
) -> None:
    """``obs[key_added]`` (risk), ``obs[f"{key_added}_group"]`` and the summary (JSON) in
    ``uns["omicsgat"]["prognosis"]`` (the layout of :mod:`omicsgat.anndata_keys`); samples matched by name."""
    frame = risk.set_index("sample").reindex(adata.obs_names.astype(str))
    if frame["risk"].isna().all():
        raise OmicsInputError(
            "None of this AnnData's samples are in the prognosis result; write to the samples that were scored."
        )
    for key in (key_added, f"{key_added}_group"):
        claim(adata, "obs", key, param)
    adata.obs[key_added] = frame["risk"].to_numpy()
    adata.obs[f"{key_added}_group"] = pd.Categorical(frame["group"], categories=order)
    uns_section(adata, "prognosis", key_added)["summary"] = json.dumps(jsonable(summary))


def assign_groups(risk: np.ndarray, groups: Union[str, float] = "median") -> np.ndarray:
    """ "median": high above the median; "tertiles": low/intermediate/high; a number: high above that risk."""
    risk = np.asarray(risk, float)
    if isinstance(groups, str) and groups.strip().lower() in ("median", "tertiles"):
        if groups.strip().lower() == "median":
            return np.where(risk > np.median(risk), "high", "low")
        lo, hi = np.quantile(risk, [1 / 3, 2 / 3])
        return np.where(risk > hi, "high", np.where(risk > lo, "intermediate", "low"))
    try:
        cut = float(groups)
    except (TypeError, ValueError):
        raise OmicsInputError(
            f"Unknown risk grouping {groups!r}: use 'median', 'tertiles' or a number (a risk cut-off)."
        ) from None
    out = np.where(risk > cut, "high", "low")
    if len(np.unique(out)) < 2:
        raise OmicsInputError(
            f"The risk cut-off {cut} puts every sample in one group (risks range from "
            f"{risk.min():.3f} to {risk.max():.3f}); choose a cut-off inside that range."
        )
    return out


def km_figure(risk: pd.DataFrame, summary: dict, order, title: str, *, ax=None, time_label: str = "time"):
    """Kaplan-Meier curves of the risk groups with the log-rank and hazard-ratio statistics of ``summary``."""
    stats = {k: summary.get(k, math.nan) for k in ("logrank_p", "hazard_ratio", "hr_ci_low", "hr_ci_high")}
    return plot_km(
        risk["time"], risk["event"], risk["group"], order=order, ax=ax, stats=stats, title=title, time_label=time_label
    )


@dataclass
class PrognosisResult:
    """What :func:`omicsgat.prognosis.run_prognosis` returns.

    risk
        One row per sample: ``sample``, ``risk`` (out-of-fold ensemble log-risk,
        standardised on each fold's training samples), ``group``, ``fold``,
        ``time``, ``event``.
    genes
        Per modality: ``feature``, ``attention`` (mean over held-out samples,
        folds and ensemble members; 1 = average), ``rank``, ``topk_frequency``
        (share of models with the feature in their top-k), ``cox_hr``,
        ``cox_p``, ``cox_fdr`` (univariate Cox on the whole cohort, for the
        top-k features; NaN below; optimistic: those features were selected
        with the same outcomes, see ``summary["cox_columns"]``), and with the
        elastic net ``enet_coef`` (its log-hazard per SD, averaged over every
        model, 0 where not selected) and ``enet_frequency`` (share of models
        that selected the feature). :meth:`features_frame` joins the
        modalities with a ``modality`` column.
    summary
        C-index (Harrell, mean/sd/per fold, and pooled out-of-fold), Uno's C,
        training C-index, time-dependent AUC and integrated Brier score,
        log-rank p, hazard ratio high vs low with 95% CI, sizes and settings.
    folds
        Per-fold metrics (``fold``, ``c_index``, ``train_c_index``, ``uno_c``,
        ``mean_auc``, ``ibs``, ``n_test``, and ``c_index_network`` /
        ``c_index_elastic_net``: the held-out C-index of each part alone).
    members
        One row per trained model: ``fold``, ``member``, ``best_epoch``,
        ``train_samples`` and ``val_samples`` (lists) - the proof that a
        sample's risk comes from models that never saw it - and
        ``enet_features`` (non-zero coefficients of the member's elastic-net
        part; 0 without one).
    """

    risk: pd.DataFrame
    genes: Dict[str, pd.DataFrame]
    summary: dict
    folds: pd.DataFrame
    members: pd.DataFrame
    params: dict = field(default_factory=dict)
    notes: List[str] = field(default_factory=list)

    @property
    def group_order(self) -> List[str]:
        present = set(self.risk["group"])
        return [g for g in ["low", "intermediate", "high"] if g in present]

    def to_frame(self) -> pd.DataFrame:
        return self.risk.copy()

    def write_to(self, adata, key_added: str = RISK_KEY, param: str = "key_added") -> None:
        """Out-of-fold risks and groups of the samples of an AnnData (samples as observations): see
        :func:`write_risk`."""
        write_risk(adata, self.risk, self.summary, self.group_order, key_added, param)

    def with_groups(self, groups: Union[str, float]) -> "PrognosisResult":
        """The same result with the samples cut into other risk groups (no retraining).

        Only what depends on the grouping changes: ``risk["group"]``, the log-rank p, the hazard ratio and the
        group sizes; the out-of-fold risks, C-indices and rankings stay.
        """
        from dataclasses import replace

        group = assign_groups(self.risk["risk"].to_numpy(), groups)
        risk = self.risk.assign(group=group)
        stats = group_survival_stats(risk["time"].to_numpy(), risk["event"].to_numpy(), group)
        summary = {
            **self.summary,
            **stats,
            "groups": str(groups),
            "group_sizes": pd.Series(group).value_counts().to_dict(),
        }
        return replace(self, risk=risk, summary=summary, params={**self.params, "groups": groups})

    def features_frame(self) -> pd.DataFrame:
        """Every modality's feature ranking in one table, with a leading ``modality`` column (``features.tsv``)."""
        frames = [frame.assign(modality=m)[["modality", *frame.columns]] for m, frame in self.genes.items()]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["modality", "feature"])

    def save(self, out_dir: Union[str, Path]) -> Dict[str, Path]:
        """risk.tsv, genes_<modality>.tsv, folds.tsv, summary.json and km.png/.svg/.pdf, each written atomically."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        paths = {"risk": write_table_atomic(self.risk, out / "risk.tsv")}
        for m, frame in self.genes.items():
            paths[f"genes_{m}"] = write_table_atomic(frame, out / f"genes_{m}.tsv")
        if self.genes:
            paths["features"] = write_table_atomic(self.features_frame(), out / "features.tsv")
        paths["folds"] = write_table_atomic(self.folds, out / "folds.tsv")
        paths["summary"] = write_text_atomic(out / "summary.json", json.dumps(jsonable(self.summary), indent=1))
        for p in save_figure_formats(self.plot_km(), out / "km"):
            paths[p.name] = p
        return paths

    def plot_km(self, ax=None):
        title = f"Out-of-fold risk groups (C-index {self.summary['c_index']:.3f})"
        return km_figure(self.risk, self.summary, self.group_order, title, ax=ax, time_label=self.time_label)

    @property
    def time_label(self) -> str:
        """The time axis: the column name and, when known, its unit ("OS_time (months)")."""
        s = self.summary
        unit = s.get("time_unit")
        return f"{s.get('time_col', 'time')} ({unit})" if unit else s.get("time_col", "time")

    def plot_genes(self, modality: str, n: int = 20, ax=None):
        if modality not in self.genes:
            raise OmicsInputError(f"No gene ranking for {modality!r}: the result has {', '.join(self.genes)}.")
        return plot_ranking(
            self.genes[modality],
            "feature",
            "attention",
            n=n,
            ax=ax,
            baseline=1.0,
            title=f"{modality}: gene attention (1 = average feature)",
        )

    def plot_cindex(self, ax=None):
        return plot_cindex(self.folds, ax=ax)
