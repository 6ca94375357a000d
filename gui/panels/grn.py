"""GRN inference: parameters for ``omicsgat.grn.infer_grn`` and its result views."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from omicsgat.defaults import GRN
from omicsgat.errors import OmicsInputError
from omicsgat.metrics.grn import METRIC_HELP
from omicsgat_gui import settings
from omicsgat_gui.figure_view import FigureView
from omicsgat_gui.panels.base import AnalysisPanel, PathField, ResultPane, spin
from omicsgat_gui.panels.grn_pairs import CooperationTab
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
DEFAULT_EDGES_SHOWN = 30  # readable labels in the default window
BEELINE_PSEUDOTIME_KEY = "beeline_pseudotime"  # uns: the PseudoTime.csv columns of a BEELINE folder (omicsgat.io.beeline)
# uns: its refNetwork.csv, for evaluation only (= omicsgat.io.beeline.REFERENCE_KEY; not imported: that loads the readers)
BEELINE_REFERENCE_KEY = "beeline_reference"


def numeric_obs_columns(obs) -> list[str]:
    """obs columns that can hold a pseudotime: numeric, not boolean (the engine checks the values)."""
    import pandas as pd

    return [str(c) for c in obs.columns
            if pd.api.types.is_numeric_dtype(obs[c]) and not pd.api.types.is_bool_dtype(obs[c])]


def evaluation_html(row: dict, title: str) -> str:
    """The engine's evaluation (one row of metrics) as the panel's table, each metric with what it means."""
    cells = "".join(
        f"<tr><td><b>{k}</b></td><td>{f'{v:.4g}' if isinstance(v, float) else v}</td>"
        f"<td style='color:#555'>{METRIC_HELP.get(k, '')}</td></tr>"
        for k, v in row.items())
    return (f"<p>{title}</p>" if title else "") + f"<table cellspacing='4'>{cells}</table>"


class GRNPanel(AnalysisPanel):
    activity_ready = Signal(object)  # regulon activity (cells x regulators) of the shown result, or None

    title = "GRN inference"
    task_name = "grn"
    default_epochs = GRN["epochs"]
    idle_text = "Infers regulator → target edges from the loaded single-cell data."

    def __init__(self, parent=None) -> None:
        self.adata = None
        super().__init__(parent)

    def build_form(self) -> None:
        self.genes = spin(GRN["genes"], 10, 50000, "Number of highly variable genes to model (regulators are always kept)", 50)
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
        self.pseudotime = QListWidget()
        self.pseudotime.setSelectionMode(QAbstractItemView.NoSelection)
        self.pseudotime.setToolTip(
            "Cells' pseudotime, one numeric obs column per trajectory (tick several for branching data). With a "
            "pseudotime the model learns which genes change before their targets, which orients edges that "
            "correlation cannot. Nothing ticked: no pseudotime (expression only). Unsupervised mode only.")
        self.pseudotime.setMaximumHeight(90)
        self.pseudotime_note = QLabel("No numeric obs column: none")
        self.pseudotime_note.setStyleSheet("color: #555;")
        self.pseudotime.itemChanged.connect(lambda *_: self._pseudotime_changed())
        for unsupervised_only in (self.combine, self.score, self.pseudotime):
            self.mode.currentTextChanged.connect(lambda t, w=unsupervised_only: w.setEnabled(t == "unsupervised"))
        self.form.addRow("Genes (HVG)", self.genes)
        self.form.addRow("Regulators", self.regulators)
        self.form.addRow("", self.regulators_file)
        self.form.addRow("Prior network", self.prior)
        self.form.addRow("Mode", self.mode)
        self.form.addRow("Regulation", self.combine)
        self.form.addRow("Edge score", self.score)
        self.form.addRow("Pseudotime", self.pseudotime)
        self.form.addRow("", self.pseudotime_note)

    def build_results(self) -> None:
        self.network = FigureView("GRN network")
        self.n_edges = QSlider(Qt.Horizontal)
        self.n_edges.setRange(5, 300)
        self.n_edges.setValue(DEFAULT_EDGES_SHOWN)
        self.n_edges.setToolTip("How many of the top-ranked edges to draw (regulators on the left, targets on the right)")
        self.n_edges_label = QLabel(f"{DEFAULT_EDGES_SHOWN} edges")
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
        self.evaluate_button.setToolTip("Score the ranking against the known network: AUROC, AUPRC and its ratio to a "
                                        "random ranking, early precision (BEELINE's metrics), with the PR and ROC curves")
        self.evaluate_button.setEnabled(False)
        self.evaluate_button.clicked.connect(self.evaluate)
        self.metrics = QLabel("")
        self.metrics.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.metrics.setWordWrap(True)
        self.metrics.setToolTip("\n".join(f"{k}: {v}" for k, v in METRIC_HELP.items()))
        self.curves = FigureView("GRN evaluation curves", "Choose a known network and press Evaluate to see the "
                                 "precision-recall and ROC curves.")
        erow = QHBoxLayout()
        erow.addWidget(self.reference, 1)
        erow.addWidget(self.evaluate_button)
        epage = QWidget()
        ev = QVBoxLayout(epage)
        ev.addLayout(erow)
        ev.addWidget(self.metrics)
        ev.addWidget(self.curves, 1)
        self.results.addTab(page, "Network")
        self.results.addTab(self.edges, "Edges")
        self.results.addTab(self.hubs, "Hubs")
        self.cooperation = CooperationTab()
        self.results.addTab(self.cooperation, "Cooperation")
        self.results.addTab(epage, "Evaluate")

    def set_data(self, adata) -> None:
        self.clear_result()
        self.evaluate_button.setEnabled(False)
        self.metrics.setText("")
        self.adata = adata
        self.genes.setValue(min(GRN["genes"], adata.n_vars) if adata is not None else GRN["genes"])
        self.fill_pseudotime(adata)

    def fill_pseudotime(self, adata) -> None:
        """Offer the numeric obs columns; tick a BEELINE folder's PseudoTime.csv columns (nothing ticked: none)."""
        self.pseudotime.blockSignals(True)
        self.pseudotime.clear()
        columns = numeric_obs_columns(adata.obs) if adata is not None else []
        offered = set(map(str, (adata.uns.get(BEELINE_PSEUDOTIME_KEY) or []) if adata is not None else []))
        for name in columns:
            item = QListWidgetItem(name)
            item.setFlags(item.flags() | Qt.ItemIsUserCheckable)
            item.setCheckState(Qt.Checked if name in offered else Qt.Unchecked)
            self.pseudotime.addItem(item)
        self.pseudotime.blockSignals(False)
        self._pseudotime_changed()

    def pseudotime_columns(self) -> list[str]:
        """The ticked pseudotime columns, in the order shown."""
        return [self.pseudotime.item(i).text() for i in range(self.pseudotime.count())
                if self.pseudotime.item(i).checkState() == Qt.Checked]

    def set_pseudotime_columns(self, columns) -> None:
        wanted = set(columns)
        for i in range(self.pseudotime.count()):
            item = self.pseudotime.item(i)
            item.setCheckState(Qt.Checked if item.text() in wanted else Qt.Unchecked)

    def _pseudotime_changed(self) -> None:
        chosen = self.pseudotime_columns()
        if not self.pseudotime.count():
            self.pseudotime_note.setText("No numeric obs column: none")
        elif not chosen:
            self.pseudotime_note.setText("None ticked: no pseudotime (expression only)")
        else:
            self.pseudotime_note.setText(f"{len(chosen)} trajectory column(s): {', '.join(chosen)}")

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
        chosen = self.pseudotime_columns()
        if chosen and kwargs["mode"] == "unsupervised":
            kwargs["pseudotime"] = chosen
        adata = self.adata
        reference = adata.uns.get(BEELINE_REFERENCE_KEY)  # a BEELINE folder's refNetwork.csv: scored, never an input

        scheduler = settings.scheduler_choice() or None  # the preference; None: in-process or $OMICSGAT_SCHEDULER

        def task(progress, cancel):
            from omicsgat.grn import infer_grn

            result = infer_grn(adata, progress=progress, cancel=cancel, scheduler=scheduler, **kwargs)
            try:  # regulon activity per cell (decoupler ulm), for "Colour by TF activity" in the Data tab
                result.regulon_activity = result.activity(adata)
            except OmicsInputError:  # no regulator with enough targets: the network is still shown
                result.regulon_activity = None
            result.beeline_evaluation = None
            if reference is not None:  # BEELINE's scoring over every ordered pair of the run's genes
                from omicsgat.metrics.grn import beeline_table

                result.beeline_evaluation = beeline_table(result.edges, reference, result.genes)
            return result

        task.params = kwargs
        return task

    def show_result(self, result) -> None:
        self.edges.set_frame(result.edges)
        self.hubs.table.set_frame(result.hubs)
        self.hubs.figure.draw(result.plot_hubs, n=20)
        self.cooperation.show_result(result)
        self.n_edges.setMaximum(max(5, min(300, len(result.edges))))
        self.draw_network()
        self.status.setText(f"{len(result.edges):,} edges ranked on {result.device}.")
        self.evaluate_button.setEnabled(True)
        self.metrics.setText("")
        self.show_beeline_evaluation(result)
        self.activity_ready.emit(getattr(result, "regulon_activity", None))

    def show_beeline_evaluation(self, result) -> None:
        """The data's own reference network (a BEELINE folder's refNetwork.csv): its evaluation, as the CLI prints it."""
        table = getattr(result, "beeline_evaluation", None)
        if table is None or not len(table):
            return
        row = table.iloc[0].to_dict()
        row = {k: (int(v) if k.startswith("n_") else float(v)) for k, v in row.items()}
        shown = {k: row[k] for k in ("AUPRC_ratio", "EPR", "AUROC", "AUPRC", "EP", "density",
                                     "n_true", "n_candidates", "n_reference_outside") if k in row}
        self.metrics.setText(evaluation_html(
            shown, f"Against the data's reference network (refNetwork.csv), every ordered pair of distinct genes a "
                   f"candidate, as BEELINE scores: {row['n_true']} true edges among {row['n_candidates']:,} pairs."))
        self.status.setText(self.status.text() + f" AUPRC ratio {row['AUPRC_ratio']:.2f}, EPR {row['EPR']:.2f}, "
                                                 f"AUROC {row['AUROC']:.3f} against the reference network.")
        self.results.setCurrentIndex(self.results.count() - 1)  # the Evaluate tab

    def save_result(self, path: str) -> None:
        """The edge table, and next to it EDGES.evaluation.tsv when the data carried a reference (as the CLI)."""
        self.result.save(path)
        table = getattr(self.result, "beeline_evaluation", None)
        if table is not None:
            from pathlib import Path

            from omicsgat.io.atomic import write_table_atomic

            p = Path(path)
            write_table_atomic(table, p.with_name(f"{p.stem}.evaluation{p.suffix}"))

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
            reference = read_prior(path, view.var_names, lookup=lookup_table(view))
            scores = self.result.evaluate(reference)
            self.metrics.setText(evaluation_html(scores, ""))
            self.curves.draw(self.result.plot_evaluation, reference)
            return scores
        return None

    def draw_network(self) -> None:
        if self.result is not None:
            self.network.draw(self.result.plot_network, n_edges=self.n_edges.value())
