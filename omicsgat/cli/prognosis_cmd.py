"""``omicsgat prognosis``: cross-validated multi-omics survival model, risk groups and Kaplan–Meier curves.

Writes DIR/risk.tsv (sample, risk, group, fold, time, event), DIR/genes_<NAME>.tsv
(feature, attention, rank, topk_frequency, cox_hr, cox_p, cox_fdr), DIR/folds.tsv,
DIR/summary.json and DIR/km.png, km.svg, km.pdf.
"""

from __future__ import annotations

import sys

from omicsgat.cli._common import add_event_map_option, add_run_options


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
    p.add_argument("--omics", action="append", required=True, metavar="NAME=FILE",
                   help="an omics table (csv/tsv/txt/parquet); repeat for several modalities, e.g. --omics mRNA=rna.csv")
    p.add_argument("--clinical", required=True, metavar="FILE", help="clinical table with the time and event columns")
    p.add_argument("--time", required=True, metavar="COLUMN", help="survival time column (numbers >= 0)")
    p.add_argument("--event", required=True, metavar="COLUMN", help="event column (1/0, dead/alive, ...)")
    p.add_argument("--out", required=True, metavar="DIR", help="folder for risk.tsv, genes_<NAME>.tsv, summary.json, km.png/svg/pdf")
    add_event_map_option(p)
    p.add_argument("--folds", type=int, default=5, metavar="K", help="outer cross-validation folds (default 5)")
    p.add_argument("--ensemble", type=int, default=5, metavar="M", help="models per fold, averaged (default 5)")
    p.add_argument("--groups", type=_groups, default="median", metavar="median|tertiles|FLOAT",
                   help="risk groups: median split (default), tertiles, or high above a risk cut-off "
                   "(risks are standardised on the training folds: 0 = average, 1 = one SD above)")
    p.add_argument("--epochs", type=int, default=300, metavar="N", help="maximum training epochs per model (default 300)")
    p.add_argument("--top-k", type=int, default=20, metavar="K", help="top-k for gene stability and univariate Cox (default 20)")
    p.add_argument("--max-features", type=int, default=2000, metavar="N",
                   help="features kept per modality in each fold, half by variance and half by univariate Cox "
                        "score on the training samples (default 2000; 0 = all)")
    p.add_argument("--wide", choices=["blend", "learned"], default="blend",
                   help="blend (default): average each trained network's log-risk with an elastic-net Cox fit on the "
                        "same training samples (penalty by inner 5-fold CV); learned: the network alone")
    p.add_argument("--times", metavar="T1,T2,...", help="time points for the time-dependent AUC and Brier score "
                   "(default: quartiles of the event times)")
    p.add_argument("--transpose", action="append", default=[], metavar="NAME", help="the table NAME has features as rows")
    p.add_argument("--save-model", metavar="FOLDER", help="also train one model on all samples and save it "
                   "(FOLDER/model.safetensors + FOLDER/model.json)")
    add_run_options(p)
    p.set_defaults(func=run)


def _parse_omics(items) -> dict:
    from omicsgat.errors import OmicsInputError

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
    from omicsgat.cli._common import TerminalProgress, announce_device, parse_event_map
    from omicsgat.errors import OmicsInputError
    from omicsgat.io import read_cohort
    from omicsgat.prognosis import GeneAttentionSurvival, run_prognosis

    omics = _parse_omics(args.omics)
    unknown = set(args.transpose) - set(omics)
    if unknown:
        raise OmicsInputError(f"--transpose names {sorted(unknown)}, which is not an --omics name ({', '.join(omics)}).")
    times = None
    if args.times:
        try:
            times = [float(t) for t in args.times.split(",") if t.strip()]
        except ValueError:
            raise OmicsInputError(f"--times {args.times!r}: give numbers separated by commas, e.g. 12,36,60") from None
    device = announce_device(args)
    cohort = read_cohort(omics, args.clinical, time_col=args.time, event_col=args.event,
                         transpose={n: n in args.transpose for n in omics}, event_map=parse_event_map(args.event_map))
    if not args.quiet:
        for w in cohort.report.warnings:
            print(f"omicsgat prognosis: warning: {w}", file=sys.stderr)
    options = {"max_features": args.max_features or None, "wide": args.wide}
    with TerminalProgress(args.quiet, "prognosis") as bar:
        result = run_prognosis(cohort, folds=args.folds, ensemble=args.ensemble, epochs=args.epochs, groups=args.groups,
                               top_k=args.top_k, device=device, seed=args.seed, progress=bar, times=times,
                               model_options=options)
    result.save(args.out)
    if args.save_model:
        GeneAttentionSurvival(**options, epochs=args.epochs, device=device, seed=args.seed).fit(cohort).save(args.save_model)
    if not args.quiet:
        s = result.summary
        print(f"omicsgat prognosis: C-index {s['c_index']:.3f} ± {s['c_index_sd']:.3f} (training {s['train_c_index']:.3f}), "
              f"log-rank p {s['logrank_p']:.3g}, HR {s['hazard_ratio']:.2f}; results in {args.out}", file=sys.stderr)
    return 0
