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
``(N, C, H + 2*ph, W + 2*pw)``, so no loop tests for padding. Forward and input gradient run
in parallel over ``(n, channel)`` planes, each accumulating into a plane of its own (in cache,
race-free); the weight gradient in parallel over ``(co, c)`` filter pairs, each summing over
the whole batch.

Stride 1, dilation 1 (the ``_flat`` kernels): each output row is computed on the padded width
``Wp = W + 2*pw``, so output position ``q = oh*Wp + ow`` reads input ``q + i*Wp + j`` for tap
``(i, j)``: one tap is ONE loop over all positions of the plane, two contiguous runs, instead
of ``out_h`` loops of ``out_w`` (the last ``kw - 1`` columns of each row are computed too, and
dropped). Rows of 10-28 pixels are too short for the compiler's vector loops (it unrolls them
to 32 or more elements, and a 28-element row ran one element at a time); the plane's 900
positions are not. LeNet-5's first layer (1 -> 6 channels, 5x5, 28x28, batch 128, 2 threads):
forward 1.0 ms against 2.3 for the row loops and 1.4-1.6 for im2col; weight gradient 1.7 ms
against 2.4 and 2.3-2.6. The weight gradient lays the output gradient on the same padded
width, with zeros in the extra columns, and keeps one partial sum per position (a single
running total cannot be vectorised). Other strides and dilations run the row loops.
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
def _forward_flat(xp, weight, groups, out_h, out_w):
    # stride 1, dilation 1: outputs on the padded width (see the module docstring)
    N, C, Hp, Wp = xp.shape
    C_out, Cg, kh, kw = weight.shape
    per_group = C_out // groups
    x = xp.reshape(N, C, Hp * Wp)
    L = out_h * Wp - (kw - 1)  # flat positions up to the last valid output
    out = np.empty((N, C_out, out_h, out_w), dtype=xp.dtype)
    for nco in prange(N * C_out):
        n, co = nco // C_out, nco % C_out
        first = (co // per_group) * Cg
        acc = np.zeros(out_h * Wp, dtype=xp.dtype)  # the output plane, kw - 1 extra columns
        for c in range(Cg):
            for i in range(kh):
                for j in range(kw):
                    tap = weight[co, c, i, j]
                    src = x[n, first + c, i * Wp + j:i * Wp + j + L]  # the tap's shifted plane
                    for q in range(L):
                        acc[q] += tap * src[q]
        for oh in range(out_h):  # crop the extra columns
            for ow in range(out_w):
                out[n, co, oh, ow] = acc[oh * Wp + ow]
    return out


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
    weight = np.ascontiguousarray(weight)
    if _unit_steps(sh, sw, dh, dw):
        return _forward_flat(xp, weight, int(groups), int(out_h), int(out_w))
    return _forward(xp, weight, int(sh), int(sw), int(dh), int(dw), int(groups), int(out_h),
                    int(out_w))


def _unit_steps(sh, sw, dh, dw) -> bool:
    """Stride 1 and dilation 1: the flat kernels apply."""
    return sh == sw == dh == dw == 1


@njit(parallel=True, cache=True, nogil=True)
def _on_padded_width(grad_out, Wp):
    """grad_out (N, C_out, out_h, out_w) laid out on rows of Wp (zeros in the extra columns)."""
    N, C_out, out_h, out_w = grad_out.shape
    g = np.zeros((N, C_out, out_h * Wp), dtype=grad_out.dtype)
    for nco in prange(N * C_out):
        n, co = nco // C_out, nco % C_out
        for oh in range(out_h):
            for ow in range(out_w):
                g[n, co, oh * Wp + ow] = grad_out[n, co, oh, ow]
    return g


@njit(parallel=True, cache=True, nogil=True)
def _grad_input_flat(g, weight, H, W, ph, pw, groups):
    # stride 1, dilation 1: each tap adds a shifted copy of the output gradient (on the padded
    # width, zeros in the extra columns) into the padded input plane
    N, C_out = g.shape[:2]
    _, Cg, kh, kw = weight.shape
    per_group = C_out // groups
    C = Cg * groups
    Hp, Wp = H + 2 * ph, W + 2 * pw
    L = g.shape[2] - (kw - 1)
    grad_x = np.empty((N, C, H, W), dtype=g.dtype)
    for nc in prange(N * C):
        n, c = nc // C, nc % C
        grp, c_in = c // Cg, c % Cg
        acc = np.zeros(Hp * Wp, dtype=g.dtype)  # the padded input plane, cropped at the end
        for co in range(grp * per_group, (grp + 1) * per_group):
            src = g[n, co, :L]
            for i in range(kh):
                for j in range(kw):
                    tap = weight[co, c_in, i, j]
                    dst = acc[i * Wp + j:i * Wp + j + L]
                    for q in range(L):
                        dst[q] += tap * src[q]
        for h in range(H):
            for w in range(W):
                grad_x[n, c, h, w] = acc[(h + ph) * Wp + w + pw]
    return grad_x


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
    keep_freed_memory()
    grad_out, weight = np.ascontiguousarray(grad_out), np.ascontiguousarray(weight)
    if _unit_steps(sh, sw, dh, dw):
        g = _on_padded_width(grad_out, int(W) + 2 * int(pw))
        return _grad_input_flat(g, weight, int(H), int(W), int(ph), int(pw), int(groups))
    return _grad_input(grad_out, weight, int(H), int(W), int(sh), int(sw), int(ph), int(pw),
                       int(dh), int(dw), int(groups))


@njit(parallel=True, cache=True, nogil=True)
def _grad_weight_flat(xp, g, kh, kw, groups):
    # stride 1, dilation 1: each tap is a dot product of two contiguous runs, the output
    # gradient on the padded width (zeros in the extra columns) and the shifted input plane
    N, C, Hp, Wp = xp.shape
    C_out = g.shape[1]
    Cg = C // groups
    per_group = C_out // groups
    x = xp.reshape(N, C, Hp * Wp)
    L = g.shape[2] - (kw - 1)
    grad_w = np.empty((C_out, Cg, kh, kw), dtype=xp.dtype)
    for pair in prange(C_out * Cg):
        co, c = pair // Cg, pair % Cg
        first = (co // per_group) * Cg
        part = np.zeros((kh * kw, L), dtype=xp.dtype)  # per position: no serial dependency
        for n in range(N):
            src = g[n, co, :L]
            for i in range(kh):
                for j in range(kw):
                    row = x[n, first + c, i * Wp + j:i * Wp + j + L]
                    dst = part[i * kw + j]
                    for q in range(L):
                        dst[q] += src[q] * row[q]
        for i in range(kh):
            for j in range(kw):
                grad_w[co, c, i, j] = part[i * kw + j].sum()
    return grad_w


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
    keep_freed_memory()
    xp = _pad(np.ascontiguousarray(x), int(ph), int(pw))
    grad_out = np.ascontiguousarray(grad_out)
    if _unit_steps(sh, sw, dh, dw):
        g = _on_padded_width(grad_out, xp.shape[3])
        return _grad_weight_flat(xp, g, int(kh), int(kw), int(groups))
    return _grad_weight(xp, grad_out, int(kh), int(kw), int(sh), int(sw), int(dh), int(dw),
                        int(groups))
