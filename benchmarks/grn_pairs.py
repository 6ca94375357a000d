"""Regulator pairs (which regulators act together) against the Boolean rules the BEELINE data were simulated from.

Truth: for a target t with rule f and two of its inputs a, b (neither of them t itself, which no method sees as
its own input), ``I(a, b) = f(1,1) - f(1,0) - f(0,1) + f(0,0)`` averaged over every assignment of t's other
inputs; I != 0 is an interacting pair, its sign the logic (> 0: both needed; < 0: either enough).
Scored end to end: for every target with a rule, every unordered pair of the other genes is a candidate (pairs a
method leaves out score 0); AUPRC ratio of |score| for interacting pairs (pooled over the targets of a data
set), and the share of interacting pairs that a method scores whose sign is right (with ``coverage``, the share
of interacting pairs it scores at all). Rows: GSD, HSC and the synthetic topologies apart; OmicsGAT with and
without the folder's pseudotime apart; medians over the data sets of a family.

Methods, all in this run on the same ``ExpressionData.csv``:

* ``OmicsGAT pairs`` -- :func:`omicsgat.grn.pairs.pair_table` (the model's four-corner contrast x stability),
  through ``infer_grn(..., pairs=True)`` as a user runs it;
* ``co-expression contrast`` -- the same 2 x 2 contrast of the target's mean over below / above median a and b,
  every pair of genes, no model;
* ``linear model with a*b`` -- per target and pair, OLS of the z-scored target on a, b and a*b: the a*b
  coefficient; and, as a diagnostic, the same on the rank-Gaussian scale the model is fitted on.

``python -m benchmarks grn_pairs [--rules DIR] [--curated DIR] [--synthetic DIR] [--replicates 0,1] [--quick]``
(defaults ``../shared/beeline/{rules,curated,synthetic}`` next to the repository; ``--quick``: replicate 0 and
no dropout only). ``python -m benchmarks grn_pairs --cost [--cells N]``: instead, the share of a default GRN run
at 2,000 genes (``benchmarks.grn_scale``'s simulation, 200 regulators) that the pair table adds. The Boolean-rule parser lives here only: the product never reads rules.
"""

from __future__ import annotations

import itertools
import os
import re
import time
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks._common import Table, measure

_REPO = Path(__file__).resolve().parents[1]
_SHARED = next(
    (p for p in (_REPO.parent / "shared", _REPO.parent.parent / "shared") if p.is_dir()), _REPO.parent / "shared"
)
RULE_FILES = {
    "GSD": "GSD.txt",
    "HSC": "HSC.txt",
    "dyn-LI": "dyn-linear.txt",
    "dyn-LL": "dyn-linear-long.txt",
    "dyn-CY": "dyn-cycle.txt",
    "dyn-BF": "dyn-bifurcating.txt",
    "dyn-BFC": "dyn-bifurcating-converging.txt",
    "dyn-TF": "dyn-trifurcating.txt",
}


# --- Boolean rules (benchmark only) ------------------------------------------------------------------------------

_TOKEN = re.compile(r"\s*(\(|\)|[A-Za-z0-9_.\-]+)")


def parse_rule(text: str):
    """A BoolODE rule (names, ``and``, ``or``, ``not``, parentheses) as a nested tuple tree."""
    tokens = [t for t in _TOKEN.findall(text) if t]
    pos = 0

    def peek():
        return tokens[pos] if pos < len(tokens) else None

    def take(expected=None):
        nonlocal pos
        tok = peek()
        if tok is None or (expected is not None and tok != expected):
            raise ValueError(f"rule {text!r}: expected {expected or 'a term'} at token {pos}, got {tok!r}")
        pos += 1
        return tok

    def expr():
        node = term()
        while peek() == "or":
            take()
            node = ("or", node, term())
        return node

    def term():
        node = factor()
        while peek() == "and":
            take()
            node = ("and", node, factor())
        return node

    def factor():
        tok = peek()
        if tok == "not":
            take()
            return ("not", factor())
        if tok == "(":
            take()
            node = expr()
            take(")")
            return node
        return ("var", take())

    tree = expr()
    if pos != len(tokens):
        raise ValueError(f"rule {text!r}: unexpected {tokens[pos]!r}")
    return tree


def rule_inputs(tree) -> list[str]:
    if tree[0] == "var":
        return [tree[1]]
    return sorted(set(itertools.chain.from_iterable(rule_inputs(t) for t in tree[1:])))


