"""How errors reach the user: the engine's message in a dialog; bugs to a log file."""

from __future__ import annotations

import contextlib
import sys
from typing import Iterator

from PySide6.QtWidgets import QMessageBox, QWidget

from omicsgat.errors import OmicsInputError

#: The engine's messages name its API and CLI spellings; in the app, the field to use instead.
GUI_WORDING = (
    (
        r"(pass )?event_map=\{[^}]*\}\s*\(--event-map [^)]*\)",
        "set each value in the cohort dialog's Event values table",
    ),
    (
        r"(give )?an explicit event_map \(--event-map [^)]*\)",
        "set each value in the Event values table (1 = event, 0 = censored)",
    ),
    (r"time_col \(--time-col\)", "Time column"),
    (r"event_col \(--event-col\)", "Event column"),
    (r"\(holdout=\d+, --holdout \d+, or '(Out-of-fold check)' in the app\)", r"(\1)"),
    (r"--gene-symbols( / --reference-gene-symbols)?( \(gene_symbols=\))?", "the Data tab's Gene symbols choice"),
    (r"\(e\.g\. --regulators (\w+)\)", r"(the Regulators choice)"),
    (r"\s*Override with --orientation \(orientation=\) if this is wrong\.", ""),
    (r"\bvar_names\b", "gene names"),
    (r"\s*\(--[a-z-]+[^)]*\)", ""),  # any other "(--flag ...)" aside
    (r"\s*\([a-z_]+=[^)]*\)", ""),  # a "(keyword=)" aside of the Python API
    (r"\bobs\[(['\"])(.+?)\1\]", r"the cell column '\2'"),
)


def for_gui(message: str) -> str:
    """The engine's message with command-line flags replaced by the app's own words."""
    import re

    for pattern, words in GUI_WORDING:
        message = re.sub(pattern, words, message)
    return message


def show_input_error(parent: QWidget | None, title: str, message: str) -> None:
    QMessageBox.critical(parent, title, for_gui(message))


def show_bug(parent: QWidget | None, title: str, exc: BaseException) -> str:
    """Log the traceback and tell the user briefly; returns the message shown."""
    from omicsgat.logs import bug_report

    message = f"Something went wrong: {bug_report(exc)}"
    QMessageBox.critical(parent, title, message)
    return message


@contextlib.contextmanager
def guarded(parent: QWidget | None, title: str) -> Iterator[None]:
    """Run a GUI-thread action: input errors and bugs become dialogs, never crashes."""
    try:
        yield
    except OmicsInputError as exc:
        show_input_error(parent, title, str(exc))
    except Exception as exc:  # a bug in a slot must not kill the app
        show_bug(parent, title, exc)


def install_excepthook() -> None:
    """Uncaught exceptions in Qt slots: logged and shown, the app keeps running."""
    previous = sys.excepthook

    def hook(exc_type, exc, tb):
        if issubclass(exc_type, KeyboardInterrupt):
            previous(exc_type, exc, tb)
            return
        try:
            if isinstance(exc, OmicsInputError):
                show_input_error(None, "OmicsGAT", str(exc))
            else:
                show_bug(None, "OmicsGAT", exc)
        except Exception:  # never recurse from inside the hook
            previous(exc_type, exc, tb)

    sys.excepthook = hook
