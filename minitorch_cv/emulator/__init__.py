"""Run CUDA C kernels on the CPU: the engine behind the simulated GPU device ``"cuda-sim"``.

The same kernel source that CuPy compiles with NVRTC for a real GPU is compiled here with g++
and a shim header (``cuda_shim.h``) that defines ``threadIdx``, ``blockIdx``, ``__syncthreads``
and friends; a launcher with CuPy's call shape runs every block and thread over NumPy arrays::

    from minitorch_cv import emulator
    kernel = emulator.RawKernel(source, "im2col")
    kernel((blocks,), (threads,), (x, col, np.int64(N), ...))

What it checks that a plain NumPy re-implementation would not:

- the real source: indexing, bounds checks and loops are the ones the GPU runs;
- thread order: threads and blocks run forward, reverse or shuffled (``order=`` or
  ``MINITORCH_CV_EMULATOR_ORDER``); a kernel whose result depends on the order is wrong;
- ``__syncthreads``: every thread of a block is a fiber that really waits at the barrier;
- argument types: a Python float passed for a ``float`` parameter is an error naming it;
- with ``sanitizers``, out-of-bounds accesses (AddressSanitizer) and races between the threads
  of a block (ThreadSanitizer, thread order ``"threads"``).

What it cannot check: CuPy's own launch and argument handling, races between blocks, warp-level
behaviour, speed, and bit-exact agreement of arithmetic (a GPU contracts ``a*b+c`` into FMAs).

Builds are cached (``build.cache_dir()``); ``MINITORCH_CV_EMULATOR_DEBUG=1`` builds with ``-O0
-g`` so that ``gdb`` can break on a line of the ``.cu`` file. This module never imports CuPy.
"""

from .build import BuildError, build, cache_dir, compiler, kernel_names
from .launch import ORDERS, RawKernel, RawModule, poisoned_empty, resolve_order

__all__ = [
    "ORDERS",
    "BuildError",
    "RawKernel",
    "RawModule",
    "build",
    "cache_dir",
    "compiler",
    "kernel_names",
    "poisoned_empty",
    "resolve_order",
]