def evaluate_rule(tree, state: dict) -> bool:
    kind = tree[0]
    if kind == "var":
        return bool(state[tree[1]])
    if kind == "not":
        return not evaluate_rule(tree[1], state)
    left, right = evaluate_rule(tree[1], state), evaluate_rule(tree[2], state)
    return (left and right) if kind == "and" else (left or right)


def read_rules(path: Path) -> dict:
    frame = pd.read_csv(path, sep="\t", dtype=str)
    return {str(g).strip(): parse_rule(str(r)) for g, r in zip(frame.iloc[:, 0], frame.iloc[:, 1])}


def interaction_truth(rules: dict) -> pd.DataFrame:
    """target, a, b (a < b), I: the rule's interaction contrast averaged over the target's other inputs."""
    rows = []
    for target, tree in rules.items():
        inputs = rule_inputs(tree)
        for a, b in itertools.combinations([g for g in inputs if g != target], 2):
            others = [g for g in inputs if g not in (a, b)]
            total = 0.0
            for assignment in itertools.product((0, 1), repeat=len(others)):
                state = dict(zip(others, assignment))
                f = {(x, y): evaluate_rule(tree, {**state, a: x, b: y}) for x in (0, 1) for y in (0, 1)}
                total += f[1, 1] - f[1, 0] - f[0, 1] + f[0, 0]
            a_, b_ = sorted((a, b))
            rows.append((target, a_, b_, total / 2 ** len(others)))
    return pd.DataFrame(rows, columns=["target", "a", "b", "I"])


# --- baselines (no model) ----------------------------------------------------------------------------------------


def coexpression_contrast(X: np.ndarray, genes: list, targets: list) -> pd.DataFrame:
    """The target's (z-scored) mean in the 2 x 2 grid of below / above median a and b: hh - hl - lh + ll."""
    H = (X > np.median(X, axis=0)).astype(float)
    L = 1.0 - H
    Z = (X - X.mean(0)) / np.maximum(X.std(0), 1e-9)
    index = {g: i for i, g in enumerate(genes)}
    rows = []
    for t in targets:
        y = Z[:, index[t]]
        grid = {}
        for (ka, A), (kb, B) in itertools.product((("h", H), ("l", L)), repeat=2):
            n = A.T @ B
            with np.errstate(invalid="ignore", divide="ignore"):
                grid[ka + kb] = np.where(n > 0, (A * y[:, None]).T @ B / np.maximum(n, 1), np.nan)
        contrast = np.nan_to_num(grid["hh"] - grid["hl"] - grid["lh"] + grid["ll"])
        rows += _pair_rows(t, genes, contrast)
    return pd.DataFrame(rows, columns=["target", "a", "b", "score"])


def linear_product(X: np.ndarray, genes: list, targets: list) -> pd.DataFrame:
    """Per target and pair: OLS of the z-scored target on z(a), z(b), z(a) z(b); the product's coefficient."""
    Z = (X - X.mean(0)) / np.maximum(X.std(0), 1e-9)
    return _product_coefficients(Z, genes, targets)


def linear_product_rank_gaussian(X: np.ndarray, genes: list, targets: list) -> pd.DataFrame:
    """Diagnostic: the same a*b fit with every gene first mapped to the rank-Gaussian scale the OmicsGAT model is
    fitted on (per cell, no metacells). An interaction's sign is not invariant to a monotone transform of the
    target, so this row separates what the scale does from what the model does."""
    from scipy.stats import norm, rankdata

    R = norm.ppf((rankdata(X, axis=0) - 0.5) / len(X))
    return _product_coefficients((R - R.mean(0)) / np.maximum(R.std(0), 1e-9), genes, targets)


def _product_coefficients(Z: np.ndarray, genes: list, targets: list) -> pd.DataFrame:
    index = {g: i for i, g in enumerate(genes)}
    n = len(genes)
    rows = []
    for t in targets:
        y = Z[:, index[t]]
        coef = np.zeros((n, n))
        for i, j in itertools.combinations(range(n), 2):
            design = np.column_stack([np.ones(len(y)), Z[:, i], Z[:, j], Z[:, i] * Z[:, j]])
            coef[i, j] = coef[j, i] = np.linalg.lstsq(design, y, rcond=None)[0][3]
        rows += _pair_rows(t, genes, coef)
    return pd.DataFrame(rows, columns=["target", "a", "b", "score"])


