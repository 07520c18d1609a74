"""Pooling ops: max and average pooling on the kernels, adaptive pooling with ``xp`` slices.

Argument checking (ranks, sizes, ceil_mode arithmetic) lives in ``functional.pool``; these
Functions receive ready-made integers: kernel ``(kh, kw)``, stride ``(sh, sw)``, padding
``(ph, pw)``, dilation ``(dh, dw)`` and the output size ``(out_h, out_w)``.
"""

from __future__ import annotations

import math

from .. import kernels
from ..autograd.function import Function
from .kernel_dtype import check_kernel_dtype


class MaxPool2d(Function):
    """Returns ``(out, indices)``; indices are flat ``h*W + w`` into each input plane (int64).

    Shapes: x (N, C, H, W) -> out, indices (N, C, out_h, out_w).
    """

    @staticmethod
    def forward(ctx, x, kernel=(1, 1), stride=(1, 1), padding=(0, 0), dilation=(1, 1),
                out_size=(1, 1)):
        check_kernel_dtype(x, "max_pool2d")
        K = kernels.for_device(ctx.device)
        out, argmax = K.max_pool2d_forward(x, *kernel, *stride, *padding, *dilation, *out_size)
        ctx.argmax, ctx.in_hw = argmax, x.shape[2:]
        # 2x2 windows at stride 2 that tile the input: the CPU has a faster backward for them
        ctx.tiles = ((*kernel, *stride, *padding, *dilation) == (2, 2, 2, 2, 0, 0, 1, 1)
                     and 2 * out_size[0] <= x.shape[2] and 2 * out_size[1] <= x.shape[3])
        return out, argmax

    @staticmethod
    def backward(ctx, grad_output):
        K = kernels.for_device(ctx.device)
        if ctx.tiles and hasattr(K, "max_pool2d_backward_2x2"):
            return K.max_pool2d_backward_2x2(grad_output, ctx.argmax, *ctx.in_hw)
        return K.max_pool2d_backward(grad_output, ctx.argmax, *ctx.in_hw)


def _real_counts(xp, out: int, stride: int, pad: int, k: int, size: int):
    """Number of real (non-padding) pixels in each window along one axis."""
    start = [o * stride - pad for o in range(out)]
    counts = [min(s + k, size + pad, size) - max(s, 0) for s in start]
    return xp.asarray(counts, dtype="float64")


class AvgPool2d(Function):
    """Window means with torch's divisor rule (``count_include_pad``, ``divisor_override``).

    Shapes: x (N, C, H, W) -> out (N, C, out_h, out_w).

    ``divisor_override`` (divide every window sum by one number) is the kernel's
    "real pixels" mean times ``real_count / divisor_override``, so the kernels need no
    third divisor rule.
    """

    @staticmethod
    def forward(ctx, x, kernel=(1, 1), stride=(1, 1), padding=(0, 0), out_size=(1, 1),
                count_include_pad=True, divisor_override=None):
        check_kernel_dtype(x, "avg_pool2d")
        K, xp = kernels.for_device(ctx.device), ctx.xp
        H, W = x.shape[2:]
        (kh, kw), (sh, sw), (ph, pw), (out_h, out_w) = kernel, stride, padding, out_size
        ctx.args = (H, W, kh, kw, sh, sw, ph, pw)
        ctx.factor = None
        if divisor_override is not None:
            count_include_pad = False
            counts = (_real_counts(xp, out_h, sh, ph, kh, H)[:, None]
                      * _real_counts(xp, out_w, sw, pw, kw, W)[None, :])
            ctx.factor = (counts / divisor_override).astype(x.dtype)
        ctx.count_include_pad = count_include_pad
        out = K.avg_pool2d_forward(x, kh, kw, sh, sw, ph, pw, out_h, out_w, count_include_pad)
        return out if ctx.factor is None else out * ctx.factor

    @staticmethod
    def backward(ctx, grad_output):
        K = kernels.for_device(ctx.device)
        if ctx.factor is not None:
            grad_output = grad_output * ctx.factor
        return K.avg_pool2d_backward(grad_output, *ctx.args, ctx.count_include_pad)


def adaptive_windows(size: int, out: int) -> list[tuple[int, int]]:
    """torch's adaptive windows: ``[floor(o*size/out), ceil((o+1)*size/out))`` for each o."""
    return [((o * size) // out, -((-(o + 1) * size) // out)) for o in range(out)]


class AdaptiveAvgPool2d(Function):
    """Mean over torch's adaptive windows (they may overlap or differ in size).

    Shapes: x (N, C, H, W) -> out (N, C, out_h, out_w). One vectorised slice mean per output
    pixel: fine for the small outputs (1x1 .. 7x7) networks use.
    """

    @staticmethod
    def forward(ctx, x, out_size=(1, 1)):
        xp = ctx.xp
        N, C, H, W = x.shape
        rows, cols = adaptive_windows(H, out_size[0]), adaptive_windows(W, out_size[1])
        out = xp.empty((N, C, *out_size), dtype=x.dtype)
        for i, (h0, h1) in enumerate(rows):
            for j, (w0, w1) in enumerate(cols):
                out[:, :, i, j] = x[:, :, h0:h1, w0:w1].mean(axis=(2, 3))
        ctx.windows, ctx.in_shape = (rows, cols), x.shape
        return out

    @staticmethod
    def backward(ctx, grad_output):
        rows, cols = ctx.windows
        grad_x = ctx.xp.zeros(ctx.in_shape, dtype=grad_output.dtype)
        for i, (h0, h1) in enumerate(rows):
            for j, (w0, w1) in enumerate(cols):
                share = grad_output[:, :, i, j] / ((h1 - h0) * (w1 - w0))
                grad_x[:, :, h0:h1, w0:w1] += share[:, :, None, None]
        return grad_x


class AdaptiveMaxPool2d(Function):
    """Maximum over torch's adaptive windows; returns ``(out, indices)`` (flat ``h*W + w``).

    Shapes: x (N, C, H, W) -> out, indices (N, C, out_h, out_w).
    """

    @staticmethod
    def forward(ctx, x, out_size=(1, 1)):
        xp = ctx.xp
        N, C, H, W = x.shape
        rows, cols = adaptive_windows(H, out_size[0]), adaptive_windows(W, out_size[1])
        out = xp.empty((N, C, *out_size), dtype=x.dtype)
        indices = xp.empty((N, C, *out_size), dtype="int64")
        for i, (h0, h1) in enumerate(rows):
            for j, (w0, w1) in enumerate(cols):
                window = x[:, :, h0:h1, w0:w1].reshape(N, C, -1)  # row-major: first max wins
                best = window.argmax(axis=2)
                out[:, :, i, j] = xp.take_along_axis(window, best[:, :, None], axis=2)[:, :, 0]
                indices[:, :, i, j] = (h0 + best // (w1 - w0)) * W + w0 + best % (w1 - w0)
        ctx.indices, ctx.in_hw = indices, (H, W)
        return out, indices

    @staticmethod
    def backward(ctx, grad_output):
        K = kernels.for_device(ctx.device)
        return K.max_pool2d_backward(grad_output, ctx.indices, *ctx.in_hw)


def pool_output_size(size: int, k: int, stride: int, pad: int, dil: int, ceil_mode: bool) -> int:
    """torch's pooling size: floor or ceil of the conv formula; with ceil_mode the last window
    must start inside the input or its left padding."""
    span = size + 2 * pad - dil * (k - 1) - 1
    out = (math.ceil(span / stride) if ceil_mode else span // stride) + 1
    if ceil_mode and (out - 1) * stride >= size + pad:
        out -= 1
    return out
