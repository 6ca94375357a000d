"""The result of :func:`~omicsgat.celltype.annotate_cells`: labels, probabilities, markers, plots."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import numpy as np
import pandas as pd

from omicsgat.anndata_keys import claim, uns_section
from omicsgat.celltype.calls import UNKNOWN, apply_unknown
from omicsgat.config import CellTypeConfig
from omicsgat.errors import OmicsInputError
from omicsgat.io.atomic import write_table_atomic
from omicsgat.io.orthologs import orthologs_uns
from omicsgat.metrics.classification import classification_scores
from omicsgat.pl.embedding import basis_labels, plot_confusion, plot_embedding
from omicsgat.pl.ranking import plot_ranking

UNKNOWN_COLOR = "#bbbbbb"
DEFAULT_KEY = "omicsgat_celltype"


def output_keys(key_added: str = DEFAULT_KEY) -> dict:
    """Where :meth:`CellTypeResult.write_to` puts each part, for a given ``key_added``."""
    default = key_added == DEFAULT_KEY
    return {
        "labels": key_added,
        "confidence": "omicsgat_confidence" if default else f"{key_added}_confidence",
        "mapping_score": "omicsgat_mapping_score" if default else f"{key_added}_mapping_score",
        "unknown_reason": "omicsgat_unknown_reason" if default else f"{key_added}_unknown_reason",
        "proba": f"{key_added}_proba",
        "colors": f"{key_added}_colors",
        "markers": f"{key_added}_markers",
    }


def category_colors(categories) -> np.ndarray:
    """One hex colour per category (tab10, tab20 above 10; Unknown grey): stored for scanpy and the GUI."""
    from matplotlib import colormaps
    from matplotlib.colors import to_hex

    named = [c for c in categories if c != UNKNOWN]
    cmap = colormaps["tab20" if len(named) > 10 else "tab10"]
    out, i = [], 0
    for c in categories:
        if c == UNKNOWN:
            out.append(UNKNOWN_COLOR)
        else:
            out.append(to_hex(cmap(i % cmap.N)))
            i += 1
    return np.array(out, dtype=object)


def rank_genes_groups_layout(markers: pd.DataFrame, classes, groupby: str) -> dict:
    """The marker ranking as scanpy's ``rank_genes_groups`` result (structured arrays by group).

    ``names``/``scores`` are the attention marker genes and scores, best first;
    ``logfoldchanges``, ``pvals`` and ``pvals_adj`` are NaN (this ranking has
    no test), so ``sc.get.rank_genes_groups_df`` and ``sc.pl.rank_genes_groups`` work.
    """
    groups = [c for c in classes if (markers["cell_type"] == c).any()]
    per = {c: markers[markers["cell_type"] == c].sort_values("rank") for c in groups}
    n = min((len(f) for f in per.values()), default=0)
    width = max([len(str(g)) for f in per.values() for g in f["gene"]] + [1])

    def rec(fn, dtype):
        return np.rec.fromarrays(
            [np.asarray(fn(per[c].iloc[:n]), dtype=dtype) for c in groups], dtype=[(str(c), dtype) for c in groups]
        )

    nan = lambda f: np.full(len(f), np.nan)  # noqa: E731
    return {
        "params": {
            "groupby": groupby,
            "reference": "rest",
            "method": "omicsgat_attention",
            "use_raw": False,
            "layer": "None",
            "corr_method": "none",
        },
        "names": rec(lambda f: f["gene"].astype(str), f"<U{width}"),
        "scores": rec(lambda f: f["score"], "float32"),
        "logfoldchanges": rec(nan, "float32"),
        "pvals": rec(nan, "float64"),
        "pvals_adj": rec(nan, "float64"),
    }


@dataclass
class CellTypeResult:
    """Per-cell calls and per-type marker rankings.

    ``labels`` (indexed by cell name): ``label`` (a type or ``Unknown``;
    for cells that came labelled, their given label), ``confidence`` (top
    class probability), ``prob_<type>`` per type, ``predicted`` (the model's
    call for every cell), ``novelty`` (the larger of ``novelty_distance`` and
    ``novelty_probability``, each test's score over its calibrated cut-off; above 1 means Unknown),
    ``mapping_score`` (0-1: is the cell like any reference cell; below 0.5 it is Unknown by distance),
    ``unknown_reason`` (``distance``, ``probability`` or ``cluster``; empty when called), ``given`` and
    ``is_query``; with the per-cluster vote also ``cluster``, ``cluster_label`` and ``cluster_unknown``,
    and :attr:`clusters` the per-cluster table. ``markers``: ``cell_type``, ``gene``, ``score`` (mean
    attention x standardized expression in the type minus elsewhere), ``attention``
    (mean gene attention in the type; 1 = uniform), ``rank``.
    """

    labels: pd.DataFrame
    markers: pd.DataFrame
    classes: list
    threshold: float
    embedding: np.ndarray
    params: dict = field(default_factory=dict)
    history: list = field(default_factory=list)
    model: Optional[Any] = field(default=None, repr=False)
    clusters: Optional[pd.DataFrame] = None  # per-cluster vote (cluster_vote=True): one row per query cluster

    @property
    def proba(self) -> np.ndarray:
        return self.labels[[f"prob_{c}" for c in self.classes]].to_numpy()

    def to_frame(self) -> pd.DataFrame:
        """The CLI's table: ``cell``, ``label``, ``confidence``, ``prob_<type>``..., then the extra columns."""
        frame = self.labels.copy()
        frame.insert(0, "cell", frame.index.astype(str))
        return frame.reset_index(drop=True)

    def save(self, path: str | Path) -> Path:
        """Write :meth:`to_frame` atomically (.tsv/.csv/.xlsx by suffix)."""
        return write_table_atomic(self.to_frame(), path)

    def save_clusters(self, path: str | Path) -> Path:
        """Write the per-cluster vote table atomically (.tsv/.csv/.xlsx by suffix)."""
        if self.clusters is None:
            raise OmicsInputError("This result has no per-cluster vote: annotate with cluster_vote=True.")
        return write_table_atomic(self.clusters, path)

    def save_markers(self, path: str | Path) -> Path:
        return write_table_atomic(self.markers, path)

    def save_model(self, folder: str | Path) -> Path:
        """The trained model as a folder: model.safetensors (weights) + model.json (parameters, genes, types)."""
        if self.model is None:
            raise OmicsInputError("This result carries no trained model (it was loaded from a table).")
        p = self.params
        training = {k: p[k] for k in ("mode", "label_key", "n_cells", "n_query", "n_train", "n_val") if k in p}
        metrics = {}
        if p.get("holdout_folds"):  # out-of-fold calls of labelled cells: the honest score of this model
            metrics = {k: v for k, v in self.evaluation().items() if not isinstance(v, dict)}

        settings = {k: p[k] for k in CellTypeConfig().as_dict() if k in p}  # the run's settings, as the API names them
        self.model.annotate_card(training=training, metrics=metrics, parameters=settings)
        return self.model.save(folder)

    def write_to(self, adata, key_added: str = DEFAULT_KEY, param: str = "key_added") -> None:
        """Store the calls in ``adata`` (cells matched by name; cells not in the result get NaN).

        ``obs[key_added]`` (categorical types + Unknown), the confidence in
        ``obs["omicsgat_confidence"]`` (``obs[f"{key_added}_confidence"]`` for
        another key), the mapping score and the Unknown reason beside it (``omicsgat_mapping_score``,
        ``omicsgat_unknown_reason``), ``obsm[f"{key_added}_proba"]``, the category colours in
        ``uns[f"{key_added}_colors"]`` (scanpy's convention) and the markers in
        scanpy's ``rank_genes_groups`` layout in ``uns[f"{key_added}_markers"]``;
        parameters and the marker table in ``uns["omicsgat"]["celltype"]`` (``uns["omicsgat"][key_added]``
        for another key; see :mod:`omicsgat.anndata_keys`).
        ``param`` names the option that chooses the key, for the error when a
        key is taken.
        """
        missing = adata.obs_names.difference(self.labels.index)
        if len(missing) == adata.n_obs:
            raise OmicsInputError(
                "None of this AnnData's cells are in the cell-typing result; write to the AnnData that was annotated."
            )
        frame = self.labels.reindex(adata.obs_names)
        keys = output_keys(key_added)
        for slot, key in (
            ("obs", keys["labels"]),
            ("obs", keys["confidence"]),
            ("obs", keys["mapping_score"]),
            ("obs", keys["unknown_reason"]),
            ("obsm", keys["proba"]),
            ("uns", keys["colors"]),
            ("uns", keys["markers"]),
        ):
            claim(adata, slot, key, param)
        categories = [*self.classes, UNKNOWN]
        adata.obs[keys["labels"]] = pd.Categorical(frame["label"], categories=categories)
        adata.obs[keys["confidence"]] = frame["confidence"].to_numpy(dtype=float)
        nan = pd.Series(np.nan, index=frame.index)
        adata.obs[keys["mapping_score"]] = frame.get("mapping_score", nan).to_numpy(dtype=float)
        adata.obs[keys["unknown_reason"]] = pd.Categorical(frame.get("unknown_reason", nan).fillna("").astype(str))
        adata.obsm[keys["proba"]] = frame[[f"prob_{c}" for c in self.classes]].to_numpy(dtype=float)
        adata.uns[keys["colors"]] = category_colors(categories)
        adata.uns[keys["markers"]] = rank_genes_groups_layout(self.markers, self.classes, keys["labels"])
        uns = uns_section(adata, "celltype", key_added)
        uns["key_added"] = key_added
        uns["classes"] = np.array(self.classes, dtype=object)
        uns["threshold"] = float(self.threshold)
        uns["params"] = {k: v for k, v in self.params.items() if isinstance(v, (int, float, str, bool))}
        uns["markers"] = {col: self.markers[col].to_numpy() for col in self.markers.columns}
        if isinstance(self.params.get("orthologs"), dict):  # a reference of another species: its gene(s) per query gene
            uns["orthologs"] = orthologs_uns(self.params["orthologs"], self.model.genes if self.model else None)
        for col in ("cell_type", "gene", "gene_id"):
            if col in uns["markers"]:
                uns["markers"][col] = uns["markers"][col].astype(str).astype(object)

    def with_threshold(self, threshold: float) -> "CellTypeResult":
        """The same result with another confidence threshold for Unknown (no retraining)."""
        labels = apply_unknown(self.labels, threshold)
        return CellTypeResult(
            labels,
            self.markers,
            self.classes,
            float(threshold),
            self.embedding,
            {**self.params, "unknown_threshold": float(threshold)},
            self.history,
            self.model,
            self.clusters,
        )

    # --- plots ---------------------------------------------------------------
    def plot_embedding(
        self, color: str = "label", ax=None, adata=None, basis: Optional[str] = None, palette: Optional[dict] = None
    ):
        """Scatter of :attr:`embedding` coloured by label, confidence, or an obs column / gene of ``adata``.

        ``basis`` (an obsm key of ``adata``, e.g. ``"X_umap"``) draws the cells where the data set has them instead
        of the model's PCA. Type colours are fixed by the full list of types (``palette`` overrides, e.g. scanpy's
        ``uns["<key>_colors"]``), so they do not change when Unknown appears.
        """
        if color in self.labels.columns:
            values = self.labels[color]
        elif adata is not None and color in adata.obs.columns:
            values = adata.obs[color].reindex(self.labels.index)
        elif adata is not None and color in adata.var_names:
            col = adata[self.labels.index, color].X
            values = pd.Series(
                np.asarray(col.toarray() if hasattr(col, "toarray") else col).ravel(), index=self.labels.index
            )
        else:
            raise OmicsInputError(
                f"Cannot colour by {color!r}: use 'label', 'confidence', or an obs column or gene of the AnnData passed as adata=."
            )
        coords, (xlabel, ylabel) = (
            self.embedding,
            (self.params.get("embedding", "PC") + "1", self.params.get("embedding", "PC") + "2"),
        )
        if basis is not None and adata is not None and basis in adata.obsm:
            where = adata.obs_names.get_indexer(self.labels.index)
            if (where >= 0).all():
                coords, (xlabel, ylabel) = np.asarray(adata.obsm[basis])[where, :2], basis_labels(basis)
        categories = [str(c) for c in self.classes] if color in ("label", "predicted") else None
        return plot_embedding(
            coords, values, ax=ax, title=color, xlabel=xlabel, ylabel=ylabel, palette=palette, categories=categories
        )

    def evaluated_cells(self) -> tuple[np.ndarray, str]:
        """Which cells were called without their own label (a mask over :attr:`labels`), and those cells in words.

        Only these cells can score the model: a labelled cell outside an
        out-of-fold check keeps its given label, which is training data, not a prediction.
        """
        mask = self.labels["is_query"].to_numpy(dtype=bool)
        n = int(mask.sum())
        folds = int(self.params.get("holdout_folds", 0) or 0)
        mode = self.params.get("mode")
        if mode == "saved model":
            return mask, f"{n} cells annotated by a saved model"
        if mode == "reference":
            text = f"{n} query cells, labels transferred from the reference"
            if self.params.get("n_query_cells_in_reference", 0):
                text += (
                    f" (WARNING: {self.params['n_query_cells_in_reference']} of them are also reference cells: "
                    "their agreement is training-set agreement, not accuracy)"
                )
            return mask, text
        if folds:
            n_oof = int(self.params.get("n_out_of_fold", 0))
            text = f"{n_oof} labelled cells predicted out of fold ({folds} folds)"
            return mask, text + (f" and {n - n_oof} unlabelled cells" if n > n_oof else "")
        return mask, f"{n} unlabelled cells (predicted from the labelled ones)"

    def evaluation(self, true_labels=None) -> dict:
        """Accuracy, macro-F1 and the Unknown share on :meth:`evaluated_cells`, with ``computed_on`` saying which.

        ``true_labels`` (a Series by cell or an array): the truth; by default each
        cell's given label (only out-of-fold cells have both a label and a prediction).
        """
        mask, text = self.evaluated_cells()
        if true_labels is None:
            truth = self.labels["given"].replace("", np.nan)
        elif isinstance(true_labels, pd.Series):
            truth = true_labels.reindex(self.labels.index)
        else:
            truth = pd.Series(np.asarray(true_labels), index=self.labels.index)
        keep = mask & truth.notna().to_numpy()
        out = {"computed_on": text, "n_cells": int(keep.sum())}
        if keep.any():
            scores = classification_scores(
                truth[keep].astype(str).to_numpy(), self.labels["label"][keep].astype(str).to_numpy()
            )
            out.update(
                {k: v for k, v in scores.items() if k != "per_class_f1"},
                per_class_f1={str(k): v for k, v in scores["per_class_f1"].items()},
            )
        return out

    def plot_confusion(self, true_labels, ax=None):
        """Confusion matrix of ``true_labels`` (a Series by cell, an obs column's values, or an array) vs the calls.

        Only :meth:`evaluated_cells` are counted (cells that kept their given label
        are training data); the title says which cells they are.
        """
        if isinstance(true_labels, pd.Series):
            truth = true_labels.reindex(self.labels.index)
        else:
            truth = pd.Series(np.asarray(true_labels), index=self.labels.index)
        mask, text = self.evaluated_cells()
        keep = truth.notna().to_numpy() & mask
        if not keep.any():
            raise OmicsInputError(
                f"No cell has both a true label and a prediction made without its own label ({text})."
            )
        fig = plot_confusion(
            truth[keep].astype(str).to_numpy(), self.labels["label"][keep].astype(str).to_numpy(), ax=ax
        )
        title = f"Computed on {text}" + (
            f"; {int(keep.sum())} of them have a true label" if keep.sum() < mask.sum() else ""
        )
        fig.axes[0].set_title(title, fontsize=8, wrap=True)
        return fig

    def plot_markers(self, cell_type: str, n: int = 20, ax=None):
        """Bar plot of the top ``n`` marker genes of ``cell_type`` by score."""
        if cell_type not in self.classes:
            raise OmicsInputError(f"No cell type {cell_type!r}; the types are {', '.join(self.classes)}.")
        frame = self.markers[self.markers["cell_type"] == cell_type]
        return plot_ranking(frame, "gene", "score", n=n, ax=ax, title=f"Markers of {cell_type}")
