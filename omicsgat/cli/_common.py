"""Helpers shared by the subcommands: device/seed options, progress bar, logging."""

from __future__ import annotations

import argparse
import datetime as _dt
import os
import sys
import traceback
from pathlib import Path

from omicsgat.device import DEVICE_CHOICES


def log_dir() -> Path:
    """Where tracebacks go: ``$OMICSGAT_LOG_DIR`` or ``~/.omicsgat/logs``."""
    path = Path(os.environ.get("OMICSGAT_LOG_DIR", Path.home() / ".omicsgat" / "logs"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def log_exception(exc: BaseException) -> Path:
    path = log_dir() / f"omicsgat-{_dt.datetime.now():%Y%m%d-%H%M%S}-{os.getpid()}.log"
    with open(path, "a", encoding="utf-8") as fh:
        fh.write("".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))
    return path


def read_single_cell(path: str, quiet: bool = False):
    """Read an AnnData file with the validating loader; print its warnings to stderr."""
    from omicsgat.io import read_anndata

    adata, report = read_anndata(path)
    if not quiet:
        for message in report.warnings:
            print(f"omicsgat: warning: {message}", file=sys.stderr)
    return adata


def refuse_overwriting_inputs(inputs, outputs) -> None:
    """An output path that is one of the input files is a user error (inputs are never changed)."""
    from omicsgat.errors import OmicsInputError

    resolved = {Path(p).resolve() for p in inputs if p}
    for target in outputs:
        if target and Path(target).resolve() in resolved:
            raise OmicsInputError(f"Refusing to overwrite the input file {target}: choose another output path.")


def add_run_options(parser: argparse.ArgumentParser) -> None:
    """--device, --seed, --quiet: the same on every analysis subcommand."""
    parser.add_argument("--device", default="auto", help=f"one of {', '.join(DEVICE_CHOICES)} (default: auto = CUDA, then MPS, then CPU)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0); same seed + same device = same result")
    parser.add_argument("--quiet", action="store_true", help="no progress bar or status lines")


def announce_device(args) -> "object":
    """Resolve --device and print the choice (unless --quiet)."""
    from omicsgat.device import describe_device, resolve_device

    device = resolve_device(args.device)
    if not getattr(args, "quiet", False):
        print(f"omicsgat: device {describe_device(device)}", file=sys.stderr)
    return device


class TerminalProgress:
    """A ``progress(fraction, message)`` callback drawing a tqdm bar on stderr."""

    def __init__(self, quiet: bool = False, desc: str = "") -> None:
        self.quiet = quiet
        self.desc = desc
        self._bar = None

    def __call__(self, fraction: float, message: str = "") -> None:
        if self.quiet:
            return
        if self._bar is None:
            from tqdm import tqdm

            self._bar = tqdm(total=1000, desc=self.desc, file=sys.stderr, leave=False,
                             bar_format="{desc} {percentage:3.0f}%|{bar}| {postfix}")
        self._bar.n = int(round(fraction * 1000))
        self._bar.set_postfix_str(message[:60], refresh=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self) -> "TerminalProgress":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
