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
    "Adaptive per target (model where nonlinear, else conditional)": "adaptive",
    "Attention and contribution (mean rank)": "rank_mean",
    "Contribution (attention × gradient)": "contribution",
    "Attention": "attention",
    "Conditional dependence (per-target ridge on cells)": "conditional",
}
#: Scores the engine may rank by on its own (recorded in the result's params["score"]), by what they are.
SCORES_CHOSEN_BY_ENGINE = {
    "direct_effect": "Pseudotime direct effect (used with a pseudotime)",
    "time_blend": "Pseudotime direct effect blended with the model's score",
    "supervised_blend": "Learned link score blended with the conditional score (supervised mode)",
}
REFERENCE_FILES = "Reference networks (*.csv *.tsv *.txt);;All files (*)"
#: What each column of the edge table means (header tooltips).
EDGE_COLUMN_TIPS = {
    "score": "The score the edges are ranked by (see the Edge score box: its tooltip says which one ranked them)",
    "rank": "1 = the most confident edge",
    "attention": "How much the target's model attends to this regulator (graph attention, mean over heads)",
    "contribution": "Attention × gradient: how much this regulator's value moves the target's prediction",
    "coefficient": "The model's signed effect of the regulator on the target",
    "sign": "+1 activating, -1 repressing, 0 unsigned: the model's signed effect (the network's red / blue)",
    "direct_effect": "With a pseudotime: the regulator's effect now on the target a little later, given every "
    "other gene",
    "model_score": "The attention model's own score, kept beside the score that ranked the edges",
    "target_r2": "How much of the target its candidate regulators explain (0 to 1)",
    "known": "The edge is in the known edges (prior) you gave",
}
TEXT_FILES = "Text or table files (*.txt *.tsv *.csv);;All files (*)"
DEFAULT_EDGES_SHOWN = 30  # readable labels in the default window
BEELINE_PSEUDOTIME_KEY = (
    "beeline_pseudotime"  # uns: the PseudoTime.csv columns of a BEELINE folder (omicsgat.io.beeline)
)
# uns: its refNetwork.csv, for evaluation only (= omicsgat.io.beeline.REFERENCE_KEY; not imported: that loads the readers)
BEELINE_REFERENCE_KEY = "beeline_reference"


#: Words in an obs column's name that say it holds a pseudotime (listed first) or a count (listed last).
PSEUDOTIME_WORDS = ("pseudotime", "dpt", "latent_time", "velocity", "time", "palantir", "monocle", "slingshot")
COUNT_WORDS = ("n_counts", "n_genes", "total_counts", "library", "pct_", "percent", "size_factor", "doublet")


def numeric_obs_columns(obs) -> list[str]:
    """obs columns that can hold a pseudotime: numeric, not boolean (the engine checks the values); names that
    look like a pseudotime first, counts and QC metrics last."""
    import pandas as pd

    columns = [
        str(c) for c in obs.columns if pd.api.types.is_numeric_dtype(obs[c]) and not pd.api.types.is_bool_dtype(obs[c])
    ]

    def likely(name: str) -> int:
        folded = name.casefold()
        return 0 if any(w in folded for w in PSEUDOTIME_WORDS) else 2 if any(w in folded for w in COUNT_WORDS) else 1

    return sorted(columns, key=likely)


def beeline_evaluation(result, reference):
    """The command line's evaluation (every ordered pair of the run's genes a candidate), its PR / ROC curves
    (None when the candidates hold only true or only false edges) and, for a supervised run, the metrics on the
    pairs held out of training only (None otherwise)."""
    from omicsgat.metrics.grn import beeline_table, edge_curves, held_out_metrics

    table = beeline_table(result.edges, reference, result.genes)
    genes = [str(g) for g in result.genes]
    try:
        curves = edge_curves(result.edges, reference, regulators=genes, genes=genes)
    except OmicsInputError:
        curves = None
    return table, curves, held_out_metrics(result.edges, reference)


def held_out_sentence(held: dict, start: bool = False) -> str:
    """A supervised run's figure on the pairs held out of training (its ranking also holds the prior's own
    edges, which say nothing about new ones); ``start``: as a sentence of its own."""
    return (
        f"{'On' if start else 'on'} the {held['n_pairs']} held-out test pairs only ({held['n_true']} reference edges): "
        f"AUPRC ratio {held['AUPRC_ratio']:.2f}, AUROC {held['AUROC']:.3f}."
    )


