"""What is loaded: shape, obs columns, what X holds, the load report, an embedding view."""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Optional

import numpy as np
import pandas as pd
from PySide6.QtCore import QStringListModel, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QCompleter,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from omicsgat_gui.figure_view import FigureView
from omicsgat_gui.table import TableView

GENE_CHOICE = "(gene…)"
ACTIVITY_CHOICE = "(TF activity…)"
VAR_NAMES = "(var_names)"
MAX_PREVIEW_COLUMNS = 200


def obs_overview(obs: pd.DataFrame) -> pd.DataFrame:
    """One row per obs column: type, distinct values, missing values, examples."""
    rows = []
    for name in obs.columns:
        col = obs[name]
        examples = ", ".join(map(str, col.dropna().unique()[:4]))
        rows.append(
            {
                "column": str(name),
                "type": str(col.dtype),
                "distinct": int(col.nunique(dropna=True)),
                "missing": int(col.isna().sum()),
                "examples": examples,
            }
        )
    return pd.DataFrame(rows, columns=["column", "type", "distinct", "missing", "examples"])


def embedding_keys(adata) -> list[str]:
    """obsm keys that can be drawn as a 2-D embedding, UMAP first."""
    keys = [k for k in adata.obsm.keys() if getattr(adata.obsm[k], "ndim", 0) == 2 and adata.obsm[k].shape[1] >= 2]
    order = {"X_umap": 0, "X_tsne": 1, "X_pca": 2}
    return sorted(keys, key=lambda k: (order.get(k, 3), k))


def draw_embedding(
    coords: np.ndarray,
    values: Optional[pd.Series],
    basis: str,
    color: str,
    palette: Optional[dict] = None,
    cmap: str = "viridis",
    center: Optional[float] = None,
):
    """The engine's embedding plot for an obsm embedding (no colour: one grey-blue group)."""
    from omicsgat.pl.embedding import plot_embedding

    if values is None:
        values = pd.Series(["cells"] * len(coords))
    from omicsgat.pl.embedding import basis_labels

    xlabel, ylabel = basis_labels(basis)
    return plot_embedding(
        np.asarray(coords)[:, :2],
        values,
        title=color or basis,
        xlabel=xlabel,
        ylabel=ylabel,
        palette=palette,
        cmap=cmap,
        center=center,
    )


