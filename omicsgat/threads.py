"""Thread pools sized to the cores that are actually free.

torch's OpenMP pool and OpenBLAS both busy-wait at barriers. When an
analysis asks for as many threads as the machine has cores while another
CPU-bound program runs beside it, the threads spin waiting for a sibling
that the operating system has descheduled, and a run of seconds takes
minutes. Every analysis therefore runs inside :func:`thread_budget`, which

- measures how much CPU *other* processes use (system-wide busy time minus
  this process' own, over a short window),
- caps torch's intra-op threads, numba's pool (scanpy's kernels) and every
  BLAS/OpenMP pool threadpoolctl finds at the cores left free (at least 1, never above the cores this
  process may run on), and
- re-measures every few seconds while the run reports progress
  (:func:`rebalance`, called by :class:`omicsgat.progress.Progress`), so a
  competitor that starts or stops mid-run is followed;

and restores the previous settings afterwards. ``OMICSGAT_THREADS=N`` (or a
user's ``OMP_NUM_THREADS``) is an upper bound that is always respected.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from typing import Iterator, Optional

#: Seconds between two re-measurements while a run is in progress.
REBALANCE_EVERY = 5.0

_lock = threading.Lock()
_active: Optional["_Budget"] = None


def usable_cores() -> int:
    """Cores this process may run on (CPU affinity / cgroup aware where the OS says)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def user_thread_cap() -> Optional[int]:
    """The user's own upper bound: ``OMICSGAT_THREADS``, else ``OMP_NUM_THREADS``."""
    for name in ("OMICSGAT_THREADS", "OMP_NUM_THREADS"):
        value = os.environ.get(name, "").strip()
        if value.isdigit() and int(value) > 0:
            return int(value)
    return None


class _CpuSampler:
    """Busy cores used by other processes since the previous sample (psutil)."""

    def __init__(self) -> None:
        import psutil

        self._psutil = psutil
        self._proc = psutil.Process()
        self._last = self._read()

    def _read(self):
        t = self._psutil.cpu_times()
        busy = t.user + t.system + getattr(t, "nice", 0.0) + getattr(t, "irq", 0.0) + getattr(t, "softirq", 0.0)
        own = self._proc.cpu_times()
        return time.monotonic(), busy, own.user + own.system

    def others_busy(self) -> float:
        now, busy, own = self._read()
        then, busy0, own0 = self._last
        self._last = (now, busy, own)
        wall = now - then
        if wall <= 0:
            return 0.0
        # cpu_times() is system-wide in core-seconds; the difference over the
        # wall time is the number of busy cores.
        return max(0.0, ((busy - busy0) - (own - own0)) / wall)


def free_cores(sample_seconds: float = 0.2) -> int:
    """Cores not kept busy by other processes, measured over ``sample_seconds``."""
    sampler = _CpuSampler()
    time.sleep(sample_seconds)
    return _threads_for(sampler.others_busy())


def _threads_for(others_busy: float) -> int:
    cores = usable_cores()
    # A competitor at 0.3 of a core still leaves a core usable; at 0.7 it does not.
    free = int(cores - others_busy + 0.5)
    wanted = max(1, min(cores, free))
    cap = user_thread_cap()
    return min(wanted, cap) if cap else wanted


def _apply(n: int) -> None:
    import torch

    if torch.get_num_threads() != n:
        torch.set_num_threads(n)
    numba = _numba()
    if numba is not None:
        # per calling thread in numba: the budget is entered in the thread that runs the analysis
        numba.set_num_threads(max(1, min(n, numba.config.NUMBA_NUM_THREADS)))


def _load_pools() -> None:
    """Load the thread pools the analyses use, so threadpoolctl can cap them.

    threadpoolctl only sees libraries already loaded: scikit-learn's bundled
    OpenMP and SciPy's OpenBLAS load lazily, inside an analysis, and would
    otherwise start one spinning thread per core.
    """
    import scipy.linalg  # noqa: F401 - SciPy's own OpenBLAS
    import sklearn.utils._openmp_helpers  # noqa: F401 - scikit-learn's bundled OpenMP runtime


def _numba():
    """numba if this process has imported it (scanpy's parallel kernels), else None.

    Its thread pool is invisible to threadpoolctl. It is not imported here
    (slow to import); see :meth:`_Budget.__init__` for a later import.
    """
    return sys.modules.get("numba")


class _Budget:
    def __init__(self, max_threads: Optional[int], sample_seconds: float) -> None:
        import torch
        from threadpoolctl import threadpool_limits

        _load_pools()
        numba = _numba()
        self.numba_before = numba.get_num_threads() if numba is not None else None

        self.caps: list[int] = [max_threads] if max_threads else []
        self.torch_before = torch.get_num_threads()
        self.sampler = _CpuSampler()
        time.sleep(sample_seconds)
        self.measured = _threads_for(self.sampler.others_busy())
        self.checked = time.monotonic()
        self.threads = self._effective()
        if numba is None and "NUMBA_NUM_THREADS" not in os.environ:
            # numba reads its pool size once, on import: an analysis that imports it later
            # (scanpy's kernels) gets at most the free cores measured now
            os.environ["NUMBA_NUM_THREADS"] = str(self.threads)
        self._limits = threadpool_limits(limits=self.threads)
        _apply(self.threads)

    def _effective(self) -> int:
        return min([self.measured, *self.caps])

    def _resize(self) -> None:
        n = self._effective()
        if n != self.threads:
            from threadpoolctl import threadpool_limits

            self.threads = n
            self._limits.restore_original_limits()
            self._limits = threadpool_limits(limits=n)
            _apply(n)

    def rebalance(self) -> None:
        now = time.monotonic()
        if now - self.checked < REBALANCE_EVERY:
            return
        self.checked = now
        self.measured = _threads_for(self.sampler.others_busy())
        self._resize()

    def push(self, cap: Optional[int]) -> None:
        self.caps.append(cap or self.measured)
        self._resize()

    def pop(self) -> None:
        self.caps.pop()
        self._resize()

    def close(self) -> None:
        import torch

        self._limits.restore_original_limits()
        torch.set_num_threads(self.torch_before)
        if self.numba_before is not None:
            _numba().set_num_threads(self.numba_before)


@contextlib.contextmanager
def thread_budget(max_threads: Optional[int] = None, sample_seconds: float = 0.2) -> Iterator[int]:
    """Run the block with thread pools sized to the free cores; yields the thread count.

    A nested budget shares the outermost measurement and may only lower the
    count (``max_threads``, e.g. 1 for work too small to split); it is lifted
    when the nested block ends.
    """
    global _active
    with _lock:
        outer = _active
    if outer is not None:
        outer.push(max_threads)
        try:
            yield outer.threads
        finally:
            outer.pop()
        return
    budget = _Budget(max_threads, sample_seconds)
    with _lock:
        _active = budget
    try:
        yield budget.threads
    finally:
        with _lock:
            _active = None
        budget.close()


def rebalance() -> None:
    """Re-measure the free cores (at most every :data:`REBALANCE_EVERY` s) and resize the pools."""
    budget = _active
    if budget is not None:
        try:
            budget.rebalance()
        except Exception:  # noqa: BLE001 - a failed measurement must never stop an analysis
            pass


def current_threads() -> Optional[int]:
    """The thread count of the budget in force, or ``None`` outside any."""
    budget = _active
    return None if budget is None else budget.threads


def with_thread_budget(func):
    """Decorator: run an engine entry point inside :func:`thread_budget`."""
    import functools

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with thread_budget():
            return func(*args, **kwargs)

    return wrapper
