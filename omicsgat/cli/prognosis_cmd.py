"""``omicsgat prognosis``: cross-validated multi-omics survival model, risk groups and Kaplan–Meier curves.

Writes DIR/risk.tsv (sample, risk, group, fold, time, event), DIR/genes_<NAME>.tsv
(feature, attention, rank, topk_frequency, cox_hr, cox_p, cox_fdr, enet_coef, enet_frequency),
DIR/features.tsv (every modality's table with a modality column), DIR/folds.tsv,
DIR/summary.json and DIR/km.png, km.svg, km.pdf. cox_p/cox_fdr are computed on the
whole cohort for features chosen with the same outcomes: optimistic, see docs/desktop.md.

With --model FOLDER (saved by --save-model) nothing is trained: the saved model scores
the samples of --omics, groups them at the training cut-offs and, with --clinical,
reports their C-index and Kaplan-Meier curves (external validation): DIR/risk.tsv
(sample, risk, risk_z, group[, time, event]), DIR/summary.json[, DIR/km.*].
"""

from __future__ import annotations

import sys

from omicsgat.cli._common import (
    TerminalProgress,
    add_event_map_option,
    add_run_options,
    add_scheduler_option,
    announce_device,
    open_scheduler,
    parse_event_map,
)
from omicsgat.config import PrognosisConfig
from omicsgat.errors import OmicsInputError

D = PrognosisConfig().as_dict()


def _groups(value: str):
    v = value.strip().lower()
    if v in ("median", "tertiles"):
        return v
    try:
        return float(v)
    except ValueError:
        import argparse

        raise argparse.ArgumentTypeError(f"must be median, tertiles or a number, not {value!r}") from None


def register(sub) -> None:
    p = sub.add_parser(
        "prognosis",
        help="survival analysis: gene-attention Cox models, out-of-fold risk groups, Kaplan-Meier curves",
        description="Train a cross-validated ensemble of multi-omics gene-attention Cox models; every sample's risk "
        "comes from models that never saw it. Omics tables have samples as rows and features as columns "
        "(use --transpose NAME otherwise); the clinical table has sample IDs in its first column.",
    )
    p.add_argument(
        "--omics",
        action="append",
        required=True,
        metavar="NAME=FILE",
        help="an omics table (csv/tsv/txt/parquet); repeat for several modalities, e.g. --omics mRNA=rna.csv",
    )
    p.add_argument(
        "--clinical",
        metavar="FILE",
        help="clinical table with the time and event columns (needed to train; optional with --model)",
    )
    p.add_argument("--time", metavar="COLUMN", help="survival time column (numbers >= 0)")
    p.add_argument("--event", metavar="COLUMN", help="event column (1/0, dead/alive, ...)")
    p.add_argument(
        "--model",
        metavar="FOLDER",
        help="apply a saved prognosis model (from --save-model) instead of "
        "training: risks, groups at the training cut-offs, and with --clinical the C-index",
    )
    p.add_argument(
        "--out",
        required=True,
        metavar="DIR",
        help="folder for risk.tsv, genes_<NAME>.tsv, summary.json, km.png/svg/pdf",
    )
    add_event_map_option(p)
    p.add_argument(
        "--folds",
        type=int,
        default=D["folds"],
        metavar="K",
        help=f"outer cross-validation folds (default {D['folds']})",
    )
    p.add_argument(
        "--ensemble",
        type=int,
        default=D["ensemble"],
        metavar="M",
        help=f"models per fold, averaged (default {D['ensemble']})",
    )
    p.add_argument(
        "--groups",
        type=_groups,
        default=D["groups"],
        metavar="median|tertiles|FLOAT",
        help="risk groups: median split (default), tertiles, or high above a risk cut-off "
        "(risks are standardised on the training folds: 0 = average, 1 = one SD above); with --model "
        "the cut-offs are the training cohort's",
    )
    p.add_argument(
        "--epochs",
        type=int,
        default=D["epochs"],
        metavar="N",
        help=f"maximum training epochs per model (default {D['epochs']})",
    )
    p.add_argument(
        "--top-k",
        type=int,
        default=D["top_k"],
        metavar="K",
        help=f"top-k for gene stability and univariate Cox (default {D['top_k']})",
    )
    p.add_argument(
        "--max-features",
        type=int,
        default=D["max_features"],
        metavar="N",
        help="features kept per modality in each fold, half by variance and half by univariate Cox "
        f"score on the training samples (default {D['max_features']}; 0 = all)",
    )
    import argparse

    p.add_argument(
        "--elastic-net",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="average each trained network's log-risk with an elastic-net Cox fit on the same training "
        "samples (penalty by inner 5-fold CV; default on); --no-elastic-net: the network alone. "
        "Its coefficients are the enet_coef column; each part's C-index is in summary.json",
    )
    p.add_argument(
        "--wide", choices=["blend", "learned"], default=None, help=argparse.SUPPRESS
    )  # the earlier name: blend = --elastic-net, learned = --no-elastic-net
    p.add_argument("--time-unit", metavar="UNIT", help="unit of the time column (days, months, years), for the plots")
    p.add_argument(
        "--times",
        metavar="T1,T2,...",
        help="time points for the time-dependent AUC and Brier score (default: quartiles of the event times)",
    )
    p.add_argument(
        "--transpose", action="append", default=[], metavar="NAME", help="the table NAME has features as rows"
    )
    p.add_argument(
        "--save-model",
        metavar="FOLDER",
        help="also train one model on all samples and save it (FOLDER/model.safetensors + FOLDER/model.json)",
    )
    add_run_options(p)
    add_scheduler_option(p)
    p.set_defaults(func=run)


