"""Simulated data with planted truth, for tests, benchmarks and demos.

* :func:`simulate_scrna` — scRNA-seq counts generated from a known sparse gene
  regulatory network. Cell types are defined by the states of master
  regulators; targets respond to their regulators through Hill functions
  (activating or repressing); counts are Poisson draws around the resulting
  means with library-size variation, optional batch effects and dropout. Each
  cell type also gets a few planted marker genes outside the network.
* :func:`simulate_label_transfer` — a labelled reference and a query that
  holds one cell type the reference lacks (far from the known types, near
  one, or a sub-type of one), with a batch effect, partial gene overlap, a
  rare type or a small reference: the scenarios for Unknown calls.
* :func:`simulate_survival_cohort` — a multi-omics cohort (mRNA, miRNA,
  methylation, ...) with a few planted prognostic features per table, shared
  latent structure between tables, and censored Weibull survival times.

Both are seeded: the same arguments give the same data.
"""

from __future__ import annotations

from typing import Dict, Optional

import numpy as np
import pandas as pd

from omicsgat.errors import OmicsInputError
from omicsgat.io.multiomics import MultiOmics
from omicsgat.io.report import LoadReport

SIM_KEY = "simulation"


def _hill(x: np.ndarray, k: np.ndarray, n: float) -> np.ndarray:
    xn = np.power(np.maximum(x, 0.0), n)
    return xn / (np.power(k, n) + xn)


