"""``annotate_cells``: the user-facing cell-typing function, and the saved model."""

from __future__ import annotations

import json
from dataclasses import asdict, replace
from pathlib import Path
from typing import Optional

import numpy as np
import pandas as pd

from omicsgat.celltype.calls import apply_unknown, labels_frame
from omicsgat.celltype.clusters import cluster_cells, cluster_vote
from omicsgat.celltype.mapping import knn_graph
from omicsgat.celltype.novelty import (
    distance_novelty,
    mixing_novelty,
    neighbourhood_novelty,
    probability_novelty,
    probability_threshold,
)
from omicsgat.celltype.prepare import _check_genes, _pca, prepare, standardized_for
from omicsgat.celltype.result import CellTypeResult
from omicsgat.compute import one_thread
from omicsgat.config import UNKNOWN_RULES, CellTypeConfig  # noqa: F401 (UNKNOWN_RULES: re-exported)
from omicsgat.errors import OmicsInputError
from omicsgat.persist import SavedModel, read_tensors
from omicsgat.random import random_state_restored

LEGACY_FORMAT = "omicsgat-celltype-1"  # one .safetensors file, written by 0.1.0
MAX_DEFAULT_THRESHOLD = 0.2
_D = CellTypeConfig()
NEIGHBOURHOOD_QUANTILE, NEIGHBOURHOOD_DIMS = 1.0, 10  # the "neighbourhood" rule's cut-off quantile and PCs
CALIBRATION_QUANTILE = 0.01  # default Unknown threshold: this quantile of correct held-out confidences
NOVELTY_K = 10  # neighbours in the distance to the reference
CAL_FRACTION = 0.2  # labelled cells kept out of the distance index to calibrate the cut-off
CALIBRATION = "calibration.confidence"  # a saved model's held-out top probabilities (beside the weights)


