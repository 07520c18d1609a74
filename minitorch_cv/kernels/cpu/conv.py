"""im2col / col2im on the CPU (Numba): convolution as one matrix product.

A convolution output pixel is a dot product between a filter and one window of the input.
``im2col`` copies every window into a column, so that all of them can be multiplied by all
filters in a single GEMM (BLAS does the heavy arithmetic); ``col2im`` is its adjoint and sends
column gradients back to the pixels they were read from, adding where windows overlap.

Output size along one axis (``size`` input pixels, kernel ``k``, stride ``s``, padding ``p``,
dilation ``d``)::

    out = (size + 2*p - d*(k - 1) - 1) // s + 1

Output pixel ``oh``'s tap ``i`` reads input row ``h = oh*sh - ph + i*dh`` (padding when ``h`` is
outside ``[0, H)``); columns alike. Memory: the column buffer holds ``N*C*kh*kw*out_h*out_w``
elements, ``kh*kw`` times the input for stride 1; ``ops/conv.py`` chunks the batch to bound it.

Optimisations (each keeps the loop above): parallel over the ``N*C`` planes (``prange``), the
range of ``ow`` whose tap is inside the image computed once per tap instead of testing every
pixel, so the innermost loop is a branch-free strided copy that LLVM vectorises.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange


@njit(cache=True)
def _inside(offset, stride, size, out):
    """Range ``[lo, hi)`` of output indices ``o`` with ``0 <= o*stride + offset < size``."""
    lo = 0 if offset >= 0 else (-offset + stride - 1) // stride
    last = size - 1 - offset
    hi = 0 if last < 0 else min(out, last // stride + 1)
    return lo, max(lo, hi)


@njit(parallel=True, cache=True)
def _im2col(x, kh, kw, sh, sw, ph, pw, dh, dw, out_h, out_w):
    N, C, H, W = x.shape
    col = np.empty((N, C, kh, kw, out_h, out_w), dtype=x.dtype)
    for nc in prange(N * C):
        n = nc // C
        c = nc % C
        for i in range(kh):
            oh_lo, oh_hi = _inside(i * dh - ph, sh, H, out_h)
            for j in range(kw):
                ow_lo, ow_hi = _inside(j * dw - pw, sw, W, out_w)
                for oh in range(out_h):
                    if oh < oh_lo or oh >= oh_hi:
                        for ow in range(out_w):
                            col[n, c, i, j, oh, ow] = 0
                        continue
                    h = oh * sh - ph + i * dh
                    for ow in range(ow_lo):
                        col[n, c, i, j, oh, ow] = 0
                    for ow in range(ow_lo, ow_hi):
                        col[n, c, i, j, oh, ow] = x[n, c, h, ow * sw - pw + j * dw]
                    for ow in range(ow_hi, out_w):
                        col[n, c, i, j, oh, ow] = 0
    return col


def im2col(x, kh, kw, sh, sw, ph, pw, dh, dw, out_h, out_w):
    """Copy every kernel window of ``x`` into a column.

    Shapes:
        x: (N, C, H, W), C-contiguous (made so if it is not).
        col: (N, C, kh, kw, out_h, out_w), with ``out = (size + 2*pad - dil*(k - 1) - 1)
        // stride + 1``; ``col.reshape(N, C*kh*kw, out_h*out_w)`` is GEMM-ready.

    Loop (zeros where the tap reads padding)::

        for n, c, i, j, oh, ow:
            h = oh*sh - ph + i*dh;  w = ow*sw - pw + j*dw
            col[n, c, i, j, oh, ow] = x[n, c, h, w] if 0 <= h < H and 0 <= w < W else 0
    """
    return _im2col(np.ascontiguousarray(x), int(kh), int(kw), int(sh), int(sw), int(ph),
                   int(pw), int(dh), int(dw), int(out_h), int(out_w))


@njit(parallel=True, cache=True)
def _col2im(col, H, W, sh, sw, ph, pw, dh, dw):
    N, C, kh, kw, out_h, out_w = col.shape
    x = np.zeros((N, C, H, W), dtype=col.dtype)
    # one thread owns a whole (n, c) plane, so the += below never races between threads
    for nc in prange(N * C):
        n = nc // C
        c = nc % C
        for i in range(kh):
            oh_lo, oh_hi = _inside(i * dh - ph, sh, H, out_h)
            for j in range(kw):
                ow_lo, ow_hi = _inside(j * dw - pw, sw, W, out_w)
                for oh in range(oh_lo, oh_hi):
                    h = oh * sh - ph + i * dh
                    for ow in range(ow_lo, ow_hi):
                        x[n, c, h, ow * sw - pw + j * dw] += col[n, c, i, j, oh, ow]
    return x


def col2im(col, H, W, sh, sw, ph, pw, dh, dw):
    """Send every column entry back to the pixel it was read from; overlaps add up.

    The adjoint of ``im2col``: ``<im2col(x), c> == <x, col2im(c)>``, and
    ``col2im(im2col(x))`` is ``x`` times the number of windows covering each pixel.

    Shapes:
        col: (N, C, kh, kw, out_h, out_w), C-contiguous (made so if it is not).
        x: (N, C, H, W).

    Loop (taps that read padding are dropped)::

        x = 0
        for n, c, i, j, oh, ow:
            h = oh*sh - ph + i*dh;  w = ow*sw - pw + j*dw
            if 0 <= h < H and 0 <= w < W:
                x[n, c, h, w] += col[n, c, i, j, oh, ow]

    Written as a scatter over the taps of one plane rather than a gather per pixel: the
    reads of ``col`` are then contiguous, and parallelising over whole planes makes the
    ``+=`` race-free all the same.
    """
    return _col2im(np.ascontiguousarray(col), int(H), int(W), int(sh), int(sw), int(ph),
                   int(pw), int(dh), int(dw))