def _pair_rows(target: str, genes: list, matrix: np.ndarray) -> list:
    return [
        (target, *sorted((genes[i], genes[j])), float(matrix[i, j]))
        for i, j in itertools.combinations(range(len(genes)), 2)
        if target not in (genes[i], genes[j])
    ]


# --- scoring -----------------------------------------------------------------------------------------------------


def score_pairs(scored: pd.DataFrame, truth: pd.DataFrame, genes: list) -> dict:
    """End-to-end metrics over all pairs of the other genes for every target with a rule."""
    from sklearn.metrics import average_precision_score

    true_i = {(t, a, b): i for t, a, b, i in truth[["target", "a", "b", "I"]].itertuples(index=False)}
    got = {}
    for t, a, b, s in scored[["target", "a", "b", "score"]].itertuples(index=False):
        a, b = sorted((a, b))
        got[(t, a, b)] = float(s)
    y, s, signs = [], [], []
    for t in sorted(set(truth["target"]) & set(genes)):
        for a, b in itertools.combinations(sorted(g for g in genes if g != t), 2):
            i = true_i.get((t, a, b), 0.0)
            v = got.get((t, a, b), 0.0)
            y.append(i != 0)
            s.append(abs(v))
            if i != 0:
                signs.append((np.sign(v), np.sign(i)))
    y, s = np.asarray(y), np.asarray(s)
    prevalence = y.mean() if len(y) else float("nan")
    ap = float(average_precision_score(y, s)) if 0 < y.sum() < len(y) else float("nan")
    scored_signs = [(v, i) for v, i in signs if v != 0]
    return {
        "AUPRC_ratio": ap / prevalence,
        "sign_right": float(np.mean([v == i for v, i in scored_signs])) if scored_signs else float("nan"),
        "coverage": len(scored_signs) / max(1, len(signs)),
        "n_interacting": int(y.sum()),
        "n_candidates": len(y),
    }


def sign_on(scored: pd.DataFrame, truth: pd.DataFrame, keys: set) -> float:
    """Share of right signs on the interacting pairs in ``keys`` (another method's pairs)."""
    true_i = {(t, a, b): i for t, a, b, i in truth[["target", "a", "b", "I"]].itertuples(index=False)}
    got = {(t, *sorted((a, b))): s for t, a, b, s in scored[["target", "a", "b", "score"]].itertuples(index=False)}
    right = [np.sign(got.get(k, 0.0)) == np.sign(true_i[k]) for k in keys if true_i.get(k, 0.0) != 0]
    return float(np.mean(right)) if right else float("nan")


def additivity_by_scale(expression: np.ndarray, pairs: pd.DataFrame, bins: int = 4, seed: int = 0) -> pd.DataFrame:
    """Per target, how much of its held-out variance needs the pairs' interactions, with the target on its
    expression scale and on the rank-Gaussian scale the model is fitted on.

    The sign of an interaction contrast depends on the target's scale. The scale on which the target's response
    is the most additive (the smallest gain in held-out R² from adding every pair's interaction to the main
    effects) is the one whose contrasts are the least made of scale. Each regulator enters as steps between its
    quantile bins, each pair as the products of its two regulators' steps; two-fold cross-fitting over cells.
    Columns: t, r2_additive_<scale>, r2_pairs_<scale>, gap_<scale> for scale in expression, rank."""
    from omicsgat.grn.prepare import rank_gauss

    x = np.asarray(expression, dtype=np.float64)
    n_cells = len(x)
    ranked = rank_gauss(x)
    fold = np.random.default_rng(seed).permutation(n_cells) % 2
    rows = []
    for t, idx in pairs.groupby("t").indices.items():
        a_of, b_of = pairs["a"].to_numpy()[idx], pairs["b"].to_numpy()[idx]
        steps = {}
        for r in np.unique(np.concatenate([a_of, b_of])):
            edges = np.unique(np.quantile(ranked[:, r], np.linspace(0, 1, bins + 1)[1:-1]))
            code = np.searchsorted(edges, ranked[:, r], side="right")
            steps[r] = np.stack([(code == k) for k in range(1, len(edges) + 1)], axis=1).astype(np.float64)
        additive = np.concatenate([np.ones((n_cells, 1)), *steps.values()], axis=1)
        products = [(steps[a][:, :, None] * steps[b][:, None, :]).reshape(n_cells, -1) for a, b in zip(a_of, b_of)]
        full = np.concatenate([additive, *products], axis=1)
        row = {"t": int(t)}
        for scale, y in (("expression", x[:, t]), ("rank", ranked[:, t].astype(np.float64))):
            y = (y - y.mean()) / max(y.std(), 1e-12)
            for name, design in (("additive", additive), ("pairs", full)):
                sse = sst = 0.0
                for k in (0, 1):
                    train, test = fold != k, fold == k
                    beta = np.linalg.lstsq(design[train], y[train], rcond=None)[0]
                    sse += float(np.sum((y[test] - design[test] @ beta) ** 2))
                    sst += float(np.sum((y[test] - y[train].mean()) ** 2))
                row[f"r2_{name}_{scale}"] = 1.0 - sse / max(sst, 1e-12)
            row[f"gap_{scale}"] = row[f"r2_pairs_{scale}"] - row[f"r2_additive_{scale}"]
        rows.append(row)
    return pd.DataFrame(rows)