def _split(
    y: np.ndarray, labelled: np.ndarray, fraction: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Stratified held-out cells for early stopping and calibration (types with < 3 cells stay in training)."""
    train, val = [], []
    for c in np.unique(y[labelled]):
        rows = labelled[y[labelled] == c]
        rows = rows[rng.permutation(len(rows))]
        n_val = int(round(fraction * len(rows))) if len(rows) >= 3 else 0
        n_val = max(n_val, 1) if len(rows) >= 3 else 0
        val.append(rows[:n_val])
        train.append(rows[n_val:])
    train, val = np.sort(np.concatenate(train)), np.sort(np.concatenate(val))
    if val.size == 0:
        val = train
    return train, val


def _markers(model, z, genes, assign, classes, device, chunk) -> pd.DataFrame:
    from omicsgat.celltype.train import attention_by_class

    att, contrib, counts, all_contrib, n = attention_by_class(model, z, assign, len(classes), device, chunk)
    rows = []
    for k, c in enumerate(classes):
        if counts[k] == 0:
            continue
        inside = contrib[k] / counts[k]
        others = (all_contrib - contrib[k]) / max(1.0, n - counts[k])
        rows.append(
            pd.DataFrame({"cell_type": c, "gene": genes, "score": inside - others, "attention": att[k] / counts[k]})
        )
    frame = (
        pd.concat(rows, ignore_index=True)
        if rows
        else pd.DataFrame(columns=["cell_type", "gene", "score", "attention"])
    )
    frame = frame.sort_values(["cell_type", "score"], ascending=[True, False], kind="stable")
    frame["rank"] = frame.groupby("cell_type").cumcount() + 1
    return frame.reset_index(drop=True)


class CellTypeModel(SavedModel):
    """A trained network with what it needs to annotate new data: genes, types, graph settings.

    ``calibration``: top probabilities of labelled cells the model's first fit never trained on (its held-out
    cells), kept by ``annotate_cells`` under ``unknown_rule="distance+probability"`` so that a saved model
    applies the same probability test (level ``novelty_alpha``) to new data; None: Unknown by confidence only.
    """

    analysis = "celltype"

    def __init__(
        self,
        net,
        config,
        genes: list,
        classes: list,
        threshold: float,
        graph: dict,
        temperature: float = 1.0,
        calibration: Optional[np.ndarray] = None,
        novelty_alpha: float = 0.02,
    ) -> None:
        self.net = net
        self.temperature = float(temperature)
        self.config = config
        self.genes = list(genes)
        self.classes = list(classes)
        self.threshold = float(threshold)
        self.graph = dict(graph)
        self.calibration = None if calibration is None else np.asarray(calibration, dtype=np.float64)
        self.novelty_alpha = float(novelty_alpha)

    def probability_novelty(self, confidence: np.ndarray, center: Optional[tuple] = None) -> np.ndarray:
        """Novelty of cells from their top probability (above 1 = Unknown); NaN without a calibration.

        ``center``: the data set's bulk of 1 - top probability (:func:`omicsgat.celltype.novelty.bulk`) when
        ``confidence`` is only part of it (a chunk).
        """
        if self.calibration is None or not len(self.calibration):
            return np.full(len(confidence), np.nan)
        return probability_novelty(self.calibration, confidence, alpha=self.novelty_alpha, center=center)[0]

    def _to_saved(self):
        import torch

        params = {
            "config": asdict(self.config),
            "genes": self.genes,
            "classes": self.classes,
            "threshold": self.threshold,
            "graph": self.graph,
            "temperature": self.temperature,
            "novelty_alpha": self.novelty_alpha,
        }
        tensors = dict(self.net.state_dict())
        if self.calibration is not None:
            tensors[CALIBRATION] = torch.as_tensor(self.calibration)
        return tensors, params

    @classmethod
    def _from_saved(cls, state, meta, folder: Path) -> "CellTypeModel":
        """The model from a folder written by ``save``, or a 0.1.0 ``.safetensors`` file (no pickle: safetensors only)."""
        from omicsgat.celltype.model import CellTypeGAT
        from omicsgat.celltype.train import TrainConfig

        calibration = state.pop(CALIBRATION, None)
        # older folders have no "skip" entry; "gatv2" is no longer an option (always GAT)
        config = {k: v for k, v in meta["config"].items() if k != "gatv2"}
        config = TrainConfig(**{"skip": False, **config, "fanouts": tuple(config["fanouts"])})
        net = CellTypeGAT(len(meta["genes"]), len(meta["classes"]), **config.model_kwargs())
        try:
            net.load_state_dict(state)
        except RuntimeError as exc:
            raise OmicsInputError(f"{folder.name}: the weights do not match the recorded genes/types ({exc}).") from exc
        net.eval()
        return cls(
            net,
            config,
            meta["genes"],
            meta["classes"],
            meta["threshold"],
            meta["graph"],
            meta.get("temperature", 1.0),
            None if calibration is None else calibration.numpy(),
            meta.get("novelty_alpha", 0.02),
        )

    def _describe(self) -> dict:
        from omicsgat.io.genes import list_species

        return {
            "training": {"n_genes": len(self.genes), "labels": list(self.classes)},
            "species": list_species(self.genes),
            "parameters": {
                **asdict(self.config),
                "unknown_threshold": self.threshold,
                **self.graph,
                "temperature": self.temperature,
                "novelty_alpha": self.novelty_alpha,
            },
        }

    @staticmethod
    def _read_legacy(path: Path):
        """0.1.0 wrote one .safetensors file with the parameters as JSON in its metadata."""
        from safetensors import SafetensorError, safe_open

        if not path.is_file():
            return None
        try:
            with safe_open(str(path), framework="pt") as fh:
                meta = json.loads((fh.metadata() or {}).get("omicsgat", "{}"))
        except (SafetensorError, OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise OmicsInputError(f"{path.name} is not a readable OmicsGAT cell-typing model ({exc}).") from exc
        fmt = meta.get("format") if isinstance(meta, dict) else None
        if fmt != LEGACY_FORMAT:
            raise OmicsInputError(f"{path.name} is not an OmicsGAT cell-typing model (format {fmt!r}).")
        return read_tensors(path), meta

    def apply(self, adata, **options) -> CellTypeResult:
        """Annotate new cells: :meth:`predict`."""
        return self.predict(adata, **options)

    @one_thread()
    @random_state_restored()
    def predict(
        self,
        adata,
        *,
        unknown_threshold: Optional[float] = None,
        device="auto",
        seed: int = 0,
        progress=None,
        cancel=None,
        gene_symbols: Optional[str] = None,
    ) -> CellTypeResult:
        """Annotate ``adata`` (its own kNN graph) with this model.

        Unknown: below the confidence threshold, or (a model with a ``calibration``) an outlier of the
        probability test against the model's held-out cells; the distance tests of ``annotate_cells`` need the
        reference and are not applied.

        The model's genes are symbols; ``gene_symbols`` names ``adata``'s symbol column when
        its var_names are IDs (automatic when unambiguous).
        """
        from omicsgat.celltype.train import predict_proba
        from omicsgat.device import resolve_device
        from omicsgat.progress import as_progress
        from omicsgat.random import set_seed

        prog = as_progress(progress, cancel)
        dev = resolve_device(device)
        set_seed(seed)
        _check_genes(adata, "the data")
        _check_species(self.card.get("species"), adata, gene_symbols)
        z, n_present = standardized_for(adata, self.genes, gene_symbols)
        if n_present < 0.5 * len(self.genes):
            raise OmicsInputError(
                f"This model was trained on other genes: only {n_present} of its {len(self.genes)} genes are in the data. "
                "Check the gene identifiers (symbols vs Ensembl IDs) and species, or train a new model."
            )
        prog(0.2, "building the cell graph")
        pca = _pca(z, self.graph["n_pcs"], seed)
        indptr, indices = knn_graph(pca, self.graph["n_neighbors"])
        prog(0.5, "predicting")
        net = self.net.to(dev)
        proba = predict_proba(net, z, indptr, indices, self.temperature, dev, self.config.chunk)
        threshold = self.threshold if unknown_threshold is None else float(unknown_threshold)
        labels = labels_frame(
            adata.obs_names,
            proba,
            self.classes,
            np.full(adata.n_obs, np.nan),
            self.probability_novelty(proba.max(1)),
            "",
            np.ones(adata.n_obs, bool),
            threshold,
        )
        assign = pd.Index(self.classes).get_indexer(labels["label"])
        markers = _markers(net, z, self.genes, assign, self.classes, dev, self.config.chunk)
        prog(1.0, "done")
        # a partial match is reported, not hidden: missing genes enter at the data's mean (standardized 0)
        params = {
            "mode": "saved model",
            "n_genes_used": len(self.genes),
            "n_genes_present": n_present,
            "n_genes_missing": len(self.genes) - n_present,
            "unknown_threshold": threshold,
            "seed": seed,
            "device": str(dev),
            "embedding": "PC",
        }
        return CellTypeResult(labels, markers, self.classes, threshold, pca[:, :2].copy(), params, [], self)


def _check_species(model_species: Optional[str], adata, gene_symbols: Optional[str]) -> None:
    """A model of one species is not applied to data of another (genes are not matched across species)."""
    from omicsgat.io.genes import gene_ids

    data_species = gene_ids(adata, gene_symbols).species if model_species else None
    if data_species and data_species != model_species:
        raise OmicsInputError(
            f"The cell-typing model was trained on {model_species} genes but the data is {data_species} "
            "(judged from its gene identifiers); apply a model of this species, or train one."
        )


def _folds(y: np.ndarray, labelled: np.ndarray, holdout, seed: int) -> list[np.ndarray]:
    """Out-of-fold test parts over the labelled cells: ``holdout`` stratified folds, or fold ids given per cell."""
    if np.ndim(holdout) == 0:
        k = int(holdout)
        if k < 2 or k > labelled.size:
            raise OmicsInputError(
                f"holdout needs between 2 and {labelled.size} folds (the labelled cells); got {holdout}."
            )
        from sklearn.model_selection import StratifiedKFold

        counts = np.bincount(y[labelled])
        if counts[counts > 0].min() < k:  # StratifiedKFold warns; a type rarer than k is simply spread as it can be
            import warnings

            warnings.filterwarnings("ignore", "The least populated class", UserWarning)
        splitter = StratifiedKFold(k, shuffle=True, random_state=seed)
        return [labelled[test] for _, test in splitter.split(labelled, y[labelled])]
    ids = np.asarray(holdout)
    if ids.shape != y.shape:
        raise OmicsInputError(f"holdout fold ids need one entry per cell ({y.size}); got {ids.shape[0]}.")
    return [labelled[ids[labelled] == f] for f in np.unique(ids[labelled]) if f >= 0]


def _train(prep, y, config, dev, seed, val_fraction, progress):
    """Fit on the labelled cells of ``y`` (choosing epochs and temperature on held-out ones), refit on all of them.

    Returns (net, probabilities of every cell, the first fit, its train and validation cells).
    Seeded from ``seed`` alone, so a fold's model depends only on the labels it was given.
    """
    from omicsgat.celltype.train import fit, predict_proba, refit
    from omicsgat.random import set_seed

    rng = set_seed(seed)
    labelled = np.flatnonzero(y >= 0)
    train_idx, val_idx = _split(y, labelled, val_fraction, rng)
    held_out = val_idx.size < labelled.size  # _split keeps every cell in training when types are tiny
    fitted = fit(
        prep.z,
        y,
        train_idx,
        val_idx,
        prep.indptr,
        prep.indices,
        len(prep.classes),
        config,
        dev,
        rng,
        progress.span(0.0, 0.75 if held_out else 1.0),
    )
    net, proba = fitted.model, fitted.proba
    if held_out:  # the epochs and temperature are chosen: now train on every labelled cell
        if fitted.linear_l2 is not None:  # the penalty the held-out cells chose
            config = replace(config, linear_l2=fitted.linear_l2)
        net = refit(
            prep.z,
            y,
            labelled,
            prep.indptr,
            prep.indices,
            len(prep.classes),
            fitted.best_epoch,
            config,
            dev,
            rng,
            progress.span(0.75, 1.0),
        )
        proba = predict_proba(net, prep.z, prep.indptr, prep.indices, fitted.temperature, dev, config.chunk)
    return net, proba, fitted, train_idx, val_idx


def _novelty(
    prep, y, proba, train_idx, rule: str, quantile: float, dims: int, alpha: float, seed: int, held_out=None
) -> tuple[np.ndarray, np.ndarray]:
    """(distance novelty, probability novelty) of every cell without a label in ``y``.

    Above 1 = Unknown; NaN: not tested.

    ``held_out``: top probabilities of labelled cells under a model that never trained on them (the first fit's
    validation cells), the calibration of the probability test of "distance+probability"; None skips that test.
    """
    prob = np.full(len(y), np.nan)
    if rule == "neighbourhood":  # distance to the predicted type, relative to the labelled cells' spread
        space = prep.pca[:, :dims]  # the leading PCs: the trailing ones are mostly noise and blur distances
        pred_or_given = np.where(y >= 0, y, proba.argmax(1))
        return neighbourhood_novelty(space, y, pred_or_given, train_idx, prep.indptr, prep.indices, quantile)[0], prob
    targets = np.flatnonzero(y < 0)
    dist = np.full(len(y), np.nan)
    if targets.size:
        # the between-type structure spans about as many dimensions as there are types; more PCs add noise to distances
        space = prep.aligned[:, : max(2, len(prep.classes))]
        dist[targets], _ = distance_novelty(
            space, y, targets, k=NOVELTY_K, cal_fraction=CAL_FRACTION, alpha=alpha, seed=seed
        )
        # and whether its neighbourhood holds reference cells at all, in a space where the query's own axes count
        dist[targets] = np.maximum(dist[targets], mixing_novelty(prep.z, y, targets, seed=seed)[0])
        if rule == "distance+probability" and held_out is not None and len(held_out):
            prob[targets] = probability_novelty(held_out, proba[targets].max(1), alpha=alpha)[0]
    return dist, prob


def _held_out_conf(fitted, val_idx, labelled):
    """Top probabilities of the first fit's validation cells (None when _split kept every cell in training)."""
    if val_idx.size >= labelled.size:
        return None
    return fitted.proba[val_idx].max(1)


