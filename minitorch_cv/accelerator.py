"""``minitorch_cv.accelerator``: torch.accelerator's device-agnostic questions.

The only accelerator minitorch_cv can drive is a CUDA GPU (through CuPy): ``"cuda-sim"`` is a
CPU simulation and is not reported, so code written as
``device = accelerator.current_accelerator() if accelerator.is_available() else "cpu"`` runs on
the CPU on a machine without a GPU, as with torch.
"""

from __future__ import annotations

from . import backend, cuda


def is_available() -> bool:
    return cuda.is_available()


def device_count() -> int:
    return cuda.device_count()


def current_accelerator(check_available: bool = False) -> backend.device | None:
    """``device("cuda")`` when a GPU is usable, else None (as torch on a CPU-only machine)."""
    return backend.device("cuda") if cuda.is_available() else None


def synchronize(device=None) -> None:
    cuda.synchronize()
