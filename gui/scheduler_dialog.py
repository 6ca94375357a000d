"""Analysis ▸ Where analyses run…: the scheduler preference (in this process, local processes, a Dask scheduler).

The choice is the same string the command line's ``--scheduler`` takes (see :mod:`omicsgat.compute`); it is
kept in the settings and read by the GRN and prognosis panels when a run starts.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QLabel,
    QLineEdit,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
)

from omicsgat.errors import OmicsInputError


class SchedulerDialog(QDialog):
    """Three choices; OK checks the choice and keeps it (``choice()`` is what was kept)."""

    def __init__(self, current: str = "", parent=None) -> None:
        super().__init__(parent)
        from omicsgat.threads import usable_cores

        self.setWindowTitle("Where analyses run")
        self.in_process = QRadioButton("In this process (default)")
        self.processes = QRadioButton("Local worker processes:")
        self.remote = QRadioButton("A Dask scheduler at:")
        self.group = QButtonGroup(self)
        for button in (self.in_process, self.processes, self.remote):
            self.group.addButton(button)
        self.n_processes = QSpinBox(minimum=1, maximum=max(1, usable_cores()), suffix=" processes")
        self.n_processes.setValue(min(2, self.n_processes.maximum()))
        self.address = QLineEdit(placeholderText="tcp://host:8786")
        self.note = QLabel(wordWrap=True)
        self.note.setStyleSheet("color: #555;")
        self.note.setText(
            "GRN inference (its gene blocks) and prognosis (its cross-validation models) can run "
            "their parts in several processes or on a cluster; cell typing always runs in this "
            "process. The results are the same wherever they run."
        )
        grid = QGridLayout()
        grid.addWidget(self.in_process, 0, 0, 1, 2)
        grid.addWidget(self.processes, 1, 0)
        grid.addWidget(self.n_processes, 1, 1)
        grid.addWidget(self.remote, 2, 0)
        grid.addWidget(self.address, 2, 1)
        self.buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.error = QLabel(wordWrap=True)
        self.error.setStyleSheet("color: #b00020;")
        layout = QVBoxLayout(self)
        layout.addLayout(grid)
        layout.addWidget(self.note)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.group.buttonToggled.connect(lambda *_: self._enable())
        self.set_choice(current)

    def set_choice(self, scheduler: str) -> None:
        text = (scheduler or "").strip()
        if text.lower().startswith("processes:") and text.split(":", 1)[1].strip().isdigit():
            self.processes.setChecked(True)
            self.n_processes.setValue(int(text.split(":", 1)[1]))
        elif text and text.lower() not in ("in-process", "none", "local"):
            self.remote.setChecked(True)
            self.address.setText(text)
        else:
            self.in_process.setChecked(True)
        self._enable()

    def _enable(self) -> None:
        self.n_processes.setEnabled(self.processes.isChecked())
        self.address.setEnabled(self.remote.isChecked())

    def choice(self) -> str:
        """The scheduler string ('' = in this process); an unusable choice is an OmicsInputError."""
        from omicsgat.compute import parse_processes

        if self.processes.isChecked():
            spec = f"processes:{self.n_processes.value()}"
            parse_processes(spec)
            return spec
        if self.remote.isChecked():
            address = self.address.text().strip()
            host, _, port = address.removeprefix("tcp://").rpartition(":")
            if not host or not port.isdigit():
                raise OmicsInputError(
                    f"Scheduler address {address!r}: write it as tcp://host:port, "
                    "e.g. tcp://10.0.0.5:8786 (the address the Dask scheduler prints)."
                )
            return address if address.startswith("tcp://") else f"tcp://{address}"
        return ""

    def accept(self) -> None:
        try:
            self.chosen: str | None = self.choice()
        except OmicsInputError as exc:
            self.error.setText(str(exc))
            return
        super().accept()
