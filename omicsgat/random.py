"""One seed for Python, NumPy and torch, scoped to a run.

An analysis seeds every generator it touches and asks torch for deterministic
kernels, so the same seed on the same device gives the same result. It must
not leave that behind: the caller's own random streams and torch's
deterministic setting are restored when the run ends (a script that draws
random numbers after ``infer_grn`` draws the same ones as without the call).
"""

from __future__ import annotations

import contextlib
import os
import random
from typing import Iterator

import numpy as np

_CUBLAS = "CUBLAS_WORKSPACE_CONFIG"


def _capture() -> dict:
    import torch

    state = {
        "python": random.getstate(),
        "numpy": np.random.get_state(),
        "torch": torch.get_rng_state(),
        "deterministic": torch.are_deterministic_algorithms_enabled(),
        "warn_only": torch.is_deterministic_algorithms_warn_only_enabled(),
        "cublas": os.environ.get(_CUBLAS),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    mps = getattr(torch, "mps", None)
    if mps is not None and torch.backends.mps.is_available():
        state["mps"] = mps.get_rng_state()
    return state


def _restore(state: dict) -> None:
    import torch

    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state:
        torch.cuda.set_rng_state_all(state["cuda"])
    if "mps" in state:
        torch.mps.set_rng_state(state["mps"])
    torch.use_deterministic_algorithms(state["deterministic"], warn_only=state["warn_only"])
    if state["cublas"] is None:
        os.environ.pop(_CUBLAS, None)
    else:
        os.environ[_CUBLAS] = state["cublas"]


@contextlib.contextmanager
def random_state_restored() -> Iterator[None]:
    """Undo, on exit, every change to the global random state and to torch's deterministic flag.

    Also a decorator: ``@random_state_restored()`` on an analysis' entry point,
    which then calls :func:`set_seed` freely.
    """
    state = _capture()
    try:
        yield
    finally:
        _restore(state)


def set_seed(seed: int) -> np.random.Generator:
    """Seed every generator an analysis touches and return a NumPy Generator.

    Changes process-wide state: call it only inside :func:`random_state_restored`
    (or use :func:`seeded`). torch is asked for deterministic kernels where they
    exist (``warn_only``, so an op without a deterministic version still runs).
    """
    seed = int(seed)
    random.seed(seed)
    np.random.seed(seed % (2**32))
    os.environ.setdefault(_CUBLAS, ":4096:8")
    import torch

    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)
    return np.random.default_rng(seed)


@contextlib.contextmanager
def seeded(seed: int) -> Iterator[np.random.Generator]:
    """``with seeded(0) as rng:`` a reproducible block; the caller's random state is back afterwards."""
    with random_state_restored():
        yield set_seed(seed)
