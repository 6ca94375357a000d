"""`omicsgat celltype QUERY.h5ad --label-key COLUMN [--reference REF.h5ad] --out LABELS.tsv ...`"""

from __future__ import annotations

import sys
from pathlib import Path

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
from omicsgat.config import DEPTH_MODES, ORTHOLOG_RULES, CellTypeConfig
from omicsgat.errors import OmicsInputError

DESCRIPTION = """Predict cell types with gene attention + graph attention over a cell kNN graph.

Without --reference, cells whose label in COLUMN is empty/NaN are predicted from
the labelled cells of the same file. With --reference, the labels in REF.h5ad's
COLUMN are transferred to every cell of QUERY.h5ad (genes matched by name).
With --holdout K (no reference), every labelled cell is also predicted out of
fold by a model that never saw its label, so the printed accuracy is honest;
this works when every cell is labelled.

With --model FOLDER (a model saved by --save-model): no training; the saved
model annotates every cell of QUERY (its own kNN graph; Unknown below the saved
confidence cut-off or by the saved probability test; the distance tests need the
reference and are not applied). Genes missing from QUERY are reported.

Output TSV columns: cell, label (a type or Unknown), confidence, prob_<type> for
each type, then predicted, novelty, mapping_score (0-1; NaN where the distance
test does not apply), unknown_reason (distance, probability or cluster; empty
when called), given, is_query. With --cluster-vote also cluster, cluster_label,
cluster_unknown; --clusters CLUSTERS.tsv writes one row per query cluster.

With --chunk-size N (needs --reference; QUERY may be .h5ad or .zarr and is never
loaded whole): the model trains on the reference with a sample of the query, then
predicts the query N cells at a time (on the workers with --scheduler) and writes
cell, label, confidence, predicted, prob_<type> (.csv, .tsv or .parquet); see
docs/scale-out.md for what differs from the in-memory path."""


