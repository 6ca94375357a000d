"""A matplotlib Figure embedded in Qt, with export to PNG (chosen DPI), SVG and PDF.

The figures come from the engine's ``plot_*`` methods (the same functions the
CLI uses for its exports); the Qt canvas is imported on first use to keep
start-up fast.
"""

from __future__ import annotations

from typing import Callable, Optional

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

FIGURE_FILTERS = "PNG image (*.png);;SVG vector (*.svg);;PDF document (*.pdf)"


class FigureView(QWidget):
    """Shows one Figure at a time; ``set_figure`` replaces it."""

    def __init__(self, title: str = "", placeholder: str = "Run the analysis to see this plot.", parent=None) -> None:
        super().__init__(parent)
        self.title = title
        self.figure = None
        self.canvas = None
        self.dpi = 300  # as File ▸ Export and Save all results
        self.placeholder = QLabel(placeholder)
        self.placeholder.setAlignment(Qt.AlignCenter)
        self.placeholder.setWordWrap(True)  # a long hint must not set the window's minimum width
        self.placeholder.setStyleSheet("color: gray;")
        self.export_button = QPushButton("Export plot…")
        self.export_button.setToolTip("Save this plot as PNG (you choose the DPI), SVG or PDF")
        self.export_button.setEnabled(False)
        self.export_button.clicked.connect(self.export_dialog)
        self.controls = QHBoxLayout()
        self.controls.addStretch(1)
        self.controls.addWidget(self.export_button)
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.addLayout(self.controls)
        self._layout.addWidget(self.placeholder, 1)

    def set_figure(self, fig) -> None:
        from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg

        canvas = FigureCanvasQTAgg(fig)
        canvas.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)
        canvas.setMinimumSize(200, 150)
        old = self.canvas or self.placeholder
        self._layout.replaceWidget(old, canvas)
        old.hide()
        if self.canvas is not None:
            self.canvas.deleteLater()
        self.canvas, self.figure = canvas, fig
        canvas.draw_idle()
        self.export_button.setEnabled(True)

    def draw(self, plot: Callable[..., object], *args, **kwargs) -> None:
        """``plot(*args, **kwargs)`` returns a Figure (e.g. ``result.plot_km``); show it."""
        self.set_figure(plot(*args, **kwargs))

    def clear(self, message: Optional[str] = None) -> None:
        if self.canvas is not None:
            self._layout.replaceWidget(self.canvas, self.placeholder)
            self.canvas.deleteLater()
            self.canvas = self.figure = None
        if message:
            self.placeholder.setText(message)
        self.placeholder.show()
        self.export_button.setEnabled(False)

    def export(self, path: str, dpi: Optional[int] = None) -> None:
        from omicsgat.pl.figure import save_figure

        if self.figure is None:
            from omicsgat.errors import OmicsInputError

            raise OmicsInputError("There is no plot to export yet: run the analysis first.")
        save_figure(self.figure, path, dpi=dpi or self.dpi)

    def export_dialog(self) -> Optional[str]:
        from omicsgat_gui import settings
        from omicsgat_gui.errors import guarded
        from omicsgat_gui.table import ensure_suffix

        stem = (self.title or "plot").lower().replace(" ", "_")
        path, chosen = QFileDialog.getSaveFileName(
            self, f"Export {self.title or 'plot'}", f"{settings.output_folder()}/{stem}.png", FIGURE_FILTERS
        )
        if not path:
            return None
        path = ensure_suffix(path, chosen, (".png", ".svg", ".pdf"))
        dpi = self.dpi
        if path.lower().endswith(".png"):
            dpi, ok = QInputDialog.getInt(self, "PNG resolution", "Dots per inch:", self.dpi, 50, 1200, 50)
            if not ok:
                return None
            self.dpi = dpi
        with guarded(self, "Export failed"):
            self.export(path, dpi)
            settings.remember_output_folder(path)
            return path
        return None
