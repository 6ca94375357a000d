"""Where an analysis runs: in this process (the default) or on a Dask cluster.

``scheduler`` (argument of ``infer_grn``, ``run_prognosis``, ``predict_atlas``; ``--scheduler`` on the CLI;
``OMICSGAT_SCHEDULER`` in the environment) is

- ``None`` / ``""`` / ``"in-process"``: every task runs here, one after another (the default);
- ``"processes:N"``: a local Dask cluster of N worker processes with one thread each, started for the run
  and closed when it ends (N may not exceed the cores this process may use);
- ``"tcp://host:8786"`` (or any Dask address): a cluster the user already runs (dask-jobqueue on SLURM/PBS,
  Kubernetes, ``dask scheduler`` + ``dask worker``); the workers need the same ``omicsgat`` installed;
- a ``distributed.Client`` (from Python): used as is, never closed.

The analyses cut their work into tasks whose seeds depend on the data and the seed only, and run the same task
functions here or on the workers, so the results do not depend on where they ran. Shared inputs are sent to the
workers once (``scatter``). Progress counts finished tasks; a cancel stops this run's tasks on the cluster. A
worker lost mid-run is retried by Dask on another worker (``distributed.scheduler.allowed-failures`` times);
beyond that the run stops with :class:`WorkerLost`, never with a silently missing result.
"""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Optional, Sequence

from omicsgat.errors import OmicsInputError
from omicsgat.progress import as_progress
from omicsgat.threads import thread_budget, usable_cores

ENV = "OMICSGAT_SCHEDULER"
CONNECT_TIMEOUT = "5s"
IN_PROCESS = ("", "none", "in-process", "local")


class WorkerLost(OmicsInputError):
    """A task's worker died more often than Dask retries it (usually: out of memory)."""


def _need_dask():
    try:
        import distributed  # noqa: F401
    except ImportError:
        raise OmicsInputError(
            "Running on a Dask cluster needs the optional 'dask' extra: pip install 'omicsgat[dask]' "
            "(or pip install 'dask[distributed]'). Without --scheduler everything runs in this process."
        ) from None
    import distributed

    return distributed


def resolve_scheduler(scheduler=None):
    """The ``scheduler`` argument, else ``$OMICSGAT_SCHEDULER``; ``None`` means in-process."""
    if scheduler is None:
        scheduler = os.environ.get(ENV) or None
    if isinstance(scheduler, str) and scheduler.strip().lower() in IN_PROCESS:
        return None
    return scheduler.strip() if isinstance(scheduler, str) else scheduler


def parse_processes(spec: str) -> int:
    """``"processes:N"`` -> N, checked against the usable cores."""
    value = spec.split(":", 1)[1].strip()
    if not value.isdigit() or int(value) < 1:
        raise OmicsInputError(f"Scheduler {spec!r}: write processes:N with N a whole number of worker processes >= 1.")
    n, cores = int(value), usable_cores()
    if n > cores:
        raise OmicsInputError(
            f"Scheduler {spec!r}: this machine lets OmicsGAT use {cores} cores; "
            f"use processes:{cores} or fewer (one thread per worker)."
        )
    return n


