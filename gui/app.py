"""Entry point of the desktop application (placeholder window; the GUI work replaces it)."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    from PySide6.QtWidgets import QApplication, QMainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    window = QMainWindow()
    window.setWindowTitle("OmicsGAT")
    window.show()
    return app.exec()
