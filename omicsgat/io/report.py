"""The load report: what a loader noticed, for the user to read."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import List, Optional, Tuple


@dataclass
class LoadReport:
    """Notes, warnings and decisions a loader made about one data set.

    Loaders raise :class:`~omicsgat.errors.OmicsInputError` for what cannot
    be used at all, and write here what they fixed or want the user to know
    (dropped constant features, imputed values, samples left out, ...).
    """

    source: str = ""
    entries: List[Tuple[str, str]] = field(default_factory=list)
    modality: Optional[str] = None  # the modality read from an .h5mu file (results can be written back into it)

    def info(self, message: str) -> None:
        self.entries.append(("info", message))

    def warn(self, message: str) -> None:
        self.entries.append(("warning", message))

    @property
    def warnings(self) -> List[str]:
        return [m for level, m in self.entries if level == "warning"]

    @property
    def infos(self) -> List[str]:
        return [m for level, m in self.entries if level == "info"]

    def extend(self, other: "LoadReport") -> None:
        self.entries.extend(other.entries)

    def to_text(self) -> str:
        head = f"Load report for {self.source}" if self.source else "Load report"
        if not self.entries:
            return f"{head}: no problems found."
        lines = [head + ":"]
        lines += [f"  [{level}] {message}" for level, message in self.entries]
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {"source": self.source, "entries": [{"level": lv, "message": m} for lv, m in self.entries]}