def register(sub) -> None:
    p = sub.add_parser(
        "celltype",
        help="predict cell types (label transfer with graph attention)",
        description=DESCRIPTION,
        formatter_class=__import__("argparse").RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "query",
        metavar="QUERY",
        help="cells to annotate (.h5ad, 10x, .mtx, GEO .csv/.tsv, .loom, .h5mu; raw counts or log-normalized X)",
    )
    p.add_argument("--label-key", metavar="COLUMN", help="obs column holding the cell types (needed unless --model)")
    p.add_argument(
        "--model", metavar="FOLDER", help="apply a saved cell-typing model (from --save-model) instead of training one"
    )
    p.add_argument("--reference", metavar="REF.h5ad", help="a labelled reference; its COLUMN labels are transferred")
    p.add_argument(
        "--reference-gene-symbols",
        metavar="COLUMN",
        help="the reference's var column of gene symbols (default: found automatically); genes are matched "
        "by the identifier both files share best, reported on stderr",
    )
    for who in ("reference", "query"):
        p.add_argument(
            f"--{who}-species",
            metavar="SPECIES",
            choices=("human", "mouse"),
            help=f"the {who}'s species (human or mouse; default: judged from its gene identifiers); a "
            "reference of another species is converted to the query's through Ensembl 105 orthologs",
        )
    p.add_argument(
        "--ortholog-rule",
        choices=ORTHOLOG_RULES,
        default=CellTypeConfig.ortholog_rule,
        help="across species: sum the counts of every ortholog of a gene (default) or keep one-to-one orthologs only",
    )
    p.add_argument(
        "--depth",
        choices=DEPTH_MODES,
        default=CellTypeConfig.depth,
        help="how the reference is made to fit the query's sequencing depth: auto (default: from the ratio of "
        "their median counts per cell), none, match (thin a deeper reference to the query's depth), augment "
        "(add a thinned copy of every reference cell) or match+augment",
    )
    p.add_argument(
        "--query-smoothing",
        type=float,
        metavar="W",
        default=CellTypeConfig.query_smoothing,
        help="with a reference of another species: call each query cell from its class probabilities mixed with weight W (0-1) with "
        f"their mean over its nearest query cells in the query's own PCA (default: {CellTypeConfig.query_smoothing}; "
        "0: each cell alone; the Unknown tests use the cell's own probabilities)",
    )
    p.add_argument("--out", required=True, metavar="LABELS.tsv", help="per-cell table (.tsv, .csv or .xlsx)")
    p.add_argument(
        "--markers",
        metavar="MARKERS.tsv",
        help="also write the per-type marker ranking (cell_type, gene, score, attention, rank)",
    )
    p.add_argument(
        "--save-h5ad",
        metavar="OUT.h5ad",
        help="also write QUERY with obs omicsgat_celltype/omicsgat_confidence, colours and markers added "
        "(OUT.h5mu for an .h5mu query: written back into its modality)",
    )
    p.add_argument(
        "--key-added",
        default="omicsgat_celltype",
        metavar="KEY",
        help="obs column (and prefix of the other keys) for --save-h5ad (default: omicsgat_celltype)",
    )
    p.add_argument(
        "--save-model", metavar="FOLDER", help="also save the trained model (model.safetensors + model.json)"
    )
    p.add_argument(
        "--unknown-threshold",
        type=float,
        metavar="X",
        help="call Unknown below this confidence (0-1; confidences are temperature-scaled on held-out labelled cells; "
        "default: the 1%% quantile of correctly typed held-out cells' confidences, at most 0.2)",
    )

    defaults = CellTypeConfig()
    p.add_argument(
        "--epochs",
        type=int,
        default=defaults.epochs,
        help=f"maximum training epochs (default: {defaults.epochs}; early stopping)",
    )
    p.add_argument(
        "--holdout",
        type=int,
        metavar="K",
        help="out-of-fold check within QUERY: predict each labelled cell with a model trained on the other "
        "K-1 stratified folds (label column = the prediction; given = the label); prints accuracy and "
        "macro-F1 on those cells",
    )
    p.add_argument(
        "--no-graph",
        action="store_true",
        help="stop at the linear start (gene-weighted logistic regression, no graph-attention epochs): "
        "faster; the graph never lowered macro-F1 in the benchmarks (docs/celltype.md)",
    )
    p.add_argument(
        "--no-novelty",
        action="store_true",
        help="call Unknown by confidence only (no check of the distance from a cell's neighbourhood to its type)",
    )
    p.add_argument(
        "--cluster-vote",
        action="store_true",
        help="also cluster the query's cells in the mapped space (Leiden) and give each cluster its majority "
        "call; a cluster mostly Unknown is Unknown as a whole (adds cluster, cluster_label, "
        "cluster_unknown to --out)",
    )
    p.add_argument(
        "--clusters",
        metavar="CLUSTERS.tsv",
        help="with --cluster-vote: write the per-cluster table (cluster, n_cells, majority_type, "
        "majority_share, mean_confidence, unknown_share, cluster_label)",
    )
    p.add_argument(
        "--chunk-size",
        type=int,
        metavar="N",
        help="atlas mode: predict a query too large for memory N cells at a time (needs --reference)",
    )
    add_input_options(p)
    add_run_options(p)

    add_scheduler_option(p)
    p.set_defaults(func=run)


def run(args) -> int:
    refuse_overwriting_inputs(
        [args.query, args.reference], [args.out, args.save_h5ad, args.markers, args.save_model, args.clusters]
    )
    if args.clusters and not args.cluster_vote:
        raise OmicsInputError("--clusters writes the per-cluster vote: add --cluster-vote.")
    if args.model:
        return _run_model(args)
    if not args.label_key:
        raise OmicsInputError(
            "Give --label-key COLUMN (the obs column of the cell types) to train, or --model FOLDER "
            "to apply a saved model."
        )
    with open_scheduler(args) as scheduler:
        if args.chunk_size is not None:
            return _run_atlas(args, scheduler)
        return _run(args, scheduler)