def _parse_omics(items) -> dict:
    out = {}
    for item in items:
        name, sep, path = item.partition("=")
        if not sep or not name.strip() or not path.strip():
            raise OmicsInputError(f"--omics {item!r}: write NAME=FILE, e.g. --omics mRNA=expression.csv")
        if name.strip() in out:
            raise OmicsInputError(f"--omics: the name {name.strip()!r} is given twice; use a different name per table.")
        out[name.strip()] = path.strip()
    return out


def run(args) -> int:
    omics = _parse_omics(args.omics)
    unknown = set(args.transpose) - set(omics)
    if unknown:
        raise OmicsInputError(
            f"--transpose names {sorted(unknown)}, which is not an --omics name ({', '.join(omics)})."
        )
    times = None
    if args.times:
        try:
            times = [float(t) for t in args.times.split(",") if t.strip()]
        except ValueError:
            raise OmicsInputError(f"--times {args.times!r}: give numbers separated by commas, e.g. 12,36,60") from None
    if args.clinical and not (args.time and args.event):
        raise OmicsInputError("--clinical needs --time COLUMN and --event COLUMN (the survival columns).")
    if args.model:
        return _run_model(args, omics)
    if not args.clinical:
        raise OmicsInputError(
            "Training needs outcomes: give --clinical FILE --time COLUMN --event COLUMN "
            "(or --model FOLDER to apply a saved model)."
        )
    device = announce_device(args)
    with open_scheduler(args) as scheduler:
        return _run(args, omics, times, device, scheduler)


def _read_omics_only(omics: dict, transpose) -> dict:
    """The omics tables without a clinical table, on the samples they all share (in the first table's order)."""
    from omicsgat.io.tables import read_table

    tables = {name: read_table(path, transpose=name in transpose)[0] for name, path in omics.items()}
    first = next(iter(tables.values())).index
    shared = first[first.isin(set.intersection(*(set(t.index) for t in tables.values())))]
    if shared.empty:
        raise OmicsInputError(f"The omics tables {', '.join(tables)} share no sample ID (first column / row names).")
    return {name: t.loc[shared] for name, t in tables.items()}


