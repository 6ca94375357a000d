"""``GeneAttentionSurvival``: a lifelines-style fitter around the gene attention network."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Dict, Optional, Sequence, Union

import numpy as np
import pandas as pd

from omicsgat.device import resolve_device
from omicsgat.errors import OmicsInputError
from omicsgat.persist import SavedModel, read_tensors
from omicsgat.prognosis.apply import apply_model
from omicsgat.prognosis.preprocess import ModalityScaler, check_cohort, fit_scalers, transform_all
from omicsgat.prognosis.train import train_network
from omicsgat.progress import as_progress
from omicsgat.random import random_state_restored, set_seed
from omicsgat.resources import check_fits, oom_guard
from omicsgat.threads import with_thread_budget

WIDE = ("blend", "learned")
LEGACY_FORMAT = "omicsgat.prognosis.GeneAttentionSurvival"  # <stem>.json + <stem>.safetensors, written by 0.1.0


def resolve_wide(wide: Optional[str] = None, elastic_net: Optional[bool] = None) -> str:
    """The plain ``elastic_net`` flag and its earlier name ``wide`` ("blend"/"learned") as one setting."""
    if wide is not None and wide not in WIDE:
        raise OmicsInputError(f"Unknown wide path {wide!r}: use one of {', '.join(WIDE)} (or elastic_net=True/False).")
    if elastic_net is None:
        return wide or "blend"
    plain = "blend" if elastic_net else "learned"
    if wide is not None and wide != plain:
        raise OmicsInputError(f"elastic_net={elastic_net} contradicts wide={wide!r}; give only elastic_net.")
    return plain


class GeneAttentionSurvival(SavedModel):
    """Multi-omics gene attention Cox model.

    ``GeneAttentionSurvival(epochs=200).fit(cohort)`` then ``predict_risk``,
    ``attention``, ``save``/``load``. Preprocessing statistics are learned in
    ``fit`` from the training samples and stored with the weights, so a saved
    model scores new samples exactly as it scored the training data.
    ``elastic_net=True`` (default) averages the trained network's log-risk
    with an elastic-net Cox fit on the same samples (``l1_ratio``, penalty
    chosen by ``enet_cv``-fold CV, see :mod:`omicsgat.prognosis.enet`); the
    network, its training and its attention are the same as with
    ``elastic_net=False`` (the network alone). The elastic net is skipped, and
    ``elastic_net_fitted_`` is False, when the training samples have fewer
    than ``2 * enet_cv`` events. ``wide="blend"`` / ``wide="learned"`` are the
    earlier names of ``elastic_net=True`` / ``False`` and still accepted.
    """

    analysis = "prognosis"

    def __init__(
        self,
        *,
        hidden: int = 16,
        latent: int = 8,
        dropout: float = 0.3,
        rank: int = 1,
        lr: float = 3e-3,
        weight_decay: float = 5e-2,
        l1: float = 0.2,
        epochs: int = 300,
        patience: int = 50,
        min_epochs: int = 20,
        val_fraction: float = 0.2,
        ties: str = "efron",
        max_features: Optional[int] = 2000,
        log: Union[bool, str] = "auto",
        wide: Optional[str] = None,
        l1_ratio: float = 0.5,
        enet_cv: int = 5,
        device="auto",
        seed: int = 0,
        elastic_net: Optional[bool] = None,
    ) -> None:
        wide = resolve_wide(wide, elastic_net)
        if wide == "blend" and int(enet_cv) < 2:
            raise OmicsInputError(f"enet_cv (inner folds of the elastic net) must be at least 2, got {enet_cv}.")
        if not 0 < l1_ratio <= 1:
            raise OmicsInputError(f"l1_ratio must be in (0, 1], got {l1_ratio}.")
        if not 0 <= val_fraction < 1:
            raise OmicsInputError(f"val_fraction must be in [0, 1), got {val_fraction}.")
        if int(epochs) < 1:
            raise OmicsInputError(f"epochs must be at least 1, got {epochs}.")
        self.params = dict(
            hidden=int(hidden),
            latent=int(latent),
            dropout=float(dropout),
            rank=int(rank),
            lr=float(lr),
            weight_decay=float(weight_decay),
            l1=float(l1),
            epochs=int(epochs),
            patience=int(patience),
            min_epochs=int(min_epochs),
            val_fraction=float(val_fraction),
            ties=ties,
            max_features=max_features,
            log=log,
            wide=wide,
            l1_ratio=float(l1_ratio),
            enet_cv=int(enet_cv),
            seed=int(seed),
        )
        self.device = device
        self.net_ = None
        self.scalers_ = None
        self.history_ = None
        self.enet_ = None
        self.train_samples_: list = []
        self.val_samples_: list = []
        self.risk_reference_: Optional[dict] = None  # the training risks' scale and cut-offs (see _risk_reference)

    # ------------------------------------------------------------------ fitting
    def _build(self, n_features: Dict[str, int]):
        from omicsgat.prognosis.model import GeneAttentionNet

        p = self.params
        return GeneAttentionNet(
            n_features, hidden=p["hidden"], latent=p["latent"], dropout=p["dropout"], rank=p["rank"]
        )

    def estimate_bytes(self, n_samples: int, n_features: Dict[str, int]) -> float:
        """Peak memory of full-batch training: weights with Adam state plus activations and gradients."""
        p = self.params
        total = sum(n_features.values())
        weights = total * (2 * p["rank"] + p["hidden"] + 1)
        return 4.0 * (4 * weights + 14 * n_samples * total)

    @with_thread_budget
    @random_state_restored()
    def fit(
        self,
        cohort,
        *,
        modalities: Optional[Sequence[str]] = None,
        progress=None,
        cancel=None,
        scalers: Optional[dict] = None,
    ) -> "GeneAttentionSurvival":
        """Fit on every sample of ``cohort`` (a :class:`~omicsgat.io.multiomics.MultiOmics`).

        ``scalers``: what :meth:`scalers_for` returns for this very cohort and these settings (``run_prognosis``
        fits them once per fold and shares them among the fold's members); ``None`` fits them here.
        """
        import torch

        progress = as_progress(progress, cancel)
        names = check_cohort(cohort, modalities)
        p = self.params
        rng = set_seed(p["seed"])
        device = resolve_device(self.device)
        tables = {m: cohort.tables[m].loc[cohort.samples] for m in names}
        time, event = cohort.time, cohort.event
        self.scalers_ = scalers if scalers is not None else self._fit_scalers(tables, time, event)
        n_features = {m: len(s.features) for m, s in self.scalers_.items()}
        advice = "Lower max_features (features kept per modality), use fewer modalities, or run on a machine with more memory."
        check_fits(self.estimate_bytes(cohort.n_samples, n_features), device, "Training the prognosis model", advice)
        train_idx, val_idx = self._inner_split(event, rng)
        self.train_samples_ = list(cohort.samples[train_idx])
        self.val_samples_ = list(cohort.samples[val_idx]) if val_idx is not None else []
        with oom_guard("Training the prognosis model", advice):
            xs, masks = self._tensors(tables, device)
            torch.manual_seed(p["seed"])
            self.net_ = self._build(n_features).to(device)
            self.history_ = train_network(
                self.net_,
                xs,
                masks,
                time,
                event,
                train_idx,
                val_idx,
                epochs=p["epochs"],
                lr=p["lr"],
                weight_decay=p["weight_decay"],
                patience=p["patience"],
                ties=p["ties"],
                progress=progress,
                l1=p["l1"],
                min_epochs=min(p["min_epochs"], p["epochs"]),
            )
            self._fit_enet(xs, time, event, progress)
        self.risk_reference_ = self._risk_reference(cohort)
        progress(1.0, "trained")
        return self

    def _risk_reference(self, cohort) -> dict:
        """The training samples' risk scale and group cut-offs, so new samples are grouped as these were.

        A saved model applied to another cohort puts a sample in "high" when its risk is above the
        training median (or tertile), not the new cohort's own: that is what external validation tests.
        """
        risk = self.predict_risk(cohort).to_numpy()
        return {
            "n_samples": int(len(risk)),
            "n_events": int(np.asarray(cohort.event).sum()),
            "mean": float(risk.mean()),
            "sd": float(risk.std()) or 1.0,
            "median": float(np.median(risk)),
            "tertiles": [float(q) for q in np.quantile(risk, [1 / 3, 2 / 3])],
        }

    def scalers_for(self, cohort, modalities: Optional[Sequence[str]] = None) -> dict:
        """The per-modality scalers (feature selection, log, z-score) :meth:`fit` would fit on ``cohort``.

        They depend on the samples and the settings, not on the seed: the members of one fold share them.
        """
        names = check_cohort(cohort, modalities)
        return self._fit_scalers({m: cohort.tables[m].loc[cohort.samples] for m in names}, cohort.time, cohort.event)

    def _fit_scalers(self, tables: dict, time, event) -> dict:
        return fit_scalers(
            tables, max_features=self.params["max_features"], log=self.params["log"], time=time, event=event
        )

    def _fit_enet(self, xs, time, event, progress) -> None:
        """wide="blend": fit an elastic-net Cox model on every training sample, penalty by inner CV, and average.

        The trained network's log-risk and the elastic net's are averaged with equal weight (both are
        log-hazard estimates, so the average is one too). The network alone is shrunk by early stopping and
        its gene attention; the elastic net is what wins on sparse linear truth; their errors differ, so the
        blend beats each. The network is trained first, untouched by the blend, so its attention and early
        stopping are as they would be alone; the blend sees no sample outside ``fit``'s cohort.
        """
        import torch

        from omicsgat.prognosis.enet import cv_enet

        p = self.params
        if p["wide"] != "blend" or event.sum() < 2 * max(p["enet_cv"], 2):
            return
        names = list(self.scalers_)
        x = np.hstack([xs[m].cpu().numpy() for m in names])
        fit = cv_enet(
            x,
            time,
            event,
            folds=p["enet_cv"],
            rng=np.random.default_rng(p["seed"] + 7919),
            l1_ratio=p["l1_ratio"],
            cancel=lambda: progress(1.0, "elastic-net wide path"),
        )
        self.enet_ = fit
        coef = torch.as_tensor(fit.coef, dtype=torch.float32)
        start = 0
        with torch.no_grad():
            for m in names:
                lin = self.net_.enet[m]
                n = lin.weight.shape[1]
                lin.weight.copy_(coef[start : start + n].reshape(1, -1).to(lin.weight.device))
                start += n
            self.net_.enet_share.fill_(0.5)

    def _inner_split(self, event: np.ndarray, rng: np.random.Generator):
        """Stratified (by event) random validation split for early stopping."""
        n = len(event)
        frac = self.params["val_fraction"]
        if frac <= 0 or n < 20:
            return np.arange(n), None
        val = []
        for label in (True, False):
            idx = np.flatnonzero(event == label)
            val.extend(rng.choice(idx, size=int(round(frac * len(idx))), replace=False))
        val = np.sort(np.asarray(val, dtype=int))
        return np.setdiff1d(np.arange(n), val), val

    def _tensors(self, tables: Dict[str, pd.DataFrame], device):
        import torch

        zs, masks = transform_all(self.scalers_, tables)
        return (
            {m: torch.as_tensor(z, device=device) for m, z in zs.items()},
            {m: None if k.all() else torch.as_tensor(k, device=device) for m, k in masks.items()},
        )

    # --------------------------------------------------------------- prediction
    def _check_fitted(self) -> None:
        if self.net_ is None:
            raise OmicsInputError("The model is not fitted yet: call fit() or load() first.")

    def _forward(self, cohort_or_tables):
        import torch

        self._check_fitted()
        tables = getattr(cohort_or_tables, "tables", cohort_or_tables)
        first = next((m for m in self.scalers_ if m in tables), next(iter(self.scalers_)))
        index = tables[first].index if first in tables else None
        device = next(self.net_.parameters()).device
        for m in self.scalers_:
            if m not in tables:
                raise OmicsInputError(
                    f"The model needs the omics table {m!r}, which the data does not have (it has {', '.join(tables)})."
                )
            if not tables[m].index.equals(index):
                raise OmicsInputError(
                    f"Omics tables {first!r} and {m!r} do not list the same samples in the same order."
                )
        xs, masks = self._tensors(tables, device)
        self.net_.eval()
        with torch.no_grad():
            eta, attn = self.net_(xs, masks)
        return index, eta.cpu().numpy().astype(float), {k: v.cpu().numpy() for k, v in attn.items()}

    @with_thread_budget
    def predict_risk(self, cohort) -> pd.Series:
        """Log relative risk per sample (higher = worse prognosis), indexed by sample."""
        index, eta, _ = self._forward(cohort)
        return pd.Series(eta, index=index, name="risk")

    def attention(self, cohort) -> Dict[str, pd.DataFrame]:
        """Per-sample gene attention (samples x kept features) for each modality, mean 1 per sample."""
        index, _, attn = self._forward(cohort)
        return {m: pd.DataFrame(attn[m], index=index, columns=s.features) for m, s in self.scalers_.items()}

    @property
    def elastic_net_fitted_(self) -> bool:
        """Whether the risk includes an elastic-net part (asked for, and enough events to fit it)."""
        return self.enet_ is not None or (self.net_ is not None and float(getattr(self.net_, "enet_share", 0.0)) > 0)

    def enet_coefficients(self) -> Dict[str, pd.Series]:
        """The elastic-net Cox coefficients per modality (log-hazard per SD of each kept feature; 0 = not selected).

        Empty when no elastic net was fitted. Read from the network's copy, so a loaded model has them too.
        """
        self._check_fitted()
        if not self.elastic_net_fitted_:
            return {}
        return {
            m: pd.Series(
                self.net_.enet[m].weight.detach().cpu().numpy().ravel().astype(float),
                index=s.features,
                name="enet_coef",
            )
            for m, s in self.scalers_.items()
        }

    @with_thread_budget
    def predict_parts(self, cohort) -> pd.DataFrame:
        """Each part's log-risk per sample: ``network`` and ``elastic_net`` (NaN without one) and ``risk``, their blend."""
        import torch

        index, eta, _ = self._forward(cohort)
        out = pd.DataFrame({"risk": eta}, index=index)
        net = self.net_
        share = float(getattr(net, "enet_share", 0.0))
        if share <= 0:
            out["network"], out["elastic_net"] = eta, np.nan
            return out[["network", "elastic_net", "risk"]]
        tables = getattr(cohort, "tables", cohort)
        xs, _ = self._tensors({m: tables[m] for m in self.scalers_}, next(net.parameters()).device)
        with torch.no_grad():
            wide = sum(net.enet[m](xs[m]).squeeze(-1) for m in net.modalities).cpu().numpy().astype(float)
        out["elastic_net"] = wide
        out["network"] = (eta - share * wide) / (1 - share)
        return out[["network", "elastic_net", "risk"]]

    @property
    def features_(self) -> Dict[str, list]:
        self._check_fitted()
        return {m: list(s.features) for m, s in self.scalers_.items()}

    # ------------------------------------------------------------- persistence
    def _to_saved(self):
        import torch

        self._check_fitted()
        tensors = {f"net.{k}": v for k, v in self.net_.state_dict().items()}
        for m, s in self.scalers_.items():
            tensors[f"scaler.{m}.mean"] = torch.as_tensor(s.mean, dtype=torch.float64)
            tensors[f"scaler.{m}.scale"] = torch.as_tensor(s.scale, dtype=torch.float64)
        params = {
            "fitter": self.params,
            "modalities": {m: {"features": s.features, "log": s.log} for m, s in self.scalers_.items()},
            "best_epoch": self.history_.best_epoch if self.history_ else None,
        }
        if self.risk_reference_ is not None:
            params["risk_reference"] = self.risk_reference_
        return tensors, params

    @classmethod
    def _from_saved(cls, tensors, meta, folder: Path, device="auto") -> "GeneAttentionSurvival":
        """The model from a folder written by ``save``, or a 0.1.0 ``<stem>.json`` + ``<stem>.safetensors`` pair."""
        model = cls(**meta["fitter"], device=device)
        model.scalers_ = {
            m: ModalityScaler(
                m,
                info["features"],
                info["log"],
                tensors[f"scaler.{m}.mean"].numpy(),
                tensors[f"scaler.{m}.scale"].numpy(),
            )
            for m, info in meta["modalities"].items()
        }
        net = model._build({m: len(s.features) for m, s in model.scalers_.items()})
        missing, unexpected = net.load_state_dict(
            {k[4:]: v for k, v in tensors.items() if k.startswith("net.")}, strict=False
        )
        if unexpected or any(not (k.startswith("enet.") or k == "enet_share") for k in missing):
            raise OmicsInputError(
                f"{folder.name}: the weights do not match the model description "
                f"(missing {missing[:3]}, unexpected {unexpected[:3]})."
            )
        model.net_ = net.to(resolve_device(device)).eval()
        model.risk_reference_ = meta.get("risk_reference")
        return model

    @staticmethod
    def _read_legacy(path: Path):
        """0.1.0 wrote ``<stem>.json`` + ``<stem>.safetensors`` with the fitter's parameters at the top level."""
        stem = path.with_suffix("") if path.suffix in (".json", ".safetensors") else path
        if path.is_dir():  # save("dir/model") wrote dir/model.json + dir/model.safetensors
            stem = path / "model"
        meta_path, weights_path = Path(f"{stem}.json"), Path(f"{stem}.safetensors")
        if not meta_path.is_file():
            return None
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise OmicsInputError(f"{meta_path} is not a valid model description (JSON): {exc}") from exc
        if not isinstance(meta, dict) or meta.get("format") != LEGACY_FORMAT:
            raise OmicsInputError(f"{meta_path} does not describe an OmicsGAT prognosis model.")
        if not weights_path.is_file():
            raise OmicsInputError(
                f"Model file {weights_path} does not exist; a 0.1.0 model is a .json and a .safetensors file."
            )
        fitter = dict(meta["params"])
        fitter.pop("screen", None)  # an option 0.1.0 had and never used
        if fitter.pop("architecture", "attention") != "attention":
            raise OmicsInputError(
                f"{meta_path} holds the DeepSurv-style baseline, which is no longer part of OmicsGAT "
                "(it lives in benchmarks/deepsurv.py)."
            )
        return read_tensors(weights_path), {
            "fitter": fitter,
            "modalities": meta["modalities"],
            "best_epoch": meta.get("best_epoch"),
        }

    def _describe(self) -> dict:
        training = {"modalities": {m: len(s.features) for m, s in (self.scalers_ or {}).items()}}
        if self.risk_reference_ is not None:
            training.update(n_samples=self.risk_reference_["n_samples"], n_events=self.risk_reference_["n_events"])
        return {"training": training, "parameters": dict(self.params)}

    def apply(self, cohort, *, groups: Union[str, float, None] = None):
        """Score a new cohort with this model: risks, groups at the training cut-offs, and with outcomes its
        C-index and Kaplan-Meier statistics (external validation); see :func:`omicsgat.prognosis.apply.apply_model`."""
        return apply_model(self, cohort, groups=groups)