def _run_atlas(args, scheduler) -> int:
    """Train on the reference with a sample of the query, then predict the query chunk by chunk."""
    from omicsgat.celltype import annotate_cells
    from omicsgat.celltype.atlas import OUT_SUFFIXES, predict_atlas, query_sample

    if not args.reference:
        raise OmicsInputError("--chunk-size (atlas mode) transfers labels from a reference: give --reference REF.h5ad.")
    if Path(args.out).suffix.lower() not in OUT_SUFFIXES:
        raise OmicsInputError(f"In atlas mode --out needs a .csv, .tsv or .parquet file name (got {args.out}).")
    if args.save_h5ad or args.markers or args.cluster_vote:
        raise OmicsInputError(
            "--save-h5ad, --markers and --cluster-vote need the whole query in memory: leave out --chunk-size."
        )
    device = announce_device(args)
    reference = read_single_cell(args.reference, args.quiet)
    sample = query_sample(args.query)
    with TerminalProgress(args.quiet, "celltype") as bar:
        trained = annotate_cells(
            sample,
            args.label_key,
            reference,
            unknown_threshold=args.unknown_threshold,
            epochs=args.epochs,
            device=device,
            seed=args.seed,
            progress=lambda f, m: bar(0.3 * f, f"training: {m}"),
            novelty=not args.no_novelty,
        )
        summary = predict_atlas(
            trained.model,
            args.query,
            reference,
            out=args.out,
            label_key=args.label_key,
            chunk_size=args.chunk_size,
            unknown_threshold=args.unknown_threshold,
            scheduler=scheduler,
            seed=args.seed,
            progress=lambda f, m: bar(0.3 + 0.7 * f, m),
        )
    if args.save_model:
        trained.save_model(args.save_model)
    if not args.quiet:
        counts = ", ".join(f"{k}: {v}" for k, v in sorted(summary["labels"].items()))
        print(
            f"omicsgat celltype: {summary['n_cells']} cells annotated in {summary['n_chunks']} chunks on "
            f"{summary['scheduler']} ({summary['cells_per_second']:.0f} cells/s; {counts}); wrote {args.out}",
            file=sys.stderr,
        )
    return 0


def _check_outputs(args) -> Path:
    out = Path(args.out)
    if args.save_h5ad and Path(args.save_h5ad).suffix not in (".h5ad", ".h5mu"):
        raise OmicsInputError(
            f"--save-h5ad needs a .h5ad (or, for an .h5mu query, .h5mu) file name (got {args.save_h5ad})."
        )
    if out.suffix.lower() not in (".tsv", ".txt", ".csv", ".xlsx"):
        raise OmicsInputError(f"--out needs a .tsv, .csv or .xlsx file name (got {args.out}).")
    return out


def _run_model(args) -> int:
    """Apply a saved model to QUERY: no training, no reference."""
    from omicsgat.celltype import CellTypeModel
    from omicsgat.io.mudata_io import save_annotated

    clashing = (
        [
            f"--{o.replace('_', '-')}"
            for o in ("reference", "holdout", "save_model", "chunk_size")
            if getattr(args, o) is not None
        ]
        + (["--no-graph"] if args.no_graph else [])
        + (["--cluster-vote"] if args.cluster_vote else [])
    )
    if clashing:
        raise OmicsInputError(
            f"--model applies a trained model; {', '.join(clashing)} belong(s) to training: leave them out."
        )
    out = _check_outputs(args)
    model = CellTypeModel.load(args.model)
    device = announce_device(args)
    query, report = read_single_cell(
        args.query,
        args.quiet,
        gene_symbols=args.gene_symbols,
        orientation=args.orientation.replace("-", " "),
        modality=args.modality,
        with_report=True,
    )
    with TerminalProgress(args.quiet, "celltype") as bar:
        result = model.apply(
            query,
            unknown_threshold=args.unknown_threshold,
            device=device,
            seed=args.seed,
            progress=bar,
            gene_symbols=args.gene_symbols,
        )
    result.save(out)
    if args.markers:
        result.save_markers(args.markers)
    if args.save_h5ad:
        result.write_to(query, key_added=args.key_added, param="--key-added")
        save_annotated(query, args.save_h5ad, args.query, report.modality)
    if not args.quiet:
        p = result.params
        if p["n_genes_missing"]:
            print(
                f"omicsgat celltype: warning: {p['n_genes_missing']} of the model's {p['n_genes_used']} genes are not "
                "in QUERY; they enter at the query's mean (partial match)",
                file=sys.stderr,
            )
        counts = ", ".join(f"{k}: {v}" for k, v in result.labels["label"].value_counts().items())
        print(
            f"omicsgat celltype: {len(result.labels)} cells annotated by the model in {args.model} ({counts}); "
            f"Unknown below confidence {result.threshold:.3f}; wrote {out}",
            file=sys.stderr,
        )
    return 0


