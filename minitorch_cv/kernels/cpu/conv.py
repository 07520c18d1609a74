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
from .threads import load_scipy_blas


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


@njit(cache=True, nogil=True)
def _im2col_plane(x, n, c, col, m, batch_inner, kh, kw, sh, sw, ph, pw, dh, dw, padded):
    """Plane ``x[n, c]`` into its columns, ``col[c, :, :, m]`` (``batch_inner``) or ``col[m, c]``;
    ``padded`` is an (H + 2*ph, W + 2*pw) buffer whose border is 0."""
    H, W = x.shape[2], x.shape[3]
    out_h, out_w = col.shape[4], col.shape[5]
    for h in range(H):
        for w in range(W):
            padded[h + ph, np.uintp(w + pw)] = x[n, c, h, np.uintp(w)]
    for i in range(kh):
        for j in range(kw):
            block = col[c, i, j, m] if batch_inner else col[m, c, i, j]  # (out_h, out_w)
            for oh in range(out_h):
                row = block[oh]
                src = padded[oh * sh + i * dh]  # the (padded) input row this tap reads
                for ow in range(out_w):
                    row[np.uintp(ow)] = src[np.uintp(ow * sw + j * dw)]


@njit(parallel=True, cache=True, nogil=True)
def _im2col(x, kh, kw, sh, sw, ph, pw, dh, dw, out_h, out_w, batch_inner):
    N, C, H, W = x.shape
    if batch_inner:  # GEMM layout (C, kh, kw, N, out_h, out_w): one GEMM for the whole batch
        col = np.empty((C, kh, kw, N, out_h, out_w), dtype=x.dtype)
    else:
        col = np.empty((N, C, kh, kw, out_h, out_w), dtype=x.dtype)
    for nc in prange(N * C):
        padded = np.zeros((H + 2 * ph, W + 2 * pw), dtype=x.dtype)  # the plane, zero border
        _im2col_plane(x, nc // C, nc % C, col, nc // C, batch_inner, kh, kw, sh, sw, ph, pw, dh,
                      dw, padded)
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


@njit(cache=True, nogil=True)
def _col2im_plane(col, m, c, batch_inner, x, n, sh, sw, ph, pw, dh, dw, padded):
    """The columns of one plane (``col[c, :, :, m]`` or ``col[m, c]``) added up into ``x[n, c]``;
    ``padded`` an (H + 2*ph, W + 2*pw) scratch buffer."""
    H, W = x.shape[2], x.shape[3]
    kh, kw = (col.shape[1], col.shape[2]) if batch_inner else (col.shape[2], col.shape[3])
    out_h, out_w = col.shape[4], col.shape[5]
    padded[:, :] = 0
    for i in range(kh):
        for j in range(kw):
            block = col[c, i, j, m] if batch_inner else col[m, c, i, j]
            for oh in range(out_h):
                src = block[oh]
                dst = padded[oh * sh + i * dh]
                for ow in range(out_w):
                    dst[np.uintp(ow * sw + j * dw)] += src[np.uintp(ow)]
    for h in range(H):  # crop: what landed on the padding is dropped
        for w in range(W):
            x[n, c, h, np.uintp(w)] = padded[h + ph, np.uintp(w + pw)]


@njit(parallel=True, cache=True, nogil=True)
def _col2im(col, N, C, H, W, sh, sw, ph, pw, dh, dw, batch_inner):
    x = np.empty((N, C, H, W), dtype=col.dtype)
    # one thread owns a whole (n, c) plane, so the += never races between threads
    for nc in prange(N * C):
        padded = np.empty((H + 2 * ph, W + 2 * pw), dtype=col.dtype)
        _col2im_plane(col, nc // C, nc % C, batch_inner, x, nc // C, sh, sw, ph, pw, dh, dw,
                      padded)
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


