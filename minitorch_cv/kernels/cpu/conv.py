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

Optimisations (each keeps the loop above): parallel over the ``N*C`` planes (``prange``); the
range of ``ow`` whose tap is inside the image computed once per tap instead of testing every
pixel, so the innermost loop is a branch-free row copy between two views; indices cast to
unsigned (``np.uintp``) in that loop; and a second layout, ``(C, kh, kw, N, out_h, out_w)``
(``im2col_batch_inner``), in which the whole batch is one GEMM operand. The kernels release
the GIL (``nogil``), so that ``ops/conv.py`` can run halves of a batch on two Python threads.

Why unsigned: Numba lets a negative index count from the end, as Python does, so every signed
index costs a test, and that test keeps LLVM from turning the row loop into vector loads and
stores. Our indices are never negative (``_inside`` guarantees it), and an unsigned index has
no such test. Measured on the benchmark shapes (one thread): im2col 1.1-1.5x and col2im
1.1-1.9x faster than slice copies, most on short rows (8-14 pixels), where the per-slice
overhead of the copies dominated.
"""

from __future__ import annotations

import numpy as np
from numba import get_num_threads, njit, prange

from .memory import keep_freed_memory


def num_threads() -> int:
    """Threads the kernels run on now (``numba.get_num_threads()``). CPU-only extra:
    ``ops/conv.py`` builds columns in cache-sized blocks only when this is 1."""
    return get_num_threads()


@njit(cache=True)
def _inside(offset, stride, size, out):
    """Range ``[lo, hi)`` of output indices ``o`` with ``0 <= o*stride + offset < size``."""
    lo = 0 if offset >= 0 else (-offset + stride - 1) // stride
    last = size - 1 - offset
    hi = 0 if last < 0 else min(out, last // stride + 1)
    return lo, max(lo, hi)


@njit(parallel=True, cache=True, nogil=True)
def _im2col(x, kh, kw, sh, sw, ph, pw, dh, dw, out_h, out_w, batch_inner):
    N, C, H, W = x.shape
    if batch_inner:  # GEMM layout (C, kh, kw, N, out_h, out_w): one GEMM for the whole batch
        col = np.empty((C, kh, kw, N, out_h, out_w), dtype=x.dtype)
    else:
        col = np.empty((N, C, kh, kw, out_h, out_w), dtype=x.dtype)
    for nc in prange(N * C):
        n = nc // C
        c = nc % C
        plane = x[n, c]
        for i in range(kh):
            oh_lo, oh_hi = _inside(i * dh - ph, sh, H, out_h)
            for j in range(kw):
                ow_lo, ow_hi = _inside(j * dw - pw, sw, W, out_w)
                block = col[c, i, j, n] if batch_inner else col[n, c, i, j]  # (out_h, out_w)
                w0 = j * dw - pw  # input column read by ow = 0
                for oh in range(out_h):
                    row = block[oh]
                    if oh < oh_lo or oh >= oh_hi:  # the whole row's tap is in the padding
                        for ow in range(out_w):
                            row[ow] = 0
                        continue
                    src = plane[oh * sh - ph + i * dh]  # the input row this tap reads
                    for ow in range(ow_lo):  # left padding
                        row[ow] = 0
                    for ow in range(ow_lo, ow_hi):  # inside the image: the copy
                        row[np.uintp(ow)] = src[np.uintp(ow * sw + w0)]
                    for ow in range(ow_hi, out_w):  # right padding
                        row[ow] = 0
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
    keep_freed_memory()  # once per process: see memory.py
    return _im2col(np.ascontiguousarray(x), int(kh), int(kw), int(sh), int(sw), int(ph),
                   int(pw), int(dh), int(dw), int(out_h), int(out_w), False)


def im2col_batch_inner(x, kh, kw, sh, sw, ph, pw, dh, dw, out_h, out_w):
    """``im2col`` in the GEMM layout: col (C, kh, kw, N, out_h, out_w).

    Same loop and values as ``im2col`` (``col_bi[c, i, j, n] == col[n, c, i, j]``), but
    ``col_bi.reshape(C*kh*kw, N*out_h*out_w)`` is ONE matrix for the whole batch, so the
    convolution is a single large GEMM instead of N small ones (several times faster with
    OpenBLAS on small filters). CPU-only extra: ops fall back to ``im2col`` + a transpose on
    namespaces without it.
    """
    keep_freed_memory()
    return _im2col(np.ascontiguousarray(x), int(kh), int(kw), int(sh), int(sw), int(ph),
                   int(pw), int(dh), int(dw), int(out_h), int(out_w), True)


@njit(parallel=True, cache=True, nogil=True)
def _col2im(col, N, C, H, W, sh, sw, ph, pw, dh, dw, batch_inner):
    if batch_inner:
        kh, kw, out_h, out_w = col.shape[1], col.shape[2], col.shape[4], col.shape[5]
    else:
        kh, kw, out_h, out_w = col.shape[2], col.shape[3], col.shape[4], col.shape[5]
    x = np.zeros((N, C, H, W), dtype=col.dtype)
    # one thread owns a whole (n, c) plane, so the += below never races between threads
    for nc in prange(N * C):
        n = nc // C
        c = nc % C
        plane = x[n, c]
        for i in range(kh):
            oh_lo, oh_hi = _inside(i * dh - ph, sh, H, out_h)
            for j in range(kw):
                ow_lo, ow_hi = _inside(j * dw - pw, sw, W, out_w)
                block = col[c, i, j, n] if batch_inner else col[n, c, i, j]
                w0 = j * dw - pw
                for oh in range(oh_lo, oh_hi):
                    src = block[oh]
                    dst = plane[oh * sh - ph + i * dh]
                    for ow in range(ow_lo, ow_hi):
                        dst[np.uintp(ow * sw + w0)] += src[np.uintp(ow)]
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
    N, C = col.shape[0], col.shape[1]
    return _col2im(np.ascontiguousarray(col), N, C, int(H), int(W), int(sh), int(sw), int(ph),
                   int(pw), int(dh), int(dw), False)


def col2im_batch_inner(col, H, W, sh, sw, ph, pw, dh, dw):
    """``col2im`` from the GEMM layout: col (C, kh, kw, N, out_h, out_w) -> x (N, C, H, W)."""
    C, N = col.shape[0], col.shape[3]
    return _col2im(np.ascontiguousarray(col), N, C, int(H), int(W), int(sh), int(sw), int(ph),
                   int(pw), int(dh), int(dw), True)
