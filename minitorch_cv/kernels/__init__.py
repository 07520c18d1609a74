"""Kernels: plain functions of arrays and integers, one namespace per device.

- ``reference``: naive loops, the oracle every fast kernel is tested against.
- ``cpu``: Numba ``@njit(parallel=True)`` kernels on NumPy arrays.
- ``gpu``: CuPy kernels from CUDA C source (also run on the CPU as ``"cuda-sim"``).

The CPU and GPU namespaces hold the same function names with the same signatures, so an op
writes ``K = kernels.for_device(ctx.device)`` once and never branches on the device. Nothing in
this package imports ``autograd``, ``ops`` or ``nn``.
"""

from __future__ import annotations

from types import ModuleType


def for_device(device: str) -> ModuleType:
    """The kernel namespace for ``device`` (``"cpu"``, ``"cuda"`` or ``"cuda-sim"``)."""
    if device == "cpu":
        from . import cpu  # noqa: PLC0415  (numba compiles lazily; import only when used)

        return cpu
    if device in ("cuda", "cuda-sim"):
        try:
            from .gpu import for_device as gpu_for_device  # noqa: PLC0415
        except ImportError as exc:
            raise RuntimeError(
                f"device {device!r} needs the GPU kernels (minitorch_cv.kernels.gpu."
                f"for_device), which could not be imported: {exc}. Run on device 'cpu' instead."
            ) from exc
        return gpu_for_device(device)
    raise ValueError(f"no kernels for device {device!r}; use 'cpu', 'cuda' or 'cuda-sim'")
