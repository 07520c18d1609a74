"""The seam between the GPU launch code and the machine it runs on.

The launch code (``launch.py``) asks a ``Seam`` for three things and nothing else: the array
module (``xp``), a compiled kernel (``seam.kernel(file, name, dtype)``, called with CuPy's shape
``kernel(grid, block, args, shared_mem=0)``), and an uninitialised array (``seam.empty``). Two
seams exist:

- ``cuda_seam()``: CuPy arrays, kernels from ``cupy.RawModule`` (NVRTC, then the GPU);
- ``simulated_seam()``: NumPy arrays, kernels from ``minitorch_cv.emulator`` (g++, then the
  CPU), outputs pre-filled with NaN / -1 so an unwritten element cannot pass unnoticed.

So the same launch code, grid arithmetic and argument lists run on a real GPU and on a laptop;
only CuPy itself is left out of the simulated run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType

import numpy as np

from ... import backend
from .sources import check_dtype, source

# Options handed to NVRTC by the cuda seam and by the compile gate (the same text, the same
# options: what the gate passes is what runs).
NVRTC_OPTIONS = ("--std=c++17",)


@dataclass
class Seam:
    """Where GPU kernels run.

    Attributes:
        device: ``"cuda"`` or ``"cuda-sim"``.
        xp: the array module of that device.
        build_module: source text -> module with ``get_function(name)``.
        empty: ``(shape, dtype) -> array`` whose contents must not be relied on.
        block: threads per block of the element-wise kernels (a power of two).
        max_blocks: cap on the grid; the kernels' grid-stride loops cover the rest.
    """

    device: str
    xp: ModuleType
    build_module: Callable[[str], object]
    empty: Callable
    block: int = 256
    max_blocks: int = 65535
    _modules: dict = field(default_factory=dict, repr=False)

    def kernel(self, file: str, name: str, dtype=np.float32):
        """The kernel ``name`` of ``file``.cu compiled for ``dtype`` (built once per seam)."""
        key = (file, check_dtype(dtype))
        module = self._modules.get(key)
        if module is None:
            module = self._modules[key] = self.build_module(source(file, key[1]))
        return module.get_function(name)

    def grid(self, total: int) -> tuple[tuple[int], tuple[int]]:
        """(grid, block) for ``total`` independent elements: one thread per element, capped."""
        blocks = max(1, min(self.max_blocks, -(-int(total) // self.block)))
        return (blocks,), (self.block,)


def cuda_seam(block: int = 256, max_blocks: int = 65535) -> Seam:
    """A real GPU through CuPy (raises a clear error where there is none)."""
    backend.check_device("cuda")
    cp = backend.cupy_module()

    def build_module(text: str):
        return cp.RawModule(code=text, options=NVRTC_OPTIONS)

    return Seam("cuda", cp, build_module, cp.empty, block=block, max_blocks=max_blocks)


def simulated_seam(order: str | None = None, seed: int | None = None, *,
                   sanitize: str | None = None, block: int = 256,
                   max_blocks: int = 65535) -> Seam:
    """The simulated GPU: NumPy arrays, the same CUDA sources run by ``minitorch_cv.emulator``.

    Args:
        order: thread order (``"forward"``, ``"reverse"``, ``"shuffled"``, ``"threads"``);
            None reads ``MINITORCH_CV_EMULATOR_ORDER`` at every launch (default forward).
        seed: seed of the shuffled order (None: ``MINITORCH_CV_EMULATOR_SEED``, default 0).
        sanitize: ``"address"`` or ``"thread"`` (see ``emulator.sanitizers``).
        block, max_blocks: launch shape; small values make the grid-stride loops loop.
    """
    from ... import emulator  # noqa: PLC0415  (g++ is only needed once a kernel is built)

    def build_module(text: str):
        return emulator.RawModule(text, order=order, seed=seed, sanitize=sanitize)

    return Seam("cuda-sim", np, build_module, emulator.poisoned_empty, block=block,
                max_blocks=max_blocks)
