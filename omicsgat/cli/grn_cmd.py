"""``omicsgat grn``: infer a gene regulatory network from an AnnData file.

Writes the ranked edge table (regulator, target, score, rank, sign,
correlation, in_prior, attention, ...) sorted by rank; ``--save-h5ad`` also
writes a copy of the input with the result in ``uns["omicsgat"]["grn"]``.
DATA may also be a BEELINE folder (or its ExpressionData.csv); with a
reference network (``--reference-network`` or the folder's refNetwork.csv)
BEELINE's evaluation table is written next to the edges as
``EDGES.evaluation.tsv`` (same suffix as EDGES) and printed.
"""

from __future__ import annotations

import sys

from omicsgat.cli._common import (
    TerminalProgress,
    add_input_options,
    add_run_options,
    add_scheduler_option,
    announce_device,
    open_scheduler,
    read_single_cell,
    refuse_overwriting_inputs,
)
from omicsgat.config import GRN_COMBINES, GRN_SCORES
from omicsgat.defaults import GRN
from omicsgat.grn import infer_grn
from omicsgat.io.atomic import write_table_atomic
from omicsgat.io.beeline import REFERENCE_KEY, read_reference_network
from omicsgat.io.mudata_io import save_annotated
from omicsgat.metrics.grn import beeline_table, held_out_metrics


def register(sub) -> None:
    p = sub.add_parser(
        "grn",
        help="infer a gene regulatory network (graph attention)",
        description="Infer a ranked regulator -> target network from single-cell expression with graph attention. "
        "DATA.h5ad may hold raw counts or log-normalized values in X; DATA may also be a BEELINE folder "
        "(ExpressionData.csv genes x cells, optional PseudoTime.csv and refNetwork.csv) or its ExpressionData.csv.",
    )
    p.add_argument(
        "data",
        metavar="DATA",
        help="single-cell data: .h5ad, 10x .h5 or folder, .mtx(.gz), GEO .csv/.tsv(.gz) "
        "count matrix, .loom or .h5mu, or a BEELINE folder (or its ExpressionData.csv)",
    )
    p.add_argument("--out", required=True, metavar="EDGES.tsv", help="edge table to write (.tsv, .csv or .xlsx)")
    p.add_argument(
        "--regulators",
        metavar="FILE|human|mouse",
        help="candidate regulators: a text file with one gene per line, or 'human'/'mouse' for the shipped TF lists "
        "(default: every selected gene)",
    )
    p.add_argument("--prior", metavar="NETWORK.tsv", help="known edges: TSV with columns regulator, target[, sign]")
    p.add_argument(
        "--mode",
        choices=("unsupervised", "supervised"),
        default="unsupervised",
        help="unsupervised (default) or supervised link prediction from --prior",
    )
    p.add_argument(
        "--genes",
        type=int,
        default=GRN["genes"],
        metavar="N",
        help=f"number of highly variable genes (default {GRN['genes']}); regulators are always kept",
    )
    p.add_argument(
        "--epochs", type=int, default=GRN["epochs"], metavar="N", help=f"training epochs (default {GRN['epochs']})"
    )
    p.add_argument(
        "--top-k",
        type=int,
        default=GRN["top_k"],
        metavar="K",
        help=f"candidate regulators per target by |Spearman| (default {GRN['top_k']}; 0 = all)",
    )
    p.add_argument(
        "--combine",
        choices=GRN_COMBINES,
        default=GRN["combine"],
        help="unsupervised: combine the attention heads with a small per-target MLP so AND/NOT regulation is "
        "representable (default), or linearly (their weighted sum alone)",
    )
    p.add_argument(
        "--score",
        choices=GRN_SCORES,
        default=GRN["score"],
        help="unsupervised edge score: per target, the model's score where the target is nonlinear in its "
        "regulators on held-out cells, else conditional dependence (adaptive, default); the model's mean "
        "percentile rank of attention and contribution (rank_mean), either alone, or conditional dependence alone",
    )
    p.add_argument(
        "--pseudotime",
        metavar="COLUMN[,COLUMN]",
        help="obs column(s) with each cell's pseudotime, one per trajectory (a BEELINE folder's PseudoTime.csv "
        "columns are obs columns): regulators are then scored by how well they predict their targets later "
        "along the trajectory (unsupervised mode)",
    )
    p.add_argument(
        "--reference-network",
        metavar="FILE",
        help="true edges (BEELINE refNetwork.csv with Gene1, Gene2, or regulator, target columns) to evaluate "
        "the edges against, BEELINE style (default for a BEELINE folder: its refNetwork.csv)",
    )
    p.add_argument(
        "--save-h5ad",
        metavar="OUT.h5ad",
        help="also write the data with the result in uns['omicsgat']['grn'] (OUT.h5mu for an .h5mu input: "
        "written back into its modality)",
    )
    p.add_argument(
        "--network",
        metavar="NETWORK.tsv",
        help="also write the top edges in decoupler's layout (source, target, weight = signed score)",
    )
    p.add_argument("--save-model", metavar="FOLDER", help="also save the trained model (safetensors + JSON)")
    p.add_argument(
        "--pairs",
        metavar="PAIRS.tsv",
        help="also write which regulators act together (target, regulator_a, regulator_b, interaction, "
        "logic, score, stability, p, q); computed whatever the size when given",
    )
    p.add_argument(
        "--block-size",
        type=int,
        metavar="N",
        help="unsupervised: targets per independently trained block (default: one joint fit in-process, "
        "500 per block with --scheduler); the same N gives the same edges wherever it runs",
    )
    add_input_options(p)
    add_run_options(p)
    add_scheduler_option(p)
    p.set_defaults(func=run)


