"""`omicsgat info FILE`: what a data file holds and what the loader noticed.

FILE is a single-cell file (.h5ad, 10x .h5 or matrix folder, .loom, .h5mu)
or an omics table (.csv, .tsv, .txt, .parquet, .xlsx, .gz). With --time-col and
--event-col FILE is read as a clinical table; adding --omics NAME=TABLE
(repeatable) loads and aligns the whole cohort.
"""

from __future__ import annotations

import argparse

from omicsgat.cli._common import add_event_map_option, parse_event_map, parse_pairs
from omicsgat.errors import OmicsInputError


def register(sub) -> None:
    p = sub.add_parser(
        "info",
        help="summarize a data file and report problems",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("file", help="single-cell file/folder, omics table, or clinical table (with --time-col/--event-col)")
    p.add_argument("--transpose", action="store_true", help="the table has features as rows and samples as columns")
    p.add_argument("--time-col", help="clinical table: survival time column")
    p.add_argument("--event-col", help="clinical table: event column (0/1, dead/alive, ...)")
    add_event_map_option(p)
    p.add_argument(
        "--omics",
        action="append",
        metavar="NAME=TABLE",
        help="with a clinical FILE: load and align the cohort (repeat per omics table)",
    )
    p.add_argument(
        "--in-memory", action="store_true", help="read an .h5ad fully instead of backed (read-only, on disk)"
    )
    p.set_defaults(func=run)


def run(args) -> int:
    from omicsgat.io import describe, read_cohort

    event_map = parse_event_map(args.event_map)
    if args.omics:
        if not (args.time_col and args.event_col):
            raise OmicsInputError("--omics needs --time-col and --event-col: FILE is then the clinical table.")
        cohort = read_cohort(
            parse_pairs(args.omics, "--omics"),
            args.file,
            time_col=args.time_col,
            event_col=args.event_col,
            transpose=args.transpose,
            event_map=event_map,
        )
        print(describe(cohort))
        return 0
    if event_map and not args.time_col:
        raise OmicsInputError("--event-map applies to a clinical table: give --time-col and --event-col too.")
    print(
        describe(
            args.file,
            transpose=args.transpose,
            time_col=args.time_col,
            event_col=args.event_col,
            event_map=event_map,
            backed=not args.in_memory,
        )
    )
    return 0
