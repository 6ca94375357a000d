"""Refuse work that would not fit, before starting it.

Analyses estimate their peak memory from the data size and the model, and
call :func:`check_fits`; a run that would not fit is refused with a message
saying what to change, instead of being killed by the operating system or
dying with a CUDA out-of-memory error halfway through. :func:`oom_guard`
turns a CUDA out-of-memory error that slips through into the same kind of
message.
"""

from __future__ import annotations

import contextlib
from typing import Iterator

from omicsgat.errors import OmicsInputError

GiB = 2**30


def available_bytes(device) -> int:
    """Free memory on ``device`` (RAM for cpu/mps, free GPU memory for cuda)."""
    if getattr(device, "type", str(device)) == "cuda":
        import torch

        free, _total = torch.cuda.mem_get_info(device)
        return int(free)
    import psutil

    return int(psutil.virtual_memory().available)


def check_fits(needed_bytes: float, device, what: str, advice: str) -> None:
    """Raise :class:`OmicsInputError` when ``needed_bytes`` exceeds 90% of what is free."""
    free = available_bytes(device)
    if needed_bytes > 0.9 * free:
        raise OmicsInputError(
            f"{what} needs about {needed_bytes / GiB:.1f} GiB but only {free / GiB:.1f} GiB is free on "
            f"{getattr(device, 'type', device)}. {advice}"
        )


@contextlib.contextmanager
def oom_guard(what: str, advice: str) -> Iterator[None]:
    """Report a CUDA/MPS out-of-memory error as an :class:`OmicsInputError` and free the cache."""
    try:
        yield
    except RuntimeError as exc:  # torch.OutOfMemoryError subclasses RuntimeError
        if "out of memory" not in str(exc).lower():
            raise
        import torch

        if torch.cuda.is_available():
            torch.cuda.empty_cache()
        raise OmicsInputError(f"{what} ran out of device memory. {advice}") from exc