def corners_on_expression_scale(preds: np.ndarray, targets: np.ndarray, expression: np.ndarray) -> np.ndarray:
    """Corner predictions (restarts, pairs, 4) mapped from the rank-Gaussian scale back to each target's expression
    (through its quantiles over the cells), in units of the target's expression standard deviation."""
    from scipy.stats import norm

    x = np.asarray(expression, dtype=np.float64)
    probs = np.linspace(0.0, 1.0, 201)
    quantiles = np.quantile(x, probs, axis=0)
    mapped = np.stack([np.interp(norm.cdf(preds[:, i]), probs, quantiles[:, t]) for i, t in enumerate(targets)], axis=1)
    return mapped / np.maximum(x.std(0)[targets], 1e-9)[None, :, None]


def expression_scale(result, adata) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The same corner predictions with the target mapped back from the model's rank-Gaussian scale to its
    log-normalized expression, then the same contrast x stability (diagnostic: the sign of an interaction
    contrast is not invariant to a monotone transform of the target); and the pair table read per target on the
    scale chosen by held-out additivity (:func:`additivity_by_scale`), with the choices."""
    from omicsgat.grn.pairs import PairSettings, corner_predictions, top_pairs
    from omicsgat.pp import log_normalized

    genes = list(result.model.genes)
    log = log_normalized(adata)[:, genes].X
    log = np.asarray(log.toarray() if hasattr(log, "toarray") else log, dtype=float)
    settings = PairSettings()
    pairs = top_pairs(result.edges, genes, settings.top_regulators)
    preds = corner_predictions(result.model, pairs, settings)
    t = pairs["t"].to_numpy()
    names = np.asarray(genes, dtype=object)

    def read(corners):
        per_restart = corners[..., 3] - corners[..., 2] - corners[..., 1] + corners[..., 0]
        mean = per_restart.mean(0)
        return mean * np.abs(mean) / np.maximum(np.abs(per_restart).mean(0), 1e-12)

    on_expression, on_rank = read(corners_on_expression_scale(preds, t, log)), read(preds)
    fits = additivity_by_scale(log, pairs, seed=settings.seed)
    use_expression = set(fits.loc[fits["gap_expression"] < fits["gap_rank"], "t"])
    chosen = np.where(np.isin(t, list(use_expression)), on_expression, on_rank)
    frame = pd.DataFrame({"target": names[t], "a": names[pairs["a"]], "b": names[pairs["b"]]})
    fits["target"] = names[fits["t"]]
    return frame.assign(score=on_expression), frame.assign(score=chosen), fits


def significance_ranked(pairs: pd.DataFrame) -> pd.DataFrame:
    """The table ranked by evidence rather than magnitude: the model's sign x stability x the data check's z."""
    from scipy.stats import norm

    z = norm.isf(np.clip(pairs["p"].to_numpy(dtype=float), 1e-300, 1.0) / 2.0)
    return pairs.assign(score=np.sign(pairs["score"]) * pairs["stability"] * z)


def _omicsgat(adata, pseudotime: bool):
    from omicsgat.grn import infer_grn

    cols = list(adata.uns.get("beeline_pseudotime", [])) if pseudotime else None
    res = infer_grn(
        adata,
        genes=adata.n_vars,
        regulators=None,
        top_k=None,
        device="cpu",
        seed=0,
        pseudotime=cols or None,
        pairs=True,
    )
    return res


def datasets(curated: Path, synthetic: Path, replicates, quick: bool):
    out = []
    for root, family in ((curated, "curated"), (synthetic, "synthetic")):
        if not root.is_dir():
            continue
        for folder in sorted(root.iterdir()):
            m = re.fullmatch(r"(.+?)_(\d+)(_50)?", folder.name)
            if not m or m.group(1) not in RULE_FILES:
                continue
            rep, dropout = int(m.group(2)), m.group(3) is not None
            if (replicates and rep not in replicates) or (quick and (rep != 0 or dropout)):
                continue
            out.append((family, m.group(1), rep, dropout, folder))
    return sorted(out, key=lambda d: (d[2], d[3], d[0], d[1]))


def main(quick: bool = False, argv: list[str] | None = None) -> Table | None:
    from omicsgat.io.beeline import read_beeline

    argv = list(argv or [])
    if "--cost" in argv:
        return cost(
            int(argv[argv.index("--cells") + 1]) if "--cells" in argv else 10000,
            epochs=int(argv[argv.index("--epochs") + 1]) if "--epochs" in argv else None,
        )

    def opt(name, default):
        return Path(argv[argv.index(name) + 1]) if name in argv else default

    rules_dir = opt("--rules", _SHARED / "beeline" / "rules")
    curated, synthetic = (
        opt("--curated", _SHARED / "beeline" / "curated"),
        opt("--synthetic", _SHARED / "beeline" / "synthetic"),
    )
    reps = {int(r) for r in argv[argv.index("--replicates") + 1].split(",")} if "--replicates" in argv else None
    if not rules_dir.is_dir():
        print(f"[grn_pairs] skipped: no rules folder {rules_dir} (give --rules DIR)")
        return None
    truths = {
        name: interaction_truth(read_rules(rules_dir / f))
        for name, f in RULE_FILES.items()
        if (rules_dir / f).is_file()
    }
    sets = datasets(curated, synthetic, reps, quick)
    records: list = []
    start = time.time()
    table = Table("grn_pairs")
    meta = {
        "quick": quick,
        "rules": str(rules_dir),
        "curated": str(curated),
        "synthetic": str(synthetic),
        "note": "2 CPU cores shared with other engineers' jobs: seconds are inflated by contention",
    }
    for family, model_name, rep, dropout, folder in sets:
        adata = read_beeline(folder)
        truth = truths[model_name]
        genes = list(adata.var_names)
        X = np.asarray(adata.X, dtype=np.float64)
        targets = sorted(set(truth["target"]) & set(genes))
        base = {"family": family, "model": model_name, "replicate": rep, "dropout": dropout, "load": os.getloadavg()[0]}
        found = {}
        for pt in (False, True):
            if pt and "beeline_pseudotime" not in adata.uns:
                continue
            run = measure(lambda adata=adata, pt=pt: _omicsgat(adata, pt))
            pairs = run.value.pairs.rename(columns={"regulator_a": "a", "regulator_b": "b"})
            name = f"OmicsGAT pairs ({'pseudotime' if pt else 'no pseudotime'})"
            found[name] = pairs
            info = run.value.params["pairs"]
            records.append(
                {
                    **base,
                    "method": name,
                    **score_pairs(pairs, truth, genes),
                    "called_sign_right": _called_sign(pairs, truth),
                    "seconds": run.seconds,
                    "pairs_seconds": info.get("seconds"),
                    "pairs_share": info.get("seconds", 0) / run.seconds,
                }
            )
            scaled, chosen, fits = expression_scale(run.value, adata)
            for label, frame, extra in (
                ("target on the expression scale (diagnostic)", scaled, {}),
                (
                    "scale per target by held-out additivity (diagnostic)",
                    chosen,
                    {"share_expression_scale": float(np.mean(fits["gap_expression"] < fits["gap_rank"]))},
                ),
                ("ranked by significance (diagnostic)", significance_ranked(pairs), {}),
            ):
                records.append(
                    {
                        **base,
                        "method": name.replace("pairs", f"pairs, {label}"),
                        **score_pairs(frame, truth, genes),
                        **extra,
                    }
                )
        for name, fn in (
            ("co-expression contrast", coexpression_contrast),
            ("linear model with a*b", linear_product),
            ("linear model with a*b, rank-Gaussian scale (diagnostic)", linear_product_rank_gaussian),
        ):
            run = measure(lambda fn=fn, X=X, genes=genes, targets=targets: fn(X, genes, targets))
            row = {**base, "method": name, **score_pairs(run.value, truth, genes), "seconds": run.seconds}
            keys = found.get("OmicsGAT pairs (no pseudotime)")
            if keys is not None:
                row["sign_right_on_omicsgat_pairs"] = sign_on(
                    run.value,
                    truth,
                    {(t, *sorted((a, b))) for t, a, b in keys[["target", "a", "b"]].itertuples(index=False)},
                )
            records.append(row)
        print(f"  {folder.name} done ({time.time() - start:.0f} s)", flush=True)
        _fill(table, records, meta, partial=True)
    meta["minutes"] = round((time.time() - start) / 60, 1)
    _fill(table, records, meta, partial=False)
    print(table.to_markdown())
    return table


def _called_sign(pairs: pd.DataFrame, truth: pd.DataFrame) -> float:
    """Right signs among the interacting pairs the table calls (logic other than "independent")."""
    called = pairs[pairs["logic"] != "independent"]
    keys = {(t, *sorted((a, b))) for t, a, b in called[["target", "a", "b"]].itertuples(index=False)}
    return sign_on(called, truth, keys)


def _fill(table: Table, records: list, meta: dict, partial: bool) -> None:
    table.rows.clear()
    frame = pd.DataFrame(records)
    frame = frame[frame["n_interacting"] > 0]  # LI, LL, CY: every target has one input besides itself, no pair
    groups = [
        ("GSD", frame["model"] == "GSD"),
        ("HSC", frame["model"] == "HSC"),
        ("synthetic", frame["family"] == "synthetic"),
    ]
    for label, mask in groups:
        for method in pd.unique(frame["method"]):
            rows = frame[mask & (frame["method"] == method)]
            if rows.empty:
                continue
            med = {c: float(rows[c].median()) for c in ("AUPRC_ratio", "sign_right", "coverage", "seconds")}
            extra = {
                c: float(rows[c].median())
                for c in ("called_sign_right", "sign_right_on_omicsgat_pairs", "pairs_share", "share_expression_scale")
                if c in rows and rows[c].notna().any()
            }
            table.add(
                data=label,
                method=method,
                n=len(rows),
                **med,
                **extra,
                AUPRC_ratio_no_dropout=float(rows[~rows["dropout"]]["AUPRC_ratio"].median()),
                AUPRC_ratio_dropout=float(rows[rows["dropout"]]["AUPRC_ratio"].median())
                if rows["dropout"].any()
                else float("nan"),
            )
    table.save({**meta, "partial": partial, "per_dataset": records})


def cost(n_cells: int = 10000, n_genes: int = 2000, epochs: int | None = None) -> Table:
    """Seconds of one default run at ``n_genes`` genes with the pair table, and the share the table took.

    ``epochs`` (default: the run's default): fewer epochs time the pair table at full size in a fraction of the
    run (its cost does not depend on the epochs); the share is then against a default run timed elsewhere."""
    from benchmarks.grn_scale import independent_simulation
    from omicsgat.grn import infer_grn

    adata, _ = independent_simulation(n_cells=n_cells, n_genes=n_genes, n_regulators=200)
    regulators = (
        list(adata.var_names[:200])
        if "is_regulator" not in adata.var
        else list(adata.var_names[adata.var["is_regulator"].to_numpy()])
    )
    table = Table("grn_pairs_cost")
    extra = {} if epochs is None else {"epochs": epochs}
    run = measure(
        lambda: infer_grn(adata, genes=n_genes, regulators=regulators, device="cpu", seed=0, pairs=True, **extra)
    )
    info = run.value.params["pairs"]
    table.add(
        cells=n_cells,
        genes=n_genes,
        epochs=epochs or "default",
        run_seconds=run.seconds,
        pairs_seconds=info["seconds"],
        pairs_share_of_run=info["seconds"] / (run.seconds - info["seconds"]),
        n_pairs=info["n_pairs"],
        peak_MB=run.peak_mb,
        load=os.getloadavg()[0],
    )
    table.save(
        {
            "note": "2 CPU cores shared with other engineers' jobs: seconds inflated by contention, the share less so",
            "auto_max_genes": __import__("omicsgat.grn.pairs", fromlist=["x"]).AUTO_MAX_GENES,
        }
    )
    print(table.to_markdown())
    return table
