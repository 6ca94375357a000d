"""Cell typing: parameters for ``omicsgat.celltype.annotate_cells`` and its result views."""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QComboBox, QDoubleSpinBox, QHBoxLayout, QLabel, QSpinBox, QVBoxLayout, QWidget

from omicsgat.defaults import CELLTYPE
from omicsgat.errors import OmicsInputError
from omicsgat_gui.figure_view import FigureView
from omicsgat_gui.panels.base import AnalysisPanel, PathField, ResultPane, picker_page
from omicsgat_gui.table import TableView

NO_TRUTH = "(none)"
#: What each column of the labels table means (header tooltips).
LABEL_COLUMN_TIPS = {
    "label": "The call: the given label for a labelled cell, else the predicted type or Unknown",
    "confidence": "The top class probability, calibrated on held-out cells (0.8 = about 80 % of such calls right)",
    "predicted": "The most probable type, before the Unknown rule",
    "novelty": "Distance from every labelled cell, scaled so that above 1 the cell is called Unknown",
    "given": "The label the cell came with (empty: none)",
    "is_query": "The cell was predicted (no label, a reference transfer, or out of fold)",
    "fold": "The out-of-fold check's fold that predicted this cell (numbered from 0)",
}
#: How Unknown is called: the engine's calibrated default, never, or below a confidence the user sets.
UNKNOWN_AUTOMATIC = "Automatic"
UNKNOWN_OFF = "Off"
UNKNOWN_BELOW = "Below a confidence of"
UNKNOWN_HELP = {
    UNKNOWN_AUTOMATIC: "Automatic: a cell is Unknown when its confidence is below a threshold calibrated on held-out "
    "labelled cells (at most 0.2), or when it lies far from every labelled cell.",
    UNKNOWN_OFF: "Off: every cell gets one of the known types; nothing is called Unknown.",
    UNKNOWN_BELOW: "A cell is Unknown when its confidence is below the value you set, or when it lies far from "
    "every labelled cell.",
}
NO_CONFUSION = (
    "Choose a True labels column, or an Out-of-fold check, before running to see a confusion matrix "
    "of predictions made without the cells' own labels."
)
SPECIES_TIP = (
    "Species are judged from the gene identifiers. A reference of another species (human <-> mouse) is "
    "converted to the loaded data's species through shipped Ensembl orthologs (a gene's orthologs summed)."
)
ANNDATA_FILES = "AnnData (*.h5ad);;10x HDF5 (*.h5);;Loom (*.loom);;All files (*)"


