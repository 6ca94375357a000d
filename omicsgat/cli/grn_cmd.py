"""`omicsgat grn` (placeholder until the analysis lands)."""

from __future__ import annotations


def register(sub) -> None:
    p = sub.add_parser("grn", help="(not yet available)")
    p.set_defaults(func=run)


def run(args) -> int:
    from omicsgat.errors import OmicsInputError

    raise OmicsInputError("'omicsgat grn' is not available in this build yet.")
