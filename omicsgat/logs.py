"""Log files for internal errors (bugs), shared by the command line and the app.

A user sees one short line or dialog; the traceback goes to a file under
``$OMICSGAT_LOG_DIR`` or ``~/.omicsgat/logs`` whose path the message names.
"""

from __future__ import annotations

import datetime as _dt
import os
import traceback
from pathlib import Path


def log_dir() -> Path:
    """Where tracebacks go: ``$OMICSGAT_LOG_DIR`` or ``~/.omicsgat/logs`` (created if missing)."""
    path = Path(os.environ.get("OMICSGAT_LOG_DIR", Path.home() / ".omicsgat" / "logs"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def log_exception(exc: BaseException) -> Path:
    """Append ``exc``'s traceback to this process' log file of the current second; return its path."""
    path = log_dir() / f"omicsgat-{_dt.datetime.now():%Y%m%d-%H%M%S}-{os.getpid()}.log"
    with open(path, "a", encoding="utf-8") as fh:
        fh.write("".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))
    return path


def bug_report(exc: BaseException) -> str:
    """Log ``exc`` and return the short message for the user: what happened and where the traceback is."""
    path = log_exception(exc)
    return f"{type(exc).__name__}: {exc}\nThe traceback was written to {path}; please report it."
