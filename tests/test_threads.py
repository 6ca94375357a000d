"""Thread pools follow the free cores: the fix for analyses that crawl beside other CPU-bound work."""

import multiprocessing as mp
import time

import pytest
import torch

from omicsgat import threads


def _spin(stop):
    while not stop.is_set():
        pass


@pytest.fixture
def busy_cores():
    """Every usable core kept busy by another process, as a competing program would."""
    ctx = mp.get_context("spawn")
    stop = ctx.Event()
    procs = [ctx.Process(target=_spin, args=(stop,), daemon=True) for _ in range(threads.usable_cores())]
    for p in procs:
        p.start()
    time.sleep(1.0)  # let them get scheduled
    yield
    stop.set()
    for p in procs:
        p.join(timeout=30)
        if p.is_alive():
            p.kill()


def test_threads_for_subtracts_other_load(monkeypatch):
    monkeypatch.setattr(threads, "usable_cores", lambda: 8)
    monkeypatch.delenv("OMICSGAT_THREADS", raising=False)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    assert threads._threads_for(0.0) == 8
    assert threads._threads_for(2.9) == 5
    assert threads._threads_for(7.9) == 1
    assert threads._threads_for(30.0) == 1  # never zero
    monkeypatch.setenv("OMICSGAT_THREADS", "3")
    assert threads._threads_for(0.0) == 3  # the user's cap wins


def test_budget_drops_to_one_thread_beside_busy_cores(busy_cores, monkeypatch):
    monkeypatch.delenv("OMICSGAT_THREADS", raising=False)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    before = torch.get_num_threads()
    with threads.thread_budget(sample_seconds=0.5) as n:
        assert n == 1
        assert torch.get_num_threads() == 1
        from threadpoolctl import threadpool_info

        pools = threadpool_info()
        assert all(pool["num_threads"] == 1 for pool in pools)
        # the pools an analysis loads lazily are capped too (scikit-learn's own OpenMP, SciPy's OpenBLAS)
        paths = " ".join(pool["filepath"] for pool in pools)
        assert "scikit_learn" in paths and "scipy" in paths
        import numba  # scanpy's parallel kernels: a pool threadpoolctl does not see

        assert numba.get_num_threads() == 1  # capped whether imported before or during the budget
    assert torch.get_num_threads() == before  # restored


def test_nested_budget_only_lowers_and_is_lifted(monkeypatch):
    monkeypatch.setattr(threads, "_threads_for", lambda others: 2)
    with threads.thread_budget(sample_seconds=0.0) as outer:
        assert outer == 2 and torch.get_num_threads() == 2
        with threads.thread_budget(max_threads=1) as inner:
            assert inner == 1 and torch.get_num_threads() == 1
        assert torch.get_num_threads() == 2
    assert threads.current_threads() is None


def test_rebalance_follows_a_competitor_that_appears(monkeypatch):
    measured = iter([2, 1])
    monkeypatch.setattr(threads, "_threads_for", lambda others: next(measured))
    monkeypatch.setattr(threads, "REBALANCE_EVERY", 0.0)
    with threads.thread_budget(sample_seconds=0.0) as n:
        assert n == 2
        threads.rebalance()
        assert threads.current_threads() == 1 and torch.get_num_threads() == 1


def test_engine_entry_points_run_inside_a_budget(monkeypatch):
    """Each analysis' public entry point is wrapped, so API, CLI and GUI runs are all covered."""
    from omicsgat.celltype.annotate import annotate_cells
    from omicsgat.grn.infer import infer_grn
    from omicsgat.prognosis.cv import run_prognosis

    for func in (infer_grn, annotate_cells, run_prognosis):
        assert getattr(func, "__wrapped__", None) is not None, func.__name__
