"""One way to save and load a trained model, for every analysis.

A model is a folder with two files: ``model.safetensors`` (weights and
numeric arrays; loading never unpickles code) and ``model.json`` with the same
keys for every analysis::

    {"analysis": "grn" | "celltype" | "prognosis", "format_version": 1,
     "omicsgat_version": "0.1.0", "params": {...}}

``params`` is whatever the analysis needs to rebuild its model (parameters,
gene or feature names, classes). :func:`read_model` refuses a folder of
another analysis or of a newer format with an :class:`OmicsInputError` that
says what was found and what to do.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable, Dict, Optional, Tuple

from omicsgat.errors import OmicsInputError

FORMAT_VERSION = 1
WEIGHTS = "model.safetensors"
META = "model.json"
ANALYSES = {"grn": "GRN", "celltype": "cell-typing", "prognosis": "prognosis"}
_LOADERS = {"grn": "omicsgat.grn.GRNModel.load", "celltype": "omicsgat.celltype.CellTypeModel.load",
            "prognosis": "omicsgat.prognosis.GeneAttentionSurvival.load"}

Tensors = Dict[str, Any]  # name -> torch.Tensor
Legacy = Callable[[Path], Optional[Tuple[Tensors, dict]]]


def write_model(folder: str | Path, analysis: str, tensors: Tensors, params: dict) -> Path:
    """Write ``folder/model.safetensors`` and ``folder/model.json`` (each atomically); return the folder."""
    from safetensors.torch import save_file

    from omicsgat import __version__
    from omicsgat.io.atomic import atomic_path, write_text_atomic

    if analysis not in ANALYSES:
        raise ValueError(f"unknown analysis {analysis!r}")
    folder = Path(folder)
    if folder.suffix in (".safetensors", ".json") or folder.is_file():
        raise OmicsInputError(f"Save the model into a folder (it holds {WEIGHTS} and {META}), not the file {folder.name!r}.")
    folder.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().cpu().contiguous() for k, v in tensors.items()}
    with atomic_path(folder / WEIGHTS) as tmp:
        save_file(tensors, str(tmp))
    meta = {"analysis": analysis, "format_version": FORMAT_VERSION, "omicsgat_version": __version__, "params": params}
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
            raise OmicsInputError(f"{str(path)!r} does not exist; a saved {what} model is a folder with {WEIGHTS} and {META}.")
        raise OmicsInputError(f"{str(path)!r} is not a saved OmicsGAT {what} model: it needs {WEIGHTS} and {META} "
                              "as written by --save-model or save(folder).")
    found = meta["analysis"]
    if found != analysis:
        raise OmicsInputError(
            f"{path.name} holds a {ANALYSES.get(found, repr(found))} model, not a {what} model. "
            f"Load it with {_LOADERS.get(found, 'the matching analysis')}, or give the folder of a {what} model."
        )
    version = meta.get("format_version")
    if not isinstance(version, int) or not 1 <= version <= FORMAT_VERSION:
        from omicsgat import __version__

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
        raise OmicsInputError(f"{path} is not a readable safetensors file ({exc}); the model is damaged, save it again.") from exc


def _read_json(path: Path) -> dict:
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise OmicsInputError(f"{path} is not valid JSON ({exc}); the model description is damaged.") from exc
    if not isinstance(meta, dict):
        raise OmicsInputError(f"{path} is not an OmicsGAT model description (a JSON object).")
    return meta
