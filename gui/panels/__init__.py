"""One panel per analysis: parameters on the left, results on the right."""

from omicsgat_gui.panels.celltype import CellTypePanel
from omicsgat_gui.panels.grn import GRNPanel
from omicsgat_gui.panels.prognosis import PrognosisPanel

__all__ = ["GRNPanel", "CellTypePanel", "PrognosisPanel"]