# ----------------------------------------------------------------------------- fused (CPU extras)
# ``ops/conv.py``'s textbook path builds a block's columns, multiplies them from Python (NumPy's
# matmul) and keeps them for backward: megabytes that leave the caches between the steps (the
# columns kept from forward are read back from main memory in backward). The fused kernels below
# run im2col -> GEMM -> output (and the output gradient -> GEMMs -> col2im, with the columns
# rebuilt) for a small group of samples at a time inside one compiled loop, so the columns never
# leave the L2 cache; Numba's ``np.dot`` calls SciPy's BLAS (``threads.load_scipy_blas``).
# Measured (2026-12-08, one thread, Intel AVX-512 with 2 MiB L2, batch 128, forward + backward,
# kernels alone): LeNet's 6 -> 16 5x5 7.7 -> 5.7 ms, 16 -> 32 3x3 stride 2 30.5 -> 21.9 ms,
# 1 -> 6 5x5 (LeNet's first layer) 7.3 -> 2.6 ms, 16 -> 16 3x3 at 32x32 64.7 -> 41.4 ms.


@njit(cache=True, nogil=True)
def add_bias(y, n0, g, bias):
    """``y[n0:n0 + g] += bias`` for y (N, C_out, L), per output channel, while the group's
    output is in the cache (the op's ``out += bias`` afterwards was another pass over the whole
    output: 0.6 ms for 16 channels at 32x32, batch 128). Also used by ``winograd.py``."""
    for m in range(g):
        for co in range(y.shape[1]):
            plane = y[n0 + m, co]
            b = bias[co]
            for p in range(y.shape[2]):
                plane[p] += b


@njit(cache=True, nogil=True)
def _fused_forward(x, weight, kh, kw, sh, sw, ph, pw, dh, dw, out_h, out_w, y, lo, hi, group,
                   bias, has_bias):
    C, H, W = x.shape[1], x.shape[2], x.shape[3]
    G, Cog, Kg = weight.shape  # (groups, C_out / groups, C / groups * kh * kw)
    L = out_h * out_w
    col_buf = np.empty(C * kh * kw * group * L, dtype=x.dtype)
    out_buf = np.empty(G * Cog * group * L, dtype=x.dtype)
    padded = np.zeros((H + 2 * ph, W + 2 * pw), dtype=x.dtype)
    for n0 in range(lo, hi, group):
        g = min(group, hi - n0)
        col = col_buf[:C * kh * kw * g * L].reshape((C, kh, kw, g, out_h, out_w))
        for c in range(C):
            for m in range(g):
                _im2col_plane(x, n0 + m, c, col, m, True, kh, kw, sh, sw, ph, pw, dh, dw, padded)
        cols = col_buf[:C * kh * kw * g * L].reshape((G, Kg, g * L))
        out = out_buf[:G * Cog * g * L].reshape((G, Cog, g * L))
        for gi in range(G):  # one GEMM per group of channels: (Cog, Kg) @ (Kg, g*L)
            np.dot(weight[gi], cols[gi], out[gi])
        for gi in range(G):  # (Cog, g*L) -> the output's (n, co, L)
            for co in range(Cog):
                for m in range(g):
                    dst = y[n0 + m, gi * Cog + co]
                    src = out[gi, co]
                    for p in range(L):
                        dst[p] = src[m * L + p]
        if has_bias:
            add_bias(y, n0, g, bias)
    return y


