"""CPU kernels: Numba ``@njit(parallel=True, cache=True)``, the same names and signatures as
``kernels/gpu`` and ``kernels/reference``.

Set ``NUMBA_DISABLE_JIT=1`` to run every kernel as plain Python (slow, but a debugger can step
through the loops). Each jitted function is compiled once per dtype (float32, float64) on first
use and cached on disk.
"""

from .conv import col2im, im2col
from .dropout import dropout_mask
from .norm import batch_norm_backward, batch_norm_forward, batch_norm_stats
from .pool import avg_pool2d_backward, avg_pool2d_forward, max_pool2d_backward, max_pool2d_forward

__all__ = [
    "avg_pool2d_backward",
    "avg_pool2d_forward",
    "batch_norm_backward",
    "batch_norm_forward",
    "batch_norm_stats",
    "col2im",
    "dropout_mask",
    "im2col",
    "max_pool2d_backward",
    "max_pool2d_forward",
]
