"""The GPU kernels as plain functions of arrays and integers (the CPU twins' contract).

Every method has the name and signature of its twin in ``kernels/cpu`` and
``kernels/reference.py``; the shapes, formulas and loops are documented beside each kernel in
the ``.cu`` files. A method only allocates outputs, makes the grid and passes arguments with
exact NumPy scalar types (``np.int64`` for every ``long long`` parameter: a Python float or a
wrong width would be reinterpreted on a GPU, and the emulator refuses it). Arrays come from and
go to ``seam.xp``; the GEMMs of convolution stay in the ops (``xp.matmul``, cuBLAS on a GPU).
"""

from __future__ import annotations

import numpy as np

from .seam import Seam

I64 = np.int64
_MAX_REDUCTION_BLOCK = 256  # MAX_BLOCK in batch_norm.cu


def _ints(*values) -> list[np.int64]:
    return [I64(v) for v in values]


class GpuKernels:
    """The kernel namespace of one device (``"cuda"`` or ``"cuda-sim"``), bound to a seam."""

    def __init__(self, seam: Seam):
        self.seam = seam
        self.xp = seam.xp
        self.device = seam.device

    def __repr__(self) -> str:
        return f"GpuKernels({self.device!r})"

    def synchronize(self) -> None:
        """Wait until every launched kernel has finished (for timing: launches are
        asynchronous on a GPU). The simulated GPU runs each launch to its end: nothing to do."""
        if self.device == "cuda":
            self.xp.cuda.get_current_stream().synchronize()

    def _contiguous(self, array):
        return self.xp.ascontiguousarray(array)

    def _launch(self, file, name, dtype, total, args):
        if total == 0:
            return  # an empty launch is an error on a GPU; there is nothing to compute
        grid, block = self.seam.grid(total)
        self.seam.kernel(file, name, dtype)(grid, block, tuple(args))

    def _reduction_grid(self, channels):
        block = min(self.seam.block, _MAX_REDUCTION_BLOCK)
        if block & (block - 1):
            raise ValueError(f"the reduction kernels need a power-of-two block, got {block}")
        return (max(1, min(self.seam.max_blocks, channels)),), (block,)

    # ------------------------------------------------------------------ convolution
    def im2col(self, x, kh, kw, sh, sw, ph, pw, dh, dw, out_h, out_w):
        """x (N, C, H, W) -> col (N, C, kh, kw, out_h, out_w); zeros where a tap reads padding."""
        return self._im2col(x, (kh, kw, sh, sw, ph, pw, dh, dw, out_h, out_w), False)

    def im2col_batch_inner(self, x, kh, kw, sh, sw, ph, pw, dh, dw, out_h, out_w):
        """``im2col`` in the GEMM layout (C, kh, kw, N, out_h, out_w): one matrix per batch."""
        return self._im2col(x, (kh, kw, sh, sw, ph, pw, dh, dw, out_h, out_w), True)

    def _im2col(self, x, geometry, batch_inner):
        x = self._contiguous(x)
        N, C, H, W = x.shape
        kh, kw, sh, sw, ph, pw, dh, dw, out_h, out_w = geometry
        shape = (C, kh, kw, N, out_h, out_w) if batch_inner else (N, C, kh, kw, out_h, out_w)
        col = self.seam.empty(shape, x.dtype)
        self._launch("conv", "im2col", x.dtype, col.size,
                     [x, col, *_ints(N, C, H, W, *geometry, batch_inner)])
        return col

    def col2im(self, col, H, W, sh, sw, ph, pw, dh, dw):
        """col (N, C, kh, kw, out_h, out_w) -> x (N, C, H, W); overlapping taps add (a gather)."""
        col = self._contiguous(col)
        N, C, kh, kw, out_h, out_w = col.shape
        return self._col2im(col, N, C, kh, kw, out_h, out_w, (H, W, sh, sw, ph, pw, dh, dw), False)

    def col2im_batch_inner(self, col, H, W, sh, sw, ph, pw, dh, dw):
        """``col2im`` from the GEMM layout (C, kh, kw, N, out_h, out_w) -> x (N, C, H, W)."""
        col = self._contiguous(col)
        C, kh, kw, N, out_h, out_w = col.shape
        return self._col2im(col, N, C, kh, kw, out_h, out_w, (H, W, sh, sw, ph, pw, dh, dw), True)

    def _col2im(self, col, N, C, kh, kw, out_h, out_w, geometry, batch_inner):
        H, W, sh, sw, ph, pw, dh, dw = geometry
        x = self.seam.empty((N, C, H, W), col.dtype)
        self._launch("conv", "col2im", col.dtype, x.size,
                     [col, x, *_ints(N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, out_h, out_w,
                                     batch_inner)])
        return x

    # ------------------------------------------------------------------ Winograd F(2x2, 3x3)
    def winograd_filter_transform(self, weight):
        """weight (C_out, C, 3, 3) -> U (4, 4, C_out, C), ``U[:, :, co, c] = G g G^T``."""
        weight = self._contiguous(weight)
        if weight.shape[2:] != (3, 3):
            raise ValueError(f"Winograd F(2x2, 3x3) needs 3x3 filters, got {weight.shape}")
        C_out, C = weight.shape[:2]
        U = self.seam.empty((4, 4, C_out, C), weight.dtype)
        self._launch("winograd", "winograd_filter_transform", weight.dtype, C_out * C,
                     [weight, U, *_ints(C_out, C)])
        return U

    def winograd_input_transform(self, x, ph, pw, tiles_h, tiles_w):
        """x (N, C, H, W) -> V (4, 4, C, N, tiles_h, tiles_w), ``B^T d B`` per 4x4 tile."""
        x = self._contiguous(x)
        N, C, H, W = x.shape
        V = self.seam.empty((4, 4, C, N, tiles_h, tiles_w), x.dtype)
        self._launch("winograd", "winograd_input_transform", x.dtype, C * N * tiles_h * tiles_w,
                     [x, V, *_ints(N, C, H, W, ph, pw, tiles_h, tiles_w)])
        return V

    def winograd_output_transform(self, m, out_h, out_w):
        """m (4, 4, C_out, N, tiles_h, tiles_w) -> y (N, C_out, out_h, out_w), ``A^T m A``."""
        m = self._contiguous(m)
        _, _, C_out, N, tiles_h, tiles_w = m.shape
        y = self.seam.empty((N, C_out, out_h, out_w), m.dtype)
        self._launch("winograd", "winograd_output_transform", m.dtype,
                     C_out * N * tiles_h * tiles_w,
                     [m, y, *_ints(N, C_out, tiles_h, tiles_w, out_h, out_w)])
        return y

    def winograd_grad_output_transform(self, grad_y, tiles_h, tiles_w):
        """grad_y (N, C_out, out_h, out_w) -> dM (4, 4, C_out, N, tiles_h, tiles_w), ``A dY A^T``
        (the adjoint of ``winograd_output_transform``)."""
        grad_y = self._contiguous(grad_y)
        N, C_out, out_h, out_w = grad_y.shape
        dM = self.seam.empty((4, 4, C_out, N, tiles_h, tiles_w), grad_y.dtype)
        self._launch("winograd", "winograd_grad_output_transform", grad_y.dtype,
                     C_out * N * tiles_h * tiles_w,
                     [grad_y, dM, *_ints(N, C_out, out_h, out_w, tiles_h, tiles_w)])
        return dM

    def winograd_grad_filter_transform(self, grad_U):
        """grad_U (4, 4, C_out, C) -> grad_weight (C_out, C, 3, 3), ``G^T grad_U G`` (the adjoint
        of ``winograd_filter_transform``)."""
        grad_U = self._contiguous(grad_U)
        C_out, C = grad_U.shape[2:]
        grad_weight = self.seam.empty((C_out, C, 3, 3), grad_U.dtype)
        self._launch("winograd", "winograd_grad_filter_transform", grad_U.dtype, C_out * C,
                     [grad_U, grad_weight, *_ints(C_out, C)])
        return grad_weight

    # ------------------------------------------------------------------ pooling
    def max_pool2d_forward(self, x, kh, kw, sh, sw, ph, pw, dh, dw, out_h, out_w):
        """x (N, C, H, W) -> (out, argmax) (N, C, out_h, out_w); argmax int64 = h*W + w."""
        x = self._contiguous(x)
        N, C, H, W = x.shape
        out = self.seam.empty((N, C, out_h, out_w), x.dtype)
        argmax = self.seam.empty((N, C, out_h, out_w), np.int64)
        self._launch("pool", "max_pool2d_forward", x.dtype, out.size,
                     [x, out, argmax,
                      *_ints(N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, out_h, out_w)])
        return out, argmax

    def max_pool2d_backward(self, grad_out, argmax, H, W):
        """grad_out, argmax (N, C, out_h, out_w) -> grad_x (N, C, H, W)."""
        grad_out = self._contiguous(grad_out)
        argmax = self._contiguous(argmax).astype(np.int64, copy=False)
        N, C, out_h, out_w = grad_out.shape
        grad_x = self.xp.zeros((N, C, H, W), grad_out.dtype)  # the kernel adds into it
        self._launch("pool", "max_pool2d_backward", grad_out.dtype, grad_out.size,
                     [grad_out, argmax, grad_x, *_ints(N, C, H, W, out_h, out_w)])
        return grad_x

    def avg_pool2d_forward(self, x, kh, kw, sh, sw, ph, pw, out_h, out_w, count_include_pad):
        """x (N, C, H, W) -> (N, C, out_h, out_w): window sums / PyTorch's divisor."""
        x = self._contiguous(x)
        N, C, H, W = x.shape
        out = self.seam.empty((N, C, out_h, out_w), x.dtype)
        self._launch("pool", "avg_pool2d_forward", x.dtype, out.size,
                     [x, out, *_ints(N, C, H, W, kh, kw, sh, sw, ph, pw, out_h, out_w,
                                     bool(count_include_pad))])
        return out

    def avg_pool2d_backward(self, grad_out, H, W, kh, kw, sh, sw, ph, pw, count_include_pad):
        """grad_out (N, C, out_h, out_w) -> grad_x (N, C, H, W) (a gather)."""
        grad_out = self._contiguous(grad_out)
        N, C, out_h, out_w = grad_out.shape
        grad_x = self.seam.empty((N, C, H, W), grad_out.dtype)
        self._launch("pool", "avg_pool2d_backward", grad_out.dtype, grad_x.size,
                     [grad_out, grad_x, *_ints(N, C, H, W, kh, kw, sh, sw, ph, pw, out_h, out_w,
                                               bool(count_include_pad))])
        return grad_x

    # ------------------------------------------------------------------ batch norm
    def _as_ncl(self, x):
        """(N, C) -> (N, C, 1); (N, C, H, W) -> (N, C, H*W), contiguous."""
        return self._contiguous(x).reshape(x.shape[0], x.shape[1], -1)

    def _per_channel(self, vector, C, dtype, default):
        if vector is None:  # affine=False
            return self.xp.full((C,), default, dtype)
        return self._contiguous(vector).astype(dtype, copy=False)

    def batch_norm_stats(self, x):
        """x (N, C, ...) -> (mean (C,), biased var (C,)), accumulated in double."""
        x = self._as_ncl(x)
        N, C, L = x.shape
        mean = self.seam.empty((C,), x.dtype)
        var = self.seam.empty((C,), x.dtype)
        if C:
            grid, block = self._reduction_grid(C)
            self.seam.kernel("batch_norm", "batch_norm_stats", x.dtype)(
                grid, block, (x, mean, var, *_ints(N, C, L)))
        return mean, var

    def batch_norm_forward(self, x, mean, invstd, weight, bias):
        """y = (x - mean[c]) * invstd[c] * weight[c] + bias[c]; x (N, C, ...), y like x."""
        shape = x.shape
        x = self._as_ncl(x)
        N, C, L = x.shape
        mean, invstd = (self._per_channel(v, C, x.dtype, 0) for v in (mean, invstd))
        weight = self._per_channel(weight, C, x.dtype, 1)
        bias = self._per_channel(bias, C, x.dtype, 0)
        y = self.seam.empty(x.shape, x.dtype)
        self._launch("batch_norm", "batch_norm_forward", x.dtype, y.size,
                     [x, mean, invstd, weight, bias, y, *_ints(N, C, L)])
        return y.reshape(shape)

    def batch_norm_backward(self, grad_y, x, mean, invstd, weight):
        """Training-mode gradients -> (grad_x like x, grad_weight (C,), grad_bias (C,)).

        grad_bias = sum(g), grad_weight = sum(g * xhat), grad_x = weight * invstd / M *
        (M*g - sum(g) - xhat * sum(g * xhat)) with M = N*L values per channel.
        """
        shape = x.shape
        x, grad_y = self._as_ncl(x), self._as_ncl(grad_y).astype(x.dtype, copy=False)
        N, C, L = x.shape
        mean, invstd = (self._per_channel(v, C, x.dtype, 0) for v in (mean, invstd))
        weight = self._per_channel(weight, C, x.dtype, 1)
        sums = self.seam.empty((C, 2), np.float64)  # (sum g, sum g*xhat) per channel
        if C:
            grid, block = self._reduction_grid(C)
            self.seam.kernel("batch_norm", "batch_norm_backward_reduce", x.dtype)(
                grid, block, (grad_y, x, mean, invstd, sums, *_ints(N, C, L)))
        grad_x = self.seam.empty(x.shape, x.dtype)
        self._launch("batch_norm", "batch_norm_backward_input", x.dtype, grad_x.size,
                     [grad_y, x, mean, invstd, weight, sums, grad_x, *_ints(N, C, L)])
        grad_weight = sums[:, 1].astype(x.dtype)
        grad_bias = sums[:, 0].astype(x.dtype)
        return grad_x.reshape(shape), grad_weight, grad_bias

    # ------------------------------------------------------------------ dropout
    def dropout_mask(self, shape_n, p, seed):
        """keep (shape_n,) uint8: element i kept iff hash_uniform(seed, i) >= p (float64)."""
        shape_n = int(shape_n)
        keep = self.seam.empty((shape_n,), np.uint8)
        # the mask does not depend on the data type: one float32 build of dropout.cu serves all
        self._launch("dropout", "dropout_mask", np.float32, shape_n,
                     [keep, I64(shape_n), np.float64(p), np.uint64(int(seed) % 2**64)])
        return keep
