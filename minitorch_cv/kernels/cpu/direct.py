"""Direct convolution on the CPU (Numba): the definition's loops, no column buffer, no GEMM.

For few channels (a network's first layers: 1 or 3 input channels, 6 to 32 outputs) the GEMM
of im2col is short and thin, and building its columns (``kh*kw`` copies of the input) costs as
much as the product. The direct loops read the input in place instead::

    out[n, co, oh, ow] = sum over c, i, j of
        weight[co, c, i, j] * x[n, g*Cg + c, oh*sh - ph + i*dh, ow*sw - pw + j*dw]

(``g`` the group of ``co``, ``Cg = C // groups``, zero padding). The naive twins are
``conv2d_direct_*`` in ``kernels/reference.py``; ``ops/conv_algorithms.py`` decides when to
use them (``minitorch_cv.backends.conv``).

How the kernels run: the input is copied once into a zero-bordered array
``(N, C, H + 2*ph, W + 2*pw)``, so no loop tests for padding; every loop's innermost
dimension is ``ow`` (one output row), which the compiler vectorises at stride 1. Forward and
input gradient run in parallel over ``(n, channel)`` planes, each accumulating into a plane
of its own (in cache, race-free); the weight gradient in parallel over ``(co, c)`` filter
pairs, each summing over the whole batch.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from .memory import keep_freed_memory


@njit(parallel=True, cache=True, nogil=True)
def _pad(x, ph, pw):
    N, C, H, W = x.shape
    padded = np.zeros((N, C, H + 2 * ph, W + 2 * pw), dtype=x.dtype)
    for nc in prange(N * C):
        n, c = nc // C, nc % C
        for h in range(H):
            for w in range(W):
                padded[n, c, h + ph, w + pw] = x[n, c, h, w]
    return padded


@njit(parallel=True, cache=True, nogil=True)
def _forward(xp, weight, sh, sw, dh, dw, groups, out_h, out_w):
    N = xp.shape[0]
    C_out, Cg, kh, kw = weight.shape
    per_group = C_out // groups
    out = np.empty((N, C_out, out_h, out_w), dtype=xp.dtype)
    for nco in prange(N * C_out):
        n, co = nco // C_out, nco % C_out
        first = (co // per_group) * Cg
        acc = np.zeros((out_h, out_w), dtype=xp.dtype)
        for c in range(Cg):
            plane = xp[n, first + c]
            for i in range(kh):
                for j in range(kw):
                    tap = weight[co, c, i, j]
                    for oh in range(out_h):
                        dst = acc[oh]
                        if sw == 1:  # a contiguous slice: the loop vectorises
                            row = plane[oh * sh + i * dh, j * dw:j * dw + out_w]
                            for ow in range(out_w):
                                dst[np.uintp(ow)] += tap * row[np.uintp(ow)]
                        else:
                            row = plane[oh * sh + i * dh]
                            for ow in range(out_w):
                                dst[np.uintp(ow)] += tap * row[np.uintp(ow * sw + j * dw)]
        out[n, co] = acc
    return out


def conv2d_direct_forward(x, weight, sh, sw, ph, pw, dh, dw, groups, out_h, out_w):
    """x (N, C, H, W), weight (C_out, C // groups, kh, kw) -> out (N, C_out, out_h, out_w),
    ``out = (size + 2*pad - dil*(k - 1) - 1) // stride + 1``; the loop above."""
    keep_freed_memory()  # once per process (memory.py)
    xp = _pad(np.ascontiguousarray(x), int(ph), int(pw))
    return _forward(xp, np.ascontiguousarray(weight), int(sh), int(sw), int(dh), int(dw),
                    int(groups), int(out_h), int(out_w))


@njit(parallel=True, cache=True, nogil=True)
def _grad_input(grad_out, weight, H, W, sh, sw, ph, pw, dh, dw, groups):
    N, C_out, out_h, out_w = grad_out.shape
    _, Cg, kh, kw = weight.shape
    per_group = C_out // groups
    C = Cg * groups
    grad_x = np.empty((N, C, H, W), dtype=grad_out.dtype)
    for nc in prange(N * C):
        n, c = nc // C, nc % C
        g, c_in = c // Cg, c % Cg
        acc = np.zeros((H + 2 * ph, W + 2 * pw), dtype=grad_out.dtype)  # padded, then cropped
        for co in range(g * per_group, (g + 1) * per_group):
            src = grad_out[n, co]
            for i in range(kh):
                for j in range(kw):
                    tap = weight[co, c_in, i, j]
                    for oh in range(out_h):
                        row = src[oh]
                        if sw == 1:
                            dst = acc[oh * sh + i * dh, j * dw:j * dw + out_w]
                            for ow in range(out_w):
                                dst[np.uintp(ow)] += tap * row[np.uintp(ow)]
                        else:
                            dst = acc[oh * sh + i * dh]
                            for ow in range(out_w):
                                dst[np.uintp(ow * sw + j * dw)] += tap * row[np.uintp(ow)]
        for h in range(H):
            for w in range(W):
                grad_x[n, c, h, w] = acc[h + ph, w + pw]
    return grad_x


def conv2d_direct_grad_input(grad_out, weight, H, W, sh, sw, ph, pw, dh, dw, groups):
    """grad_out (N, C_out, out_h, out_w), weight (C_out, C // groups, kh, kw) -> grad_x
    (N, C, H, W)::

        for n, co, c, i, j, oh, ow:   (taps in the padding dropped)
            grad_x[n, g*Cg + c, oh*sh - ph + i*dh, ow*sw - pw + j*dw] +=
                weight[co, c, i, j] * grad_out[n, co, oh, ow]
    """
    return _grad_input(np.ascontiguousarray(grad_out), np.ascontiguousarray(weight), int(H),
                       int(W), int(sh), int(sw), int(ph), int(pw), int(dh), int(dw), int(groups))


@njit(parallel=True, cache=True, nogil=True)
def _grad_weight(xp, grad_out, kh, kw, sh, sw, dh, dw, groups):
    N, C_out, out_h, out_w = grad_out.shape
    Cg = xp.shape[1] // groups
    per_group = C_out // groups
    grad_w = np.empty((C_out, Cg, kh, kw), dtype=xp.dtype)
    for pair in prange(C_out * Cg):
        co, c = pair // Cg, pair % Cg
        first = (co // per_group) * Cg
        for i in range(kh):
            for j in range(kw):
                acc = np.zeros(out_w, dtype=xp.dtype)  # per column: no serial dependency
                for n in range(N):
                    plane = xp[n, first + c]
                    src = grad_out[n, co]
                    for oh in range(out_h):
                        g_row = src[oh]
                        if sw == 1:
                            row = plane[oh * sh + i * dh, j * dw:j * dw + out_w]
                            for ow in range(out_w):
                                acc[np.uintp(ow)] += g_row[np.uintp(ow)] * row[np.uintp(ow)]
                        else:
                            row = plane[oh * sh + i * dh]
                            for ow in range(out_w):
                                u = np.uintp(ow)
                                acc[u] += g_row[u] * row[np.uintp(ow * sw + j * dw)]
                grad_w[co, c, i, j] = acc.sum()
    return grad_w


def conv2d_direct_grad_weight(x, grad_out, kh, kw, sh, sw, ph, pw, dh, dw, groups):
    """x (N, C, H, W), grad_out (N, C_out, out_h, out_w) -> grad_weight
    (C_out, C // groups, kh, kw)::

        for co, c, i, j:
            grad_weight[co, c, i, j] = sum over n, oh, ow of grad_out[n, co, oh, ow]
                * x[n, g*Cg + c, oh*sh - ph + i*dh, ow*sw - pw + j*dw]   (0 in the padding)

    Each tap's sum is kept per output column (``out_w`` partial sums, added at the end): the
    loop over ``ow`` then has no serial dependency and vectorises.
    """
    xp = _pad(np.ascontiguousarray(x), int(ph), int(pw))
    return _grad_weight(xp, np.ascontiguousarray(grad_out), int(kh), int(kw), int(sh), int(sw),
                        int(dh), int(dw), int(groups))
