"""One way to save, load and describe a trained model, for every analysis.

A model is a folder with two files: ``model.safetensors`` (weights and
numeric arrays; loading never unpickles code) and ``model.json`` with the same
keys for every analysis::

    {"analysis": "grn" | "celltype" | "prognosis", "format_version": 1,
     "omicsgat_version": "0.1.0", "params": {...}, "card": {...}}

``params`` is whatever the analysis needs to rebuild its model (parameters,
gene or feature names, classes). ``card`` is the model card a person reads
before applying the model (:data:`CARD_KEYS`: what it was trained on, its
parameters, its out-of-fold metrics); folders written before the card existed
get one derived from ``params`` (:func:`read_card`). :func:`read_model` refuses
a folder of another analysis or of a newer format with an
:class:`OmicsInputError` that says what was found and what to do.

:class:`SavedModel` is the base of the three model classes: ``save(folder)``,
``load(folder)``, ``card`` and ``apply(data)`` are spelled once here; each
analysis says how its weights become tensors and back, and how an older folder
is read.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable, ClassVar, Dict, Optional, Tuple

from omicsgat import __version__
from omicsgat.errors import OmicsInputError

FORMAT_VERSION = 1
WEIGHTS = "model.safetensors"
META = "model.json"
ANALYSES = {"grn": "GRN", "celltype": "cell-typing", "prognosis": "prognosis"}
_LOADERS = {
    "grn": "omicsgat.grn.GRNModel.load",
    "celltype": "omicsgat.celltype.CellTypeModel.load",
    "prognosis": "omicsgat.prognosis.GeneAttentionSurvival.load",
}

Tensors = Dict[str, Any]  # name -> torch.Tensor
Legacy = Callable[[Path], Optional[Tuple[Tensors, dict]]]


#: The sections of a model card, in this order, for every analysis.
CARD_KEYS = ("analysis", "omicsgat_version", "format_version", "training", "species", "parameters", "metrics")


def write_model(folder: str | Path, analysis: str, tensors: Tensors, params: dict, card: Optional[dict] = None) -> Path:
    """Write ``folder/model.safetensors`` and ``folder/model.json`` (each atomically); return the folder."""
    from safetensors.torch import save_file

    from omicsgat.io.atomic import atomic_path, write_text_atomic

    if analysis not in ANALYSES:
        raise ValueError(f"unknown analysis {analysis!r}")
    folder = Path(folder)
    if folder.suffix in (".safetensors", ".json") or folder.is_file():
        raise OmicsInputError(
            f"Save the model into a folder (it holds {WEIGHTS} and {META}), not the file {folder.name!r}."
        )
    folder.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().cpu().contiguous() for k, v in tensors.items()}
    with atomic_path(folder / WEIGHTS) as tmp:
        save_file(tensors, str(tmp))
    meta = {"analysis": analysis, "format_version": FORMAT_VERSION, "omicsgat_version": __version__, "params": params}
    if card is not None:
        meta["card"] = jsonable(_card(analysis, __version__, FORMAT_VERSION, card))
    write_text_atomic(folder / META, json.dumps(meta, indent=1))
    return folder


def read_model(path: str | Path, analysis: str, legacy: Optional[Legacy] = None) -> Tuple[Tensors, dict]:
    """Read a model folder of ``analysis``; return (tensors, params).

    ``legacy(path)`` may read what an older release wrote (it returns None
    when ``path`` is not such a model either).
    """
    path = Path(path)
    what = ANALYSES[analysis]
    meta_path, weights_path = path / META, path / WEIGHTS
    meta = _read_json(meta_path) if meta_path.is_file() else None
    if meta is None or "analysis" not in meta:
        found = legacy(path) if legacy is not None else None
        if found is not None:
            return found
        if not path.exists():
            raise OmicsInputError(
                f"{str(path)!r} does not exist; a saved {what} model is a folder with {WEIGHTS} and {META}."
            )
        raise OmicsInputError(
            f"{str(path)!r} is not a saved OmicsGAT {what} model: it needs {WEIGHTS} and {META} "
            "as written by --save-model or save(folder)."
        )
    found = meta["analysis"]
    if found != analysis:
        raise OmicsInputError(
            f"{path.name} holds a {ANALYSES.get(found, repr(found))} model, not a {what} model. "
            f"Load it with {_LOADERS.get(found, 'the matching analysis')}, or give the folder of a {what} model."
        )
    version = meta.get("format_version")
    if not isinstance(version, int) or not 1 <= version <= FORMAT_VERSION:
        raise OmicsInputError(
            f"{path.name} was written by OmicsGAT {meta.get('omicsgat_version', '?')} in model format {version!r}; "
            f"this OmicsGAT ({__version__}) reads format {FORMAT_VERSION}. Update OmicsGAT, or train the model again."
        )
    if not isinstance(meta.get("params"), dict):
        raise OmicsInputError(f"{meta_path} has no 'params' section; the model description is incomplete.")
    if not weights_path.is_file():
        raise OmicsInputError(f"{path.name} lacks {WEIGHTS}; copy the whole model folder.")
    return read_tensors(weights_path), meta["params"]


def read_tensors(path: Path) -> Tensors:
    """The tensors of a safetensors file, or an OmicsInputError naming it."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        return load_file(str(path))
    except (SafetensorError, OSError) as exc:
        raise OmicsInputError(
            f"{path} is not a readable safetensors file ({exc}); the model is damaged, save it again."
        ) from exc