@njit(cache=True, nogil=True)
def _fused_backward(x, weight_t, grad_y, kh, kw, sh, sw, ph, pw, dh, dw, out_h, out_w, grad_x,
                    need_x, need_w, lo, hi, group):
    C, H, W = x.shape[1], x.shape[2], x.shape[3]
    G, Kg, Cog = weight_t.shape
    L = out_h * out_w
    K = C * kh * kw
    col_buf = np.empty(K * group * L, dtype=x.dtype)
    g_buf = np.empty(G * Cog * group * L, dtype=x.dtype)
    grad_wt = np.zeros((G, Kg, Cog), dtype=x.dtype)  # the weight gradient, transposed
    product = np.empty((Kg, Cog), dtype=x.dtype)
    padded = np.zeros((H + 2 * ph, W + 2 * pw), dtype=x.dtype)
    scratch = np.empty((H + 2 * ph, W + 2 * pw), dtype=x.dtype)
    for n0 in range(lo, hi, group):
        g = min(group, hi - n0)
        gg = g_buf[:G * Cog * g * L].reshape((G, Cog, g * L))
        for gi in range(G):  # the output gradient in the GEMM layout (G, Cog, g*L)
            for co in range(Cog):
                for m in range(g):
                    src = grad_y[n0 + m, gi * Cog + co]
                    dst = gg[gi, co]
                    for p in range(L):
                        dst[m * L + p] = src[p]
        cols = col_buf[:K * g * L].reshape((G, Kg, g * L))
        if need_w:  # grad_w^T += col @ g^T, the columns rebuilt (in the cache)
            col = col_buf[:K * g * L].reshape((C, kh, kw, g, out_h, out_w))
            for c in range(C):
                for m in range(g):
                    _im2col_plane(x, n0 + m, c, col, m, True, kh, kw, sh, sw, ph, pw, dh, dw,
                                  padded)
            for gi in range(G):
                np.dot(cols[gi], gg[gi].T, product)
                grad_wt[gi] += product
        if need_x:  # grad_col = w^T @ g, then col2im (the column buffer reused)
            for gi in range(G):
                np.dot(weight_t[gi], gg[gi], cols[gi])
            col = col_buf[:K * g * L].reshape((C, kh, kw, g, out_h, out_w))
            for c in range(C):
                for m in range(g):
                    _col2im_plane(col, m, c, True, grad_x, n0 + m, sh, sw, ph, pw, dh, dw,
                                  scratch)
    return grad_wt


def _fused_args(name, x, weight, kh, kw, sh, sw, ph, pw, dh, dw, y, lo, hi, group):
    """Checks shared by the fused kernels; ``weight`` (G, Cog, Kg) or its transpose, ``y`` the
    output (or output gradient) (N, C_out, out_h, out_w)."""
    N, C, H, W = x.shape
    out_h, out_w = y.shape[2], y.shape[3]
    _check_fits(H, W, kh, kw, sh, sw, ph, pw, dh, dw, out_h, out_w)
    if y.shape[0] != N or y.dtype != x.dtype or weight.dtype != x.dtype or weight.ndim != 3:
        raise ValueError(f"{name}: x (N, C, H, W), the weight (groups, ., .) and the output "
                         f"(N, C_out, out_h, out_w) must share the batch size and dtype; got "
                         f"x {x.dtype} {x.shape}, weight {weight.dtype} {weight.shape}, output "
                         f"{y.dtype} {y.shape}")
    if not (0 <= lo <= hi <= N) or group < 1:
        raise ValueError(f"{name}: need 0 <= lo <= hi <= N = {N} and group >= 1, got lo={lo}, "
                         f"hi={hi}, group={group}")


def im2col_fused_forward(x, weight, kh, kw, sh, sw, ph, pw, dh, dw, y, lo, hi, group,
                         bias=None):
    """Samples ``lo .. hi`` of the convolution of ``x`` (N, C, H, W) with ``weight`` (groups,
    C_out/groups, C/groups*kh*kw), plus ``bias`` (C_out,) if given, written into ``y[lo:hi]``
    (N, C_out, out_h, out_w, C-contiguous), ``group`` samples at a time; returns ``y``.
    CPU-only extra, single-threaded (the ops run parts of a batch side by side). Per group of
    samples, ``ops/conv.py``'s ``im2col_forward``::

        col = im2col(x[group])                     # (C, kh, kw, g, out_h, out_w), in the L2
        out[gi] = weight[gi] @ col[gi]             # (C_out/groups, g*L), per group of channels
        y[group] = out, as (g, C_out, out_h, out_w)
    """
    _fused_args("im2col_fused_forward", x, weight, kh, kw, sh, sw, ph, pw, dh, dw, y, lo, hi,
                group)
    G, Cog, Kg = weight.shape
    if (G * Cog != y.shape[1] or x.shape[1] % G or Kg != x.shape[1] // G * kh * kw
            or not y.flags.c_contiguous):
        raise ValueError(f"im2col_fused_forward: weight must be (groups, C_out/groups, "
                         f"C/groups*kh*kw) for C={x.shape[1]}, C_out={y.shape[1]}, kernel "
                         f"{kh}x{kw}, and y C-contiguous; got weight {weight.shape}")
    bias = _checked_bias("im2col_fused_forward", bias, y)
    load_scipy_blas()
    keep_freed_memory()  # the column buffers are allocated in every call (memory.py)
    out_h, out_w = y.shape[2], y.shape[3]
    _fused_forward(np.ascontiguousarray(x), np.ascontiguousarray(weight), int(kh), int(kw),
                   int(sh), int(sw), int(ph), int(pw), int(dh), int(dw), out_h, out_w,
                   y.reshape(y.shape[0], y.shape[1], out_h * out_w), int(lo), int(hi),
                   int(group), *bias)
    return y


