"""Results of a modality back into its ``.h5mu``: the other modalities are kept as they were."""

from __future__ import annotations

import os
from pathlib import Path

from omicsgat.errors import OmicsInputError
from omicsgat.io.atomic import atomic_path, write_h5ad_atomic


def write_h5mu_modality(adata, source: str | os.PathLike, modality: str, target: str | os.PathLike) -> Path:
    """Write a copy of ``source`` (an .h5mu) to ``target`` with ``mod[modality]`` replaced by ``adata``.

    ``adata`` is the modality as read by :func:`omicsgat.io.read_anndata`, with
    the analyses' results added (obs, obsm, uns). Atomic; ``source`` is
    never changed (writing onto it is refused).
    """
    try:
        import mudata
    except ImportError as exc:
        raise OmicsInputError("Writing .h5mu files needs the mudata package (`pip install mudata`).") from exc
    source, target = Path(source), Path(target)
    if target.suffix.lower() != ".h5mu":
        raise OmicsInputError(f"Results of an .h5mu modality are saved as .h5mu; {target.name!r} has another suffix.")
    if target.exists() and target.resolve() == source.resolve():
        raise OmicsInputError(f"Refusing to overwrite the input file {target}: choose another output path.")
    mdata = mudata.read_h5mu(source)
    if modality not in mdata.mod:
        raise OmicsInputError(f"{source.name}: no modality {modality!r}; it holds {', '.join(mdata.mod)}.")
    mdata.mod[modality] = adata
    mdata.update()
    with atomic_path(target) as tmp:
        mdata.write_h5mu(tmp)
    return target


def save_annotated(
    adata, target: str | os.PathLike, source: str | os.PathLike | None = None, modality: str | None = None
) -> Path:
    """``.h5mu`` target with an ``.h5mu`` source: write back into the modality; else an ``.h5ad``."""
    if Path(target).suffix.lower() == ".h5mu":
        if source is None or Path(source).suffix.lower() != ".h5mu" or modality is None:
            raise OmicsInputError(
                f"{Path(target).name}: results are written into an .h5mu only when the data came "
                "from one; save as .h5ad instead."
            )
        return write_h5mu_modality(adata, source, modality, target)
    return write_h5ad_atomic(adata, target)
