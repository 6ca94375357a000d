"""Cell typing: parameters for ``omicsgat.celltype.annotate_cells`` and its result views."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QDoubleSpinBox

from omicsgat.errors import OmicsInputError
from omicsgat_gui.figure_view import FigureView
from omicsgat_gui.panels.base import AnalysisPanel, PathField, ResultPane, picker_page
from omicsgat_gui.table import TableView

NO_TRUTH = "(none)"
ANNDATA_FILES = "AnnData (*.h5ad);;10x HDF5 (*.h5);;Loom (*.loom);;All files (*)"


class CellTypePanel(AnalysisPanel):
    title = "Cell typing"
    task_name = "celltype"
    default_epochs = 60
    idle_text = ("Without a reference: cells with an empty label are predicted from the labelled ones. "
                 "With a reference file: its labels are transferred to every loaded cell.")

    def __init__(self, parent=None) -> None:
        self.adata = None
        super().__init__(parent)

    def build_form(self) -> None:
        self.label_key = QComboBox(toolTip="The obs column holding the cell-type labels (in the reference when one is given)")
        self.label_key.setEditable(True)
        self.reference = PathField("optional labelled reference (.h5ad)",
                                   "A labelled data set whose labels are transferred to the loaded cells", ANNDATA_FILES)
        self.threshold = QDoubleSpinBox(toolTip="Cells whose confidence is below this are called Unknown; "
                                                "'automatic' lets the engine choose")
        self.threshold.setRange(0.0, 1.0)
        self.threshold.setSingleStep(0.05)
        self.threshold.setDecimals(3)
        self.threshold.setSpecialValueText("automatic")
        self.threshold.valueChanged.connect(self._threshold_changed)
        self.reference.edit.textChanged.connect(self._reference_changed)
        self.truth = QComboBox(toolTip="Optional obs column with the true types, to draw a confusion matrix")
        self.form.addRow("Label column", self.label_key)
        self.form.addRow("Reference", self.reference)
        self.form.addRow("Unknown below", self.threshold)
        self.form.addRow("True labels", self.truth)

    def build_results(self) -> None:
        self.embedding = FigureView("cell type embedding")
        self.color = QComboBox(toolTip="Colour the embedding by the predicted type, the confidence or an obs column")
        self.color.currentTextChanged.connect(lambda *_: self.draw_embedding())
        self.confusion = FigureView("confusion matrix", "Choose a True labels column before running to see a confusion matrix.")
        self.marker_type = QComboBox(toolTip="Whose markers to show")
        self.marker_type.currentTextChanged.connect(lambda *_: self.draw_markers())
        self.markers = ResultPane("markers")
        self.labels = TableView("cell labels")
        self.results.addTab(picker_page("Colour by", self.color, self.embedding), "Embedding")
        self.results.addTab(self.confusion, "Confusion")
        self.results.addTab(picker_page("Cell type", self.marker_type, self.markers), "Markers")
        self.results.addTab(self.labels, "Labels")

    def set_data(self, adata) -> None:
        self.clear_result()
        self.adata = adata
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

    def accept_result(self, result) -> None:
        self._run_threshold = result.threshold
        super().accept_result(result)

    def _threshold_changed(self, value: float) -> None:
        """After a run, a new threshold re-calls Unknown at once (the engine's ``with_threshold``, no retraining);
        'automatic' goes back to the threshold of the run."""
        if self.result is not None:
            self.result = self.result.with_threshold(value if value > 0 else self._run_threshold)
            self.show_result(self.result)

    def make_task(self):
        if self.adata is None:
            raise OmicsInputError("Load single-cell data first (File ▸ Open AnnData…).")
        label_key = self.label_key.currentText().strip()
        if not label_key:
            raise OmicsInputError("Choose the label column (an obs column with the cell-type labels).")
        threshold = self.threshold.value() or None
        reference_path = self.reference.path()
        kwargs = dict(unknown_threshold=threshold, gene_symbols=self.gene_symbols, **self.common_kwargs())
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
        return task

    def show_result(self, result) -> None:
        color, marker_type = self.color.currentText(), self.marker_type.currentText()
        self.labels.set_frame(result.labels)
        self.color.blockSignals(True)
        self.color.clear()
        self.color.addItems(["label", "confidence"] + ([str(c) for c in self.adata.obs.columns] if self.adata is not None else []))
        if color and self.color.findText(color) >= 0:
            self.color.setCurrentText(color)
        self.color.blockSignals(False)
        self.draw_embedding()
        if self._truth_key is not None and self.adata is not None:
            truth = self.adata.obs[self._truth_key].reindex(result.labels.index)
            self.confusion.draw(result.plot_confusion, truth)
        else:
            self.confusion.clear("Choose a True labels column before running to see a confusion matrix.")
        self.marker_type.blockSignals(True)
        self.marker_type.clear()
        self.marker_type.addItems([str(c) for c in result.classes])
        if marker_type and self.marker_type.findText(marker_type) >= 0:
            self.marker_type.setCurrentText(marker_type)
        self.marker_type.blockSignals(False)
        self.draw_markers()
        counts = result.labels["label"].value_counts()
        self.status.setText(f"{len(result.labels):,} cells labelled; {int(counts.get('Unknown', 0))} Unknown "
                            f"(confidence threshold {result.threshold:.3g}; change “Unknown below” to re-call them).")

    def draw_embedding(self) -> None:
        if self.result is None or not self.color.currentText():
            return
        color = self.color.currentText()
        extra = {} if color in ("label", "confidence") else {"adata": self.adata}
        self.embedding.draw(self.result.plot_embedding, color=color, **extra)

    def draw_markers(self) -> None:
        cell_type = self.marker_type.currentText()
        if self.result is None or not cell_type:
            return
        markers = self.result.markers
        self.markers.table.set_frame(markers[markers["cell_type"].astype(str) == cell_type])
        self.markers.figure.draw(self.result.plot_markers, cell_type, n=20)