def _read_json(path: Path) -> dict:
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise OmicsInputError(f"{path} is not valid JSON ({exc}); the model description is damaged.") from exc
    if not isinstance(meta, dict):
        raise OmicsInputError(f"{path} is not an OmicsGAT model description (a JSON object).")
    return meta


def _card(analysis: str, version: str, format_version, card: dict) -> dict:
    """The card in :data:`CARD_KEYS` order; missing sections are empty (``species``: None)."""
    out = {"analysis": analysis, "omicsgat_version": version, "format_version": format_version}
    for key in CARD_KEYS[3:]:
        out[key] = card.get(key, None if key == "species" else {})
    return out


def jsonable(value):
    """Plain JSON types (numpy scalars and arrays, tuples; NaN and inf become None), for every JSON OmicsGAT writes."""
    import math

    import numpy as np

    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [jsonable(v) for v in value]
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return float(value) if math.isfinite(float(value)) else None
    return value


def read_card(path: str | Path) -> dict:
    """The model card of a saved model folder, without loading its weights (the GUI shows it before Run).

    A folder written before cards existed gets one derived from what it holds (genes, types, modalities).
    """
    path = Path(path)
    meta = _read_json(path / META) if (path / META).is_file() else None
    if meta is None or "analysis" not in meta:
        raise OmicsInputError(
            f"{str(path)!r} is not a saved OmicsGAT model folder (it needs {META} and {WEIGHTS}); "
            "0.1.0 single-file models have no card: load them with the analysis' load()."
        )
    analysis = meta["analysis"]
    if analysis not in ANALYSES:
        raise OmicsInputError(f"{path / META} names an unknown analysis {analysis!r}.")
    if isinstance(meta.get("card"), dict):
        return meta["card"]
    return _card(
        analysis,
        meta.get("omicsgat_version", "?"),
        meta.get("format_version"),
        _card_from_params(analysis, meta.get("params") or {}),
    )


def _card_from_params(analysis: str, params: dict) -> dict:
    """What a card-less folder says about itself."""
    if analysis == "celltype":
        return {
            "training": {"n_genes": len(params.get("genes", [])), "labels": list(params.get("classes", []))},
            "parameters": params.get("config", {}),
        }
    if analysis == "prognosis":
        mods = params.get("modalities", {})
        return {
            "training": {"modalities": {m: len(info.get("features", [])) for m, info in mods.items()}},
            "parameters": params.get("fitter", {}),
        }
    return {
        "training": {
            "n_genes": len(params.get("genes", [])),
            "n_regulators": len(params.get("regulators", [])),
            "mode": params.get("mode"),
        },
        "parameters": params.get("config", {}),
    }


