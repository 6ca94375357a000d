"""The one source of each analysis' default settings, read by the engine, the CLI and the GUI.

A GUI run with untouched fields and a CLI run without options must give the
same files (#16 found GRN epochs 300 in the GUI, 150 in the CLI); so the
engine signatures, the CLI options and the GUI fields all take their
defaults from here. Import-light on purpose: the GUI reads it at start-up.
"""

from __future__ import annotations

#: ``omicsgat.grn.infer_grn`` / ``omicsgat grn``
GRN = {"genes": 500, "epochs": 150, "top_k": 50, "mode": "unsupervised"}

#: ``omicsgat.celltype.annotate_cells`` / ``omicsgat celltype``
CELLTYPE = {"epochs": 60}

#: ``omicsgat.prognosis.run_prognosis`` / ``omicsgat prognosis``
PROGNOSIS = {"folds": 5, "ensemble": 5, "epochs": 300, "groups": "median", "top_k": 20, "max_features": 2000}

#: Shared by every analysis.
COMMON = {"device": "auto", "seed": 0}
