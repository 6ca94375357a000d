"""Choose the torch device once, the same way everywhere."""

from __future__ import annotations

from typing import TYPE_CHECKING

from omicsgat.errors import OmicsInputError

if TYPE_CHECKING:  # torch is imported lazily: the GUI starts without it
    import torch

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")


def _mps_available(torch) -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def resolve_device(device: str | "torch.device" | None = "auto") -> "torch.device":
    """Return a :class:`torch.device`.

    ``"auto"`` (or ``None``) picks CUDA, then Apple MPS, then CPU. Asking for a
    device that is not there is an :class:`OmicsInputError`, never a silent
    fallback: a user who asked for the GPU must know it was not used.
    """
    import torch

    if isinstance(device, torch.device):
        return device
    name = (device or "auto").lower().strip()
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if _mps_available(torch):
            return torch.device("mps")
        return torch.device("cpu")
    kind = name.split(":")[0]
    if kind not in DEVICE_CHOICES:
        raise OmicsInputError(f"Unknown device {device!r}: use one of {', '.join(DEVICE_CHOICES)} (optionally cuda:N).")
    if kind == "cuda" and not torch.cuda.is_available():
        raise OmicsInputError(
            "Device 'cuda' was asked for but no CUDA GPU is available to torch "
            f"(torch {torch.__version__}); use --device auto or cpu."
        )
    if kind == "mps" and not _mps_available(torch):
        raise OmicsInputError("Device 'mps' was asked for but Apple MPS is not available; use --device auto or cpu.")
    if kind == "cuda" and ":" in name:
        index = int(name.split(":")[1])
        if index >= torch.cuda.device_count():
            raise OmicsInputError(f"Device {name!r} does not exist: {torch.cuda.device_count()} CUDA device(s) found.")
    return torch.device(name)


def describe_device(device: "torch.device") -> str:
    """A short human label, e.g. ``"cuda (NVIDIA H100)"`` or ``"cpu"``."""
    import torch

    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    if device.type == "mps":
        return "mps (Apple GPU)"
    return "cpu"
