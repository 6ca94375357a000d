"""Prognosis: parameters for ``omicsgat.prognosis.run_prognosis`` and its result views."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from omicsgat.defaults import PROGNOSIS as D
from omicsgat.errors import OmicsInputError
from omicsgat_gui import settings
from omicsgat_gui.figure_view import FigureView
from omicsgat_gui.panels.base import AnalysisPanel, ResultPane, picker_page, spin
from omicsgat_gui.table import TableView


def _fmt_p(p: float) -> str:
    return f"{p:.2e}" if p < 1e-3 else f"{p:.3f}"


#: Risk groups as the CLI's --groups offers them: label -> engine value (None: the cut-off box).
GROUP_CHOICES = {
    "Median split (low / high)": "median",
    "Tertiles (low / intermediate / high)": "tertiles",
    "Risk cut-off (high above it)": None,
}

#: The features table as shown: the columns a reader needs first, then the rest.
FEATURE_COLUMNS = (
    "modality",
    "feature",
    "rank",
    "attention",
    "enet_coef",
    "enet_frequency",
    "cox_hr",
    "cox_p",
    "cox_fdr",
    "topk_frequency",
)

COLUMN_TIPS = {
    "attention": "Mean gene attention over held-out samples, folds and models (1 = an average feature)",
    "rank": "Rank by attention (1 = most attended)",
    "topk_frequency": "Share of the models that put this feature in their top k by attention",
    "enet_coef": "Elastic-net Cox coefficient: log hazard ratio per SD of the feature, averaged over every model "
    "(0 where a model did not select it). Positive = higher value, higher risk",
    "enet_frequency": "Share of the models whose elastic net selected this feature (non-zero coefficient)",
    "cox_hr": "Univariate Cox hazard ratio per SD, on the whole cohort (top-k features only)",
    "cox_p": "Univariate Cox p-value on the whole cohort. Optimistic: the feature was chosen by models trained on the "
    "same outcomes (selected on the same data), so this is not an independent test",
    "cox_fdr": "Benjamini-Hochberg FDR of cox_p over the top-k features; optimistic for the same reason as cox_p",
}


class PrognosisPanel(AnalysisPanel):
    title = "Prognosis"
    task_name = "prognosis"
    default_epochs = D["epochs"]
    idle_text = "Predicts risk from the loaded multi-omics cohort with cross-validation, and ranks the features."
    figures_in_result_files = ("Kaplan-Meier",)  # km.png/svg/pdf

    def __init__(self, parent=None) -> None:
        self.cohort = None
        super().__init__(parent)

    def build_form(self) -> None:
        self.modalities = QListWidget(toolTip="Which omics tables to use (all by default)")
        self.modalities.setMaximumHeight(100)
        self.folds = spin(
            D["folds"], 2, 20, "Cross-validation folds: every sample's risk is predicted by a model that did not see it"
        )
        self.ensemble = spin(D["ensemble"], 1, 50, "Models averaged per fold (more = steadier rankings, slower)")
        self.groups = QComboBox(
            toolTip="How to split samples into risk groups by their out-of-fold risk: at the median "
            "(two groups), into tertiles (three groups), or high above a cut-off"
        )
        self.groups.addItems(list(GROUP_CHOICES))
        self.cutoff = QDoubleSpinBox(
            toolTip="Cut-off on the standardised log-risk (standardised on the training folds: "
            "0 = average risk, 1 = one SD above); samples above it are 'high'"
        )
        self.cutoff.setRange(-5.0, 5.0)
        self.cutoff.setSingleStep(0.25)
        self.cutoff.setDecimals(2)
        self.cutoff.setEnabled(False)
        self.groups.currentTextChanged.connect(lambda t: self.cutoff.setEnabled(GROUP_CHOICES[t] is None))
        # after a run, another grouping re-cuts the existing out-of-fold risks at once (no retraining)
        self._regroup = QTimer(self, singleShot=True, interval=400)
        self._regroup.timeout.connect(self.regroup)
        self.groups.currentTextChanged.connect(lambda *_: self._regroup.start())
        self.cutoff.valueChanged.connect(lambda *_: self._regroup.start())
        group_row = QHBoxLayout()
        group_row.addWidget(self.groups, 1)
        group_row.addWidget(self.cutoff)
        self.elastic_net = QCheckBox("Add an elastic-net Cox model")
        self.elastic_net.setChecked(True)
        self.elastic_net.setToolTip(
            "Each model's risk is the mean of the gene-attention network and an elastic-net "
            "Cox model fitted on the same training samples (penalty by inner 5-fold CV). "
            "Its coefficients are the enet_coef column; each part's C-index is shown. "
            "Untick for the network alone (the CLI's --no-elastic-net)"
        )
        self.top_k = spin(D["top_k"], 1, 5000, "Features counted as 'top' per model (for the top-k frequency column)")
        self.form.addRow("Modalities", self.modalities)
        self.form.addRow("Folds", self.folds)
        self.form.addRow("Ensemble", self.ensemble)
        self.form.addRow("Risk groups", group_row)
        self.form.addRow("Top k", self.top_k)
        self.form.addRow("Risk model", self.elastic_net)

    def build_results(self) -> None:
        self.km = FigureView("Kaplan-Meier")
        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextSelectableByMouse)
        page = QWidget()
        pv = QVBoxLayout(page)
        pv.addWidget(self.summary)
        pv.addWidget(self.km, 1)
        self.cindex = FigureView("C-index per fold")
        self.modality = QComboBox(
            toolTip="Whose features to show: the plot and the table list this modality's "
            "features (Save all results writes every modality)"
        )
        self.modality.currentTextChanged.connect(lambda *_: self.draw_genes())
        self.genes = ResultPane("features")
        self.genes.table.set_column_tips(COLUMN_TIPS)
        self.genes.setStretchFactor(0, 3)  # the table (with its Cox columns) gets most of the width
        self.genes.setStretchFactor(1, 2)
        self.risk = TableView("risk")
        self.results.addTab(page, "Kaplan–Meier")
        self.results.addTab(self.cindex, "C-index")
        self.results.addTab(picker_page("Modality", self.modality, self.genes), "Features")
        self.results.addTab(self.risk, "Risk")

    def set_cohort(self, cohort) -> None:
        self.clear_result()
        self.cohort = cohort
        self.modalities.clear()
        for name in cohort.modalities if cohort is not None else []:
            item = QListWidgetItem(name)
            item.setFlags(item.flags() | Qt.ItemIsUserCheckable)
            item.setCheckState(Qt.Checked)
            self.modalities.addItem(item)

    def selected_modalities(self) -> list[str]:
        return [
            self.modalities.item(i).text()
            for i in range(self.modalities.count())
            if self.modalities.item(i).checkState() == Qt.Checked
        ]

    def group_choice(self):
        """The engine's ``groups``: "median", "tertiles" or the cut-off as a number."""
        choice = GROUP_CHOICES[self.groups.currentText()]
        return float(self.cutoff.value()) if choice is None else choice

    def make_task(self):
        if self.cohort is None:
            raise OmicsInputError("Load a multi-omics cohort first (File ▸ Open multi-omics cohort…).")
        modalities = self.selected_modalities()
        if not modalities:
            raise OmicsInputError("Tick at least one modality to use.")
        kwargs = dict(
            modalities=modalities,
            folds=self.folds.value(),
            ensemble=self.ensemble.value(),
            groups=self.group_choice(),
            top_k=self.top_k.value(),
            model_options={"elastic_net": self.elastic_net.isChecked()},
            **self.common_kwargs(),
        )
        cohort = self.cohort

        scheduler = settings.scheduler_choice() or None  # the preference; None: in-process or $OMICSGAT_SCHEDULER

        def task(progress, cancel):
            from omicsgat.prognosis import run_prognosis

            return run_prognosis(cohort, progress=progress, cancel=cancel, scheduler=scheduler, **kwargs)

        task.params = kwargs
        return task

    def show_result(self, result) -> None:
        s = result.summary
        per_fold = ", ".join(f"{c:.3f}" for c in s.get("c_index_per_fold", []))
        parts = [
            f"<b>C-index</b> {s['c_index']:.3f} ± {s.get('c_index_sd', float('nan')):.3f} (out-of-fold; per fold: {per_fold})"
        ]
        if "c_index_uno" in s:
            parts.append(f"Uno's C {s['c_index_uno']:.3f}")
        if "logrank_p" in s:
            parts.append(f"<b>log-rank p</b> {_fmt_p(s['logrank_p'])}")
        if "hazard_ratio" in s:
            parts.append(
                f"<b>HR</b> high vs low {s['hazard_ratio']:.2f} "
                f"[{s.get('hr_ci_low', float('nan')):.2f}, {s.get('hr_ci_high', float('nan')):.2f}]"
            )
        cp = {k: v for k, v in s.get("c_index_parts", {}).items() if v is not None}
        text = " · ".join(parts)
        if s.get("risk_model"):
            text += f"<br><b>Risk</b>: {s['risk_model']}"
        if cp:
            text += "<br><b>Out-of-fold C-index of each part alone</b>: " + ", ".join(
                f"{k.replace('_', ' ')} {v:.3f}" for k, v in cp.items()
            )
        self.summary.setText(text)
        self.summary.setToolTip(
            "Which part drives the risk: each part's risk scored on the held-out samples on its own"
        )
        self.km.draw(result.plot_km)
        self.cindex.draw(result.plot_cindex)
        self.risk.set_frame(result.risk)
        current = self.modality.currentText()
        self.modality.blockSignals(True)
        self.modality.clear()
        self.modality.addItems(list(result.genes))
        if current in result.genes:
            self.modality.setCurrentText(current)
        self.modality.blockSignals(False)
        self.draw_genes()
        self.status.setText(f"C-index {s['c_index']:.3f} over {len(result.risk)} samples.")

    def result_files(self, folder):
        """The command line's files: risk.tsv, genes_<NAME>.tsv, features.tsv, folds.tsv, summary.json, km.*"""
        return list(self.result.save(folder).values())

    def summary_text(self) -> str:
        return "\n\n".join(t for t in (self.summary.text(), self.status.text()) if t)

    def draw_genes(self) -> None:
        """The chosen modality's features: the plot and the table alike."""
        name = self.modality.currentText()
        if self.result is None or not name:
            return
        features = self.result.features_frame()
        features = features[features["modality"].astype(str) == name]
        self.genes.table.set_frame(
            features[[c for c in FEATURE_COLUMNS if c in features] + [c for c in features if c not in FEATURE_COLUMNS]]
        )
        self.genes.figure.draw(self.result.plot_genes, name, n=20)

    def regroup(self) -> None:
        """Cut the shown result's out-of-fold risks into the chosen groups (the engine's ``with_groups``)."""
        if self.result is None or self.result.params.get("groups") == self.group_choice():
            return
        try:
            self.result = self.result.with_groups(self.group_choice())
        except OmicsInputError as exc:
            self.status.setText(f"Risk groups not changed: {exc}")
            return
        self.unsaved = True
        self.show_result(self.result)
        self.status.setText(
            self.status.text() + f" Risk groups re-cut ({self.groups.currentText()}) on the same "
            "out-of-fold risks, without retraining."
        )