@one_thread()
@random_state_restored()
def annotate_cells(
    adata,
    label_key: str,
    reference=None,
    *,
    unknown_threshold: Optional[float] = _D.unknown_threshold,
    epochs: int = _D.epochs,
    device="auto",
    seed: int = _D.seed,
    progress=None,
    cancel=None,
    max_genes: int = _D.max_genes,
    n_pcs: int = _D.n_pcs,
    n_neighbors: int = _D.n_neighbors,
    novelty: bool = _D.novelty,
    unknown_rule: str = _D.unknown_rule,
    novelty_alpha: float = _D.novelty_alpha,
    val_fraction: float = _D.val_fraction,
    hidden: int = _D.hidden,
    heads: int = _D.heads,
    batch_size: int = _D.batch_size,
    gene_symbols: Optional[str] = None,
    reference_gene_symbols: Optional[str] = None,
    holdout=None,
    graph: bool = _D.graph,
    cluster_vote: bool = _D.cluster_vote,
    reference_species: Optional[str] = None,
    query_species: Optional[str] = None,
    ortholog_rule: str = _D.ortholog_rule,
    depth: str = _D.depth,
    query_smoothing: float = _D.query_smoothing,
) -> CellTypeResult:
    """Predict cell types with gene attention + graph attention over a cell kNN graph.

    Without ``reference``: cells whose ``obs[label_key]`` is missing, NaN or
    empty are predicted from the labelled ones. With ``reference`` (an AnnData
    whose ``obs[label_key]`` holds the types): genes are matched by name, the
    model's genes are the reference's most variable among the shared ones, the
    query is mapped onto the reference (:mod:`omicsgat.celltype.mapping`: MNN
    gene shift, then the reference's scale), one kNN graph spans both, and
    every cell of ``adata`` gets a type.

    Training starts from a logistic regression on the labelled cells (the
    network's linear skip path) and keeps the graph-attention epochs only
    while they lower the loss on held-out labelled cells; with the number of
    epochs and the temperature chosen, the network is trained again on every
    labelled cell. Probabilities are temperature-scaled on the held-out cells,
    so a confidence of 0.8 means about 80 % of such calls are right. A cell is
    ``Unknown`` when its confidence is below ``unknown_threshold`` (default:
    the 1 % quantile of the confidences of correctly typed held-out
    cells, at most 0.2) or, with ``novelty``, when it lies far from every
    labelled cell (``unknown_rule="distance"``): mean distance to its 10
    nearest labelled cells in a batch-aligned space (the query shifted onto the
    reference gene by gene over mutual-nearest-neighbour pairs, in the
    reference's leading PCs, as many as there are types), against the same
    distances of a stratified 20 % of the labelled cells kept out of the
    distance index (split-conformal p-value below ``novelty_alpha``) and
    standing far out from the query's own bulk (robust z above 8: a lone cell
    like no cell of either data set); and, for populations, a mixing test: in a
    PCA fitted on as many query as labelled cells (so the query's own axes
    count), is the cell's neighbourhood made of query cells only
    (:func:`omicsgat.celltype.novelty.mixing_novelty`). With the default
    ``unknown_rule="distance+probability"`` a third test does the same with
    1 - top probability, calibrated on the first fit's held-out cells (which
    that fit never trained on). For cells exchangeable with the reference
    (same batch, known types), each test calls at most ``novelty_alpha`` of
    them Unknown; ``unknown_rule="distance"`` is the distance tests alone. ``unknown_rule="neighbourhood"`` is the
    distance to the predicted type in the leading 10 PCs.

    ``holdout=K`` (within one data set): every labelled cell is also predicted
    out of fold, by a model trained on the other K-1 stratified folds (its own
    label never seen), so ``label``/``predicted`` of labelled cells are honest
    calls and :meth:`CellTypeResult.evaluation` scores them; unlabelled cells
    are predicted by the model trained on all labels. This also works when
    every cell is labelled. An array of fold ids per cell (-1: never held out)
    may replace K.

    Every cell gets ``mapping_score`` (0-1; below 0.5 the distance test says it is like no reference cell)
    and, when Unknown, ``unknown_reason`` (distance, probability or cluster). ``cluster_vote=True`` clusters
    the cells to predict in the mapped space (Leiden) and gives each cluster its majority call; a cluster
    mostly Unknown is Unknown as a whole; the per-cluster table is ``result.clusters``.

    ``graph=False`` stops at the linear start (no graph-attention epochs): the
    comparison behind the default is in ``docs/celltype.md``.

    Genes are named by symbol: ``gene_symbols`` / ``reference_gene_symbols``
    name the ``var`` column holding them when ``var_names`` are IDs (automatic
    when unambiguous). A reference and a query are matched by the identifier
    they share best (Ensembl IDs without version, or symbols); the route and
    the genes matched by each are in ``params``. Markers carry the data's own
    ID in ``gene_id`` when genes were renamed.

    A reference of another species (judged from the gene identifiers, or given
    by ``reference_species`` / ``query_species``) is converted to the query's
    species through shipped Ensembl orthologs (``ortholog_rule``, see
    :mod:`omicsgat.io.orthologs`); ``params`` then hold the species pair,
    ``n_orthologs`` and the genes used.

    ``depth`` (with a reference of raw counts): how the reference is made to fit the query's sequencing depth
    (:func:`omicsgat.celltype.depth.reference_for_query_depth`; ``auto`` decides from the ratio of the two
    median depths); the choice and its reason are in ``params`` (``depth_handling``, ``depth_reason``).

    ``query_smoothing`` (with a reference of another species): a query cell's label and confidence come from its class probabilities
    mixed with this weight with their mean over itself and its ``n_neighbors`` nearest query cells in the query's own
    PCA (:mod:`omicsgat.celltype.query_smoothing`); 0 calls each cell alone. The Unknown tests use the cell's own
    probabilities. ``params`` say how many calls the mix changed (``n_calls_changed_by_query_smoothing``).
    """
    import torch

    from omicsgat.celltype.train import TrainConfig
    from omicsgat.device import resolve_device
    from omicsgat.progress import as_progress
    from omicsgat.random import set_seed
    from omicsgat.resources import check_fits, oom_guard

    prog = as_progress(progress, cancel)
    dev = resolve_device(device)
    CellTypeConfig(
        epochs=epochs,
        max_genes=max_genes,
        n_pcs=n_pcs,
        n_neighbors=n_neighbors,
        novelty=novelty,
        unknown_rule=unknown_rule,
        novelty_alpha=novelty_alpha,
        unknown_threshold=unknown_threshold,
        val_fraction=val_fraction,
        hidden=hidden,
        heads=heads,
        batch_size=batch_size,
        graph=graph,
        seed=seed,
        cluster_vote=cluster_vote,
        ortholog_rule=ortholog_rule,
        depth=depth,
        query_smoothing=query_smoothing,
    )  # checks every setting, naming a bad one
    if holdout is not None and reference is not None:
        raise OmicsInputError(
            "holdout (out-of-fold prediction) is for labels within one data set; with a reference, "
            "the query's cells are never trained on: pass the query's true labels as a truth column instead."
        )
    set_seed(seed)
    n_cells = adata.n_obs + (reference.n_obs if reference is not None else 0)
    n_genes = min(max_genes, adata.n_vars)
    # graph=False: the linear start alone (gene-weighted logistic regression, temperature-scaled), no graph epochs
    config = TrainConfig(hidden=hidden, heads=heads, epochs=epochs if graph else 0, batch_size=batch_size)
    advice = "Subsample the cells (e.g. scanpy.pp.subsample) or lower max_genes."
    # standardized matrix + its temporaries, encodings cache, graph
    check_fits(
        n_cells * (n_genes * 4 * 4 + hidden * heads * 4 * 4 + n_neighbors * 2 * 16), "cpu", "Cell typing", advice
    )
    if dev.type != "cpu":
        n_sub = batch_size * (1 + config.fanouts[0] * (1 + config.fanouts[1]))
        check_fits(
            n_sub * hidden * heads * 4 * 8 + config.chunk * n_genes * 4 * 6, dev, "Cell typing", "Lower batch_size."
        )
    prog(0.0, "preprocessing")
    species_params: dict = {}
    if reference is not None:  # another species: the reference's genes renamed to the query's orthologs
        from omicsgat.io.orthologs import reference_in_query_species

        reference, reference_gene_symbols, species = reference_in_query_species(
            reference,
            adata,
            reference_species=reference_species,
            query_species=query_species,
            reference_gene_symbols=reference_gene_symbols,
            query_gene_symbols=gene_symbols,
            rule=ortholog_rule,
        )
        species_params = species.params()
        from omicsgat.celltype.depth import reference_for_query_depth

        reference, depth_choice = reference_for_query_depth(
            reference,
            adata,
            depth,
            cross_species=species.converted,
            seed=seed,
            reference_gene_symbols=reference_gene_symbols,
            query_gene_symbols=gene_symbols,
        )
        species_params.update(depth_choice.params())
    prep = prepare(
        adata,
        label_key,
        reference,
        max_genes=max_genes,
        n_pcs=n_pcs,
        n_neighbors=n_neighbors,
        seed=seed,
        gene_symbols=gene_symbols,
        reference_gene_symbols=reference_gene_symbols,
        all_labelled_ok=holdout is not None,
    )
    labelled = np.flatnonzero(prep.y >= 0)
    folds = _folds(prep.y, labelled, holdout, seed) if holdout is not None else []
    n_fits = 1 + len(folds)
    rows = np.arange(prep.n_cells - adata.n_obs, prep.n_cells)  # the cells of adata (after any reference cells)
    with oom_guard("Cell typing", "Lower batch_size or use --device cpu."):
        prog(0.15, "training")
        net, proba, fitted, train_idx, val_idx = _train(
            prep, prep.y, config, dev, seed, val_fraction, prog.span(0.15, 0.15 + 0.7 / n_fits)
        )
        rule = (unknown_rule, NEIGHBOURHOOD_QUANTILE, NEIGHBOURHOOD_DIMS, novelty_alpha, seed)
        nan = np.full(prep.n_cells, np.nan)
        held = _held_out_conf(fitted, val_idx, labelled)
        dist_all, prob_all = (
            _novelty(prep, prep.y, proba, train_idx, *rule, held_out=held) if novelty else (nan, nan.copy())
        )
        if novelty and species_params.get("species_converted") and unknown_rule != "neighbourhood":
            # across species no query cell is exchangeable with reference cells: calibrate on anchored query cells
            from omicsgat.celltype.species_novelty import cross_species_novelty

            with_probability = held if unknown_rule == "distance+probability" else None
            dist_all, prob_all, species_unknown = cross_species_novelty(
                prep, prep.y, proba, alpha=novelty_alpha, seed=seed, held_out=with_probability
            )
            species_params.update(species_unknown)
        fold_of = np.full(prep.n_cells, -1, np.int64)
        for k, test in enumerate(folds):  # out of fold: the fold's labels are hidden from its model
            y_k = prep.y.copy()
            y_k[test] = -1
            start = 0.15 + 0.7 * (k + 1) / n_fits
            _, proba_k, fitted_k, train_k, val_k = _train(
                prep, y_k, config, dev, seed + 1 + k, val_fraction, prog.span(start, start + 0.7 / n_fits)
            )
            proba[test] = proba_k[test]
            if novelty:
                held_k = _held_out_conf(fitted_k, val_k, np.flatnonzero(y_k >= 0))
                dist_k, prob_k = _novelty(prep, y_k, proba_k, train_k, *rule, held_out=held_k)
                dist_all[test], prob_all[test] = dist_k[test], prob_k[test]
            fold_of[test] = k
    prog(0.85, "calling unknown cells")
    # calibrated on the first fit's held-out cells, which that fit never trained on
    threshold = (
        probability_threshold(fitted.proba[val_idx], prep.y[val_idx], CALIBRATION_QUANTILE, MAX_DEFAULT_THRESHOLD)
        if unknown_threshold is None
        else float(unknown_threshold)
    )
    smoothing_params: dict = {}
    if species_params.get("species_converted"):  # the query's own neighbours lend their probabilities
        # across species only: within one species the mix blurred fine types (docs/celltype-species.md)
        proba, smoothing_params = _smoothed_query(
            proba, rows, adata, query_smoothing, max_genes, n_neighbors, seed, gene_symbols
        )
    given = pd.Series(prep.y[rows]).map(dict(enumerate(prep.classes))).fillna("").to_numpy(dtype=object)
    is_query = prep.is_query[rows] | (fold_of[rows] >= 0)
    labels = labels_frame(
        adata.obs_names, proba[rows], prep.classes, dist_all[rows], prob_all[rows], given, is_query, threshold
    )
    if folds:
        labels["fold"] = fold_of[rows]
    clusters, cluster_method = None, ""
    if cluster_vote:
        labels, clusters, cluster_method = _vote(labels, prep.aligned[rows], threshold, seed)
    prog(0.9, "ranking marker genes")
    assign = prep.y.copy()
    assign[rows] = pd.Index(prep.classes).get_indexer(labels["label"])
    with torch.no_grad():
        markers = _markers(net, prep.z, prep.genes, assign, prep.classes, dev, config.chunk)
    if prep.gene_ids:
        markers["gene_id"] = markers["gene"].map(prep.gene_ids).fillna("").astype(str)
    params = {
        "mode": "reference" if reference is not None else "within",
        "label_key": label_key,
        "epochs": epochs,
        "best_epoch": fitted.best_epoch,
        "seed": seed,
        "device": str(dev),
        "unknown_threshold": threshold,
        "threshold_calibrated": unknown_threshold is None,
        "novelty": novelty,
        "temperature": fitted.temperature,
        "unknown_rule": unknown_rule,
        "graph": graph,
        "novelty_alpha": novelty_alpha,
        "n_train": int(train_idx.size),
        "n_val": int(val_idx.size),
        "refit_on_all_labelled": bool(val_idx.size < labelled.size),
        "max_genes": max_genes,
        "n_pcs": n_pcs,
        "n_neighbors": n_neighbors,
        "hidden": hidden,
        "heads": heads,
        "embedding": "PC",
        "holdout_folds": len(folds),
        "cluster_vote": cluster_vote,
        "cluster_method": cluster_method,
        "n_out_of_fold": int((fold_of[rows] >= 0).sum()),
        **prep.info,
        **species_params,
        **smoothing_params,
    }
    calibration = (
        _held_out_conf(fitted, val_idx, labelled) if novelty and unknown_rule == "distance+probability" else None
    )
    model = CellTypeModel(
        net,
        config,
        prep.genes,
        prep.classes,
        threshold,
        {"n_pcs": n_pcs, "n_neighbors": n_neighbors},
        fitted.temperature,
        calibration,
        novelty_alpha,
    )
    prog(1.0, "done")
    return CellTypeResult(
        labels, markers, prep.classes, threshold, prep.pca[rows, :2].copy(), params, fitted.history, model, clusters
    )


