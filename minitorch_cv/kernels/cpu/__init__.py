"""CPU kernels: Numba ``@njit(parallel=True, cache=True)``, the same names and signatures as
``kernels/gpu`` and ``kernels/reference``.

Set ``NUMBA_DISABLE_JIT=1`` to run every kernel as plain Python (slow, but a debugger can step
through the loops). Each jitted function is compiled once per dtype (float32, float64) on first
use and cached on disk.

Beyond the shared contract, ``relu_forward`` / ``relu_backward`` and ``add`` run ReLU and
same-shape additions on all cores (``elementwise.py``; elsewhere NumPy/CuPy expressions),
``max_pool2d_backward_2x2`` is the backward of 2x2 windows at stride 2 (``pool.py``), and
``im2col_batch_inner`` / ``col2im_batch_inner`` write and read the column buffer in the GEMM
layout ``(C, kh, kw, N, out_h, out_w)`` (one GEMM for the whole batch); ``ops/conv.py`` uses
them when a namespace has them; ``im2col_fused_forward`` / ``im2col_fused_backward`` run im2col,
the GEMMs and col2im per small group of samples, in the L2 cache (with SciPy installed); and
``num_threads()`` (Numba's thread count) sizes the cache-sized blocks, and ``run_split`` runs
parts of a batch on their own threads
(``threads.py``; the thread-pool settings they rely on are made by ``minitorch_cv/_early.py``).

The other convolution algorithms' kernels: Winograd F(2x2, 3x3) transforms (``winograd.py``,
also on the GPU; CPU-only extras: ``winograd_output_transform_into`` writes a block's output in
place; ``winograd_fused.py``: ``winograd_fused_conv`` / ``winograd_fused_grad_filter`` run the
transforms and the GEMMs between them per small group of samples, in the L2 cache; they call
BLAS through SciPy, and are absent where SciPy is not installed) and direct convolution
(``direct.py``, CPU only); ``minitorch_cv.backends.conv`` chooses between them and im2col.
"""

from importlib.util import find_spec

from .conv import col2im, col2im_batch_inner, im2col, im2col_batch_inner, num_threads
from .direct import conv2d_direct_forward, conv2d_direct_grad_input, conv2d_direct_grad_weight
from .dropout import dropout_mask
from .elementwise import add, relu_backward, relu_forward
from .norm import batch_norm_backward, batch_norm_forward, batch_norm_stats
from .pool import (
    avg_pool2d_backward,
    avg_pool2d_forward,
    max_pool2d_backward,
    max_pool2d_backward_2x2,
    max_pool2d_forward,
)
from .threads import run_split
from .winograd import (
    winograd_filter_transform,
    winograd_grad_filter_transform,
    winograd_grad_output_transform,
    winograd_input_transform,
    winograd_output_transform,
    winograd_output_transform_into,
)

if find_spec("scipy") is not None:  # Numba's np.dot, which they call, needs SciPy's BLAS
    from .conv import im2col_fused_backward, im2col_fused_forward
    from .threads import load_scipy_blas
    from .winograd_fused import winograd_fused_conv, winograd_fused_grad_filter

__all__ = [
    "add",
    "avg_pool2d_backward",
    "avg_pool2d_forward",
    "batch_norm_backward",
    "batch_norm_forward",
    "batch_norm_stats",
    "col2im",
    "col2im_batch_inner",
    "conv2d_direct_forward",
    "conv2d_direct_grad_input",
    "conv2d_direct_grad_weight",
    "dropout_mask",
    "im2col",
    "im2col_batch_inner",
    "max_pool2d_backward",
    "max_pool2d_backward_2x2",
    "max_pool2d_forward",
    "num_threads",
    "relu_backward",
    "relu_forward",
    "run_split",
    "winograd_filter_transform",
    "winograd_grad_filter_transform",
    "winograd_grad_output_transform",
    "winograd_input_transform",
    "winograd_output_transform",
    "winograd_output_transform_into",
] + (["im2col_fused_backward", "im2col_fused_forward", "load_scipy_blas", "winograd_fused_conv",
       "winograd_fused_grad_filter"] if find_spec("scipy") else [])