def _run_model(args, omics) -> int:
    """Score samples with a saved model (external validation when outcomes are given)."""
    from omicsgat.io import read_cohort
    from omicsgat.prognosis import GeneAttentionSurvival

    training = [o for o in ("save_model", "times") if getattr(args, o)]
    if training:
        raise OmicsInputError(
            f"--model applies a trained model; --{training[0].replace('_', '-')} belongs to training."
        )
    model = GeneAttentionSurvival.load(args.model, device=args.device)
    if args.clinical:
        cohort = read_cohort(
            omics,
            args.clinical,
            time_col=args.time,
            event_col=args.event,
            transpose={n: n in args.transpose for n in omics},
            event_map=parse_event_map(args.event_map),
        )
        cohort.time_unit = args.time_unit
    else:
        cohort = _read_omics_only(omics, set(args.transpose))
    applied = model.apply(cohort, groups=args.groups)
    applied.save(args.out)
    if not args.quiet:
        s = applied.summary
        sizes = ", ".join(f"{k} {v}" for k, v in s["group_sizes"].items())
        text = (
            f"{s['n_samples']} samples scored by the model in {args.model} (groups at the training cut-offs: {sizes})"
        )
        if "c_index" in s:
            text += f"; C-index {s['c_index']:.3f}, log-rank p {s['logrank_p']:.3g}"
        for note in applied.notes:
            print(f"omicsgat prognosis: note: {note}", file=sys.stderr)
        print(f"omicsgat prognosis: {text}; results in {args.out}", file=sys.stderr)
    return 0


def _run(args, omics, times, device, scheduler) -> int:
    from omicsgat.io import read_cohort
    from omicsgat.prognosis import GeneAttentionSurvival, run_prognosis

    cohort = read_cohort(
        omics,
        args.clinical,
        time_col=args.time,
        event_col=args.event,
        transpose={n: n in args.transpose for n in omics},
        event_map=parse_event_map(args.event_map),
    )
    if not args.quiet:
        for w in cohort.report.warnings:
            print(f"omicsgat prognosis: warning: {w}", file=sys.stderr)
    from omicsgat.prognosis.fitter import resolve_wide

    cohort.time_unit = args.time_unit
    config = PrognosisConfig(
        folds=args.folds,
        ensemble=args.ensemble,
        epochs=args.epochs,
        groups=args.groups,
        top_k=args.top_k,
        max_features=args.max_features or None,
        elastic_net=resolve_wide(args.wide, args.elastic_net) == "blend",
        seed=args.seed,
    )
    options = config.model_options()
    with TerminalProgress(args.quiet, "prognosis") as bar:
        result = run_prognosis(
            cohort,
            folds=config.folds,
            ensemble=config.ensemble,
            epochs=config.epochs,
            groups=config.groups,
            top_k=config.top_k,
            device=device,
            seed=config.seed,
            progress=bar,
            times=times,
            model_options=options,
            scheduler=scheduler,
        )
    result.save(args.out)
    if args.save_model:
        model = GeneAttentionSurvival(**options, epochs=config.epochs, device=device, seed=config.seed).fit(cohort)
        s = result.summary
        model.annotate_card(
            parameters=config.as_dict(),
            metrics={
                "c_index_out_of_fold": s["c_index"],
                "c_index_sd": s["c_index_sd"],
                "c_index_uno": s["c_index_uno"],
                "integrated_brier_score": s["integrated_brier_score"],
                "computed_on": f"{args.folds}-fold cross-validation of {args.ensemble}-model "
                "ensembles (the saved model is trained on every sample)",
            },
            training={"time_col": args.time, "event_col": args.event},
        )
        model.save(args.save_model)
    if not args.quiet:
        s = result.summary
        print(
            f"omicsgat prognosis: C-index {s['c_index']:.3f} ± {s['c_index_sd']:.3f} (training {s['train_c_index']:.3f}), "
            f"log-rank p {s['logrank_p']:.3g}, HR {s['hazard_ratio']:.2f}; results in {args.out}",
            file=sys.stderr,
        )
        parts = {k: v for k, v in s.get("c_index_parts", {}).items() if v is not None}
        if parts:
            print(
                "omicsgat prognosis: risk = "
                + s["risk_model"]
                + "; out-of-fold C-index of each part: "
                + ", ".join(f"{k.replace('_', ' ')} {v:.3f}" for k, v in parts.items()),
                file=sys.stderr,
            )
    return 0
