"""Run engine calls off the GUI thread, one at a time, with progress and cancel.

A task is a callable ``fn(progress, cancel) -> result``; the engine's
``progress=``/``cancel=`` arguments plug straight into it. The runner refuses
a second task while one runs (the user gets a message), and on shutdown sets
the cancel token and waits for the thread.
"""

from __future__ import annotations

from typing import Any, Callable, Optional

from PySide6.QtCore import QObject, QThread, Signal, Slot

from omicsgat.errors import Cancelled, OmicsInputError
from omicsgat.progress import CancelToken, Progress

Task = Callable[[Progress, CancelToken], Any]


class TaskThread(QThread):
    """One run of one task. Signals are delivered in the GUI thread."""

    progressed = Signal(float, str)
    succeeded = Signal(object)
    failed = Signal(str, str)  # kind ("input" | "bug"), message
    was_cancelled = Signal()

    def __init__(self, name: str, fn: Task, parent: Optional[QObject] = None) -> None:
        super().__init__(parent)
        self.name = name
        self.fn = fn
        self.token = CancelToken()

    def run(self) -> None:  # noqa: D401 - QThread entry point
        progress = Progress(lambda f, m: self.progressed.emit(float(f), str(m)), self.token)
        try:
            result = self.fn(progress, self.token)
            self.token.raise_if_cancelled()
        except Cancelled:
            self.was_cancelled.emit()
        except OmicsInputError as exc:
            self.failed.emit("input", str(exc))
        except MemoryError as exc:
            self.failed.emit("input", f"The machine ran out of memory ({exc}). Use fewer genes, cells or epochs.")
        except Exception as exc:  # a bug: keep the app alive, keep the traceback
            from omicsgat.logs import bug_report

            self.failed.emit("bug", bug_report(exc))
        else:
            self.succeeded.emit(result)


class TaskRunner(QObject):
    """Owns at most one running :class:`TaskThread`.

    The runner is free again as soon as a task's outcome is delivered (the
    thread may still be returning from ``run``; it is kept until it has).
    """

    started = Signal(str)
    progressed = Signal(float, str)
    finished = Signal(str, object)  # name, result
    failed = Signal(str, str, str)  # name, kind, message
    cancelled = Signal(str)
    idle = Signal()  # after any outcome

    def __init__(self, parent: Optional[QObject] = None) -> None:
        super().__init__(parent)
        self.thread: Optional[TaskThread] = None
        self.current: str = ""
        self._finishing: list[TaskThread] = []

    @property
    def busy(self) -> bool:
        return self.thread is not None

    def start(self, name: str, fn: Task) -> bool:
        """Start ``fn``; return False (and start nothing) while another task runs."""
        if self.busy:
            return False
        # Parented to the runner: Qt, not Python's garbage collector, deletes it, and only once it has ended
        # (deleteLater after the wait in _on_thread_finished), so no QThread is destroyed while it runs.
        thread = TaskThread(name, fn, self)
        # Bound slots of this QObject: queued into the GUI thread.
        thread.progressed.connect(self._on_progress)
        thread.succeeded.connect(self._on_success)
        thread.failed.connect(self._on_failure)
        thread.was_cancelled.connect(self._on_cancelled)
        thread.finished.connect(self._on_thread_finished)
        self.thread = thread
        self.current = name
        self.started.emit(name)
        thread.start()
        return True

    def cancel(self) -> None:
        if self.thread is not None:
            self.thread.token.cancel()

    def _detach(self) -> str:
        name = self.current
        if self.thread is not None:
            self._finishing.append(self.thread)
        self.thread, self.current = None, ""
        return name

    @Slot(float, str)
    def _on_progress(self, fraction: float, message: str) -> None:
        if self.sender() is self.thread:
            self.progressed.emit(fraction, message)

    @Slot(object)
    def _on_success(self, result) -> None:
        name = self._detach()
        self.finished.emit(name, result)
        self.idle.emit()

    @Slot(str, str)
    def _on_failure(self, kind: str, message: str) -> None:
        name = self._detach()
        self.failed.emit(name, kind, message)
        self.idle.emit()

    @Slot()
    def _on_cancelled(self) -> None:
        name = self._detach()
        self.cancelled.emit(name)
        self.idle.emit()

    @Slot()
    def _on_thread_finished(self) -> None:
        thread = self.sender()
        if thread in self._finishing:
            self._finishing.remove(thread)
        if isinstance(thread, TaskThread):
            thread.wait()
            thread.deleteLater()  # after this slot returns: never delete a sender inside its own signal

    def shutdown(self, timeout_ms: int = 30000) -> bool:
        """Cancel and wait for every thread (window closing). True if all stopped."""
        threads = ([self.thread] if self.thread is not None else []) + list(self._finishing)
        threads += [t for t in self.findChildren(TaskThread) if t not in threads]
        for thread in threads:
            thread.token.cancel()
        return all(thread.wait(timeout_ms) for thread in threads)
