"""Entry point of the desktop application (``omicsgat-gui [FILE]``, ``omicsgat gui [FILE]``)."""

from __future__ import annotations

import sys
from typing import Optional, Sequence


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Create the application and the main window, open ``argv[0]`` if given, run the event loop.

    Returns 1 with install hints on stderr when Qt could not open a window here (see
    :mod:`omicsgat_gui.platform_check`) instead of letting Qt abort the process.
    """
    from omicsgat_gui.platform_check import platform_problem

    problem = platform_problem()
    if problem:
        print(problem, file=sys.stderr)
        return 1
    from PySide6.QtWidgets import QApplication

    from omicsgat_gui.errors import install_excepthook
    from omicsgat_gui.main_window import MainWindow

    argv = list(sys.argv[1:] if argv is None else argv)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setOrganizationName("OmicsGAT")
    app.setApplicationName("OmicsGAT")
    app.setApplicationDisplayName("OmicsGAT")
    install_excepthook()
    window = MainWindow()
    window.show()
    if argv:
        window.open_paths([argv[0]])
    code = app.exec()
    shutdown(window)
    return code


def shutdown(window) -> None:
    """Tear the window down while the interpreter and the QApplication are still whole.

    Left to interpreter exit, the window's children (matplotlib canvases, worker threads, signal
    connections to Python slots) are destroyed in no fixed order during module teardown, which can
    crash the process after the user has quit. Here the threads are joined and the widgets deleted, in
    that order, before ``main`` returns.
    """
    import gc

    from PySide6.QtCore import QCoreApplication, QEvent
    from PySide6.QtWidgets import QApplication

    window.runner.shutdown()
    window.probe.wait()
    window.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.DeferredDelete)
    QApplication.processEvents()
    gc.collect()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
