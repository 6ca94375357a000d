"""File ▸ Open model…: show a saved model's card and apply the model to the open data.

A cell-typing model annotates the open single-cell data (the calls appear in the
Cell typing tab, as after a run); a prognosis model scores the open cohort at its
training cut-offs (with the cohort's outcomes: its C-index, external validation).
A GRN model is shown but not applied: it belongs to the data it was trained on.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFileDialog, QLabel, QPlainTextEdit, QPushButton, QVBoxLayout

from omicsgat.errors import OmicsInputError

WHAT = {"celltype": "cell-typing", "prognosis": "prognosis", "grn": "GRN"}


def card_text(card: dict) -> str:
    """The card as readable lines (sections in the card's order, nested values as JSON)."""
    lines = [
        f"{WHAT.get(card['analysis'], card['analysis'])} model, OmicsGAT {card['omicsgat_version']} "
        f"(format {card['format_version']})",
        f"species: {card.get('species') or 'not recorded'}",
    ]
    for section in ("training", "parameters", "metrics"):
        values = card.get(section) or {}
        lines.append(f"\n{section}:" + ("" if values else " (none recorded)"))
        for key, value in values.items():
            text = value if isinstance(value, str) else json.dumps(value)
            lines.append(f"  {key}: {text if len(text) < 200 else text[:200] + ' …'}")
    return "\n".join(lines)


class ModelDialog(QDialog):
    """The card of a saved model folder and a Run button that applies it to the window's data."""

    def __init__(self, window, folder: Optional[str] = None) -> None:
        super().__init__(window)
        self.window, self.folder, self.card, self.result = window, None, None, None
        self.setWindowTitle("Saved model")
        self.resize(560, 480)
        self.path_label = QLabel("No model chosen.")
        self.path_label.setWordWrap(True)
        self.card_view = QPlainTextEdit(readOnly=True)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        choose = QPushButton("Choose model folder…")
        choose.clicked.connect(self.choose)
        self.buttons = QDialogButtonBox(QDialogButtonBox.Close)
        self.run_button = self.buttons.addButton("Run on the open data", QDialogButtonBox.AcceptRole)
        self.run_button.setEnabled(False)
        self.buttons.rejected.connect(self.reject)
        self.buttons.accepted.connect(self.run)
        layout = QVBoxLayout(self)
        for widget in (choose, self.path_label, self.card_view, self.status, self.buttons):
            layout.addWidget(widget)
        if folder:
            self.set_folder(folder)

    def choose(self) -> None:
        from omicsgat_gui import settings

        folder = QFileDialog.getExistingDirectory(
            self, "Saved model folder (model.json + model.safetensors)", settings.last_folder()
        )
        if folder:
            self.set_folder(folder)

    def set_folder(self, folder: str) -> bool:
        """Read and show the card; enable Run when the model can be applied to data of the window."""
        from omicsgat.persist import read_card

        try:
            card = read_card(folder)
        except OmicsInputError as exc:
            self.card, self.folder = None, None
            self.card_view.setPlainText("")
            self.status.setText(str(exc))
            self.run_button.setEnabled(False)
            return False
        self.folder, self.card = Path(folder), card
        self.path_label.setText(str(self.folder))
        self.card_view.setPlainText(card_text(card))
        problem = self._missing_data()
        self.status.setText(
            problem
            or f"Run applies this model to the open "
            f"{'cohort' if card['analysis'] == 'prognosis' else 'single-cell data'}."
        )
        self.run_button.setEnabled(problem is None)
        return True

    def _missing_data(self) -> Optional[str]:
        analysis = self.card["analysis"]
        if analysis == "grn":
            return (
                "A GRN model is not applied to new data: its network belongs to the cells it was trained on "
                "(see docs/formats.md). Run GRN inference on the new data instead."
            )
        if analysis == "celltype" and self.window.adata is None:
            return "Open single-cell data first (File ▸ Open AnnData…), then run the model on it."
        if analysis == "prognosis" and self.window.cohort is None:
            return "Open a multi-omics cohort first (File ▸ Open multi-omics cohort…), then run the model on it."
        return None

    def run(self) -> bool:
        """Apply the model in the window's worker; the result goes to the Cell typing tab or into this dialog."""
        if self.card is None or self._missing_data():
            return False
        folder, analysis, window = self.folder, self.card["analysis"], self.window
        if analysis == "celltype":
            adata, panel = window.adata, window.celltype_panel
            symbols = panel.gene_symbols

            def task(progress, cancel):
                from omicsgat.celltype import CellTypeModel

                return CellTypeModel.load(folder).apply(adata, progress=progress, cancel=cancel, gene_symbols=symbols)

            def done(result) -> None:
                self.result = result
                panel._truth_key = None  # no truth column for a saved model's calls: no confusion matrix
                panel.accept_result(result)
                window.tabs.setCurrentWidget(panel)
                self.status.setText(_celltype_text(result))
        else:
            cohort = window.cohort

            def task(progress, cancel):
                from omicsgat.prognosis import GeneAttentionSurvival

                progress(0.1, "scoring the cohort")
                return GeneAttentionSurvival.load(folder, device="cpu").apply(cohort)

            def done(result) -> None:
                self.result = result
                self.status.setText(_prognosis_text(result))

        started = window.start_task(f"Apply model {folder.name}", task, done)
        if started:
            window.log(f"Apply model: {folder}")
            self.status.setText("Running…")
        return started


def _celltype_text(result) -> str:
    p = result.params
    counts = ", ".join(f"{k}: {v}" for k, v in result.labels["label"].value_counts().items())
    text = f"{len(result.labels)} cells annotated ({counts}); shown in the Cell typing tab."
    if p.get("n_genes_missing"):
        text += (
            f" Partial match: {p['n_genes_missing']} of the model's {p['n_genes_used']} genes are missing "
            "from the data."
        )
    return text


def _prognosis_text(result) -> str:
    s = result.summary
    sizes = ", ".join(f"{k} {v}" for k, v in s["group_sizes"].items())
    text = f"{s['n_samples']} samples scored; groups at the training cut-offs: {sizes}."
    if "c_index" in s:
        text += f" C-index on this cohort {s['c_index']:.3f} (log-rank p {s['logrank_p']:.3g})."
    return text
