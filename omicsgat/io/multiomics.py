"""The multi-omics cohort: aligned omics tables plus a clinical table."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Optional

import numpy as np
import pandas as pd

from omicsgat.io.atomic import write_table_atomic
from omicsgat.io.report import LoadReport


@dataclass
class MultiOmics:
    """Omics tables (samples x features) aligned on one sample order, with survival.

    Attributes
    ----------
    tables
        One DataFrame per modality (e.g. ``"mRNA"``), index = sample IDs in the
        same order for every table and for ``clinical``. Values are floats;
        NaN marks a missing measurement.
    clinical
        Index = sample IDs; holds at least ``time_col`` (float, >= 0) and
        ``event_col`` (0/1 int) after loading.
    truth
        Planted truth when the cohort was simulated (``prognostic`` features
        per modality and their coefficients), else ``None``.
    time_unit
        Unit of ``time_col`` ("days", "months", ...) for axis labels, when
        the user said; ``None`` otherwise.
    """

    tables: Dict[str, pd.DataFrame]
    clinical: pd.DataFrame
    time_col: str = "time"
    event_col: str = "event"
    report: LoadReport = field(default_factory=LoadReport)
    truth: Optional[dict] = None
    time_unit: Optional[str] = None

    @property
    def samples(self) -> pd.Index:
        return self.clinical.index

    @property
    def n_samples(self) -> int:
        return len(self.clinical)

    @property
    def modalities(self) -> list[str]:
        return list(self.tables)

    @property
    def time(self) -> np.ndarray:
        return self.clinical[self.time_col].to_numpy(dtype=float)

    @property
    def event(self) -> np.ndarray:
        return self.clinical[self.event_col].to_numpy(dtype=int).astype(bool)

    def subset(self, samples) -> "MultiOmics":
        """The same cohort restricted to ``samples`` (labels, in that order)."""
        samples = pd.Index(samples)
        return MultiOmics(
            tables={k: v.loc[samples] for k, v in self.tables.items()},
            clinical=self.clinical.loc[samples],
            time_col=self.time_col,
            event_col=self.event_col,
            report=self.report,
            truth=self.truth,
            time_unit=self.time_unit,
        )

    def summary(self) -> str:
        lines = [
            f"{self.n_samples} samples, {int(self.event.sum())} events "
            f"(time column {self.time_col!r}, event column {self.event_col!r})"
        ]
        for name, table in self.tables.items():
            n_missing = int(table.isna().to_numpy().sum())
            lines.append(
                f"  {name}: {table.shape[1]} features" + (f", {n_missing} missing values" if n_missing else "")
            )
        return "\n".join(lines)

    def save(self, folder: str | Path, fmt: str = "csv") -> Dict[str, Path]:
        """Write each table and the clinical table into ``folder`` (atomically).

        Returns the paths by name (modalities plus ``"clinical"``).
        """
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        out = {}
        for name, table in {**self.tables, "clinical": self.clinical}.items():
            path = folder / f"{name}.{fmt}"
            write_table_atomic(table.rename_axis("sample"), path, index=True)
            out[name] = path
        return out
