"""The ``omicsgat`` command.

Exit codes: 0 success, 2 bad input (one clear line on stderr), 1 internal
error (traceback written to a log file whose path is printed), 130 cancelled.
Each subcommand lives in its own module with ``register(subparsers)``; the
module's ``run(args)`` does the work through the engine's public API.
"""

from __future__ import annotations

import argparse
import sys
from typing import Optional, Sequence

from omicsgat import __version__
from omicsgat.errors import Cancelled, OmicsInputError
from omicsgat.logs import bug_report

SUBCOMMANDS = ("info", "grn", "celltype", "prognosis", "gui")


def build_parser() -> argparse.ArgumentParser:
    import importlib

    parser = argparse.ArgumentParser(
        prog="omicsgat",
        description="Attention models for single-cell and multi-omics data: GRN inference, cell typing, prognosis.",
    )
    parser.add_argument("--version", action="version", version=f"omicsgat {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in SUBCOMMANDS:
        module = importlib.import_module(f"omicsgat.cli.{name}_cmd")
        module.register(sub)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    return dispatch(args.func, args, args.command)


def dispatch(func, args, command: str) -> int:
    """Run a subcommand and map what it raises onto the documented exit codes."""
    try:
        code = func(args)
    except OmicsInputError as exc:
        print(f"omicsgat {command}: error: {exc}", file=sys.stderr)
        return 2
    except (Cancelled, KeyboardInterrupt):
        print(f"omicsgat {command}: cancelled", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug: short line here, traceback to the log
        print(f"omicsgat {command}: internal error: {bug_report(exc)}", file=sys.stderr)
        return 1
    return int(code or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
