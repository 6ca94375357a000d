"""Each analysis' defaults as plain dicts, read from the config classes of :mod:`omicsgat.config`.

Kept for the GUI forms and the engine signatures that read them by name; the
values live in one place only (the dataclasses), so a GUI run with untouched
fields and a CLI run without options are the same run.
"""

from __future__ import annotations

from omicsgat.config import CellTypeConfig, GRNConfig, PrognosisConfig

_GRN, _CELLTYPE, _PROGNOSIS = GRNConfig(), CellTypeConfig(), PrognosisConfig()

#: ``omicsgat.grn.infer_grn`` / ``omicsgat grn``
GRN = {
    "genes": _GRN.genes,
    "epochs": _GRN.epochs,
    "top_k": _GRN.top_k,
    "mode": _GRN.mode,
    "score": _GRN.score,
    "combine": _GRN.combine,
}

#: ``omicsgat.celltype.annotate_cells`` / ``omicsgat celltype``
CELLTYPE = {"epochs": _CELLTYPE.epochs}

#: ``omicsgat.prognosis.run_prognosis`` / ``omicsgat prognosis``
PROGNOSIS = {
    "folds": _PROGNOSIS.folds,
    "ensemble": _PROGNOSIS.ensemble,
    "epochs": _PROGNOSIS.epochs,
    "groups": _PROGNOSIS.groups,
    "top_k": _PROGNOSIS.top_k,
    "max_features": _PROGNOSIS.max_features,
}

#: Shared by every analysis.
COMMON = {"device": "auto", "seed": 0}
