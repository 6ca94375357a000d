"""GRN inference: parameters for ``omicsgat.grn.infer_grn`` and its result views."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QSlider, QVBoxLayout, QWidget

from omicsgat.errors import OmicsInputError
from omicsgat_gui.figure_view import FigureView
from omicsgat_gui.panels.base import AnalysisPanel, PathField, ResultPane, spin
from omicsgat_gui.table import TableView

REGULATOR_CHOICES = {
    "Engine default": None,
    "Human transcription factors (shipped list)": "human",
    "Mouse transcription factors (shipped list)": "mouse",
    "From a file (one gene per line)…": "file",
}
COMBINE_CHOICES = {
    "Nonlinear (AND / NOT logic)": "mlp",
    "Linear (weighted sum)": "linear",
}
SCORE_CHOICES = {
    "Attention and contribution (mean rank)": "rank_mean",
    "Contribution (attention × gradient)": "contribution",
    "Attention": "attention",
}
TEXT_FILES = "Text or table files (*.txt *.tsv *.csv);;All files (*)"


class GRNPanel(AnalysisPanel):
    activity_ready = Signal(object)  # regulon activity (cells x regulators) of the shown result, or None

    title = "GRN inference"
    task_name = "grn"
    default_epochs = 300
    idle_text = "Infers regulator → target edges from the loaded single-cell data."

    def __init__(self, parent=None) -> None:
        self.adata = None
        super().__init__(parent)

    def build_form(self) -> None:
        self.genes = spin(500, 10, 50000, "Number of highly variable genes to model (regulators are always kept)", 50)
        self.regulators = QComboBox(toolTip="Which genes may act as regulators")
        self.regulators.addItems(list(REGULATOR_CHOICES))
        self.regulators_file = PathField("regulators.txt", "A text file with one regulator gene per line", TEXT_FILES)
        self.regulators_file.setEnabled(False)
        self.regulators.currentTextChanged.connect(
            lambda t: self.regulators_file.setEnabled(REGULATOR_CHOICES[t] == "file"))
        self.prior = PathField("optional prior network (TSV)", "Known edges: a TSV with columns regulator, target[, sign]. "
                               "Marks known edges in the result; needed for supervised mode.", TEXT_FILES)
        self.mode = QComboBox(toolTip="unsupervised: learn from expression only; supervised: also learn from the prior edges")
        self.mode.addItems(["unsupervised", "supervised"])
        self.combine = QComboBox(toolTip="How a target's regulators combine in the unsupervised model: nonlinear "
                                 "(a small MLP over the attention heads; can express AND / NOT logic) or linear "
                                 "(a weighted sum)")
        self.combine.addItems(list(COMBINE_CHOICES))
        self.score = QComboBox(toolTip="How unsupervised edges are ranked: by the mean of their attention and contribution "
                               "ranks (default), by contribution (best on continuous networks) or by attention "
                               "(best on switch-like, Boolean networks)")
        self.score.addItems(list(SCORE_CHOICES))
        for unsupervised_only in (self.combine, self.score):
            self.mode.currentTextChanged.connect(lambda t, w=unsupervised_only: w.setEnabled(t == "unsupervised"))
        self.form.addRow("Genes (HVG)", self.genes)
        self.form.addRow("Regulators", self.regulators)
        self.form.addRow("", self.regulators_file)
        self.form.addRow("Prior network", self.prior)
        self.form.addRow("Mode", self.mode)
        self.form.addRow("Regulation", self.combine)
        self.form.addRow("Edge score", self.score)

    def build_results(self) -> None:
        self.network = FigureView("GRN network")
        self.n_edges = QSlider(Qt.Horizontal)
        self.n_edges.setRange(5, 300)
        self.n_edges.setValue(50)
        self.n_edges.setToolTip("How many of the top-ranked edges to draw")
        self.n_edges_label = QLabel("50 edges")
        self.n_edges.valueChanged.connect(lambda v: (self.n_edges_label.setText(f"{v} edges"), self._redraw.start()))
        self._redraw = QTimer(self, singleShot=True, interval=200)
        self._redraw.timeout.connect(self.draw_network)
        row = QHBoxLayout()
        row.addWidget(QLabel("Top edges shown"))
        row.addWidget(self.n_edges, 1)
        row.addWidget(self.n_edges_label)
        page = QWidget()
        pv = QVBoxLayout(page)
        pv.addLayout(row)
        pv.addWidget(self.network, 1)
        self.edges = TableView("GRN edges")
        self.hubs = ResultPane("GRN hubs")
        self.reference = PathField("known network to compare with (TSV: regulator, target)",
                                   "A reference network (e.g. ChIP-seq or curated edges) to score the ranking against", TEXT_FILES)
        self.evaluate_button = QPushButton("Evaluate")
        self.evaluate_button.setToolTip("AUROC, AUPRC (and its ratio to random), early precision of the ranking")
        self.evaluate_button.setEnabled(False)
        self.evaluate_button.clicked.connect(self.evaluate)
        self.metrics = QLabel("")
        self.metrics.setTextInteractionFlags(Qt.TextSelectableByMouse)
        erow = QHBoxLayout()
        erow.addWidget(self.reference, 1)
        erow.addWidget(self.evaluate_button)
        epage = QWidget()
        ev = QVBoxLayout(epage)
        ev.addLayout(erow)
        ev.addWidget(self.metrics)
        ev.addStretch(1)
        self.results.addTab(page, "Network")
        self.results.addTab(self.edges, "Edges")
        self.results.addTab(self.hubs, "Hubs")
        self.results.addTab(epage, "Evaluate")

    def set_data(self, adata) -> None:
        self.clear_result()
        self.evaluate_button.setEnabled(False)
        self.metrics.setText("")
        self.adata = adata
        self.genes.setValue(min(500, adata.n_vars) if adata is not None else 500)

    def make_task(self):
        if self.adata is None:
            raise OmicsInputError("Load single-cell data first (File ▸ Open AnnData…).")
        choice = REGULATOR_CHOICES[self.regulators.currentText()]
        regulators = self.regulators_file.path() if choice == "file" else choice
        if choice == "file" and not regulators:
            raise OmicsInputError("Choose the regulators file (one gene per line), or another Regulators option.")
        kwargs = dict(genes=self.genes.value(), regulators=regulators, prior=self.prior.path(),
                      mode=self.mode.currentText(), combine=COMBINE_CHOICES[self.combine.currentText()],
                      score=SCORE_CHOICES[self.score.currentText()], gene_symbols=self.gene_symbols,
                      **self.common_kwargs())
        adata = self.adata

        def task(progress, cancel):
            from omicsgat.grn import infer_grn

            result = infer_grn(adata, progress=progress, cancel=cancel, **kwargs)
            try:  # regulon activity per cell (decoupler ulm), for "Colour by TF activity" in the Data tab
                result.regulon_activity = result.activity(adata)
            except OmicsInputError:  # no regulator with enough targets: the network is still shown
                result.regulon_activity = None
            return result

        task.params = kwargs
        return task

    def show_result(self, result) -> None:
        self.edges.set_frame(result.edges)
        self.hubs.table.set_frame(result.hubs)
        self.hubs.figure.draw(result.plot_hubs, n=20)
        self.n_edges.setMaximum(max(5, min(300, len(result.edges))))
        self.draw_network()
        self.status.setText(f"{len(result.edges):,} edges ranked on {result.device}.")
        self.evaluate_button.setEnabled(True)
        self.metrics.setText("")
        self.activity_ready.emit(getattr(result, "regulon_activity", None))

    def evaluate(self) -> dict | None:
        """Score the ranking against a known network (read and checked by the engine)."""
        from omicsgat.grn.prepare import read_prior
        from omicsgat_gui.errors import guarded

        with guarded(self, "Evaluation failed"):
            path = self.reference.path()
            if not path:
                raise OmicsInputError("Choose the reference network file (TSV with columns regulator, target).")
            from omicsgat.io.genes import lookup_table, symbol_view

            view, _ = symbol_view(self.adata, self.result.params.get("gene_symbols"))  # the result names genes by symbol
            scores = self.result.evaluate(read_prior(path, view.var_names, lookup=lookup_table(view)))
            self.metrics.setText("<table cellspacing='6'>" + "".join(
                f"<tr><td><b>{k}</b></td><td>{v:.4g}</td></tr>" if isinstance(v, float) else f"<tr><td><b>{k}</b></td><td>{v}</td></tr>"
                for k, v in scores.items()) + "</table>")
            return scores
        return None

    def draw_network(self) -> None:
        if self.result is not None:
            self.network.draw(self.result.plot_network, n_edges=self.n_edges.value())