def _smoothed_query(proba, rows, query, weight: float, max_genes: int, n_neighbors: int, seed: int, gene_symbols):
    """``proba`` with the query's rows mixed over the query's own kNN graph, and the params that say so."""
    from omicsgat.celltype.query_smoothing import query_graph, smoothed_probabilities

    params = {"query_smoothing": weight, "query_smoothing_neighbours": n_neighbors}
    if weight <= 0.0 or len(rows) < 3:
        return proba, {**params, "query_smoothing": 0.0, "n_calls_changed_by_query_smoothing": 0}
    before = proba[rows].argmax(1)
    graph = query_graph(query, n_neighbors, max_genes, seed, gene_symbols)
    proba = proba.copy()
    proba[rows] = smoothed_probabilities(proba[rows], *graph, weight)
    return proba, {**params, "n_calls_changed_by_query_smoothing": int((proba[rows].argmax(1) != before).sum())}


def _vote(labels: pd.DataFrame, space: np.ndarray, threshold: float, seed: int):
    """The per-cluster majority vote over the cells to predict (see :mod:`omicsgat.celltype.clusters`)."""
    query = labels["is_query"].to_numpy(dtype=bool)
    ids, method = cluster_cells(space[query], seed)
    voted, table = cluster_vote(labels[query], ids)
    out = labels.copy()
    out["cluster"] = pd.Series(voted["cluster"].to_numpy(), index=voted.index).reindex(out.index).astype("Int64")
    out["cluster_label"] = voted["cluster_label"].reindex(out.index)
    out["cluster_unknown"] = voted["cluster_unknown"].reindex(out.index).fillna(False).astype(bool)
    return apply_unknown(out, threshold), table, method
