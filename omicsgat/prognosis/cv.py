"""Out-of-fold cross-validation with a GAENET-style ensemble per fold: ``run_prognosis``."""

from __future__ import annotations

import math
from typing import Optional, Sequence, Union

import numpy as np
import pandas as pd

from omicsgat.compute import executor, one_thread
from omicsgat.config import PrognosisConfig
from omicsgat.device import describe_device, resolve_device
from omicsgat.errors import OmicsInputError
from omicsgat.metrics import survival as sm
from omicsgat.prognosis.fitter import GeneAttentionSurvival, resolve_wide
from omicsgat.prognosis.preprocess import ModalityScaler, check_cohort
from omicsgat.prognosis.result import PrognosisResult, assign_groups
from omicsgat.progress import as_progress
from omicsgat.random import random_state_restored, set_seed
from omicsgat.threads import with_thread_budget

_D = PrognosisConfig()
DEFAULT_EPOCHS = _D.epochs


def fold_indices(event: np.ndarray, folds: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """(train, test) positions, stratified by event when both classes have at least ``folds`` samples."""
    from sklearn.model_selection import KFold, StratifiedKFold

    event = np.asarray(event, bool)
    n = len(event)
    if folds < 2 or folds > n // 2:
        raise OmicsInputError(f"folds must be between 2 and {n // 2} for {n} samples, got {folds}.")
    if event.sum() < folds:
        raise OmicsInputError(
            f"Only {int(event.sum())} events for {folds} folds: every fold needs events; use fewer folds."
        )
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
def run_prognosis(
    cohort,
    *,
    modalities: Optional[Sequence[str]] = None,
    folds: int = _D.folds,
    ensemble: int = _D.ensemble,
    epochs: int = DEFAULT_EPOCHS,
    groups: Union[str, float] = _D.groups,
    top_k: int = _D.top_k,
    device="auto",
    seed: int = 0,
    progress=None,
    cancel=None,
    times: Optional[Sequence[float]] = None,
    model_options: Optional[dict] = None,
    fitter=None,
    scheduler=None,
):
    """Cross-validated gene-attention survival analysis of a :class:`~omicsgat.io.multiomics.MultiOmics` cohort.

    Each of ``folds`` outer folds trains ``ensemble`` models on the other
    folds (each with its own random inner validation split for early
    stopping, GAENET's ensemble) and scores the held-out fold with their mean
    standardised log-risk, so every sample's risk comes from models that
    never saw it. By default each member's log-risk is the mean of its network's and of an elastic-net Cox
    fit on the same samples (``model_options={"elastic_net": False}``: the network alone). Each part's
    out-of-fold C-index is reported (``summary["c_index_parts"]``, ``folds`` columns ``c_index_network`` and
    ``c_index_elastic_net``), the elastic-net coefficients are in the feature tables (``enet_coef``,
    ``enet_frequency``) and ``summary["risk_model"]`` says what was actually fitted.
    Returns a :class:`~omicsgat.prognosis.result.PrognosisResult`.
    ``times`` are the time points of the time-dependent AUC and Brier score
    (default: quartiles of the event times). ``model_options`` go to
    :class:`GeneAttentionSurvival` (e.g. ``{"max_features": 5000}``). ``fitter``
    replaces that class with another of the same interface (the benchmarks'
    baselines); one whose ``has_attention`` is False gives no gene rankings.
    ``scheduler``: where the folds x members run (see :mod:`omicsgat.compute`: ``None`` in-process,
    ``"processes:N"``, a Dask address); the risks are the same wherever they ran.
    The settings are checked by :class:`omicsgat.config.PrognosisConfig` (defaults there too).
    """
    fitter = GeneAttentionSurvival if fitter is None else fitter
    ranks_genes = getattr(fitter, "has_attention", True)
    progress = as_progress(progress, cancel)
    names = check_cohort(cohort, modalities)
    options = dict(model_options or {})
    wide = resolve_wide(options.pop("wide", None), options.pop("elastic_net", None))
    model_options = {**options, "wide": wide}
    PrognosisConfig(folds=folds, ensemble=ensemble, epochs=epochs, groups=groups, top_k=top_k, seed=seed)
    assign_groups(np.arange(4.0), groups)  # reject a bad grouping before hours of training
    set_seed(seed)
    dev = resolve_device(device)
    time, event, samples = cohort.time, cohort.event, cohort.samples
    splits = fold_indices(event, folds, seed)
    oof = np.full(len(samples), np.nan)
    fold_of = np.zeros(len(samples), dtype=int)
    attention_runs = {m: [] for m in names}
    enet_runs = {m: [] for m in names}
    enet_fitted = 0
    member_rows, fold_rows, notes = [], [], []
    n_models = folds * ensemble
    options = {**(model_options or {}), "epochs": epochs, "device": dev}
    with executor(scheduler) as ex:
        progress(0.0, f"{n_models} models on {ex.description}")
        shared = {"cohort": ex.scatter(cohort), "names": names, "options": options, "fitter": fitter}
        # feature selection and scaling depend on the fold's samples only: one task per fold, shared by its members
        shares_scalers = hasattr(fitter, "scalers_for")  # a baseline fitter fits its own
        members_start = 0.1 if shares_scalers else 0.0
        scalers = (
            ex.map(
                _fit_fold_scalers,
                [(tr,) for tr, _ in splits],
                shared=shared,
                progress=progress.span(0.0, members_start),
                label="fold features",
            )
            if shares_scalers
            else [None] * len(splits)
        )
        # every (fold, member) is one independent task, seeded from (seed, fold, member) only
        tasks = [
            (tr, te, f, k, seed + 1000 * f + k, scalers[f])
            for f, (tr, te) in enumerate(splits)
            for k in range(ensemble)
        ]
        fits = ex.map(
            _fit_member,
            tasks,
            shared={**shared, "ranks_genes": ranks_genes},
            label="model",
            progress=progress.span(members_start, 1.0),
            inner_progress=True,
        )
        where = ex.description
    for f, (tr, te) in enumerate(splits):
        train_risk, test_risk = np.zeros(len(tr)), np.zeros(len(te))
        part_test = {"network": np.zeros(len(te)), "elastic_net": np.zeros(len(te))}
        part_members = {"network": 0, "elastic_net": 0}
        for k in range(ensemble):
            fit = fits[f * ensemble + k]
            r_train, r_test = fit["train_risk"], fit["test_risk"]
            mu, sd = r_train.mean(), r_train.std() or 1.0  # put members on one scale, from training samples only
            train_risk += (r_train - mu) / sd / ensemble
            test_risk += (r_test - mu) / sd / ensemble
            if ranks_genes:
                # each part on its own scale (training samples only), averaged over the members that have it
                p_train, p_test = fit["parts"]
                for part in part_test:
                    if p_train[part].notna().all():
                        pm, ps = p_train[part].mean(), p_train[part].std(ddof=0) or 1.0
                        part_test[part] += (p_test[part].to_numpy() - pm) / ps
                        part_members[part] += 1
                if fit["enet_coefficients"] is not None:
                    enet_fitted += 1
                    for m, coef in fit["enet_coefficients"].items():
                        enet_runs[m].append(coef)
            member_rows.append({"fold": f + 1, "member": k + 1, **fit["row"]})
            for m, att in fit["attention"].items():
                attention_runs[m].append(att)
            if f == 0 and k == 0:
                notes += fit["notes"]
        oof[te], fold_of[te] = test_risk, f + 1
        times_f = sm.evaluation_times(time[tr], time[te], event[te]) if times is None else np.asarray(times, float)
        surv = sm.breslow_survival(time[tr], event[tr], train_risk, test_risk, times_f) if len(times_f) else None
        _, mean_auc = sm.time_dependent_auc(time[tr], event[tr], time[te], event[te], test_risk, times_f)
        fold_rows.append(
            {
                "fold": f + 1,
                "n_test": len(te),
                "n_events": int(event[te].sum()),
                "c_index": sm.harrell_c(time[te], event[te], test_risk),
                "train_c_index": sm.harrell_c(time[tr], event[tr], train_risk),
                "uno_c": sm.uno_c(time[tr], event[tr], time[te], event[te], test_risk),
                "mean_auc": mean_auc,
                **{
                    f"c_index_{part}": sm.harrell_c(time[te], event[te], part_test[part] / part_members[part])
                    if part_members[part]
                    else math.nan
                    for part in part_test
                },
                "ibs": sm.integrated_brier(time[tr], event[tr], time[te], event[te], surv, times_f)
                if surv is not None
                else math.nan,
            }
        )
    fold_frame = pd.DataFrame(fold_rows)
    group = assign_groups(oof, groups)
    risk = pd.DataFrame(
        {
            "sample": samples.astype(str),
            "risk": oof,
            "group": group,
            "fold": fold_of,
            "time": time,
            "event": event.astype(int),
        }
    )
    genes = (
        {m: _rank_genes(cohort, m, attention_runs[m], top_k, time, event, enet_runs[m], n_models) for m in names}
        if ranks_genes
        else {}
    )
    stats = sm.group_survival_stats(time, event, group)
    c = fold_frame["c_index"].to_numpy()
    summary = {
        "c_index": float(c.mean()),
        "c_index_sd": float(c.std(ddof=1)) if len(c) > 1 else 0.0,
        "c_index_per_fold": c.tolist(),
        "c_index_oof": sm.harrell_c(time, event, oof),
        "c_index_uno": float(np.nanmean(fold_frame["uno_c"])) if fold_frame["uno_c"].notna().any() else math.nan,
        "train_c_index": float(fold_frame["train_c_index"].mean()),
        "train_c_index_per_fold": fold_frame["train_c_index"].tolist(),
        "mean_auc": float(np.nanmean(fold_frame["mean_auc"])) if fold_frame["mean_auc"].notna().any() else math.nan,
        "integrated_brier_score": float(np.nanmean(fold_frame["ibs"])) if fold_frame["ibs"].notna().any() else math.nan,
        **stats,
        "groups": str(groups),
        "group_sizes": pd.Series(group).value_counts().to_dict(),
        "n_samples": int(len(samples)),
        "n_events": int(event.sum()),
        "folds": folds,
        "ensemble": ensemble,
        "epochs": epochs,
        "best_epochs": [r["best_epoch"] for r in member_rows],
        "enet_features": [r["enet_features"] for r in member_rows],
        "modalities": names,
        "time_col": cohort.time_col,
        "event_col": cohort.event_col,
        "device": describe_device(dev),
        "seed": seed,
        "wide": fits[-1]["wide"],
        "scheduler": where,
        "notes": notes,
        "time_unit": getattr(cohort, "time_unit", None),
        "risk_model": _risk_model(fitter, fits[-1]["wide"], enet_fitted, n_models),
        "c_index_parts": {
            part: float(np.nanmean(fold_frame[f"c_index_{part}"]))
            if f"c_index_{part}" in fold_frame and fold_frame[f"c_index_{part}"].notna().any()
            else None
            for part in ("network", "elastic_net")
        },
        "cox_columns": COX_CAVEAT,
    }
    progress(1.0, f"done: C-index {summary['c_index']:.3f}")
    params = {
        "folds": folds,
        "ensemble": ensemble,
        "epochs": epochs,
        "groups": groups,
        "top_k": top_k,
        "seed": seed,
        "modalities": names,
        "model_options": model_options or {},
    }
    return PrognosisResult(
        risk=risk,
        genes=genes,
        summary=summary,
        folds=fold_frame,
        members=pd.DataFrame(member_rows),
        params=params,
        notes=notes,
    )


COX_CAVEAT = (
    "cox_hr, cox_p and cox_fdr are univariate Cox fits on the whole cohort for the top-k features; those "
    "features were chosen by models trained on the same outcomes, so the p-values are optimistic "
    "(selected on the same data), not a test of a pre-specified hypothesis. Use the out-of-fold C-index "
    "and the risk groups to judge the model; confirm single features in independent data."
)


def _risk_model(fitter, wide: str, fitted: int, n_models: int) -> str:
    """What each member's risk actually was, in words (``summary["risk_model"]``)."""
    if not getattr(fitter, "has_attention", True):
        return f"{fitter.__name__} alone"
    if wide != "blend":
        return "gene-attention network alone (elastic net not requested)"
    if fitted == n_models:
        return "mean of the gene-attention network and an elastic-net Cox model (equal weights) in every model"
    if fitted == 0:
        return (
            "gene-attention network alone: the elastic net was requested but skipped in every model "
            "(too few events in the training samples for its inner cross-validation)"
        )
    return (
        f"mean of the gene-attention network and an elastic-net Cox model in {fitted} of {n_models} models; "
        "the network alone in the others (too few training events for the elastic net's inner cross-validation)"
    )


def _fit_fold_scalers(tr, *, cohort, names, options, fitter) -> dict:
    """The scalers of one fold's training samples (a task), for every member of that fold."""
    with one_thread():  # the same numbers in-process and on any worker
        return fitter(**options).scalers_for(cohort.subset(cohort.samples[tr]), names)


def _fit_member(
    tr,
    te,
    f: int,
    k: int,
    seed: int,
    scalers: Optional[dict],
    *,
    cohort,
    names,
    options,
    fitter,
    ranks_genes,
    progress=None,
) -> dict:
    """One ensemble member of one fold (a task: runs here or on a Dask worker): risks, each part's risk,
    attention, elastic-net coefficients, summary row. ``scalers``: the fold's, or None (the fitter fits its own)."""
    train, test = cohort.subset(cohort.samples[tr]), cohort.subset(cohort.samples[te])
    model = fitter(**{**options, "seed": seed})
    span = None if progress is None else (lambda x, msg: progress(x, f"fold {f + 1}, model {k + 1}: {msg}"))
    with one_thread():  # the same numbers in-process and on any worker
        model.fit(train, modalities=names, progress=span, **({} if scalers is None else {"scalers": scalers}))
        attention = {m: att.mean(axis=0) for m, att in model.attention(test).items()} if ranks_genes else {}
        train_risk, test_risk = model.predict_risk(train).to_numpy(), model.predict_risk(test).to_numpy()
        parts = (model.predict_parts(train), model.predict_parts(test)) if ranks_genes else None
        enet = model.enet_coefficients() if ranks_genes and model.elastic_net_fitted_ else None
    row = {
        "best_epoch": model.history_.best_epoch,
        "train_samples": model.train_samples_,
        "val_samples": model.val_samples_,
        "enet_features": model.enet_.n_nonzero if model.enet_ is not None else 0,
    }
    return {
        "train_risk": train_risk,
        "test_risk": test_risk,
        "attention": attention,
        "row": row,
        "parts": parts,
        "enet_coefficients": enet,
        "notes": [n for s in model.scalers_.values() for n in s.notes],
        "wide": model.params["wide"],
    }


def _rank_genes(
    cohort, modality: str, runs: list, top_k: int, time, event, enet_runs: Sequence = (), n_models: int = 0
) -> pd.DataFrame:
    """Mean attention over models (0 where a model filtered the feature out), top-k frequency, elastic-net
    coefficients (mean over every model, 0 where not selected), univariate Cox."""
    features = cohort.tables[modality].columns.astype(str)
    table = pd.DataFrame([r.reindex(features) for r in runs]).fillna(0.0)
    in_top = np.zeros(len(features))
    for r in runs:
        in_top += features.isin(r.nlargest(top_k).index)
    frame = pd.DataFrame(
        {"feature": features, "attention": table.mean(axis=0).to_numpy(), "topk_frequency": in_top / max(len(runs), 1)}
    )
    frame = frame.sort_values(["attention", "topk_frequency"], ascending=False, kind="stable").reset_index(drop=True)
    frame.insert(2, "rank", np.arange(1, len(frame) + 1))
    if len(enet_runs):
        coefs = pd.DataFrame([c.reindex(frame["feature"]).to_numpy() for c in enet_runs]).fillna(0.0)
        frame["enet_coef"] = coefs.sum(axis=0).to_numpy() / max(n_models, 1)
        frame["enet_frequency"] = (coefs != 0).sum(axis=0).to_numpy() / max(n_models, 1)
    top = frame["feature"].head(top_k).tolist()
    src = cohort.tables[modality].set_axis(cohort.tables[modality].columns.astype(str), axis=1)[top]
    cox = _univariate_cox(src, time, event, log="auto")
    out = frame.merge(cox, on="feature", how="left")
    enet = [c for c in ("enet_coef", "enet_frequency") if c in out]
    return out[
        [c for c in out if c not in enet] + enet
    ]  # the documented order: ..., cox_fdr, enet_coef, enet_frequency