@dataclass
class Executor:
    """Runs a list of tasks in-process or on a Dask client; ``description`` says where."""

    client: Any = None
    description: str = "in-process"

    @property
    def distributed(self) -> bool:
        return self.client is not None

    def scatter(self, value, broadcast: bool = True):
        """Send a large shared input to the workers once; in-process it is the value itself.

        Broadcast (to every worker) by default: Dask schedules a task where its inputs are, so with an input of
        many tasks on one worker every task queued there and the others idled. ``broadcast=False`` for the input
        of a single task.
        """
        if self.client is None:
            return value
        return self.client.scatter(value, broadcast=broadcast, hash=False)

    def map(
        self,
        func: Callable,
        args: Sequence[tuple],
        *,
        progress=None,
        label: str = "task",
        shared: Optional[dict] = None,
        inner_progress: bool = False,
        on_result: Optional[Callable[[int, Any], None]] = None,
    ) -> list:
        """``[func(*a, **shared) for a in args]`` in order; on a cluster, every call is one task.

        ``progress`` (an :class:`omicsgat.progress.Progress`) is told after each finished task and checked for a
        cancel; a cancel stops the remaining tasks of this call on the cluster and raises :class:`Cancelled`.
        With ``inner_progress``, in-process calls also get ``progress=`` (their share of the bar), so a long
        task reports and can be cancelled inside; on the cluster only finished tasks are counted.
        With ``on_result(i, result)`` each result is handed over as soon as it is ready (in any order on a
        cluster) and not kept: the returned list holds ``None``; the cluster forgets it at once.
        """
        prog = as_progress(progress)
        shared = shared or {}
        n = len(args)
        if self.client is None:
            out = []
            for i, a in enumerate(args):
                _check(prog)
                extra = {"progress": prog.span(i / n, (i + 1) / n)} if inner_progress else {}
                value = func(*a, **shared, **extra)
                if on_result is not None:
                    on_result(i, value)
                    value = None
                out.append(value)
                prog((i + 1) / n, f"{label} {i + 1}/{n} done")
            return out
        run_id = os.urandom(4).hex()  # this run's keys: a cancel touches nothing else on a shared cluster
        futures = [
            self.client.submit(
                _run_task, func, *a, pure=False, **shared, key=f"omicsgat-{label.replace(' ', '_')}-{run_id}-{i}"
            )
            for i, a in enumerate(args)
        ]
        index = {f.key: i for i, f in enumerate(futures)}
        out: list = [None] * n
        pending, done_count = list(futures), 0
        try:
            while pending:
                _check(prog)
                done = [f for f in pending if f.done()]
                if not done:
                    time.sleep(0.1)
                    continue
                pending = [f for f in pending if f not in done]
                for fut in done:
                    i = index[fut.key]
                    value = _result(fut, label, i)
                    if on_result is not None:
                        on_result(i, value)
                        futures[i] = value = None  # nothing of it stays on the cluster
                    out[i] = value
                    done_count += 1
                prog(done_count / n, f"{label} {done_count}/{n} done on {self.description}")
        except BaseException:
            self.client.cancel([f for f in futures if f is not None])
            raise
        return out


def _check(prog) -> None:
    """Raise :class:`omicsgat.errors.Cancelled` when the run's cancel token is set (no progress report)."""
    if prog.cancel is not None:
        prog.cancel.raise_if_cancelled()


def _result(fut, label: str, i: int):
    from distributed.scheduler import KilledWorker

    try:
        return fut.result()
    except KilledWorker as exc:
        raise WorkerLost(
            f"The Dask workers running {label} {i + 1} died repeatedly ({exc}); usually they ran out of memory. "
            "Give each worker more memory, use fewer workers per machine, or smaller chunks/blocks."
        ) from None


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """Run a task on one thread (torch and BLAS/OpenMP), wherever it runs.

    Tasks are the unit of parallelism, and torch's sums change with its thread count (even with a pool that
    was shrunk from 2 to 1 inside a run), so a task pinned to one thread gives the same numbers in-process
    and on any worker.
    """
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with thread_budget(max_threads=1, sample_seconds=0.0):
            yield
    finally:
        torch.set_num_threads(before)


_threads_set = False


