"""GPU kernels: CUDA C sources (``*.cu``) launched through CuPy, or on the CPU as ``"cuda-sim"``.

``for_device("cuda")`` and ``for_device("cuda-sim")`` return a ``GpuKernels`` namespace with the
same functions and signatures as ``kernels/cpu`` (im2col, col2im, max/avg pooling forward and
backward, batch-norm statistics, forward and backward, dropout mask). The launch code in
``launch.py`` is shared by both devices: it gets its array module and kernel launcher from a
``Seam`` (``seam.py``), CuPy's on a GPU, ``minitorch_cv.emulator``'s on the simulated GPU.

``nvrtc_gate`` compiles every source with NVRTC for every target architecture without a GPU.
CuPy is imported only through ``minitorch_cv.backend``, and only when device ``"cuda"`` is used.
"""

from __future__ import annotations

from .launch import GpuKernels
from .seam import Seam, cuda_seam, simulated_seam
from .sources import KERNEL_FILES, kernel_names, source

_namespaces: dict[str, GpuKernels] = {}


def for_device(device: str) -> GpuKernels:
    """The kernel namespace of ``"cuda"`` (CuPy) or ``"cuda-sim"`` (the CPU emulator)."""
    if device not in _namespaces:
        if device == "cuda":
            _namespaces[device] = GpuKernels(cuda_seam())
        elif device == "cuda-sim":
            _namespaces[device] = GpuKernels(simulated_seam())
        else:
            raise ValueError(f"GPU kernels run on 'cuda' or 'cuda-sim', not {device!r}")
    return _namespaces[device]


def simulated(order: str | None = None, seed: int | None = None, **seam_options) -> GpuKernels:
    """A simulated-GPU namespace with a chosen thread order (for tests and debugging)."""
    return GpuKernels(simulated_seam(order, seed, **seam_options))


__all__ = [
    "KERNEL_FILES",
    "GpuKernels",
    "Seam",
    "cuda_seam",
    "for_device",
    "kernel_names",
    "simulated",
    "simulated_seam",
    "source",
]
