"""``omicsgat grn``: infer a gene regulatory network from an AnnData file.

Writes the ranked edge table (regulator, target, score, rank, sign,
correlation, in_prior, attention, ...) sorted by rank; ``--save-h5ad`` also
writes a copy of the input with the result in ``uns["omicsgat"]["grn"]``.
"""

from __future__ import annotations

import sys

from omicsgat.cli._common import add_input_options, add_run_options, add_scheduler_option
from omicsgat.defaults import GRN
from omicsgat.grn.infer import COMBINES, SCORES


def register(sub) -> None:
    p = sub.add_parser(
        "grn",
        help="infer a gene regulatory network (graph attention)",
        description="Infer a ranked regulator -> target network from single-cell expression with graph attention. "
        "DATA.h5ad may hold raw counts or log-normalized values in X.",
    )
    p.add_argument("data", metavar="DATA", help="single-cell data: .h5ad, 10x .h5 or folder, .mtx(.gz), GEO .csv/.tsv(.gz) "
                   "count matrix, .loom or .h5mu")
    p.add_argument("--out", required=True, metavar="EDGES.tsv", help="edge table to write (.tsv, .csv or .xlsx)")
    p.add_argument("--regulators", metavar="FILE|human|mouse",
                   help="candidate regulators: a text file with one gene per line, or 'human'/'mouse' for the shipped TF lists "
                        "(default: every selected gene)")
    p.add_argument("--prior", metavar="NETWORK.tsv", help="known edges: TSV with columns regulator, target[, sign]")
    p.add_argument("--mode", choices=("unsupervised", "supervised"), default="unsupervised",
                   help="unsupervised (default) or supervised link prediction from --prior")
    p.add_argument("--genes", type=int, default=GRN["genes"], metavar="N",
                   help=f"number of highly variable genes (default {GRN['genes']}); regulators are always kept")
    p.add_argument("--epochs", type=int, default=GRN["epochs"], metavar="N", help=f"training epochs (default {GRN['epochs']})")
    p.add_argument("--top-k", type=int, default=GRN["top_k"], metavar="K",
                   help=f"candidate regulators per target by |Spearman| (default {GRN['top_k']}; 0 = all)")
    p.add_argument("--combine", choices=COMBINES, default=COMBINES[0],
                   help="unsupervised: combine the attention heads with a small per-target MLP so AND/NOT regulation is "
                        "representable (default), or linearly (the earlier model)")
    p.add_argument("--score", choices=SCORES, default=SCORES[0],
                   help="unsupervised edge score: mean percentile rank of attention and contribution (default), the "
                        "contribution alone (best on continuous simulated networks) or attention alone (best on Boolean ones)")
    p.add_argument("--save-h5ad", metavar="OUT.h5ad",
                   help="also write the data with the result in uns['omicsgat']['grn'] (OUT.h5mu for an .h5mu input: "
                        "written back into its modality)")
    p.add_argument("--network", metavar="NETWORK.tsv",
                   help="also write the top edges in decoupler's layout (source, target, weight = signed score)")
    p.add_argument("--save-model", metavar="FOLDER", help="also save the trained model (safetensors + JSON)")
    p.add_argument("--block-size", type=int, metavar="N",
                   help="unsupervised: targets per independently trained block (default: one joint fit in-process, "
                        "500 per block with --scheduler); the same N gives the same edges wherever it runs")
    add_input_options(p)
    add_run_options(p)
    add_scheduler_option(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from omicsgat.cli._common import (TerminalProgress, announce_device, open_scheduler, read_single_cell,
                                      refuse_overwriting_inputs)
    from omicsgat.grn import infer_grn
    from omicsgat.io.atomic import write_table_atomic
    from omicsgat.io.mudata_io import save_annotated

    device = announce_device(args)
    refuse_overwriting_inputs([args.data, args.regulators, args.prior],
                              [args.out, args.save_h5ad, args.save_model, args.network])
    with open_scheduler(args) as scheduler:
        adata, report = read_single_cell(args.data, args.quiet, gene_symbols=args.gene_symbols,
                                         orientation=args.orientation.replace("-", " "), modality=args.modality,
                                         with_report=True)
        with TerminalProgress(args.quiet, "grn") as bar:
            result = infer_grn(adata, genes=args.genes, regulators=args.regulators, prior=args.prior, mode=args.mode,
                               epochs=args.epochs, device=device, seed=args.seed, progress=bar,
                               top_k=args.top_k or None, combine=args.combine, score=args.score,
                               gene_symbols=args.gene_symbols, scheduler=scheduler, block_size=args.block_size)
    result.save(args.out)
    if args.network:
        write_table_atomic(result.to_decoupler(), args.network)
    if args.save_model:
        result.save_model(args.save_model)
    if args.save_h5ad:
        result.write_to(adata)
        save_annotated(adata, args.save_h5ad, args.data, report.modality)
    if not args.quiet:
        p = result.params
        extra = f"; test AUROC {p['test_metrics']['AUROC']:.3f}" if "test_metrics" in p else ""
        print(f"omicsgat grn: {len(result.edges)} edges over {p['n_genes']} genes and {p['n_regulators']} regulators "
              f"written to {args.out}{extra}", file=sys.stderr)
    return 0
