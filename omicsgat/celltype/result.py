"""The result of :func:`~omicsgat.celltype.annotate_cells`: labels, probabilities, markers, plots."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import numpy as np
import pandas as pd

from omicsgat.errors import OmicsInputError

UNKNOWN = "Unknown"


@dataclass
class CellTypeResult:
    """Per-cell calls and per-type marker rankings.

    ``labels`` (indexed by cell name): ``label`` (a type or ``Unknown``;
    for cells that came labelled, their given label), ``confidence`` (top
    class probability), ``prob_<type>`` per type, ``predicted`` (the model's
    call for every cell), ``novelty`` (distance to the predicted type relative
    to the calibrated cut-off; above 1 means Unknown), ``given`` and
    ``is_query``. ``markers``: ``cell_type``, ``gene``, ``score`` (mean
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
        from omicsgat.io.atomic import write_table_atomic

        return write_table_atomic(self.to_frame(), path)

    def save_markers(self, path: str | Path) -> Path:
        from omicsgat.io.atomic import write_table_atomic

        return write_table_atomic(self.markers, path)

    def save_model(self, path: str | Path) -> Path:
        """The trained model as one .safetensors file (weights + JSON of parameters, genes, types)."""
        if self.model is None:
            raise OmicsInputError("This result carries no trained model (it was loaded from a table).")
        return self.model.save(path)

    def write_to(self, adata) -> None:
        """Store the calls in ``adata`` (cells matched by name; cells not in the result get NaN)."""
        from omicsgat.anndata_keys import claim, uns_section

        missing = adata.obs_names.difference(self.labels.index)
        if len(missing) == adata.n_obs:
            raise OmicsInputError("None of this AnnData's cells are in the cell-typing result; write to the AnnData that was annotated.")
        frame = self.labels.reindex(adata.obs_names)
        for key in ("omicsgat_celltype", "omicsgat_confidence"):
            claim(adata, "obs", key)
        claim(adata, "obsm", "omicsgat_celltype_proba")
        adata.obs["omicsgat_celltype"] = pd.Categorical(frame["label"], categories=[*self.classes, UNKNOWN])
        adata.obs["omicsgat_confidence"] = frame["confidence"].to_numpy(dtype=float)
        adata.obsm["omicsgat_celltype_proba"] = frame[[f"prob_{c}" for c in self.classes]].to_numpy(dtype=float)
        uns = uns_section(adata, "celltype")
        uns["classes"] = np.array(self.classes, dtype=object)
        uns["threshold"] = float(self.threshold)
        uns["params"] = {k: v for k, v in self.params.items() if isinstance(v, (int, float, str, bool))}
        uns["markers"] = {col: self.markers[col].to_numpy() for col in self.markers.columns}
        uns["markers"]["cell_type"] = uns["markers"]["cell_type"].astype(str).astype(object)
        uns["markers"]["gene"] = uns["markers"]["gene"].astype(str).astype(object)

    def with_threshold(self, threshold: float) -> "CellTypeResult":
        """The same result with another confidence threshold for Unknown (no retraining)."""
        from omicsgat.celltype.annotate import apply_unknown

        labels = apply_unknown(self.labels, threshold)
        return CellTypeResult(labels, self.markers, self.classes, float(threshold), self.embedding,
                              {**self.params, "unknown_threshold": float(threshold)}, self.history, self.model)

    # --- plots ---------------------------------------------------------------
    def plot_embedding(self, color: str = "label", ax=None, adata=None):
        """Scatter of :attr:`embedding` coloured by label, confidence, or an obs column / gene of ``adata``."""
        from omicsgat.pl.embedding import plot_embedding

        if color in self.labels.columns:
            values = self.labels[color]
        elif adata is not None and color in adata.obs.columns:
            values = adata.obs[color].reindex(self.labels.index)
        elif adata is not None and color in adata.var_names:
            col = adata[self.labels.index, color].X
            values = pd.Series(np.asarray(col.toarray() if hasattr(col, "toarray") else col).ravel(), index=self.labels.index)
        else:
            raise OmicsInputError(
                f"Cannot colour by {color!r}: use 'label', 'confidence', or an obs column or gene of the AnnData passed as adata=."
            )
        return plot_embedding(self.embedding, values, ax=ax, title=color, xlabel=self.params.get("embedding", "PC") + "1",
                              ylabel=self.params.get("embedding", "PC") + "2")

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
                text += (f" (WARNING: {self.params['n_query_cells_in_reference']} of them are also reference cells: "
                         "their agreement is training-set agreement, not accuracy)")
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
        from omicsgat.metrics.classification import classification_scores

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
            scores = classification_scores(truth[keep].astype(str).to_numpy(), self.labels["label"][keep].astype(str).to_numpy())
            out.update({k: v for k, v in scores.items() if k != "per_class_f1"},
                       per_class_f1={str(k): v for k, v in scores["per_class_f1"].items()})
        return out

    def plot_confusion(self, true_labels, ax=None):
        """Confusion matrix of ``true_labels`` (a Series by cell, an obs column's values, or an array) vs the calls.

        Only :meth:`evaluated_cells` are counted (cells that kept their given label
        are training data); the title says which cells they are.
        """
        from omicsgat.pl.embedding import plot_confusion

        if isinstance(true_labels, pd.Series):
            truth = true_labels.reindex(self.labels.index)
        else:
            truth = pd.Series(np.asarray(true_labels), index=self.labels.index)
        mask, text = self.evaluated_cells()
        keep = truth.notna().to_numpy() & mask
        if not keep.any():
            raise OmicsInputError(f"No cell has both a true label and a prediction made without its own label ({text}).")
        fig = plot_confusion(truth[keep].astype(str).to_numpy(), self.labels["label"][keep].astype(str).to_numpy(), ax=ax)
        title = f"Computed on {text}" + (f"; {int(keep.sum())} of them have a true label" if keep.sum() < mask.sum() else "")
        fig.axes[0].set_title(title, fontsize=8, wrap=True)
        return fig

    def plot_markers(self, cell_type: str, n: int = 20, ax=None):
        """Bar plot of the top ``n`` marker genes of ``cell_type`` by score."""
        from omicsgat.pl.ranking import plot_ranking

        if cell_type not in self.classes:
            raise OmicsInputError(f"No cell type {cell_type!r}; the types are {', '.join(self.classes)}.")
        frame = self.markers[self.markers["cell_type"] == cell_type]
        return plot_ranking(frame, "gene", "score", n=n, ax=ax, title=f"Markers of {cell_type}")
