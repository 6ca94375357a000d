"""Out-of-fold cross-validation with a GAENET-style ensemble per fold: ``run_prognosis``."""

from __future__ import annotations

import math
from typing import Optional, Sequence, Union

import numpy as np
import pandas as pd

from omicsgat.errors import OmicsInputError
from omicsgat.progress import as_progress
from omicsgat.random import random_state_restored
from omicsgat.threads import with_thread_budget

DEFAULT_EPOCHS = 300


def fold_indices(event: np.ndarray, folds: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """(train, test) positions, stratified by event when both classes have at least ``folds`` samples."""
    from sklearn.model_selection import KFold, StratifiedKFold

    event = np.asarray(event, bool)
    n = len(event)
    if folds < 2 or folds > n // 2:
        raise OmicsInputError(f"folds must be between 2 and {n // 2} for {n} samples, got {folds}.")
    if event.sum() < folds:
        raise OmicsInputError(f"Only {int(event.sum())} events for {folds} folds: every fold needs events; "
                              "use fewer folds.")
    if min(event.sum(), (~event).sum()) >= folds:
        splits = StratifiedKFold(folds, shuffle=True, random_state=seed).split(np.zeros(n), event)
    else:
        splits = KFold(folds, shuffle=True, random_state=seed).split(np.zeros(n))
    return [(np.sort(tr), np.sort(te)) for tr, te in splits]


def _univariate_cox(table: pd.DataFrame, time, event, log) -> pd.DataFrame:
    """HR per SD and Wald p of each column (lifelines CoxPHFitter), BH-FDR over the columns tested."""
    from lifelines import CoxPHFitter
    from lifelines.exceptions import ConvergenceError
    from scipy.stats import false_discovery_control

    from omicsgat.prognosis.preprocess import ModalityScaler

    rows = []
    scaler = ModalityScaler.fit("cox", table, max_features=None, log=log)
    z, mask = scaler.transform(table)
    for j, feat in enumerate(scaler.features):
        frame = pd.DataFrame({"x": z[mask[:, j], j], "T": time[mask[:, j]], "E": event[mask[:, j]].astype(int)})
        try:
            s = CoxPHFitter().fit(frame, "T", "E").summary.loc["x"]
            rows.append((feat, float(s["exp(coef)"]), float(s["p"])))
        except (ConvergenceError, ValueError, np.linalg.LinAlgError):
            rows.append((feat, math.nan, math.nan))
    out = pd.DataFrame(rows, columns=["feature", "cox_hr", "cox_p"])
    ok = out["cox_p"].notna()
    out["cox_fdr"] = math.nan
    if ok.any():
        out.loc[ok, "cox_fdr"] = false_discovery_control(out.loc[ok, "cox_p"].to_numpy())
    return out


@with_thread_budget
@random_state_restored()
def run_prognosis(cohort, *, modalities: Optional[Sequence[str]] = None, folds: int = 5, ensemble: int = 5,
                  epochs: int = DEFAULT_EPOCHS, groups: Union[str, float] = "median", top_k: int = 20,
                  device="auto", seed: int = 0, progress=None, cancel=None, times: Optional[Sequence[float]] = None,
                  model_options: Optional[dict] = None, fitter=None):
    """Cross-validated gene-attention survival analysis of a :class:`~omicsgat.io.multiomics.MultiOmics` cohort.

    Each of ``folds`` outer folds trains ``ensemble`` models on the other
    folds (each with its own random inner validation split for early
    stopping, GAENET's ensemble) and scores the held-out fold with their mean
    standardised log-risk, so every sample's risk comes from models that
    never saw it. By default each member's log-risk is the mean of its network's and of an elastic-net Cox
    fit on the same samples (``model_options={"wide": "learned"}``: the network alone).
    Returns a :class:`~omicsgat.prognosis.result.PrognosisResult`.
    ``times`` are the time points of the time-dependent AUC and Brier score
    (default: quartiles of the event times). ``model_options`` go to
    :class:`GeneAttentionSurvival` (e.g. ``{"max_features": 5000}``). ``fitter``
    replaces that class with another of the same interface (the benchmarks'
    baselines); one whose ``has_attention`` is False gives no gene rankings.
    """
    from omicsgat.device import describe_device, resolve_device
    from omicsgat.metrics import survival as sm
    from omicsgat.prognosis.fitter import GeneAttentionSurvival
    from omicsgat.prognosis.preprocess import check_cohort
    from omicsgat.prognosis.result import PrognosisResult, assign_groups
    from omicsgat.random import set_seed

    fitter = GeneAttentionSurvival if fitter is None else fitter
    ranks_genes = getattr(fitter, "has_attention", True)
    progress = as_progress(progress, cancel)
    names = check_cohort(cohort, modalities)
    if ensemble < 1:
        raise OmicsInputError(f"ensemble must be at least 1, got {ensemble}.")
    if top_k < 1:
        raise OmicsInputError(f"top_k must be at least 1, got {top_k}.")
    assign_groups(np.arange(4.0), groups)  # reject a bad grouping before hours of training
    set_seed(seed)
    dev = resolve_device(device)
    time, event, samples = cohort.time, cohort.event, cohort.samples
    splits = fold_indices(event, folds, seed)
    oof = np.full(len(samples), np.nan)
    fold_of = np.zeros(len(samples), dtype=int)
    attention_runs = {m: [] for m in names}
    member_rows, fold_rows, notes = [], [], []
    n_models = folds * ensemble
    for f, (tr, te) in enumerate(splits):
        train, test = cohort.subset(samples[tr]), cohort.subset(samples[te])
        train_risk, test_risk = np.zeros(len(tr)), np.zeros(len(te))
        for k in range(ensemble):
            i = f * ensemble + k
            span = progress.span(i / n_models, (i + 1) / n_models)
            model = fitter(**{**(model_options or {}), "epochs": epochs, "device": dev, "seed": seed + 1000 * f + k})
            model.fit(train, modalities=names, progress=lambda x, msg, f=f, k=k, span=span:
                      span(x, f"fold {f + 1}/{folds}, model {k + 1}/{ensemble}: {msg}"))
            r_train, r_test = model.predict_risk(train).to_numpy(), model.predict_risk(test).to_numpy()
            mu, sd = r_train.mean(), r_train.std() or 1.0  # put members on one scale, from training samples only
            train_risk += (r_train - mu) / sd / ensemble
            test_risk += (r_test - mu) / sd / ensemble
            member_rows.append({"fold": f + 1, "member": k + 1, "best_epoch": model.history_.best_epoch,
                                "train_samples": model.train_samples_, "val_samples": model.val_samples_,
                                "enet_features": model.enet_.n_nonzero if model.enet_ is not None else 0})
            if ranks_genes:
                for m, att in model.attention(test).items():
                    attention_runs[m].append(att.mean(axis=0))
            if f == 0 and k == 0:
                notes += [n for s in model.scalers_.values() for n in s.notes]
        oof[te], fold_of[te] = test_risk, f + 1
        times_f = sm.evaluation_times(time[tr], time[te], event[te]) if times is None else np.asarray(times, float)
        surv = sm.breslow_survival(time[tr], event[tr], train_risk, test_risk, times_f) if len(times_f) else None
        _, mean_auc = sm.time_dependent_auc(time[tr], event[tr], time[te], event[te], test_risk, times_f)
        fold_rows.append({
            "fold": f + 1, "n_test": len(te), "n_events": int(event[te].sum()),
            "c_index": sm.harrell_c(time[te], event[te], test_risk),
            "train_c_index": sm.harrell_c(time[tr], event[tr], train_risk),
            "uno_c": sm.uno_c(time[tr], event[tr], time[te], event[te], test_risk),
            "mean_auc": mean_auc,
            "ibs": sm.integrated_brier(time[tr], event[tr], time[te], event[te], surv, times_f) if surv is not None else math.nan,
        })
    fold_frame = pd.DataFrame(fold_rows)
    group = assign_groups(oof, groups)
    risk = pd.DataFrame({"sample": samples.astype(str), "risk": oof, "group": group, "fold": fold_of,
                         "time": time, "event": event.astype(int)})
    genes = {m: _rank_genes(cohort, m, attention_runs[m], top_k, time, event) for m in names} if ranks_genes else {}
    stats = sm.group_survival_stats(time, event, group)
    c = fold_frame["c_index"].to_numpy()
    summary = {
        "c_index": float(c.mean()), "c_index_sd": float(c.std(ddof=1)) if len(c) > 1 else 0.0,
        "c_index_per_fold": c.tolist(), "c_index_oof": sm.harrell_c(time, event, oof),
        "c_index_uno": float(np.nanmean(fold_frame["uno_c"])) if fold_frame["uno_c"].notna().any() else math.nan,
        "train_c_index": float(fold_frame["train_c_index"].mean()),
        "train_c_index_per_fold": fold_frame["train_c_index"].tolist(),
        "mean_auc": float(np.nanmean(fold_frame["mean_auc"])) if fold_frame["mean_auc"].notna().any() else math.nan,
        "integrated_brier_score": float(np.nanmean(fold_frame["ibs"])) if fold_frame["ibs"].notna().any() else math.nan,
        **stats,
        "groups": str(groups), "group_sizes": pd.Series(group).value_counts().to_dict(),
        "n_samples": int(len(samples)), "n_events": int(event.sum()), "folds": folds, "ensemble": ensemble,
        "epochs": epochs, "best_epochs": [r["best_epoch"] for r in member_rows],
        "enet_features": [r["enet_features"] for r in member_rows], "modalities": names,
        "time_col": cohort.time_col, "event_col": cohort.event_col, "device": describe_device(dev), "seed": seed,
        "wide": model.params["wide"], "notes": notes,
    }
    progress(1.0, f"done: C-index {summary['c_index']:.3f}")
    params = {"folds": folds, "ensemble": ensemble, "epochs": epochs, "groups": groups, "top_k": top_k, "seed": seed,
              "modalities": names, "model_options": model_options or {}}
    return PrognosisResult(risk=risk, genes=genes, summary=summary, folds=fold_frame,
                           members=pd.DataFrame(member_rows), params=params, notes=notes)


def _rank_genes(cohort, modality: str, runs: list, top_k: int, time, event) -> pd.DataFrame:
    """Mean attention over models (0 where a model filtered the feature out), top-k frequency, univariate Cox."""
    features = cohort.tables[modality].columns.astype(str)
    table = pd.DataFrame([r.reindex(features) for r in runs]).fillna(0.0)
    in_top = np.zeros(len(features))
    for r in runs:
        in_top += features.isin(r.nlargest(top_k).index)
    frame = pd.DataFrame({"feature": features, "attention": table.mean(axis=0).to_numpy(),
                          "topk_frequency": in_top / max(len(runs), 1)})
    frame = frame.sort_values(["attention", "topk_frequency"], ascending=False, kind="stable").reset_index(drop=True)
    frame.insert(2, "rank", np.arange(1, len(frame) + 1))
    top = frame["feature"].head(top_k).tolist()
    src = cohort.tables[modality].set_axis(cohort.tables[modality].columns.astype(str), axis=1)[top]
    cox = _univariate_cox(src, time, event, log="auto")
    return frame.merge(cox, on="feature", how="left")