class SavedModel:
    """The base of every trained model: ``save(folder)``, ``load(folder)``, its ``card`` and ``apply(data)``.

    A subclass sets :attr:`analysis` and implements :meth:`_to_saved` (tensors and params to write),
    :meth:`_from_saved` (the model from what :func:`read_model` returns), :meth:`_describe` (its card's
    training / species / parameters / metrics sections) and, for folders of an older layout,
    :meth:`_read_legacy`. Whoever trains the model may add to the card before saving with
    :meth:`annotate_card` (e.g. the out-of-fold metrics of the run that trained it).
    """

    analysis: ClassVar[str] = ""

    # ------------------------------------------------------------------ the analysis' part
    def _to_saved(self) -> Tuple[Tensors, dict]:
        raise NotImplementedError

    @classmethod
    def _from_saved(cls, tensors: Tensors, params: dict, folder: Path, **options):
        raise NotImplementedError

    def _describe(self) -> dict:
        return {}

    @staticmethod
    def _read_legacy(path: Path) -> Optional[Tuple[Tensors, dict]]:
        return None

    def apply(self, data, **options):
        """The model's predictions for new data (a Result)."""
        raise OmicsInputError(
            f"A saved {ANALYSES.get(self.analysis, self.analysis)} model is not applied to new "
            "data: it belongs to the data it was trained on (docs/formats.md, 'Applying a saved "
            "model'). Run the analysis on the new data instead."
        )

    # ------------------------------------------------------------------ shared
    @property
    def card(self) -> dict:
        """The model card: what :func:`read_card` returns for the saved folder."""
        described = self._describe()
        extra = getattr(self, "_card_extra", {})
        merged = {
            k: (
                {**(described.get(k) or {}), **(extra.get(k) or {})}
                if k != "species"
                else extra.get(k, described.get(k))
            )
            for k in CARD_KEYS[3:]
        }
        return _card(self.analysis, __version__, FORMAT_VERSION, merged)

    def annotate_card(self, **sections) -> None:
        """Add to the card's ``training``, ``metrics``, ``parameters`` (dicts) or ``species`` (a name)."""
        unknown = set(sections) - set(CARD_KEYS[3:])
        if unknown:
            raise ValueError(f"unknown card sections {sorted(unknown)}")
        extra = dict(getattr(self, "_card_extra", {}))
        for key, value in sections.items():
            extra[key] = value if key == "species" else {**(extra.get(key) or {}), **(value or {})}
        self._card_extra = extra

    def save(self, folder: str | Path) -> Path:
        """Write ``folder/model.safetensors`` + ``folder/model.json`` (parameters and card); return the folder."""
        tensors, params = self._to_saved()
        return write_model(folder, self.analysis, tensors, params, card=self.card)

    @classmethod
    def load(cls, folder: str | Path, **options):
        """Read a folder written by :meth:`save` (or by an older release); ``options`` go to :meth:`_from_saved`."""
        tensors, params = read_model(folder, cls.analysis, legacy=cls._read_legacy)
        model = cls._from_saved(tensors, params, Path(folder), **options)
        saved_card = _saved_card(Path(folder))
        if saved_card is not None:  # keep what the training run added (metrics, cells, species)
            model._card_extra = {k: saved_card.get(k) for k in CARD_KEYS[3:] if saved_card.get(k) is not None}
        return model


def _saved_card(folder: Path) -> Optional[dict]:
    try:
        meta = json.loads((folder / META).read_text(encoding="utf-8")) if (folder / META).is_file() else None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    return meta.get("card") if isinstance(meta, dict) and isinstance(meta.get("card"), dict) else None
