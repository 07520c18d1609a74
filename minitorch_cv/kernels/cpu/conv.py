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
elements, ``kh*kw`` times the input for stride 1; ``ops/conv_schedule.py`` chunks the batch to
bound it.

How the kernels run the loop: each (n, c) plane is first copied into a zero-bordered buffer of
``(H + 2*ph) x (W + 2*pw)`` pixels (for col2im: accumulated into one, then cropped). Every tap
then reads (writes) inside that buffer, at row ``oh*sh + i*dh`` and column ``ow*sw + j*dw``,
so a column row is one plain copy of ``out_w`` pixels: no test for padding, the same length
every time. Why: the compiler turns a loop of fixed length into vector loads and stores with
no leftover; with the padding cut out, rows had 31 or 32 pixels (3x3, padding 1) and the
leftover ran one pixel at a time. Measured on cache-sized blocks of the benchmark shapes (one
thread): im2col 1.2-2.6x and col2im 1.1-1.6x faster than copying only the inside part.

Further: parallel over the ``N*C`` planes (``prange``); indices cast to unsigned (``np.uintp``:
Numba lets a negative index count from the end, as Python does, so every signed index costs a
test that also blocks vectorisation; ours are never negative); the GIL released (``nogil``), so
``ops/conv_schedule.py`` can run parts of a batch on several Python threads; and a second layout,
``(C, kh, kw, N, out_h, out_w)`` (``im2col_batch_inner``), in which the whole batch is one GEMM
operand.
"""

from __future__ import annotations

import numpy as np
from numba import get_num_threads, njit, prange

from .memory import keep_freed_memory


def _check_fits(H, W, kh, kw, sh, sw, ph, pw, dh, dw, out_h, out_w):
    """The loops read no bounds: every tap of every output must lie in the padded plane, which
    the output-size formula guarantees; a caller's other ``out_h``/``out_w`` is refused."""
    for name, size, k, s, p, d, out in (("rows", H, kh, sh, ph, dh, out_h),
                                         ("columns", W, kw, sw, pw, dw, out_w)):
        if out < 1 or (out - 1) * s + (k - 1) * d >= size + 2 * p:
            raise ValueError(f"im2col/col2im: {out} output {name} do not fit {size} input "
                             f"{name} with kernel {k}, stride {s}, padding {p}, dilation {d}; "
                             f"use out = (size + 2*p - d*(k - 1) - 1) // s + 1 = "
                             f"{(size + 2 * p - d * (k - 1) - 1) // s + 1}")


def num_threads() -> int:
    """Threads the kernels run on now (``numba.get_num_threads()``). CPU-only extra: with more
    than one, ``ops/conv_schedule.py`` shares a batch's blocks out over threads (``run_split``)."""
    return get_num_threads()


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
        padded = np.zeros((H + 2 * ph, W + 2 * pw), dtype=x.dtype)  # the plane, zero border
        for h in range(H):
            for w in range(W):
                padded[h + ph, np.uintp(w + pw)] = x[n, c, h, np.uintp(w)]
        for i in range(kh):
            for j in range(kw):
                block = col[c, i, j, n] if batch_inner else col[n, c, i, j]  # (out_h, out_w)
                for oh in range(out_h):
                    row = block[oh]
                    src = padded[oh * sh + i * dh]  # the (padded) input row this tap reads
                    for ow in range(out_w):
                        row[np.uintp(ow)] = src[np.uintp(ow * sw + j * dw)]
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
    _check_fits(x.shape[2], x.shape[3], kh, kw, sh, sw, ph, pw, dh, dw, out_h, out_w)
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
    _check_fits(x.shape[2], x.shape[3], kh, kw, sh, sw, ph, pw, dh, dw, out_h, out_w)
    return _im2col(np.ascontiguousarray(x), int(kh), int(kw), int(sh), int(sw), int(ph),
                   int(pw), int(dh), int(dw), int(out_h), int(out_w), True)


@njit(parallel=True, cache=True, nogil=True)
def _col2im(col, N, C, H, W, sh, sw, ph, pw, dh, dw, batch_inner):
    if batch_inner:
        kh, kw, out_h, out_w = col.shape[1], col.shape[2], col.shape[4], col.shape[5]
    else:
        kh, kw, out_h, out_w = col.shape[2], col.shape[3], col.shape[4], col.shape[5]
    x = np.empty((N, C, H, W), dtype=col.dtype)
    # one thread owns a whole (n, c) plane, so the += below never races between threads
    for nc in prange(N * C):
        n = nc // C
        c = nc % C
        padded = np.zeros((H + 2 * ph, W + 2 * pw), dtype=col.dtype)
        for i in range(kh):
            for j in range(kw):
                block = col[c, i, j, n] if batch_inner else col[n, c, i, j]
                for oh in range(out_h):
                    src = block[oh]
                    dst = padded[oh * sh + i * dh]
                    for ow in range(out_w):
                        dst[np.uintp(ow * sw + j * dw)] += src[np.uintp(ow)]
        for h in range(H):  # crop: what landed on the padding is dropped
            for w in range(W):
                x[n, c, h, np.uintp(w)] = padded[h + ph, np.uintp(w + pw)]
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
    _check_fits(H, W, *col.shape[2:4], sh, sw, ph, pw, dh, dw, *col.shape[4:6])
    return _col2im(np.ascontiguousarray(col), N, C, int(H), int(W), int(sh), int(sw), int(ph),
                   int(pw), int(dh), int(dw), False)


def col2im_batch_inner(col, H, W, sh, sw, ph, pw, dh, dw):
    """``col2im`` from the GEMM layout: col (C, kh, kw, N, out_h, out_w) -> x (N, C, H, W)."""
    C, N = col.shape[0], col.shape[3]
    _check_fits(H, W, *col.shape[1:3], sh, sw, ph, pw, dh, dw, *col.shape[4:6])
    return _col2im(np.ascontiguousarray(col), N, C, int(H), int(W), int(sh), int(sw), int(ph),
                   int(pw), int(dh), int(dw), True)