def _run_task(func, *args, **kwargs):
    """On a worker: thread pools sized to this worker's share of the cores, then the task."""
    global _threads_set
    if not _threads_set:
        try:
            from distributed import get_worker

            nthreads = get_worker().state.nthreads
        except Exception:  # noqa: BLE001 - outside a worker: leave the pools alone
            nthreads = 0
        if nthreads and "OMICSGAT_THREADS" not in os.environ:
            os.environ["OMICSGAT_THREADS"] = str(max(1, usable_cores() // nthreads))
        _threads_set = True
    return func(*args, **kwargs)


def describe(scheduler=None) -> str:
    """Where a run with this ``scheduler`` would go, without starting anything (for a status bar)."""
    scheduler = resolve_scheduler(scheduler)
    if scheduler is None:
        return "in-process"
    if isinstance(scheduler, str) and scheduler.lower().startswith("processes:"):
        n = scheduler.split(":", 1)[1].strip()
        return f"local cluster, {n} worker{'s' if n != '1' else ''}"
    address = getattr(getattr(scheduler, "scheduler", None), "address", None)  # a distributed.Client
    return str(address or scheduler)


@contextlib.contextmanager
def executor(scheduler=None) -> Iterator[Executor]:
    """An :class:`Executor` for the run; a local cluster it starts is closed when the block ends.

    A bad address is an :class:`OmicsInputError` after a short connection timeout, before any work.
    """
    scheduler = resolve_scheduler(scheduler)
    if scheduler is None:
        yield Executor()
        return
    distributed = _need_dask()
    if isinstance(scheduler, distributed.Client):
        yield Executor(scheduler, _describe_client(scheduler, scheduler.scheduler.address))
        return
    if not isinstance(scheduler, str):
        raise OmicsInputError(
            f"Unknown scheduler {scheduler!r}: use processes:N or a Dask address like tcp://host:8786."
        )
    if scheduler.lower().startswith("processes:"):
        n = parse_processes(scheduler)
        with _local_cluster(distributed, n) as client:
            yield Executor(client, f"local cluster, {n} worker{'s' if n > 1 else ''}")
        return
    if "://" not in scheduler and ":" not in scheduler:
        raise OmicsInputError(
            f"Unknown scheduler {scheduler!r}: use processes:N or a Dask scheduler address like tcp://host:8786."
        )
    try:
        client = distributed.Client(scheduler, timeout=CONNECT_TIMEOUT, set_as_default=False)
    except (OSError, TimeoutError, ValueError, distributed.TimeoutError) as exc:
        raise OmicsInputError(
            f"Cannot reach the Dask scheduler at {scheduler!r} ({type(exc).__name__}: {exc}). Check the address "
            "(tcp://host:8786), that the scheduler runs and that this machine may connect to it, or run without "
            "--scheduler."
        ) from None
    try:
        yield Executor(client, _describe_client(client, scheduler))
    finally:
        client.close()


def _describe_client(client, address: str) -> str:
    n = len(client.scheduler_info(n_workers=-1).get("workers", {}))
    return f"{address}, {n} worker{'s' if n != 1 else ''}"


@contextlib.contextmanager
def _local_cluster(distributed, n: int):
    cluster = local_cluster(n)
    client = distributed.Client(cluster, set_as_default=False)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


def local_cluster(n: int = 2):
    """A local cluster (n one-thread workers on 127.0.0.1) for tests and benchmarks; close it when done."""
    import logging

    import dask

    distributed = _need_dask()
    # one thread per worker (and per BLAS/OpenMP pool in it): n workers never use more than n cores
    env = {k: "1" for k in ("OMICSGAT_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")}
    saved = {k: os.environ.get(k) for k in (*env, "MALLOC_TRIM_THRESHOLD_")}
    try:
        # Dask's nanny gives its workers MALLOC_TRIM_THRESHOLD_=65536, which turns off glibc's adaptive mmap
        # threshold: torch's many mid-size tensors are then mapped and unmapped at every step, which makes a
        # worker much slower than this process. Dask's statistical profiler samples the stack of every worker
        # thread (holding the GIL), which slows many small eager torch ops; both are turned off.
        with dask.config.set(
            {
                "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None,
                "distributed.worker.profile.enabled": False,
            }
        ):
            return distributed.LocalCluster(
                n_workers=n,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=None,
                silence_logs=logging.ERROR,
                env=env,
            )
    finally:
        # the nanny also writes its pre-spawn variables (OMP_NUM_THREADS=1, ...) into *this* process' environment,
        # where they would cap the thread budget of every later in-process run
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