class DataPanel(QWidget):
    """The Data tab. ``compute_embedding_requested`` asks the window to run the PCA helper."""

    compute_embedding_requested = Signal()
    gene_symbols_changed = Signal(object)  # the var column of gene symbols, or None for var_names

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.adata = None
        self.cohort = None
        self.activity: Optional[pd.DataFrame] = None  # regulon activity per cell from the last GRN run

        self.summary = QLabel(
            "Nothing loaded. Use File ▸ Open AnnData… (Ctrl+O), File ▸ Open multi-omics cohort…, "
            "or drop a file on the window."
        )
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.summary.setAlignment(Qt.AlignTop | Qt.AlignLeft)
        self.obs_table = TableView("obs columns")
        self.report = QPlainTextEdit(readOnly=True)
        self.report.setPlaceholderText("The loader's notes and warnings appear here.")
        info_tabs = QTabWidget()
        info_tabs.addTab(self.obs_table, "Columns")
        info_tabs.addTab(self.report, "Load report")
        self.info_tabs = info_tabs
        left = QWidget()
        lv = QVBoxLayout(left)
        box = QGroupBox("Loaded data")
        bv = QVBoxLayout(box)
        bv.addWidget(self.summary)
        self.symbols = QComboBox(
            toolTip="The var column holding gene symbols, when var_names are Ensembl or other IDs: "
            "TF lists, priors and markers match on symbols (the engine's --gene-symbols)"
        )
        srow = QHBoxLayout()
        srow.addWidget(QLabel("Gene symbols"))
        srow.addWidget(self.symbols, 1)
        bv.addLayout(srow)
        self.symbols.currentTextChanged.connect(self._symbols_changed)
        lv.addWidget(box)
        lv.addWidget(info_tabs, 1)

        # Embedding page (AnnData)
        self.basis = QComboBox(toolTip="Which embedding in obsm to draw")
        self.color = QComboBox(toolTip="Colour the cells by an obs column, or by a gene's values in X")
        self.gene = QLineEdit(
            placeholderText="…or type a gene",
            toolTip="Type a gene name and press Enter to colour the cells by its expression (completion offered)",
        )
        self._genes = QStringListModel(self)
        completer = QCompleter(self._genes, self)
        completer.setCaseSensitivity(Qt.CaseInsensitive)
        completer.setFilterMode(Qt.MatchContains)
        self.gene.setCompleter(completer)
        self.compute_button = QPushButton("Compute PCA")
        self.compute_button.setToolTip(
            "No UMAP/PCA in this file: compute a 2-D PCA of the log-normalized data (off the GUI thread)"
        )
        self.compute_button.clicked.connect(self.compute_embedding_requested)
        self.compute_button.hide()
        form = QHBoxLayout()
        form.addWidget(QLabel("Embedding"))
        form.addWidget(self.basis)
        form.addWidget(QLabel("Colour by"))
        form.addWidget(self.color, 1)
        form.addWidget(self.gene, 1)
        form.addWidget(self.compute_button)
        self.embedding = FigureView("embedding", "No embedding to show.")
        emb = QWidget()
        ev = QVBoxLayout(emb)
        ev.addLayout(form)
        ev.addWidget(self.embedding, 1)
        self.basis.currentTextChanged.connect(self.redraw)
        self.color.currentTextChanged.connect(self._color_changed)
        self.gene.editingFinished.connect(self._gene_entered)
        completer.activated.connect(lambda *_: self._gene_entered())

        # Cohort page
        self.cohort_tabs = QTabWidget()
        self.pages = QStackedWidget()
        self.pages.addWidget(emb)
        self.pages.addWidget(self.cohort_tabs)

        splitter = QSplitter(Qt.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(self.pages)
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 3)
        QVBoxLayout(self).addWidget(splitter)

    # --- AnnData -------------------------------------------------------
    def set_anndata(self, adata, report=None, path: str = "") -> None:
        from omicsgat.pp import detect_x_kind

        self.adata, self.cohort = adata, None
        kind = detect_x_kind(adata.X) if adata.n_obs and adata.n_vars else "empty"
        extra = []
        if adata.layers:
            extra.append("layers: " + escape(", ".join(adata.layers.keys())))
        if adata.raw is not None:
            extra.append(f"raw: {adata.raw.n_vars} genes")
        if len(adata.obsm):
            extra.append("obsm: " + escape(", ".join(adata.obsm.keys())))
        self.summary.setText(
            f"<b>{escape(Path(path).name if path else 'AnnData')}</b><br>{adata.n_obs:,} cells × {adata.n_vars:,} genes<br>"
            f"X holds: <b>{kind}</b> ({type(adata.X).__name__}, {adata.X.dtype})<br>" + "<br>".join(extra)
        )
        self.summary.setToolTip(str(path))
        self.obs_table.set_frame(obs_overview(adata.obs))
        self._set_report(report)
        self._genes.setStringList([str(g) for g in adata.var_names])
        self.gene.clear()  # the previous file's gene may not exist here
        self.activity = None
        self._fill_symbols(adata)
        self.color.blockSignals(True)
        self.color.clear()
        columns = [str(c) for c in adata.obs.columns]
        preferred = [c for c in ("omicsgat_celltype", "cell_type", "bulk_labels", "louvain", "leiden") if c in columns]
        self.color.addItems(["(none)"] + columns + [GENE_CHOICE])
        if preferred:
            self.color.setCurrentText(preferred[0])
        self.color.blockSignals(False)
        self.refresh_bases()
        self.pages.setCurrentIndex(0)

    def refresh_bases(self) -> None:
        """Re-list the obsm embeddings (after a PCA or a cell-typing run) and redraw."""
        keys = embedding_keys(self.adata) if self.adata is not None else []
        current = self.basis.currentText()
        self.basis.blockSignals(True)
        self.basis.clear()
        self.basis.addItems(keys)
        if current in keys:
            self.basis.setCurrentText(current)
        self.basis.blockSignals(False)
        self.compute_button.setVisible(self.adata is not None and not keys)
        self.redraw()

    def _fill_symbols(self, adata) -> None:
        """Offer var_names and the symbol columns the engine found, the detected one chosen."""
        from omicsgat.io.genes import gene_ids

        ids = gene_ids(adata)
        others = [
            str(c) for c in adata.var.columns if str(c) not in ids.candidates and adata.var[c].dtype.kind in "OSU"
        ]
        self.symbols.blockSignals(True)
        self.symbols.clear()
        self.symbols.addItems([VAR_NAMES] + [str(c) for c in ids.candidates] + others)
        self.symbols.setCurrentText(ids.symbol_column or VAR_NAMES)
        self.symbols.setToolTip(ids.describe())
        self.symbols.blockSignals(False)
        self.gene_symbols_changed.emit(self.gene_symbols())

    def gene_symbols(self) -> Optional[str]:
        text = self.symbols.currentText()
        return None if text in ("", VAR_NAMES) else text

    def _symbols_changed(self, _text: str) -> None:
        self.gene_symbols_changed.emit(self.gene_symbols())

    def set_activity(self, activity: Optional[pd.DataFrame]) -> None:
        """Regulon activity (cells x regulators) from a GRN run: offered as "(TF activity…)" in Colour by."""
        self.activity = activity
        has = activity is not None and activity.shape[1] > 0
        index = self.color.findText(ACTIVITY_CHOICE)
        if has and index < 0:
            self.color.addItem(ACTIVITY_CHOICE)
        elif not has and index >= 0:
            self.color.removeItem(index)

    def _color_changed(self, text: str) -> None:
        # the box is always there to type a gene; with "(TF activity…)" it takes a regulator instead
        activity = text == ACTIVITY_CHOICE and self.activity is not None
        names = (
            list(self.activity.columns) if activity else (list(self.adata.var_names) if self.adata is not None else [])
        )
        self._genes.setStringList([str(g) for g in names])
        self.gene.setPlaceholderText("regulator" if activity else "…or type a gene")
        if activity and self.gene.text() not in set(map(str, names)) and names:
            self.gene.setText(str(names[0]))
        if text in (GENE_CHOICE, ACTIVITY_CHOICE):
            self.gene.setFocus()
        self.redraw()

    def _gene_entered(self) -> None:
        """A gene typed in the box colours the cells at once ("Colour by" follows to "(gene…)")."""
        if not self.gene.text().strip() or self.adata is None:
            return
        if self.color.currentText() not in (GENE_CHOICE, ACTIVITY_CHOICE):
            self.color.setCurrentText(GENE_CHOICE)  # redraws
        else:
            self.redraw()

    def color_values(self) -> tuple[Optional[pd.Series], str]:
        """The values to colour by (an obs column or one gene's column of X)."""
        choice = self.color.currentText()
        if choice == ACTIVITY_CHOICE and self.activity is not None:
            tf = self.gene.text().strip()
            if tf not in self.activity.columns:
                from omicsgat.errors import OmicsInputError

                raise OmicsInputError(
                    f"No activity for {tf!r}: the regulators with an activity are "
                    f"{', '.join(map(str, list(self.activity.columns)[:10]))}."
                )
            return self.activity[tf].reindex(self.adata.obs_names).rename(f"{tf} activity"), f"{tf} activity"
        if choice == GENE_CHOICE:
            gene = self.gene.text().strip()
            if not gene:
                return None, ""
            gene = self.resolve_gene(gene)
            column = self.adata[:, gene].X
            column = column.toarray() if hasattr(column, "toarray") else np.asarray(column)
            return pd.Series(column.ravel(), index=self.adata.obs_names, name=gene), gene
        if choice and choice != "(none)" and self.adata is not None and choice in self.adata.obs:
            return self.adata.obs[choice], choice
        return None, ""

    def resolve_gene(self, typed: str) -> str:
        """The data set's gene for what was typed: exact, else the one gene that matches ignoring case
        (the box is corrected to it); several or none is an error that names the candidates."""
        from omicsgat.errors import OmicsInputError

        names = self.adata.var_names
        if typed in names:
            return typed
        same = [str(g) for g in names if str(g).lower() == typed.lower()]
        if len(same) == 1:
            self.gene.blockSignals(True)
            self.gene.setText(same[0])
            self.gene.blockSignals(False)
            return same[0]
        if same:
            raise OmicsInputError(
                f"Gene {typed!r} matches several genes when case is ignored: {', '.join(same[:8])}. "
                "Type one of them exactly."
            )
        close = [str(g) for g in names if typed.lower() in str(g).lower()][:8]
        raise OmicsInputError(
            f"Gene {typed!r} is not in this data set." + (f" Genes containing it: {', '.join(close)}." if close else "")
        )

    def redraw(self) -> None:
        from omicsgat_gui.errors import guarded

        basis = self.basis.currentText()
        if self.adata is None or not basis:
            self.embedding.clear("No embedding in this file: use Compute PCA." if self.adata is not None else None)
            return
        with guarded(self, "Cannot colour the embedding"):
            from omicsgat.pl.embedding import stored_palette

            values, label = self.color_values()
            choice = self.color.currentText()
            palette = stored_palette(self.adata, choice) if choice in self.adata.obs else None
            cmap = "RdBu_r" if choice == ACTIVITY_CHOICE else "viridis"
            center = 0.0 if choice == ACTIVITY_CHOICE else None  # activity: blue below 0, red above
            self.embedding.set_figure(
                draw_embedding(self.adata.obsm[basis], values, basis, label, palette, cmap, center)
            )

    # --- cohort --------------------------------------------------------
    def set_cohort(self, cohort, source: str = "") -> None:
        self.cohort, self.adata = cohort, None
        self.summary.setText(
            f"<b>{escape(source or 'Multi-omics cohort')}</b><br>" + escape(cohort.summary()).replace("\n", "<br>")
        )
        clinical = cohort.clinical.reset_index()
        self.obs_table.set_frame(obs_overview(cohort.clinical))
        self._set_report(cohort.report)
        self.cohort_tabs.clear()
        table = TableView("clinical")
        table.set_frame(clinical)
        self.cohort_tabs.addTab(table, "clinical")
        for name, frame in cohort.tables.items():
            view = TableView(name)
            shown = frame.iloc[:, :MAX_PREVIEW_COLUMNS].reset_index()
            view.set_frame(shown)
            label = (
                name
                if frame.shape[1] <= MAX_PREVIEW_COLUMNS
                else f"{name} (first {MAX_PREVIEW_COLUMNS} of {frame.shape[1]})"
            )
            self.cohort_tabs.addTab(view, label)
        self.pages.setCurrentIndex(1)

    def _set_report(self, report) -> None:
        if report is None:
            self.report.setPlainText("")
            return
        self.report.setPlainText(report.to_text())
        n_warn = len(report.warnings)
        self.info_tabs.setTabText(
            1, f"Load report ({n_warn} warning{'s' if n_warn != 1 else ''})" if n_warn else "Load report"
        )