def _run(args, scheduler) -> int:
    from omicsgat.celltype import annotate_cells
    from omicsgat.io.mudata_io import save_annotated

    out = _check_outputs(args)
    device = announce_device(args)
    orientation = args.orientation.replace("-", " ")
    query, report = read_single_cell(
        args.query,
        args.quiet,
        gene_symbols=args.gene_symbols,
        orientation=orientation,
        modality=args.modality,
        with_report=True,
    )
    reference = (
        read_single_cell(args.reference, args.quiet, gene_symbols=args.reference_gene_symbols, orientation=orientation)
        if args.reference
        else None
    )
    with TerminalProgress(args.quiet, "celltype") as bar:
        result = annotate_cells(
            query,
            args.label_key,
            reference,
            unknown_threshold=args.unknown_threshold,
            epochs=args.epochs,
            device=device,
            seed=args.seed,
            progress=bar,
            novelty=not args.no_novelty,
            gene_symbols=args.gene_symbols,
            reference_gene_symbols=args.reference_gene_symbols,
            holdout=args.holdout,
            graph=not args.no_graph,
            cluster_vote=args.cluster_vote,
            reference_species=args.reference_species,
            query_species=args.query_species,
            ortholog_rule=args.ortholog_rule,
            depth=args.depth,
            query_smoothing=args.query_smoothing,
        )
    result.save(out)
    if args.clusters:
        result.save_clusters(args.clusters)
    if args.markers:
        result.save_markers(args.markers)
    if args.save_model:
        result.save_model(args.save_model)
    if args.save_h5ad:
        result.write_to(query, key_added=args.key_added, param="--key-added")
        save_annotated(query, args.save_h5ad, args.query, report.modality)
    if not args.quiet:
        p = result.params
        if "gene_match_route" in p:
            routes = ", ".join(
                f"{p[k]} by {k.removeprefix('n_genes_matched_by_')}" for k in p if k.startswith("n_genes_matched_by_")
            )
            print(
                f"omicsgat celltype: reference and query share {p['n_shared_genes']} genes, matched by "
                f"{p['gene_match_route']} ({routes})",
                file=sys.stderr,
            )
        if p.get("species_converted"):
            print(
                f"omicsgat celltype: species {p['species_pair']}: {p['n_orthologs']} orthologs shared "
                f"({p['ortholog_source']}, rule {p['ortholog_rule']}), {p['n_genes_used']} used",
                file=sys.stderr,
            )
        if p.get("depth_handling"):
            print(f"omicsgat celltype: depth {p['depth_handling']} ({p['depth_reason']})", file=sys.stderr)
        if p.get("query_smoothing"):
            print(
                f"omicsgat celltype: each query cell mixed (weight {p['query_smoothing']:g}) with its "
                f"{p['query_smoothing_neighbours']} nearest query cells; {p['n_calls_changed_by_query_smoothing']} "
                "calls changed",
                file=sys.stderr,
            )
        counts = result.labels["label"][result.labels["is_query"]].value_counts()
        summary = ", ".join(f"{k}: {v}" for k, v in counts.items())
        print(
            f"omicsgat celltype: {int(result.labels['is_query'].sum())} cells annotated ({summary}); "
            f"Unknown below confidence {result.threshold:.3f}; wrote {out}",
            file=sys.stderr,
        )
    if args.holdout and not args.quiet:
        ev = result.evaluation()
        print(
            f"omicsgat celltype: accuracy {ev['accuracy']:.3f}, macro-F1 {ev['macro_f1']:.3f}, "
            f"Unknown {ev['unknown_fraction']:.1%} on {ev['computed_on']}",
            file=sys.stderr,
        )
    return 0
