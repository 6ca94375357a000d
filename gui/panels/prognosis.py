"""Prognosis: parameters for ``omicsgat.prognosis.run_prognosis`` and its result views."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QLabel, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from omicsgat.errors import OmicsInputError
from omicsgat_gui import settings
from omicsgat_gui.figure_view import FigureView
from omicsgat_gui.panels.base import AnalysisPanel, ResultPane, picker_page, spin
from omicsgat_gui.table import TableView


def _fmt_p(p: float) -> str:
    return f"{p:.2e}" if p < 1e-3 else f"{p:.3f}"


class PrognosisPanel(AnalysisPanel):
    title = "Prognosis"
    task_name = "prognosis"
    default_epochs = 300
    idle_text = "Predicts risk from the loaded multi-omics cohort with cross-validation, and ranks the features."
    save_filters = None  # a folder: risk.tsv, genes_<NAME>.tsv, summary.json, km.png/svg/pdf

    def __init__(self, parent=None) -> None:
        self.cohort = None
        super().__init__(parent)

    def build_form(self) -> None:
        self.modalities = QListWidget(toolTip="Which omics tables to use (all by default)")
        self.modalities.setMaximumHeight(100)
        self.folds = spin(5, 2, 20, "Cross-validation folds: every sample's risk is predicted by a model that did not see it")
        self.ensemble = spin(5, 1, 50, "Models averaged per fold (more = steadier rankings, slower)")
        self.groups = QComboBox(toolTip="How to split samples into high/low risk: at the median, or at a quantile (e.g. 0.33)")
        self.groups.setEditable(True)
        self.groups.addItems(["median", "0.25", "0.33", "0.5", "0.67", "0.75"])
        self.top_k = spin(20, 1, 5000, "Features counted as 'top' per model (for the top-k frequency column)")
        self.form.addRow("Modalities", self.modalities)
        self.form.addRow("Folds", self.folds)
        self.form.addRow("Ensemble", self.ensemble)
        self.form.addRow("Risk groups", self.groups)
        self.form.addRow("Top k", self.top_k)

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
        self.modality = QComboBox(toolTip="Whose feature ranking to show")
        self.modality.currentTextChanged.connect(lambda *_: self.draw_genes())
        self.genes = ResultPane("features")
        self.risk = TableView("risk")
        self.results.addTab(page, "Kaplan–Meier")
        self.results.addTab(self.cindex, "C-index")
        self.results.addTab(picker_page("Modality", self.modality, self.genes), "Features")
        self.results.addTab(self.risk, "Risk")

    def set_cohort(self, cohort) -> None:
        self.clear_result()
        self.cohort = cohort
        self.modalities.clear()
        for name in (cohort.modalities if cohort is not None else []):
            item = QListWidgetItem(name)
            item.setFlags(item.flags() | Qt.ItemIsUserCheckable)
            item.setCheckState(Qt.Checked)
            self.modalities.addItem(item)

    def selected_modalities(self) -> list[str]:
        return [self.modalities.item(i).text() for i in range(self.modalities.count())
                if self.modalities.item(i).checkState() == Qt.Checked]

    def make_task(self):
        if self.cohort is None:
            raise OmicsInputError("Load a multi-omics cohort first (File ▸ Open multi-omics cohort…).")
        modalities = self.selected_modalities()
        if not modalities:
            raise OmicsInputError("Tick at least one modality to use.")
        text = self.groups.currentText().strip()
        try:
            groups = float(text)
        except ValueError:
            groups = text
        kwargs = dict(modalities=modalities, folds=self.folds.value(), ensemble=self.ensemble.value(),
                      groups=groups, top_k=self.top_k.value(), **self.common_kwargs())
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
        parts = [f"<b>C-index</b> {s['c_index']:.3f} ± {s.get('c_index_sd', float('nan')):.3f} (out-of-fold; per fold: {per_fold})"]
        if "c_index_uno" in s:
            parts.append(f"Uno's C {s['c_index_uno']:.3f}")
        if "logrank_p" in s:
            parts.append(f"<b>log-rank p</b> {_fmt_p(s['logrank_p'])}")
        if "hazard_ratio" in s:
            parts.append(f"<b>HR</b> high vs low {s['hazard_ratio']:.2f} "
                         f"[{s.get('hr_ci_low', float('nan')):.2f}, {s.get('hr_ci_high', float('nan')):.2f}]")
        self.summary.setText(" · ".join(parts))
        self.km.draw(result.plot_km)
        self.cindex.draw(result.plot_cindex)
        self.risk.set_frame(result.risk)
        self.modality.blockSignals(True)
        self.modality.clear()
        self.modality.addItems(list(result.genes))
        self.modality.blockSignals(False)
        self.draw_genes()
        self.status.setText(f"C-index {s['c_index']:.3f} over {len(result.risk)} samples.")

    def draw_genes(self) -> None:
        name = self.modality.currentText()
        if self.result is None or not name:
            return
        self.genes.table.set_frame(self.result.genes[name])
        self.genes.figure.draw(self.result.plot_genes, name, n=20)
