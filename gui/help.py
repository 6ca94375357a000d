"""Help > About and the short user guide."""

from __future__ import annotations

import platform
from importlib import metadata

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout

GUIDE = """
<h2>OmicsGAT in five minutes</h2>
<h3>1. Load data</h3>
<ul>
<li><b>File ▸ Open AnnData…</b> (Ctrl+O) for single-cell data: <code>.h5ad</code>, 10x <code>.h5</code>, a 10x matrix folder,
<code>.loom</code> or <code>.h5mu</code>. You can also drop a file on the window.</li>
<li><b>File ▸ Open BEELINE folder…</b> (Ctrl+Shift+B) for a BEELINE input folder (<code>ExpressionData.csv</code>,
optional <code>PseudoTime.csv</code> and <code>refNetwork.csv</code>): the GRN tab preselects its pseudotime
columns and scores the result against its reference network.</li>
<li><b>File ▸ Open multi-omics cohort…</b> (Ctrl+Shift+O) for bulk tables: add one table per omics type
(samples in rows, or tick <i>Features as rows</i>), choose the clinical table with its survival time and event
columns, press <b>Check alignment</b>, read the report, then <b>Open cohort</b>.</li>
</ul>
The <b>Data</b> tab shows what was loaded, what the matrix holds (raw counts, log-normalized or scaled values),
the loader's warnings, and the embedding coloured by any column or gene.
<h3>2. Run an analysis</h3>
<ul>
<li><b>GRN inference</b> (single-cell): regulator → target edges ranked by attention and by their
attention-weighted contribution to the target (the mean of the two ranks; the combination of regulators can be
linear or nonlinear, AND / NOT); network drawing with a
slider for how many edges to show; hub genes.</li>
<li><b>Cell typing</b> (single-cell): leave some labels empty to predict them, or give a labelled reference file
to transfer its labels. Cells with a low (calibrated) confidence, or whose neighbourhood lies far from every
reference type, are called <i>Unknown</i>.</li>
<li><b>Prognosis</b> (cohort): cross-validated risk scores, Kaplan–Meier curves of the risk groups with the
number at risk, log-rank p, hazard ratio and C-index per fold; feature rankings of every omics type with the
attention, the elastic-net coefficient and a univariate Cox test (optimistic: the features were chosen with the same
outcomes). By default each model's risk is the mean of the attention network and an elastic-net Cox model; the
C-index of each part alone is shown.</li>
</ul>
Each analysis has sensible defaults; hover over a field for help. <b>Run</b> (Ctrl+R) starts it in the
background; the status bar shows the step, the elapsed time and an estimate of the time left; <b>Cancel</b> (Esc)
stops it within a second or two. Quitting or opening other data asks before unsaved results are discarded.
One analysis runs at a time. The same seed on the same device gives the same result.
<h3>3. Export</h3>
<ul>
<li>Every table has a filter box, <b>Copy</b> (paste into Excel) and <b>Export…</b> (CSV, TSV, Excel).</li>
<li>Every plot has <b>Export plot…</b> (PNG at the DPI you choose, SVG, PDF). <b>File ▸ Export…</b> (Ctrl+E)
lists everything on screen.</li>
<li><b>Save all results…</b> writes the same files as the command line.</li>
<li><b>File ▸ Save annotated AnnData As…</b> writes a new <code>.h5ad</code> with the results
(<code>obs["omicsgat_celltype"]</code>, <code>uns["omicsgat"]</code>, ...). The input file is never overwritten.</li>
</ul>
<h3>Keyboard</h3>
Ctrl+O open · Ctrl+Shift+B BEELINE folder · Ctrl+Shift+O cohort · Ctrl+G / Ctrl+L / Ctrl+P GRN, cell typing, prognosis ·
Ctrl+1…4 switch tabs · Ctrl+R run · Esc cancel · Ctrl+E export · Ctrl+Shift+S save AnnData · F1 this guide.
<h3>When something goes wrong</h3>
Problems with the input (a missing column, mismatched sample IDs, ...) are explained in a dialog. Anything else
writes a log file (see the message) under <code>~/.omicsgat/logs</code> or <code>$OMICSGAT_LOG_DIR</code>;
the application keeps running.
"""


def versions() -> dict[str, str]:
    """Installed versions, read from package metadata (does not import torch)."""
    out = {"Python": platform.python_version()}
    for dist, label in (
        ("omicsgat", "OmicsGAT"),
        ("torch", "PyTorch"),
        ("torch_geometric", "PyG"),
        ("scanpy", "scanpy"),
        ("anndata", "anndata"),
        ("PySide6-Essentials", "PySide6"),
    ):
        try:
            out[label] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[label] = "not installed"
    from PySide6 import QtCore

    out["Qt"] = QtCore.qVersion()
    return out


def about_text(device: str) -> str:
    rows = "".join(f"<tr><td>{k}</td><td>{v}</td></tr>" for k, v in versions().items())
    return (
        f"<h3>OmicsGAT</h3><p>Graph- and gene-attention models for single-cell and multi-omics data: "
        f"GRN inference, cell typing and prognosis.</p><p>Active device: <b>{device}</b></p>"
        f"<table cellspacing='4'>{rows}</table>"
    )


class GuideDialog(QDialog):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("OmicsGAT user guide")
        self.resize(720, 640)
        self.browser = QTextBrowser()
        self.browser.setHtml(GUIDE)
        buttons = QDialogButtonBox(QDialogButtonBox.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.browser)
        layout.addWidget(buttons)