def evaluation_html(row: dict, title: str) -> str:
    """The engine's evaluation (one row of metrics) as the panel's table, each metric with what it means."""
    cells = "".join(
        f"<tr><td><b>{k}</b></td><td>{f'{v:.4g}' if isinstance(v, float) else v}</td>"
        f"<td style='color:#555'>{METRIC_HELP.get(k, '')}</td></tr>"
        for k, v in row.items()
    )
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
        self.genes = spin(
            GRN["genes"], 10, 50000, "Number of highly variable genes to model (regulators are always kept)", 50
        )
        self.regulators = QComboBox(toolTip="Which genes may act as regulators")
        self.regulators.addItems(list(REGULATOR_CHOICES))
        self.regulators_file = PathField("regulators.txt", "A text file with one regulator gene per line", TEXT_FILES)
        self.regulators_file.setEnabled(False)
        self.regulators.currentTextChanged.connect(
            lambda t: self.regulators_file.setEnabled(REGULATOR_CHOICES[t] == "file")
        )
        self.prior = PathField(
            "optional known edges to learn from (TSV)",
            "Known edges the model learns from: a TSV with columns regulator, target[, sign]. "
            "Marks known edges in the result; needed for supervised mode. (To score a result "
            "against known edges instead, use the Evaluate tab.)",
            TEXT_FILES,
        )
        self.mode = QComboBox(
            toolTip="unsupervised: learn from expression only; supervised: also learn from the prior edges"
        )
        self.mode.addItems(["unsupervised", "supervised"])
        self.combine = QComboBox(
            toolTip="How a target's regulators combine in the unsupervised model: nonlinear "
            "(a small MLP over the attention heads; can express AND / NOT logic) or linear "
            "(a weighted sum)"
        )
        self.combine.addItems(list(COMBINE_CHOICES))
        self.score = QComboBox(
            toolTip="How unsupervised edges are ranked: by the mean of their attention and contribution "
            "ranks (default), by contribution (best on continuous networks) or by attention "
            "(best on switch-like, Boolean networks)"
        )
        self.score.addItems(list(SCORE_CHOICES))
        self._score_tip = self.score.toolTip()
        self.pseudotime = QListWidget()
        self.pseudotime.setSelectionMode(QAbstractItemView.NoSelection)
        self.pseudotime.setToolTip(
            "Cells' pseudotime, one numeric obs column per trajectory (tick several for branching data). With a "
            "pseudotime the model learns which genes change before their targets, which orients edges that "
            "correlation cannot. Nothing ticked: no pseudotime (expression only). Unsupervised mode only."
        )
        self.pseudotime.setMaximumHeight(90)
        self.pseudotime_note = QLabel("No numeric obs column: none", wordWrap=True)  # a long list wraps
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
        self.n_edges.setToolTip(
            "How many of the top-ranked edges to draw (regulators on the left, targets on the right)"
        )
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
        self.edges.set_column_tips(EDGE_COLUMN_TIPS)
        self.hubs = ResultPane("GRN hubs")
        self.reference = PathField(
            "known network to compare with (BEELINE refNetwork.csv, or regulator, target)",
            "A reference network to score the ranking against: BEELINE's refNetwork.csv "
            "(Gene1, Gene2, Type) or a table with columns regulator, target (CSV or TSV), "
            "the same files the command line's evaluation reads",
            REFERENCE_FILES,
        )
        self.evaluate_button = QPushButton("Evaluate")
        self.evaluate_button.setToolTip(
            "Score the ranking against the known network as BEELINE does (every ordered "
            "pair of the run's genes a candidate): AUROC, AUPRC and its ratio to a random "
            "ranking, early precision, with the PR and ROC curves"
        )
        self.evaluate_button.setEnabled(False)
        self.evaluate_button.clicked.connect(self.evaluate)
        self.metrics = QLabel("")
        self.metrics.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.metrics.setWordWrap(True)
        self.metrics.setToolTip("\n".join(f"{k}: {v}" for k, v in METRIC_HELP.items()))
        self.curves = FigureView(
            "GRN evaluation curves",
            "Choose a known network and press Evaluate to see the "
            "precision-recall and ROC curves (drawn at once when the data carry one).",
        )
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
        """New data: the previous data set's files, choices and captions belong to it, not to these data."""
        self.clear_result()
        self.evaluate_button.setEnabled(False)
        self.metrics.setText("")
        self.regulators.setCurrentIndex(0)
        self.regulators_file.edit.clear()
        self.prior.edit.clear()
        self.reference.edit.clear()
        self._redraw.stop()
        self.n_edges.blockSignals(True)
        self.n_edges.setMaximum(300)
        self.n_edges.setValue(DEFAULT_EDGES_SHOWN)
        self.n_edges.blockSignals(False)
        self.n_edges_label.setText(f"{DEFAULT_EDGES_SHOWN} edges")
        self.show_score_used(None)
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
        return [
            self.pseudotime.item(i).text()
            for i in range(self.pseudotime.count())
            if self.pseudotime.item(i).checkState() == Qt.Checked
        ]

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

    def score_choice(self) -> str:
        """The score to ask for: the box's choice, or (while it shows a score the engine chose) what was asked last."""
        text = self.score.currentText()
        if text in SCORE_CHOICES:
            return SCORE_CHOICES[text]
        asked = self.result.params.get("score_requested") if self.result is not None else None
        return asked or next(iter(SCORE_CHOICES.values()))  # the first choice is the engine's default

    def make_task(self):
        if self.adata is None:
            raise OmicsInputError("Load single-cell data first (File ▸ Open AnnData…).")
        choice = REGULATOR_CHOICES[self.regulators.currentText()]
        regulators = self.regulators_file.path() if choice == "file" else choice
        if choice == "file" and not regulators:
            raise OmicsInputError("Choose the regulators file (one gene per line), or another Regulators option.")
        kwargs = dict(
            genes=self.genes.value(),
            regulators=regulators,
            prior=self.prior.path(),
            mode=self.mode.currentText(),
            combine=COMBINE_CHOICES[self.combine.currentText()],
            score=self.score_choice(),
            gene_symbols=self.gene_symbols,
            **self.common_kwargs(),
        )
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
            result.beeline_evaluation = result.beeline_curves = result.beeline_held_out = None
            if reference is not None:  # BEELINE's scoring over every ordered pair of the run's genes
                evaluation = beeline_evaluation(result, reference)
                result.beeline_evaluation, result.beeline_curves, result.beeline_held_out = evaluation
            return result

        task.params = kwargs
        return task

    def show_score_used(self, result) -> None:
        """The Edge score box states the score that ranked the shown edges (the result's ``params["score"]``)."""
        used = None if result is None else result.params.get("score")
        extra = [i for i in range(self.score.count()) if self.score.itemText(i) in SCORES_CHOSEN_BY_ENGINE.values()]
        for i in reversed(extra):
            self.score.removeItem(i)
        if used is None:
            self.score.setToolTip(self._score_tip)
            return
        label = next((k for k, v in SCORE_CHOICES.items() if v == used), SCORES_CHOSEN_BY_ENGINE.get(used, used))
        if self.score.findText(label) < 0:
            self.score.addItem(label)
        self.score.blockSignals(True)
        self.score.setCurrentText(label)
        self.score.blockSignals(False)
        asked = result.params.get("score_requested")
        note = f"The shown edges were ranked by: {result.params.get('score_name') or label}."
        if asked and asked != used:
            note += (
                f" You asked for {next((k for k, v in SCORE_CHOICES.items() if v == asked), asked)}; "
                "the pseudotime's evidence decided otherwise."
            )
        decision = (result.params.get("time_evidence") or {}).get("decision")
        if decision:
            note += f"\nPseudotime: {decision}"
        self.score.setToolTip(note + "\n\n" + self._score_tip)

    def show_result(self, result) -> None:
        self.show_score_used(result)
        self.edges.set_frame(result.edges)
        self.hubs.table.set_frame(result.hubs)
        self.hubs.figure.draw(result.plot_hubs, n=20)
        self.cooperation.show_result(result)
        self.n_edges.setMaximum(max(5, min(300, len(result.edges))))
        self.draw_network()
        self.status.setText(f"{len(result.edges):,} edges ranked on {result.device}.")
        self.evaluate_button.setEnabled(True)
        self.metrics.setText("")
        self.curves.clear("Choose a known network and press Evaluate to see the precision-recall and ROC curves.")
        self.show_beeline_evaluation(result)
        self.activity_ready.emit(getattr(result, "regulon_activity", None))

    def show_beeline_evaluation(self, result) -> None:
        """The data's own reference network (a BEELINE folder's refNetwork.csv): its evaluation, as the CLI prints it,
        and the curves."""
        table = getattr(result, "beeline_evaluation", None)
        if table is None or not len(table):
            return
        row = self.show_evaluation(
            table, getattr(result, "beeline_curves", None), "the data's reference network (refNetwork.csv)"
        )
        text = (
            f" AUPRC ratio {row['AUPRC_ratio']:.2f}, EPR {row['EPR']:.2f}, AUROC {row['AUROC']:.3f} against the "
            "reference network."
        )
        held = getattr(result, "beeline_held_out", None)
        if held is not None:
            text = f"{text[:-1]} (the prior's own edges included); {held_out_sentence(held)}"
            self.metrics.setText(self.metrics.text() + f"<p>{held_out_sentence(held, start=True)}</p>")
        self.status.setText(self.status.text() + text)
        self.results.setCurrentIndex(self.results.count() - 1)  # the Evaluate tab

    def show_evaluation(self, table, curves, against: str) -> dict:
        """One evaluation (the engine's BEELINE table) as the metrics text, and its PR and ROC curves."""
        from omicsgat.pl.network import plot_curves

        row = table.iloc[0].to_dict()
        row = {k: (int(v) if k.startswith("n_") else float(v)) for k, v in row.items()}
        shown = {
            k: row[k]
            for k in (
                "AUPRC_ratio",
                "EPR",
                "AUROC",
                "AUPRC",
                "EP",
                "density",
                "n_true",
                "n_candidates",
                "n_reference_outside",
            )
            if k in row
        }
        self.metrics.setText(
            evaluation_html(
                shown,
                f"Against {against}, every ordered pair of distinct genes of the run a candidate, as BEELINE "
                f"scores: {row['n_true']} true edges among {row['n_candidates']:,} pairs.",
            )
        )
        if curves is not None:
            self.curves.draw(plot_curves, curves, row)
        else:
            self.curves.clear("The curves need both true and false edges among the candidate pairs.")
        return row

    def result_files(self, folder):
        """edges.tsv and hubs.tsv, and the evaluations shown: evaluation.tsv against the data's own reference (as
        the command line writes it), evaluation_reference_file.tsv against the file chosen on the Evaluate tab."""
        from omicsgat.io.atomic import write_table_atomic

        written = [self.result.save(folder / "edges.tsv"), write_table_atomic(self.result.hubs, folder / "hubs.tsv")]
        for attribute, name in (
            ("beeline_evaluation", "evaluation.tsv"),
            ("file_evaluation", "evaluation_reference_file.tsv"),
        ):
            table = getattr(self.result, attribute, None)
            if table is not None:
                written.append(write_table_atomic(table, folder / name))
        return written

    def summary_text(self) -> str:
        return "\n\n".join(t for t in (self.status.text(), self.metrics.text()) if t)

    def evaluate(self) -> dict | None:
        """Score the ranking against a known network file, read and scored as the command line does."""
        from pathlib import Path

        from omicsgat.io.beeline import read_reference_network
        from omicsgat_gui.errors import guarded

        with guarded(self, "Evaluation failed"):
            path = self.reference.path()
            if not path:
                raise OmicsInputError(
                    "Choose the reference network file: BEELINE's refNetwork.csv (Gene1, Gene2) "
                    "or a table with columns regulator, target."
                )
            from omicsgat.io.genes import symbol_view

            view, _ = symbol_view(
                self.adata, self.result.params.get("gene_symbols")
            )  # the result names genes by symbol
            reference = read_reference_network(path, view.var_names)
            table, curves, held = beeline_evaluation(self.result, reference)
            self.result.file_evaluation = table
            row = self.show_evaluation(table, curves, Path(path).name)
            if held is not None:
                self.metrics.setText(self.metrics.text() + f"<p>{held_out_sentence(held, start=True)}</p>")
            return row
        return None

    def draw_network(self) -> None:
        if self.result is not None:
            self.network.draw(self.result.plot_network, n_edges=self.n_edges.value())
