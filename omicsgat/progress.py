"""Progress reporting and cancellation shared by the CLI and the GUI.

Long engine calls take ``progress`` (a callable ``(fraction, message)``) and
``cancel`` (a :class:`CancelToken`). The engine calls its :class:`Progress`
between epochs or batches; a cancelled token raises :class:`Cancelled` there.
"""

from __future__ import annotations

import math
import threading
import time
from typing import Callable, Optional

from omicsgat.errors import Cancelled
from omicsgat.threads import rebalance

ProgressCallback = Callable[[float, str], None]


class CancelToken:
    """A thread-safe flag a GUI or signal handler sets to stop a run."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise Cancelled("The run was cancelled.")


class Progress:
    """Maps the sub-steps of one run onto ``[0, 1]`` and checks for cancellation.

    ``Progress(callback, cancel).span(0.2, 0.9)`` gives a child whose 0..1 is
    the parent's 0.2..0.9, so nested loops report one monotone bar.
    """

    def __init__(
        self,
        callback: Optional[ProgressCallback] = None,
        cancel: Optional[CancelToken] = None,
        start: float = 0.0,
        stop: float = 1.0,
    ) -> None:
        self.callback = callback
        self.cancel = cancel
        self.start = start
        self.stop = stop

    def __call__(self, fraction: float, message: str = "") -> None:
        if self.cancel is not None:
            self.cancel.raise_if_cancelled()
        rebalance()  # follow other programs' CPU load (cheap: at most every few seconds)
        if self.callback is not None:
            f = self.start + (self.stop - self.start) * min(max(float(fraction), 0.0), 1.0)
            self.callback(f, message)

    def span(self, start: float, stop: float) -> "Progress":
        width = self.stop - self.start
        return Progress(self.callback, self.cancel, self.start + width * start, self.start + width * stop)


def as_progress(progress: ProgressCallback | Progress | None, cancel: CancelToken | None = None) -> Progress:
    """Accept a bare callback, a :class:`Progress`, or nothing."""
    if isinstance(progress, Progress):
        if cancel is not None and progress.cancel is None:
            progress.cancel = cancel
        return progress
    return Progress(progress, cancel)


def clock_text(seconds: float) -> str:
    """``42`` -> ``0:42``, ``3725`` -> ``1:02:05``."""
    seconds = int(round(max(seconds, 0.0)))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def eta_text(fraction: float, elapsed: float) -> str:
    """ "elapsed 0:42, about 1:10 left" from the fraction done and the seconds since the start.

    The remainder assumes the rest goes at the average pace so far; it is
    left out until there is something to extrapolate from (under 2 % done or
    under 3 s in), where a guess would only jump around.
    """
    text = f"elapsed {clock_text(elapsed)}"
    fraction = float(fraction)
    if not math.isfinite(fraction) or fraction < 0.02 or elapsed < 3.0:
        return text
    if fraction >= 1.0:
        return text
    left = elapsed * (1.0 - fraction) / fraction
    return f"{text}, about {clock_text(left)} left"


class Stopwatch:
    """Remembers when a run started; ``text(fraction)`` is its :func:`eta_text` now."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.started = clock()

    def restart(self) -> None:
        self.started = self._clock()

    @property
    def elapsed(self) -> float:
        return self._clock() - self.started

    def text(self, fraction: float) -> str:
        return eta_text(fraction, self.elapsed)