class CellTypePanel(AnalysisPanel):
    title = "Cell typing"
    task_name = "celltype"
    default_epochs = CELLTYPE["epochs"]
    idle_text = (
        "Without a reference: cells with an empty label are predicted from the labelled ones. "
        "With a reference file: its labels are transferred to every loaded cell."
    )

    def __init__(self, parent=None) -> None:
        self.adata = None
        super().__init__(parent)

    def build_form(self) -> None:
        self.label_key = QComboBox(
            toolTip="The obs column holding the cell-type labels (in the reference when one is given)"
        )
        self.label_key.setEditable(True)
        self.reference = PathField(
            "optional labelled reference (.h5ad)",
            "A labelled data set whose labels are transferred to the loaded cells",
            ANNDATA_FILES,
        )
        self.unknown_mode = QComboBox(toolTip="\n".join(UNKNOWN_HELP.values()))
        self.unknown_mode.addItems(list(UNKNOWN_HELP))
        self.threshold = QDoubleSpinBox(toolTip="Cells whose confidence is below this are called Unknown")
        self.threshold.setRange(0.001, 1.0)
        self.threshold.setSingleStep(0.05)
        self.threshold.setDecimals(3)
        self.threshold.setValue(0.5)
        self.threshold.setEnabled(False)
        self.unknown_note = QLabel(UNKNOWN_HELP[UNKNOWN_AUTOMATIC], wordWrap=True)
        self.unknown_note.setStyleSheet("color: #555;")
        self.unknown_mode.currentTextChanged.connect(self._unknown_mode_changed)
        # re-call Unknown once typing pauses, not on every keystroke
        self._threshold_timer = QTimer(self, singleShot=True, interval=400)
        self._threshold_timer.timeout.connect(lambda: self._threshold_changed(self.threshold.value()))
        self.threshold.valueChanged.connect(lambda *_: self._threshold_timer.start())
        unknown_row = QHBoxLayout()
        unknown_row.addWidget(self.unknown_mode, 1)
        unknown_row.addWidget(self.threshold)
        self.reference.edit.textChanged.connect(self._reference_changed)
        # what the run will do about species (pair, ortholog count), shown before it starts
        self.species_note = QLabel("", wordWrap=True, toolTip=SPECIES_TIP)
        self.species_note.setStyleSheet("color: #555;")
        self.species_note.setVisible(False)
        self.truth = QComboBox(
            toolTip="Optional obs column with the true types, to draw a confusion matrix "
            "(with an out-of-fold check: the label column itself by default)"
        )
        self.holdout = QSpinBox(
            toolTip="Out-of-fold check: predict every labelled cell with a model trained on the "
            "other folds (it never sees that cell's label), so the confusion matrix and "
            "accuracy are honest. Needed when every cell is labelled. Takes K+1 trainings."
        )
        self.holdout.setRange(0, 20)
        self.holdout.setSpecialValueText("off")
        self.holdout.setSuffix(" folds")
        self.label_key.currentTextChanged.connect(self._label_changed)
        self.form.addRow("Label column", self.label_key)
        self.form.addRow("Reference", self.reference)
        self.form.addRow("", self.species_note)
        self.form.addRow("Out-of-fold check", self.holdout)
        self.form.addRow("Unknown cells", unknown_row)
        self.form.addRow("", self.unknown_note)
        self.form.addRow("True labels", self.truth)

    def build_results(self) -> None:
        self.embedding = FigureView("cell type embedding")
        self.color = QComboBox(toolTip="Colour the embedding by the predicted type, the confidence or an obs column")
        self.color.currentTextChanged.connect(lambda *_: self.draw_embedding())
        self.confusion = FigureView("confusion matrix", NO_CONFUSION)
        self.confusion_note = QLabel(
            wordWrap=True,
            toolTip="Only cells predicted without their own label are counted: "
            "a labelled cell's given label is training data, not a prediction",
        )
        confusion_page = QWidget()
        page = QVBoxLayout(confusion_page)
        page.addWidget(self.confusion_note)
        page.addWidget(self.confusion, 1)
        self.marker_type = QComboBox(toolTip="Whose markers to show")
        self.marker_type.currentTextChanged.connect(lambda *_: self.draw_markers())
        self.markers = ResultPane("markers")
        self.labels = TableView("cell labels")
        self.labels.set_column_tips(LABEL_COLUMN_TIPS)
        self.results.addTab(picker_page("Colour by", self.color, self.embedding), "Embedding")
        self.results.addTab(confusion_page, "Confusion")
        self.results.addTab(picker_page("Cell type", self.marker_type, self.markers), "Markers")
        self.results.addTab(self.labels, "Labels")

    def set_data(self, adata) -> None:
        self.clear_result()
        # the previous data set's reference and threshold belong to it, not to the new data
        self.reference.edit.clear()
        self._threshold_timer.stop()
        self.unknown_mode.blockSignals(True)
        self.unknown_mode.setCurrentText(UNKNOWN_AUTOMATIC)
        self.unknown_mode.blockSignals(False)
        self._unknown_mode_changed(UNKNOWN_AUTOMATIC)
        self.confusion_note.setText("")  # the previous data set's caption
        self.color.clear()
        self.marker_type.clear()
        self.adata = adata
        self.holdout.setValue(0)
        columns = [str(c) for c in adata.obs.columns] if adata is not None else []
        self._offer_label_columns(columns)
        self.truth.clear()
        self.truth.addItems([NO_TRUTH] + columns)

    def _offer_label_columns(self, columns: list, keep_typed: bool = False) -> None:
        """Fill the label-column chooser, keeping the current choice or guessing a usual name.

        ``keep_typed``: with no match, keep what the user typed (a reference's
        columns are not known until it is read) rather than the first column.
        """
        current = self.label_key.currentText()
        self.label_key.clear()
        self.label_key.addItems(columns)
        for guess in (current, "cell_type", "celltype", "bulk_labels", "louvain"):
            if guess in columns:
                self.label_key.setCurrentText(guess)
                return
        if keep_typed:
            self.label_key.setEditText(current)

    def _label_changed(self, key: str) -> None:
        """Every cell labelled and no reference: nothing would be predicted, so offer the out-of-fold check."""
        if self.adata is None or self.reference.path() or key not in self.adata.obs.columns:
            return
        from omicsgat.celltype.prepare import read_labels

        _, missing = read_labels(self.adata, key)
        if not missing.any() and self.holdout.value() == 0:
            self.holdout.setValue(5)

    def _reference_changed(self, path: str) -> None:
        """Offer the reference's obs columns as label columns (its matrix is not read)."""
        from omicsgat.errors import OmicsInputError
        from omicsgat.io import obs_columns

        columns = [str(c) for c in self.adata.obs.columns] if self.adata is not None else []
        try:
            columns = obs_columns(path.strip()) or columns
        except OmicsInputError:  # a damaged file is reported by the engine's reader when the run starts
            pass
        self._offer_label_columns(columns, keep_typed=True)
        self.holdout.setEnabled(not path.strip())  # with a reference the query is never trained on
        if path.strip():
            self.holdout.setValue(0)
        self._show_species(path.strip())

    def _show_species(self, path: str) -> None:
        """The species pair and the orthologs the two share (the engine's preview: gene names only)."""
        from omicsgat.io.orthologs import species_preview_file

        shown = bool(path) and self.adata is not None
        self.species_note.setVisible(shown)
        self.species_note.setText("")
        if not shown:
            return
        try:
            preview = species_preview_file(path, self.adata, query_gene_symbols=self.gene_symbols)
        except (OmicsInputError, OSError, KeyError, ValueError):  # not (yet) a readable file: the run reports it
            return
        text = preview["text"].replace(" -> ", " → ")
        if preview["cross_species"] and not preview["error"]:
            text = f"Across species: {text}; the reference is converted to the loaded data's genes."
        self.species_note.setText(text)
        self.species_note.setStyleSheet("color: #a00;" if preview["error"] else "color: #555;")

    def accept_result(self, result) -> None:
        self._run_threshold = result.threshold
        super().accept_result(result)

    def unknown_threshold(self) -> float | None:
        """The engine's ``unknown_threshold``: None (automatic), 0 (off) or the value set."""
        mode = self.unknown_mode.currentText()
        return None if mode == UNKNOWN_AUTOMATIC else 0.0 if mode == UNKNOWN_OFF else float(self.threshold.value())

    def _unknown_mode_changed(self, mode: str) -> None:
        self.threshold.setEnabled(mode == UNKNOWN_BELOW)
        self.unknown_note.setText(UNKNOWN_HELP[mode])
        self._threshold_timer.start()

    def _threshold_changed(self, value: float) -> None:
        """After a run, the Unknown choice re-calls Unknown at once (the engine's ``with_threshold``, no
        retraining); Automatic goes back to the threshold of the run."""
        if self.result is None:
            return
        threshold = self.unknown_threshold()
        self.result = self.result.with_threshold(self._run_threshold if threshold is None else threshold)
        self.show_result(self.result)
        far = int((self.result.labels["novelty"].fillna(0.0) > 1.0).sum()) if threshold == 0.0 else 0
        if far and self.result.params.get("novelty", True):
            self.status.setText(
                self.status.text() + f" {far} cells far from every labelled cell stay Unknown "
                "until you run again with Unknown cells Off."
            )

    def make_task(self):
        if self.adata is None:
            raise OmicsInputError("Load single-cell data first (File ▸ Open AnnData…).")
        label_key = self.label_key.currentText().strip()
        if not label_key:
            raise OmicsInputError("Choose the label column (an obs column with the cell-type labels).")
        threshold = self.unknown_threshold()
        reference_path = self.reference.path()
        holdout = self.holdout.value() if self.holdout.isEnabled() and self.holdout.value() else None
        kwargs = dict(
            unknown_threshold=threshold, holdout=holdout, gene_symbols=self.gene_symbols, **self.common_kwargs()
        )
        if threshold == 0.0:  # Off: no confidence threshold and no distance test
            kwargs["novelty"] = False
        adata = self.adata

        def task(progress, cancel):
            from omicsgat.celltype import annotate_cells

            reference = None
            if reference_path:
                from omicsgat.io import read_anndata

                progress(0.0, f"Reading the reference {reference_path}")
                reference, _report = read_anndata(reference_path)
            return annotate_cells(adata, label_key, reference, progress=progress, cancel=cancel, **kwargs)

        task.params = dict(label_key=label_key, reference=reference_path, **kwargs)
        self._truth_key = None if self.truth.currentText() in ("", NO_TRUTH) else self.truth.currentText()
        if self._truth_key is None and holdout:  # the given labels are the truth for their out-of-fold calls
            self._truth_key = label_key
        return task

    def show_result(self, result) -> None:
        color, marker_type = self.color.currentText(), self.marker_type.currentText()
        self.labels.set_frame(result.labels)
        self.color.blockSignals(True)
        self.color.clear()
        self.color.addItems(
            ["label", "confidence"] + ([str(c) for c in self.adata.obs.columns] if self.adata is not None else [])
        )
        if color and self.color.findText(color) >= 0:
            self.color.setCurrentText(color)
        self.color.blockSignals(False)
        self.draw_embedding()
        self.draw_confusion(result)
        self.marker_type.blockSignals(True)
        self.marker_type.clear()
        self.marker_type.addItems([str(c) for c in result.classes])
        if marker_type and self.marker_type.findText(marker_type) >= 0:
            self.marker_type.setCurrentText(marker_type)
        self.marker_type.blockSignals(False)
        self.draw_markers()
        counts = result.labels["label"].value_counts()
        self.status.setText(
            f"{len(result.labels):,} cells labelled; {int(counts.get('Unknown', 0))} Unknown "
            f"(confidence threshold {result.threshold:.3g}; change “Unknown cells” to re-call them)."
        )

    def draw_confusion(self, result) -> None:
        """Truth vs calls on the cells predicted without their own label, saying which cells those are."""
        _, computed_on = result.evaluated_cells()
        if self._truth_key is None or self.adata is None or self._truth_key not in self.adata.obs.columns:
            self.confusion.clear(NO_CONFUSION)
            self.confusion_note.setText("")
            return
        truth = self.adata.obs[self._truth_key].reindex(result.labels.index)
        known = truth.isna() | truth.astype(str).isin([str(c) for c in result.classes])
        absent = sorted(set(truth[~known].astype(str)))
        # a type the model was never shown cannot be predicted: score the known types, and count how many cells
        # of the absent types were rightly called Unknown, apart
        ev = result.evaluation(truth.where(known))
        if ev["n_cells"] == 0:
            self.confusion.clear(
                f"No cell has both a true label in {self._truth_key!r} and a prediction made without "
                f"its own label ({computed_on}). " + NO_CONFUSION
            )
            self.confusion_note.setText("")
            return
        self.confusion.draw(result.plot_confusion, truth)
        warn = "WARNING" in computed_on
        self.confusion_note.setStyleSheet("color: #b00020; font-weight: bold;" if warn else "")
        text = (
            f"Computed on {computed_on}: {ev['n_cells']} cells whose true type ({self._truth_key}) is one the model "
            f"learned; accuracy {ev['accuracy']:.3f}, macro-F1 {ev['macro_f1']:.3f}, Unknown {ev['unknown_fraction']:.1%}."
        )
        if absent:
            new = result.evaluation(truth.where(~known))
            if new["n_cells"]:
                text += (
                    f" {new['n_cells']} cells of types absent from the labelled cells ({', '.join(absent[:6])}"
                    f"{', …' if len(absent) > 6 else ''}): {new['unknown_fraction']:.1%} called Unknown, "
                    "as they should be."
                )
        self.confusion_note.setText(text)

    def result_files(self, folder):
        """labels.tsv (the command line's table) and markers.tsv (every type's markers)."""
        return [self.result.save(folder / "labels.tsv"), self.result.save_markers(folder / "markers.tsv")]

    def summary_text(self) -> str:
        return "\n\n".join(t for t in (self.status.text(), self.confusion_note.text()) if t)

    def draw_embedding(self) -> None:
        if self.result is None or not self.color.currentText():
            return
        from omicsgat.pl.embedding import stored_palette
        from omicsgat_gui.data_panel import embedding_keys

        color = self.color.currentText()
        # the data set's own embedding (UMAP first) and the label column's colours, as on the Data tab
        keys = embedding_keys(self.adata) if self.adata is not None else []
        label_key = self.label_key.currentText().strip()
        palette = stored_palette(self.adata, label_key) if color in ("label", "predicted") else None
        if color not in ("label", "confidence", "predicted"):
            palette = stored_palette(self.adata, color)
        self.embedding.draw(
            self.result.plot_embedding, color=color, adata=self.adata, basis=keys[0] if keys else None, palette=palette
        )

    def draw_markers(self) -> None:
        cell_type = self.marker_type.currentText()
        if self.result is None or not cell_type:
            return
        markers = self.result.markers
        self.markers.table.set_frame(markers[markers["cell_type"].astype(str) == cell_type])
        self.markers.figure.draw(self.result.plot_markers, cell_type, n=20)
