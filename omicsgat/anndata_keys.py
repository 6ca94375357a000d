"""Where results go in an AnnData, and the rule for existing keys.

All keys carry the prefix ``omicsgat``: ``obs["omicsgat_<name>"]``,
``obsm["omicsgat_<name>"]``, ``varm``, and ``uns["omicsgat"][<analysis>]``.
A key that exists and was not written by OmicsGAT is never overwritten: the
writer raises :class:`OmicsInputError` and asks for another ``key_added``.
"""

from __future__ import annotations

from omicsgat.errors import OmicsInputError

PREFIX = "omicsgat"
UNS_KEY = "omicsgat"


def _written(adata) -> set:
    return set(adata.uns.get(UNS_KEY, {}).get("_written_keys", []))


def claim(adata, slot: str, key: str, param: str = "key_added") -> str:
    """Check that ``adata.<slot>[key]`` is free or ours, and record it as ours.

    ``param`` is how the caller chooses the key (``key_added`` in the API,
    ``--key-added`` on the command line): the error names it.
    """
    container = getattr(adata, slot)
    tag = f"{slot}:{key}"
    if key in container and tag not in _written(adata):
        raise OmicsInputError(
            f"adata.{slot}[{key!r}] already exists and was not written by OmicsGAT; "
            f"choose another {param}, or remove that key first."
        )
    uns = adata.uns.setdefault(UNS_KEY, {})
    keys = list(uns.get("_written_keys", []))
    if tag not in keys:
        keys.append(tag)
    uns["_written_keys"] = keys
    return key


def uns_section(adata, analysis: str) -> dict:
    """``adata.uns["omicsgat"][analysis]``, created empty (replacing an older run)."""
    uns = adata.uns.setdefault(UNS_KEY, {})
    uns[analysis] = {}
    return uns[analysis]