def simulate_scrna(
    n_cells: int = 1000,
    n_genes: int = 200,
    n_regulators: int = 20,
    n_cell_types: int = 4,
    regulators_per_target: int = 2,
    n_markers_per_type: int = 5,
    n_batches: int = 1,
    batch_effect: float = 0.0,
    dropout: float = 0.1,
    library_size: float = 3000.0,
    hill_n: float = 2.0,
    noise: float = 0.25,
    seed: int = 0,
):
    """Simulate scRNA-seq counts from a planted regulatory network.

    Genes are ordered: regulators first (``REG000``...), then network targets
    (``GENE0000``...), then marker genes (``MARK_<type>_<i>``). Half of the
    regulators (the masters) carry the cell-type state; the others are targets
    of masters themselves, so the network has two layers.

    Returns
    -------
    AnnData
        ``X``: raw counts (CSR, float32). ``obs``: ``cell_type``, ``batch``,
        ``library_size``. ``var``: ``is_regulator``, ``is_master``,
        ``marker_of`` (type name or ""). ``uns["simulation"]["grn"]``: the true
        edges as columns ``regulator``, ``target``, ``sign`` (+1 activating,
        -1 repressing); read them back with :func:`true_network`.
    """
    import anndata as ad
    import scipy.sparse as sp

    n_markers = n_markers_per_type * n_cell_types
    n_targets = n_genes - n_regulators - n_markers
    if n_cells < 10 or n_regulators < 2 or n_targets < 1 or n_cell_types < 1:
        raise OmicsInputError(
            f"simulate_scrna needs n_cells >= 10, n_regulators >= 2 and n_genes > n_regulators + "
            f"n_markers_per_type * n_cell_types (got n_genes={n_genes}, n_regulators={n_regulators}, "
            f"markers={n_markers})."
        )
    rng = np.random.default_rng(seed)
    n_master = max(1, n_regulators // 2)
    reg_names = [f"REG{i:03d}" for i in range(n_regulators)]
    target_names = [f"GENE{i:04d}" for i in range(n_targets)]
    type_names = [f"type_{chr(65 + i)}" if i < 26 else f"type_{i}" for i in range(n_cell_types)]
    marker_names = [f"MARK_{t}_{j}" for t in type_names for j in range(n_markers_per_type)]

    # --- the network: masters -> secondary regulators -> targets ------------
    edges = []  # (regulator index, target gene index in full gene list, sign, weight, K)
    for r in range(n_master, n_regulators):
        parent = int(rng.integers(0, n_master))
        edges.append((parent, r, int(rng.choice([1, -1], p=[0.7, 0.3])), rng.uniform(0.8, 1.5), rng.uniform(0.5, 1.5)))
    for t in range(n_targets):
        k = int(min(n_regulators, max(1, rng.poisson(regulators_per_target - 1) + 1)))
        regs = rng.choice(n_regulators, size=k, replace=False)
        for r in regs:
            edges.append(
                (
                    int(r),
                    n_regulators + t,
                    int(rng.choice([1, -1], p=[0.7, 0.3])),
                    rng.uniform(0.8, 1.5),
                    rng.uniform(0.5, 1.5),
                )
            )

    # --- cell types = master-regulator states -------------------------------
    type_state = rng.uniform(0.1, 2.0, size=(n_cell_types, n_master))
    for c in range(n_cell_types):  # make each type's state distinct: a few masters high/low
        on = rng.choice(n_master, size=max(1, n_master // 3), replace=False)
        type_state[c, on] = rng.uniform(2.0, 3.0, size=len(on))
    cell_type = rng.integers(0, n_cell_types, size=n_cells)
    batch = rng.integers(0, max(1, n_batches), size=n_cells)

    level = np.zeros((n_cells, n_genes), dtype=np.float64)
    # masters: type state with continuous within-type variation (drives co-variation)
    level[:, :n_master] = type_state[cell_type] * rng.lognormal(0.0, 0.35, size=(n_cells, n_master))

    def respond(target_idx: int) -> np.ndarray:
        contrib = np.ones(n_cells)
        for r, _t, sign, w, k in edges_by_target.get(target_idx, []):
            h = _hill(level[:, r], k, hill_n)
            contrib *= (0.1 + w * h) if sign > 0 else (0.1 + w * (1.0 - h))
        return contrib

    edges_by_target: Dict[int, list] = {}
    for e in edges:
        edges_by_target.setdefault(e[1], []).append(e)
    for r in range(n_master, n_regulators):
        level[:, r] = 2.0 * respond(r) * rng.lognormal(0.0, noise, size=n_cells)
    for t in range(n_regulators, n_regulators + n_targets):
        level[:, t] = 2.0 * respond(t) * rng.lognormal(0.0, noise, size=n_cells)
    # marker genes: high in their type only
    for c in range(n_cell_types):
        cols = slice(
            n_regulators + n_targets + c * n_markers_per_type, n_regulators + n_targets + (c + 1) * n_markers_per_type
        )
        base = np.where(cell_type == c, 3.0, 0.05)[:, None]
        level[:, cols] = base * rng.lognormal(0.0, noise, size=(n_cells, n_markers_per_type))

    # --- counts ---------------------------------------------------------------
    gene_scale = rng.lognormal(0.0, 0.5, size=n_genes)
    if n_batches > 1 and batch_effect > 0:
        batch_scale = rng.lognormal(0.0, batch_effect, size=(n_batches, n_genes))
        mean = level * gene_scale * batch_scale[batch]
    else:
        mean = level * gene_scale
    mean = mean / mean.sum(axis=1, keepdims=True)
    lib = library_size * rng.lognormal(0.0, 0.3, size=n_cells)
    counts = rng.poisson(mean * lib[:, None]).astype(np.float32)
    if dropout > 0:
        # dropout is likelier for lowly expressed genes
        p_drop = dropout * np.exp(-0.1 * counts)
        counts[rng.random(counts.shape) < p_drop] = 0.0

    obs = pd.DataFrame(
        {
            "cell_type": pd.Categorical([type_names[c] for c in cell_type], categories=type_names),
            "batch": pd.Categorical([f"batch{b}" for b in batch]),
            "library_size": counts.sum(axis=1),
        },
        index=[f"cell{i:06d}" for i in range(n_cells)],
    )
    gene_names = reg_names + target_names + marker_names
    var = pd.DataFrame(
        {
            "is_regulator": [i < n_regulators for i in range(n_genes)],
            "is_master": [i < n_master for i in range(n_genes)],
            "marker_of": [""] * (n_regulators + n_targets) + [t for t in type_names for _ in range(n_markers_per_type)],
        },
        index=gene_names,
    )
    adata = ad.AnnData(X=sp.csr_matrix(counts), obs=obs, var=var)
    adata.uns[SIM_KEY] = {
        "grn": {
            "regulator": np.array([gene_names[e[0]] for e in edges], dtype=object),
            "target": np.array([gene_names[e[1]] for e in edges], dtype=object),
            "sign": np.array([e[2] for e in edges], dtype=np.int64),
        },
        "seed": seed,
        "x_kind": "counts",
    }
    return adata


ABSENT_KINDS = ("far", "near", "sibling")


def simulate_label_transfer(
    n_reference: int = 1500,
    n_query: int = 1500,
    n_genes: int = 500,
    n_types: int = 6,
    absent: str = "far",
    batch_effect: float = 0.0,
    gene_overlap: float = 1.0,
    rare: bool = False,
    dropout: float = 0.1,
    library_size: float = 2000.0,
    seed: int = 0,
):
    """A labelled reference and a query with one extra type (``"novel"``) that the reference lacks.

    Each type is a log-scale expression profile: 25 up- and 10 down-regulated
    genes over a shared baseline, plus two continuous gene programs that vary
    within every type. The absent type is ``"far"`` (its own markers), ``"near"``
    (half the markers of ``type_A`` plus 12 of its own) or ``"sibling"`` (all of
    ``type_A``'s markers plus 5 of its own: a sub-type). ``batch_effect`` is the
    SD of a per-gene log-fold shift of the query (0.3 moderate, 0.6 strong), with
    a 30 % smaller library size; ``gene_overlap`` keeps that share of the genes in
    the query; ``rare`` makes ``type_B`` 2 % of both data sets and the absent
    type 2 % of the query. Counts are Poisson with dropout.

    Returns ``(reference, query)``: AnnData with raw counts and ``obs["cell_type"]``
    (the query's holds the truth, ``"novel"`` included). Same arguments, same data.
    """
    import anndata as ad
    import scipy.sparse as sp

    if absent not in ABSENT_KINDS:
        raise OmicsInputError(f"absent must be one of {', '.join(ABSENT_KINDS)} (got {absent!r}).")
    if not 0.1 <= gene_overlap <= 1.0 or n_types < 2 or n_genes < 40 * (n_types + 1):
        raise OmicsInputError(
            "simulate_label_transfer needs 0.1 <= gene_overlap <= 1, n_types >= 2 and "
            f"n_genes >= 40 * (n_types + 1) (got {gene_overlap}, {n_types}, {n_genes})."
        )
    rng = np.random.default_rng(seed)
    base = rng.normal(0.0, 1.0, n_genes)

    def profile(n_up: int, n_down: int) -> np.ndarray:
        d = rng.normal(0.0, 0.1, n_genes)
        genes = rng.choice(n_genes, n_up + n_down, replace=False)
        d[genes[:n_up]] += rng.uniform(1.0, 2.5, n_up)
        d[genes[n_up:]] -= rng.uniform(0.5, 1.5, n_down)
        return d

    names = [f"type_{chr(65 + i)}" for i in range(n_types)]
    deltas = [profile(25, 10) for _ in range(n_types)]
    parent = deltas[0]
    if absent == "far":
        novel = profile(25, 10)
    elif absent == "near":
        novel = np.where(rng.random(n_genes) < 0.5, parent, 0.0) + profile(12, 0)
    else:
        novel = parent + profile(5, 0)  # the parent's markers and 5 of its own: a sub-type
    deltas.append(novel)
    programs = rng.normal(0.0, 0.6, (2, n_genes)) * (rng.random((2, n_genes)) < 0.1)

    def draw(n: int, shares: np.ndarray, batch: np.ndarray | None, lib: float):
        types = rng.choice(len(shares), size=n, p=shares / shares.sum())
        log_mean = base + np.asarray(deltas)[types] + rng.normal(0.0, 1.0, (n, 2)) @ programs
        log_mean += rng.normal(0.0, 0.15, (n, n_genes))
        if batch is not None:
            log_mean += batch
        mean = np.exp(log_mean)
        mean /= mean.sum(1, keepdims=True)
        counts = rng.poisson(mean * (lib * rng.lognormal(0.0, 0.3, n))[:, None]).astype(np.float32)
        if dropout > 0:
            counts[rng.random(counts.shape) < dropout * np.exp(-0.2 * counts)] = 0.0
        return counts, np.asarray(names + ["novel"], dtype=object)[types]

    shares = np.ones(n_types + 1)
    if rare:
        shares[1] = 0.02 * n_types / 0.98
    ref_shares = shares.copy()
    ref_shares[-1] = 0.0
    qry_shares = shares.copy()
    if rare:
        qry_shares[-1] = 0.02 * qry_shares[:-1].sum() / 0.98
    shift = rng.normal(0.0, batch_effect, n_genes) if batch_effect > 0 else None
    ref_counts, ref_types = draw(n_reference, ref_shares, None, library_size)
    qry_counts, qry_types = draw(n_query, qry_shares, shift, library_size * (0.7 if batch_effect > 0 else 1.0))
    genes = np.array([f"G{i:04d}" for i in range(n_genes)])
    keep = np.sort(rng.choice(n_genes, int(round(gene_overlap * n_genes)), replace=False))

    def make(counts, types, prefix, cols):
        obs = pd.DataFrame({"cell_type": pd.Categorical(types)}, index=[f"{prefix}{i:05d}" for i in range(len(types))])
        return ad.AnnData(X=sp.csr_matrix(counts[:, cols]), obs=obs, var=pd.DataFrame(index=genes[cols]))

    return make(ref_counts, ref_types, "ref", np.arange(n_genes)), make(qry_counts, qry_types, "qry", keep)


def true_network(adata) -> pd.DataFrame:
    """The planted edges of a simulated AnnData as a DataFrame (regulator, target, sign)."""
    try:
        grn = adata.uns[SIM_KEY]["grn"]
    except KeyError as exc:
        raise OmicsInputError("This AnnData has no planted network: uns['simulation']['grn'] is missing.") from exc
    return pd.DataFrame({k: np.asarray(grn[k]) for k in ("regulator", "target", "sign")})


def simulate_survival_cohort(
    n_samples: int = 300,
    n_features: Optional[Dict[str, int]] = None,
    n_prognostic: int = 5,
    n_latent: int = 5,
    censoring: float = 0.3,
    effect_size: float = 1.0,
    nonlinear: bool = False,
    missing_rate: float = 0.0,
    seed: int = 0,
):
    """Simulate a multi-omics survival cohort with planted prognostic features.

    Parameters
    ----------
    n_features
        Features per modality; default ``{"mRNA": 500, "miRNA": 100,
        "methylation": 300}``. mRNA and miRNA are log2 expression values,
        ``methylation`` (any name containing "meth") beta values in [0, 1].
    n_prognostic
        Planted prognostic features per modality (half raise risk, half lower it).
    censoring
        Target fraction of censored samples.
    nonlinear
        Add a squared term and an interaction to the true log-hazard.

    Returns
    -------
    MultiOmics
        Clinical columns ``OS_time`` (months) and ``OS_event`` (0/1), plus
        ``age`` and ``stage``. ``truth["prognostic"][modality]`` maps each
        planted feature to its log-hazard coefficient (per SD).
    """
    if n_features is None:
        n_features = {"mRNA": 500, "miRNA": 100, "methylation": 300}
    if any(n < n_prognostic for n in n_features.values()):
        raise OmicsInputError("Each modality needs at least n_prognostic features.")
    rng = np.random.default_rng(seed)
    samples = [f"S{i:04d}" for i in range(n_samples)]
    latent = rng.normal(size=(n_samples, n_latent))

    tables: Dict[str, pd.DataFrame] = {}
    prognostic: Dict[str, Dict[str, float]] = {}
    log_hazard = np.zeros(n_samples)
    z_cache = []
    for name, p in n_features.items():
        prefix = {"mrna": "g", "mirna": "miR-", "methylation": "cg"}.get(name.lower(), f"{name}_")
        feat_names = [f"{prefix}{i:05d}" for i in range(p)]
        loadings = rng.normal(0, 0.6, size=(n_latent, p)) * (rng.random((n_latent, p)) < 0.3)
        z = latent @ loadings + rng.normal(size=(n_samples, p))
        z = (z - z.mean(0)) / z.std(0)
        picks = rng.choice(p, size=n_prognostic, replace=False)
        coefs = (
            effect_size
            * rng.uniform(0.5, 1.0, size=n_prognostic)
            * np.where(np.arange(n_prognostic) % 2 == 0, 1.0, -1.0)
        )
        log_hazard += z[:, picks] @ coefs / np.sqrt(len(n_features))
        z_cache.append(z[:, picks])
        prognostic[name] = {feat_names[j]: float(c) for j, c in zip(picks, coefs)}
        if "meth" in name.lower():
            values = 1.0 / (1.0 + np.exp(-(z * 1.2 + rng.normal(0, 1.0, size=p))))
        else:
            values = 6.0 + 1.5 * z + rng.normal(0, 1.0, size=p)
        if missing_rate > 0:
            values = values.copy()
            values[rng.random(values.shape) < missing_rate] = np.nan
        tables[name] = pd.DataFrame(values, index=samples, columns=feat_names)
    if nonlinear:
        first = z_cache[0]
        log_hazard += 0.5 * (first[:, 0] ** 2 - 1.0)
        if first.shape[1] > 2:
            log_hazard += 0.5 * first[:, 1] * first[:, 2]

    shape, scale = 1.5, 60.0
    u = rng.random(n_samples)
    event_time = scale * (-np.log(u) / np.exp(log_hazard)) ** (1.0 / shape)
    # censoring: exponential times calibrated by bisection on the rate
    lo, hi = 1e-6, 10.0
    cens_u = rng.random(n_samples)
    for _ in range(60):
        rate = (lo + hi) / 2
        frac = np.mean(-np.log(cens_u) / rate * np.median(event_time) < event_time)
        lo, hi = (lo, rate) if frac > censoring else (rate, hi)
    censor_time = -np.log(cens_u) / ((lo + hi) / 2) * np.median(event_time)
    time = np.minimum(event_time, censor_time)
    event = (event_time <= censor_time).astype(int)
    clinical = pd.DataFrame(
        {
            "OS_time": np.round(np.maximum(time, 0.01), 3),
            "OS_event": event,
            "age": np.round(rng.normal(60, 10, size=n_samples), 0),
            "stage": rng.choice(["I", "II", "III", "IV"], size=n_samples),
        },
        index=pd.Index(samples, name="sample"),
    )
    for t in tables.values():
        t.index.name = "sample"
    report = LoadReport(source=f"simulate_survival_cohort(seed={seed})")
    return MultiOmics(
        tables=tables,
        clinical=clinical,
        time_col="OS_time",
        event_col="OS_event",
        report=report,
        truth={"prognostic": prognostic, "log_hazard": log_hazard},
    )