def run(args) -> int:
    device = announce_device(args)

    evaluation_path = _evaluation_path(args.out)
    refuse_overwriting_inputs(
        [args.data, args.regulators, args.prior, args.reference_network],
        [args.out, args.save_h5ad, args.save_model, args.network, evaluation_path, args.pairs],
    )
    with open_scheduler(args) as scheduler:
        adata, report = read_single_cell(
            args.data,
            args.quiet,
            gene_symbols=args.gene_symbols,
            orientation=args.orientation.replace("-", " "),
            modality=args.modality,
            with_report=True,
        )
        reference = adata.uns.pop(REFERENCE_KEY, None)  # for evaluation only, never an input of the model
        if args.reference_network:
            reference = read_reference_network(args.reference_network, adata.var_names)
        offered = adata.uns.get("beeline_pseudotime")
        if offered and not args.pseudotime and not args.quiet and args.mode != "supervised":  # supervised: no time
            print(
                f"omicsgat grn: pseudotime column(s) {','.join(offered)} are available; --pseudotime "
                f"{','.join(offered)} uses them to orient edges",
                file=sys.stderr,
            )
        with TerminalProgress(args.quiet, "grn") as bar:
            result = infer_grn(
                adata,
                genes=args.genes,
                regulators=args.regulators,
                prior=args.prior,
                mode=args.mode,
                epochs=args.epochs,
                device=device,
                seed=args.seed,
                progress=bar,
                top_k=args.top_k or None,
                combine=args.combine,
                score=args.score,
                gene_symbols=args.gene_symbols,
                pseudotime=args.pseudotime,
                scheduler=scheduler,
                block_size=args.block_size,
                pairs=True if args.pairs else "auto",
            )
    if "time_evidence" in result.params and not args.quiet:
        print(f"omicsgat grn: pseudotime {result.params['time_evidence']['decision']}", file=sys.stderr)
    blend = result.params.get("supervised_blend")  # how far the supervised ranking trusts the known edges
    if blend is not None and not args.quiet:
        print(
            f"omicsgat grn: supervised: weight {blend['weight_learned']:g} on the learned score: {blend['why']}",
            file=sys.stderr,
        )
    choice = result.params.get("conditional_dependence")  # the steady-state score's own choices (omicsgat.grn.scores)
    if choice is not None and not args.quiet:
        split = choice.get("per_target")
        how = (
            f"{split['targets_scored_by_model']} of {split['targets']} targets by the attention model (nonlinear), "
            "the others by conditional dependence; "
            if split
            else ""
        )
        print(
            f"omicsgat grn: ranked by {result.params['score_name']}: {how}"
            f"ridge penalty (x cells) chosen per target by cross-validation: {choice['penalty_chosen_per_target']}",
            file=sys.stderr,
        )
    result.save(args.out)
    if args.network:
        write_table_atomic(result.to_decoupler(), args.network)
    if args.pairs:
        result.save_pairs(args.pairs)
    if reference is not None:
        table = beeline_table(result.edges, reference, result.genes)
        write_table_atomic(table, evaluation_path)
        if not args.quiet:
            row = table.iloc[0]
            known = " (the prior's own edges included)" if "split" in result.edges.columns else ""
            print(
                f"omicsgat grn: evaluation against {int(row['n_true'])} reference edges over {int(row['n_candidates'])} "
                f"ordered gene pairs{known}: AUROC {row['AUROC']:.3f}, AUPRC {row['AUPRC']:.3f}, AUPRC ratio "
                f"{row['AUPRC_ratio']:.2f}, EPR {row['EPR']:.2f} (written to {evaluation_path})",
                file=sys.stderr,
            )
            if known:
                _print_held_out_evaluation(result.edges, reference)
    if args.save_model:
        result.save_model(args.save_model)
    if args.save_h5ad:
        result.write_to(adata)
        save_annotated(adata, args.save_h5ad, args.data, report.modality)
    if not args.quiet:
        p = result.params
        extra = f"; test AUROC {p['test_metrics']['AUROC']:.3f}" if "test_metrics" in p else ""
        print(
            f"omicsgat grn: {len(result.edges)} edges over {p['n_genes']} genes and {p['n_regulators']} regulators "
            f"written to {args.out}{extra}",
            file=sys.stderr,
        )
    return 0


def _evaluation_path(out: str) -> str:
    """EDGES.tsv -> EDGES.evaluation.tsv (same format as the edge table)."""
    from pathlib import Path

    p = Path(out)
    return str(p.with_name(f"{p.stem}.evaluation{p.suffix or '.tsv'}"))


def _print_held_out_evaluation(edges, reference) -> None:
    """A supervised run ranks the prior's edges too; its honest figure is on the pairs held out of training."""
    m = held_out_metrics(edges, reference)
    if m is None:
        print(
            "omicsgat grn: the held-out test pairs hold no reference edge, or only reference edges: no held-out "
            "evaluation",
            file=sys.stderr,
        )
        return
    print(
        f"omicsgat grn: on the {m['n_pairs']} held-out test pairs only ({m['n_true']} reference edges): "
        f"AUROC {m['AUROC']:.3f}, AUPRC ratio {m['AUPRC_ratio']:.2f}",
        file=sys.stderr,
    )
