"""Helpers shared by the subcommands: device/seed options, progress bar, input checks."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from omicsgat.compute import executor
from omicsgat.device import DEVICE_CHOICES, describe_device, resolve_device
from omicsgat.errors import OmicsInputError
from omicsgat.progress import Stopwatch


def read_single_cell(
    path: str, quiet: bool = False, *, gene_symbols=None, orientation=None, modality=None, with_report: bool = False
):
    """Read a single-cell file with the validating loader; print its warnings (and what was detected) to stderr."""
    from omicsgat.io import read_anndata

    adata, report = read_anndata(path, gene_symbols=gene_symbols, orientation=orientation, modality=modality)
    if not quiet:
        for message in report.infos:
            if "var_names hold" in message or "text matrix" in message or "Matrix Market" in message:
                print(f"omicsgat: {message}", file=sys.stderr)
        for message in report.warnings:
            print(f"omicsgat: warning: {message}", file=sys.stderr)
    return (adata, report) if with_report else adata


def add_input_options(parser: argparse.ArgumentParser) -> None:
    """How to read single-cell inputs: gene-symbol column, text-matrix orientation, .h5mu modality."""
    parser.add_argument(
        "--gene-symbols",
        metavar="COLUMN",
        help="var column holding gene symbols when var_names are Ensembl/Entrez IDs (default: found "
        "automatically, e.g. feature_name, gene_symbols); TF lists, priors and markers match on symbols",
    )
    parser.add_argument(
        "--orientation",
        choices=("auto", "genes-x-cells", "cells-x-genes"),
        default="auto",
        help="CSV/TSV or .mtx count matrices: which axis holds the genes (default: detected and reported)",
    )
    parser.add_argument(
        "--modality", metavar="NAME", help=".h5mu input: the modality to analyse (default: rna, else the first)"
    )


def refuse_overwriting_inputs(inputs, outputs) -> None:
    """An output path that is one of the input files is a user error (inputs are never changed)."""
    resolved = {Path(p).resolve() for p in inputs if p}
    for target in outputs:
        if target and Path(target).resolve() in resolved:
            raise OmicsInputError(f"Refusing to overwrite the input file {target}: choose another output path.")


def parse_pairs(values, option: str) -> dict:
    """``["a=1,b=2", "c=3"]`` -> ``{"a": "1", "b": "2", "c": "3"}``; anything else names the option."""
    out = {}
    for item in values or []:
        for part in item.split(","):
            if "=" not in part or not part.split("=", 1)[0].strip():
                raise OmicsInputError(f"{option} expects NAME=VALUE (got {part!r}).")
            key, value = part.split("=", 1)
            out[key.strip()] = value.strip()
    return out


def add_event_map_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--event-map",
        action="append",
        metavar="VALUE=0|1",
        help="extra event codes of the clinical table, e.g. --event-map DOD=1,NED=0",
    )


def parse_event_map(values) -> dict | None:
    """The ``--event-map`` option as ``{value: 0|1}`` (None when not given)."""
    event_map = {k: int(v) if v in ("0", "1") else v for k, v in parse_pairs(values, "--event-map").items()}
    if any(v not in (0, 1) for v in event_map.values()):
        raise OmicsInputError("--event-map values must be 0 or 1, e.g. --event-map DOD=1,NED=0.")
    return event_map or None


def add_run_options(parser: argparse.ArgumentParser) -> None:
    """--device, --seed, --quiet: the same on every analysis subcommand."""
    parser.add_argument(
        "--device",
        default="auto",
        help=f"one of {', '.join(DEVICE_CHOICES)} (default: auto = CUDA, then MPS, then CPU)",
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="random seed (default: 0); same seed + same device = same result"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar or status lines")


def add_scheduler_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--scheduler",
        default=None,
        metavar="processes:N|tcp://HOST:8786",
        help="run on a Dask cluster: processes:N (N local worker processes, one thread each) or the "
        "address of a running Dask scheduler (default: $OMICSGAT_SCHEDULER, else in this process; "
        "needs the 'dask' extra)",
    )


def open_scheduler(args):
    """Start or connect to the run's Dask scheduler (a bad address fails here, before any work); say where work runs.

    Returns a context manager yielding the scheduler to pass to the engine (``None`` in-process).
    """
    import contextlib

    @contextlib.contextmanager
    def opened():
        with executor(getattr(args, "scheduler", None)) as ex:
            if not getattr(args, "quiet", False):
                print(
                    f"omicsgat: work runs {'in-process' if not ex.distributed else 'on ' + ex.description}",
                    file=sys.stderr,
                )
            yield ex.client

    return opened()


def announce_device(args) -> "object":
    """Resolve --device and print the choice (unless --quiet)."""
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
        self.watch = Stopwatch()

    def __call__(self, fraction: float, message: str = "") -> None:
        if self.quiet:
            return
        if self._bar is None:
            from tqdm import tqdm

            self._bar = tqdm(
                total=1000, desc=self.desc, file=sys.stderr, leave=False, bar_format="{percentage:3.0f}%|{bar}| {desc}"
            )
        self._bar.n = int(round(fraction * 1000))
        text = f"{self.desc}: {message[:60]}" if message else self.desc
        self._bar.set_description_str(f"{text} ({self.watch.text(fraction)})", refresh=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self) -> "TerminalProgress":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
