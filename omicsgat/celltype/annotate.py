"""``annotate_cells``: the user-facing cell-typing function, and the saved model."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Optional

import numpy as np
import pandas as pd

from omicsgat.celltype.result import UNKNOWN, CellTypeResult
from omicsgat.errors import OmicsInputError
from omicsgat.random import random_state_restored
from omicsgat.threads import with_thread_budget

LEGACY_FORMAT = "omicsgat-celltype-1"  # one .safetensors file, written by 0.1.0
MAX_DEFAULT_THRESHOLD = 0.2


def _split(y: np.ndarray, labelled: np.ndarray, fraction: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
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


def apply_unknown(labels: pd.DataFrame, threshold: float) -> pd.DataFrame:
    """Recompute ``label``: given labels stay; query cells below ``threshold`` or with novelty > 1 are Unknown."""
    out = labels.copy()
    unknown = (out["confidence"] < threshold) | (out["novelty"].fillna(0.0) > 1.0)
    call = out["predicted"].astype(object).where(~unknown, UNKNOWN)
    out["label"] = np.where(out["is_query"], call, out["given"].astype(object))
    return out


def _labels_frame(cells, proba, classes, novelty, given, is_query, threshold) -> pd.DataFrame:
    frame = pd.DataFrame(index=pd.Index(cells, name="cell"))
    frame["label"] = ""
    frame["confidence"] = proba.max(1)
    for i, c in enumerate(classes):
        frame[f"prob_{c}"] = proba[:, i]
    frame["predicted"] = np.asarray(classes, dtype=object)[proba.argmax(1)]
    frame["novelty"] = novelty
    frame["given"] = given
    frame["is_query"] = is_query
    return apply_unknown(frame, threshold)


def _markers(model, z, genes, assign, classes, device, chunk) -> pd.DataFrame:
    from omicsgat.celltype.train import attention_by_class

    att, contrib, counts, all_contrib, n = attention_by_class(model, z, assign, len(classes), device, chunk)
    rows = []
    for k, c in enumerate(classes):
        if counts[k] == 0:
            continue
        inside = contrib[k] / counts[k]
        others = (all_contrib - contrib[k]) / max(1.0, n - counts[k])
        rows.append(pd.DataFrame({"cell_type": c, "gene": genes, "score": inside - others,
                                  "attention": att[k] / counts[k]}))
    frame = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=["cell_type", "gene", "score", "attention"])
    frame = frame.sort_values(["cell_type", "score"], ascending=[True, False], kind="stable")
    frame["rank"] = frame.groupby("cell_type").cumcount() + 1
    return frame.reset_index(drop=True)


class CellTypeModel:
    """A trained network with what it needs to annotate new data: genes, types, graph settings."""

    def __init__(self, net, config, genes: list, classes: list, threshold: float, graph: dict,
                 temperature: float = 1.0) -> None:
        self.net = net
        self.temperature = float(temperature)
        self.config = config
        self.genes = list(genes)
        self.classes = list(classes)
        self.threshold = float(threshold)
        self.graph = dict(graph)

    def save(self, folder: str | Path) -> Path:
        """Write ``folder/model.safetensors`` + ``folder/model.json`` (see :mod:`omicsgat.persist`)."""
        from omicsgat.persist import write_model

        params = {"config": asdict(self.config), "genes": self.genes, "classes": self.classes,
                  "threshold": self.threshold, "graph": self.graph, "temperature": self.temperature}
        return write_model(folder, "celltype", self.net.state_dict(), params)

    @classmethod
    def load(cls, folder: str | Path) -> "CellTypeModel":
        """Read a model written by :meth:`save`, or a 0.1.0 ``.safetensors`` file (no pickle: safetensors only)."""
        from omicsgat.celltype.model import CellTypeGAT
        from omicsgat.celltype.train import TrainConfig
        from omicsgat.persist import read_model

        state, meta = read_model(folder, "celltype", legacy=_read_legacy)
        name = Path(folder).name
        # models saved before the linear skip path existed have no "skip" entry
        config = TrainConfig(**{"skip": False, **meta["config"], "fanouts": tuple(meta["config"]["fanouts"])})
        net = CellTypeGAT(len(meta["genes"]), len(meta["classes"]), **config.model_kwargs())
        try:
            net.load_state_dict(state)
        except RuntimeError as exc:
            raise OmicsInputError(f"{name}: the weights do not match the recorded genes/types ({exc}).") from exc
        net.eval()
        return cls(net, config, meta["genes"], meta["classes"], meta["threshold"], meta["graph"], meta.get("temperature", 1.0))

    @with_thread_budget
    @random_state_restored()
    def predict(self, adata, *, unknown_threshold: Optional[float] = None, device="auto", seed: int = 0,
                progress=None, cancel=None, gene_symbols: Optional[str] = None) -> CellTypeResult:
        """Annotate ``adata`` (its own kNN graph) with this model; Unknown by confidence only.

        The model's genes are symbols; ``gene_symbols`` names ``adata``'s symbol column when
        its var_names are IDs (automatic when unambiguous).
        """
        from omicsgat.celltype.prepare import _check_genes, _pca, knn_graph, standardized_for
        from omicsgat.celltype.train import predict_proba
        from omicsgat.device import resolve_device
        from omicsgat.progress import as_progress
        from omicsgat.random import set_seed

        prog = as_progress(progress, cancel)
        dev = resolve_device(device)
        set_seed(seed)
        _check_genes(adata, "the data")
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
        labels = _labels_frame(adata.obs_names, proba, self.classes, np.full(adata.n_obs, np.nan), "",
                               np.ones(adata.n_obs, bool), threshold)
        assign = pd.Index(self.classes).get_indexer(labels["label"])
        markers = _markers(net, z, self.genes, assign, self.classes, dev, self.config.chunk)
        prog(1.0, "done")
        params = {"mode": "saved model", "n_genes_used": len(self.genes), "n_genes_present": n_present,
                  "unknown_threshold": threshold, "seed": seed, "device": str(dev), "embedding": "PC"}
        return CellTypeResult(labels, markers, self.classes, threshold, pca[:, :2].copy(), params, [], self)


@with_thread_budget
@random_state_restored()
def annotate_cells(
    adata,
    label_key: str,
    reference=None,
    *,
    unknown_threshold: Optional[float] = None,
    epochs: int = 60,
    device="auto",
    seed: int = 0,
    progress=None,
    cancel=None,
    max_genes: int = 2000,
    n_pcs: int = 50,
    n_neighbors: int = 15,
    novelty: bool = True,
    novelty_quantile: float = 1.0,
    novelty_dims: int = 10,
    calibration_quantile: float = 0.01,
    val_fraction: float = 0.15,
    hidden: int = 64,
    heads: int = 4,
    batch_size: int = 512,
    gatv2: bool = False,
    gene_symbols: Optional[str] = None,
    reference_gene_symbols: Optional[str] = None,
) -> CellTypeResult:
    """Predict cell types with gene attention + graph attention over a cell kNN graph.

    Without ``reference``: cells whose ``obs[label_key]`` is missing, NaN or
    empty are predicted from the labelled ones. With ``reference`` (an AnnData
    whose ``obs[label_key]`` holds the types): genes are matched by name, both
    data sets are normalized and standardized separately, one kNN graph spans
    both, and every cell of ``adata`` gets a type.

    Training starts from a logistic regression on the labelled cells (the
    network's linear skip path) and keeps the graph-attention epochs only
    while they lower the loss on held-out labelled cells; with the number of
    epochs and the temperature chosen, the network is trained again on every
    labelled cell. Probabilities are temperature-scaled on the held-out cells,
    so a confidence of 0.8 means about 80 % of such calls are right. A cell is
    ``Unknown`` when its confidence is below ``unknown_threshold`` (default:
    the ``calibration_quantile`` of the confidences of correctly typed held-out
    cells, at most 0.2: cells whose top type is still fairly likely are called)
    or, with ``novelty``, when its kNN neighbourhood lies farther from the
    predicted type's reference cells than the neighbourhoods of the labelled
    cells do (``novelty_quantile`` of theirs, times a 1.1 margin).

    Genes are named by symbol: ``gene_symbols`` / ``reference_gene_symbols``
    name the ``var`` column holding them when ``var_names`` are IDs (automatic
    when unambiguous). A reference and a query are matched by the identifier
    they share best (Ensembl IDs without version, or symbols); the route and
    the genes matched by each are in ``params``. Markers carry the data's own
    ID in ``gene_id`` when genes were renamed.
    """
    import torch

    from omicsgat.celltype.novelty import neighbourhood_novelty, probability_threshold
    from omicsgat.celltype.prepare import prepare
    from omicsgat.celltype.train import TrainConfig, fit, predict_proba, refit
    from omicsgat.device import resolve_device
    from omicsgat.progress import as_progress
    from omicsgat.random import set_seed
    from omicsgat.resources import check_fits, oom_guard

    prog = as_progress(progress, cancel)
    dev = resolve_device(device)
    if epochs < 1:
        raise OmicsInputError(f"epochs must be at least 1 (got {epochs}).")
    if unknown_threshold is not None and not 0.0 <= float(unknown_threshold) <= 1.0:
        raise OmicsInputError(f"unknown_threshold must be between 0 and 1 (got {unknown_threshold}).")
    rng = set_seed(seed)
    n_cells = adata.n_obs + (reference.n_obs if reference is not None else 0)
    n_genes = min(max_genes, adata.n_vars)
    config = TrainConfig(hidden=hidden, heads=heads, epochs=epochs, batch_size=batch_size, gatv2=gatv2)
    advice = "Subsample the cells (e.g. scanpy.pp.subsample) or lower max_genes."
    # standardized matrix + its temporaries, encodings cache, graph
    check_fits(n_cells * (n_genes * 4 * 4 + hidden * heads * 4 * 4 + n_neighbors * 2 * 16), "cpu", "Cell typing", advice)
    if dev.type != "cpu":
        n_sub = batch_size * (1 + config.fanouts[0] * (1 + config.fanouts[1]))
        check_fits(n_sub * hidden * heads * 4 * 8 + config.chunk * n_genes * 4 * 6, dev, "Cell typing", "Lower batch_size.")
    prog(0.0, "preprocessing")
    prep = prepare(adata, label_key, reference, max_genes=max_genes, n_pcs=n_pcs, n_neighbors=n_neighbors, seed=seed,
                   gene_symbols=gene_symbols, reference_gene_symbols=reference_gene_symbols)
    prog(0.15, "training")
    labelled = np.flatnonzero(prep.y >= 0)
    train_idx, val_idx = _split(prep.y, labelled, val_fraction, rng)
    held_out = val_idx.size < labelled.size  # _split keeps every cell in training when types are tiny
    with oom_guard("Cell typing", "Lower batch_size or use --device cpu."):
        fitted = fit(prep.z, prep.y, train_idx, val_idx, prep.indptr, prep.indices, len(prep.classes), config, dev, rng,
                     prog.span(0.15, 0.65 if held_out else 0.85))
        net, proba = fitted.model, fitted.proba
        if held_out:  # the epochs and temperature are chosen: now train on every labelled cell
            net = refit(prep.z, prep.y, labelled, prep.indptr, prep.indices, len(prep.classes), fitted.best_epoch,
                        config, dev, rng, prog.span(0.65, 0.85))
            proba = predict_proba(net, prep.z, prep.indptr, prep.indices, fitted.temperature, dev, config.chunk)
    prog(0.85, "calling unknown cells")
    pred = proba.argmax(1)
    # calibrated on the first fit's held-out cells, which that fit never trained on
    threshold = (probability_threshold(fitted.proba[val_idx], prep.y[val_idx], calibration_quantile, MAX_DEFAULT_THRESHOLD)
                 if unknown_threshold is None else float(unknown_threshold))
    rows = np.arange(prep.n_cells - adata.n_obs, prep.n_cells)  # the cells of adata (after any reference cells)
    if novelty:
        space = prep.pca[:, :novelty_dims]  # the leading PCs: the trailing ones are mostly noise and blur distances
        pred_or_given = np.where(prep.y >= 0, prep.y, pred)
        nov_all, _ = neighbourhood_novelty(space, prep.y, pred_or_given, train_idx, prep.indptr, prep.indices,
                                           novelty_quantile)
        nov = nov_all[rows]
    else:
        nov = np.full(len(rows), np.nan)
    given = pd.Series(prep.y[rows]).map(dict(enumerate(prep.classes))).fillna("").to_numpy(dtype=object)
    labels = _labels_frame(adata.obs_names, proba[rows], prep.classes, nov, given, prep.is_query[rows], threshold)
    prog(0.9, "ranking marker genes")
    assign = prep.y.copy()
    assign[rows] = pd.Index(prep.classes).get_indexer(labels["label"])
    with torch.no_grad():
        markers = _markers(net, prep.z, prep.genes, assign, prep.classes, dev, config.chunk)
    if prep.gene_ids:
        markers["gene_id"] = markers["gene"].map(prep.gene_ids).fillna("").astype(str)
    params = {
        "mode": "reference" if reference is not None else "within",
        "label_key": label_key, "epochs": epochs, "best_epoch": fitted.best_epoch, "seed": seed, "device": str(dev),
        "unknown_threshold": threshold, "threshold_calibrated": unknown_threshold is None, "novelty": novelty, "novelty_dims": novelty_dims,
        "temperature": fitted.temperature,
        "n_train": int(train_idx.size), "n_val": int(val_idx.size), "refit_on_all_labelled": bool(held_out), "max_genes": max_genes, "n_pcs": n_pcs,
        "n_neighbors": n_neighbors, "hidden": hidden, "heads": heads, "embedding": "PC", **prep.info,
    }
    model = CellTypeModel(net, config, prep.genes, prep.classes, threshold, {"n_pcs": n_pcs, "n_neighbors": n_neighbors},
                          fitted.temperature)
    prog(1.0, "done")
    return CellTypeResult(labels, markers, prep.classes, threshold, prep.pca[rows, :2].copy(), params, fitted.history, model)


def _read_legacy(path: Path):
    """0.1.0 wrote one .safetensors file with the parameters as JSON in its metadata."""
    from safetensors import SafetensorError, safe_open

    from omicsgat.persist import read_tensors

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