def _checked_bias(name, bias, y):
    """``(bias, True)`` for a (C_out,) bias of y's dtype, ``(empty, False)`` for None."""
    if bias is None:
        return np.empty(0, dtype=y.dtype), False
    if bias.shape != (y.shape[1],) or bias.dtype != y.dtype:
        raise ValueError(f"{name}: bias must be a {y.dtype} array of shape ({y.shape[1]},), got "
                         f"{bias.dtype} {bias.shape}")
    return np.ascontiguousarray(bias), True


def im2col_fused_backward(x, weight_t, grad_y, kh, kw, sh, sw, ph, pw, dh, dw, grad_x, need_w,
                          lo, hi, group):
    """The gradients of ``im2col_fused_forward`` over samples ``lo .. hi``: the input gradient
    written into ``grad_x[lo:hi]`` (N, C, H, W, C-contiguous; None: not computed) and the weight
    gradient returned transposed, (groups, C/groups*kh*kw, C_out/groups) (None unless
    ``need_w``); ``weight_t`` is the weight transposed the same way. CPU-only extra,
    single-threaded. Per group of samples, ``ops/conv.py``'s ``im2col_backward``::

        grad_w^T[gi] += im2col(x[group])[gi] @ g[gi]^T       # columns rebuilt in the L2
        grad_x[group] = col2im(weight^T[gi] @ g[gi])
    """
    _fused_args("im2col_fused_backward", x, weight_t, kh, kw, sh, sw, ph, pw, dh, dw, grad_y,
                lo, hi, group)
    G, Kg, Cog = weight_t.shape
    if G * Cog != grad_y.shape[1] or x.shape[1] % G or Kg != x.shape[1] // G * kh * kw:
        raise ValueError(f"im2col_fused_backward: weight_t must be (groups, C/groups*kh*kw, "
                         f"C_out/groups) for C={x.shape[1]}, C_out={grad_y.shape[1]}, kernel "
                         f"{kh}x{kw}; got {weight_t.shape}")
    if grad_x is not None and (grad_x.shape != x.shape or grad_x.dtype != x.dtype
                               or not grad_x.flags.c_contiguous):
        raise ValueError(f"im2col_fused_backward: grad_x must be a C-contiguous {x.dtype} array "
                         f"of x's shape {x.shape}, got {grad_x.dtype} {grad_x.shape}")
    load_scipy_blas()
    keep_freed_memory()
    out_h, out_w = grad_y.shape[2], grad_y.shape[3]
    grad_y = np.ascontiguousarray(grad_y).reshape(grad_y.shape[0], grad_y.shape[1], -1)
    need_x = grad_x is not None
    grad_wt = _fused_backward(np.ascontiguousarray(x), np.ascontiguousarray(weight_t), grad_y,
                              int(kh), int(kw), int(sh), int(sw), int(ph), int(pw), int(dh),
                              int(dw), out_h, out_w, grad_x if need_x else np.empty(
                                  (1, 1, 1, 1), x.dtype), need_x, bool(need_w), int(lo),
                              int(hi), int(group))
    return grad_wt if need_w else None
