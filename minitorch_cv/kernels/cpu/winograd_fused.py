"""Fused Winograd F(2x2, 3x3) on the CPU (Numba, CPU-only extras): the input transform, the 16
GEMMs and the output (or output-gradient) transform per small group of samples, in the L2 cache.

``winograd.py`` has the transforms (shared with the block pipeline) and their documentation;
``ops/conv_algorithms.py`` calls these kernels where one sample's buffers fit one core's L2
(``ops/conv_schedule.fused_group``) and the block pipeline elsewhere.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .conv import _checked_bias, add_bias
from .memory import keep_freed_memory
from .threads import load_scipy_blas
from .winograd import (
    SLAB_GAP_ROWS,
    _group_grad_output,
    _group_input,
    _group_output,
    _input_buffers,
)

# ----------------------------------------------------------------------------- why fused
# The transforms above run over a whole block of samples, and the 16 GEMMs between them (NumPy's
# matmul, from Python) over the block's V, M and dM: megabytes each, which leave the L2 cache
# between one step and the next. The fused kernels below run transform -> 16 GEMMs -> transform
# for a small group of samples at a time, all inside one compiled loop, so V and M stay in the
# L2 cache: the GEMMs (Numba's ``np.dot``, which calls SciPy's BLAS) ran at 100-130 GFLOP/s on
# such groups against 43-49 in the block pipeline, and the transforms read warm data. Measured
# (2026-12-08, one thread, Intel AVX-512 with 2 MiB L2, batch 128, forward / weight gradient,
# the kernels alone; the block pipeline's forward -> fused, with the layout below): 16 channels
# at 32x32 14.6 -> 9.5 ms / 10.5 ms, 32 channels at 16x16 9.8 -> 6.5 / 7.7, 64 channels at 8x8
# 7.2 -> 5.1 / 6.3. On 2 threads, forward + backward through F.conv2d, block pipeline ->
# fused: 31.4 -> 23.5 ms, 17.2 -> 14.4 ms (16 channels at 32x32, 64 at 8x8). Where one sample's
# V and M do not fit the L2 cache (64 channels at 56x56: 6.4 MB), fusing gained nothing (58 ->
# 61 ms forward), and ``ops/conv_algorithms.py`` keeps the block pipeline.


@njit(cache=True, nogil=True)
def _slabs(buf, rows, gap, cols):
    """The first 16 slabs of ``rows + gap`` rows of ``cols`` in the flat buffer ``buf``."""
    return buf[:16 * (rows + gap) * cols].reshape((16, rows + gap, cols))


@njit(cache=True, nogil=True)
def _group_slabs(V_buf, W_buf, C, C_out, tiles_h, tiles_w, g, gap):
    """V (16, C*tiles_h + gap, tiles) and M or dM (16, C_out*tiles_h + gap, tiles) of a group of
    ``g`` samples, in flat buffers made for the largest group; and ``tiles``."""
    tiles = g * (tiles_w + 1) - 1
    return (_slabs(V_buf, C * tiles_h, gap, tiles), _slabs(W_buf, C_out * tiles_h, gap, tiles),
            tiles)


@njit(cache=True, nogil=True)
def _fused_conv(x, U, ph, pw, tiles_h, tiles_w, y, lo, hi, group, gap, bias, has_bias):
    C, C_out = x.shape[1], U.shape[1]
    size = 16 * group * (tiles_w + 1)
    V_buf = np.empty(size * (C * tiles_h + gap), dtype=x.dtype)
    M_buf = np.empty(size * (C_out * tiles_h + gap), dtype=x.dtype)
    E, O, row, t = _input_buffers(x, tiles_h, tiles_w, group)
    s = np.empty((8, group * (tiles_w + 1)), dtype=x.dtype)
    for n0 in range(lo, hi, group):
        g = min(group, hi - n0)
        V, M, tiles = _group_slabs(V_buf, M_buf, C, C_out, tiles_h, tiles_w, g, gap)
        _group_input(x, n0, g, 0, C, ph, pw, tiles_h, tiles_w, V, tiles_h, 0, E, O, row, t)
        for ab in range(16):  # M[a, b] = U[a, b] (C_out, C) @ V[a, b] (C, tiles_h*tiles)
            np.dot(U[ab], V[ab, :C * tiles_h].reshape((C, tiles_h * tiles)),
                   M[ab, :C_out * tiles_h].reshape((C_out, tiles_h * tiles)))
        _group_output(M, n0, g, 0, C_out, tiles_h, 0, tiles_h, tiles_w, y, s)
        if has_bias:
            add_bias(y.reshape((y.shape[0], y.shape[1], y.shape[2] * y.shape[3])), n0, g, bias)
    return y


@njit(cache=True, nogil=True)
def _fused_grad_filter(x, grad_y, ph, pw, tiles_h, tiles_w, lo, hi, group, gap):
    C, C_out = x.shape[1], grad_y.shape[1]
    cols = group * (tiles_w + 1)
    V_buf = np.empty(16 * cols * (C * tiles_h + gap), dtype=x.dtype)
    dM_buf = np.empty(16 * cols * (C_out * tiles_h + gap), dtype=x.dtype)
    grad_U = np.zeros((16, C_out, C), dtype=x.dtype)
    product = np.empty((C_out, C), dtype=x.dtype)
    E, O, row, t = _input_buffers(x, tiles_h, tiles_w, group)
    E2, O2 = np.zeros((2, cols), dtype=x.dtype), np.zeros((2, cols), dtype=x.dtype)
    p = np.empty((8, cols), dtype=x.dtype)
    for n0 in range(lo, hi, group):
        g = min(group, hi - n0)
        V, dM, tiles = _group_slabs(V_buf, dM_buf, C, C_out, tiles_h, tiles_w, g, gap)
        _group_input(x, n0, g, 0, C, ph, pw, tiles_h, tiles_w, V, tiles_h, 0, E, O, row, t)
        _group_grad_output(grad_y, n0, g, 0, C_out, tiles_h, 0, tiles_h, tiles_w, dM, E2, O2, p)
        for ab in range(16):  # grad_U[a, b] += dM[a, b] (C_out, n) @ V[a, b]^T (n, C)
            np.dot(dM[ab, :C_out * tiles_h].reshape((C_out, tiles_h * tiles)),
                   V[ab, :C * tiles_h].reshape((C, tiles_h * tiles)).T, product)
            grad_U[ab] += product
    return grad_U


def _fused_checks(name, x, other, other_name, lo, hi, group):
    N = x.shape[0]
    if x.ndim != 4 or other.ndim != 4 or other.shape[0] != N or other.dtype != x.dtype:
        raise ValueError(f"{name}: x (N, C, H, W) and {other_name} (N, C_out, out_h, out_w) "
                         f"must be 4-D arrays of one batch size and dtype, got x {x.dtype} "
                         f"{x.shape} and {other_name} {other.dtype} {other.shape}")
    if not (0 <= lo <= hi <= N) or group < 1:
        raise ValueError(f"{name}: need 0 <= lo <= hi <= N = {N} and group >= 1, got lo={lo}, "
                         f"hi={hi}, group={group}")


def winograd_fused_conv(x, U, ph, pw, y, lo, hi, group, bias=None):
    """Samples ``lo .. hi`` of the stride-1 3x3 convolution of ``x`` (N, C, H, W) with the
    transformed filters ``U`` (16, C_out, C) (``winograd_filter_transform(w).reshape(16, C_out,
    C)``), padding (ph, pw) (may be negative), plus ``bias`` (C_out,) if given, written into
    ``y[lo:hi]`` (N, C_out, out_h, out_w; C-contiguous); ``group`` samples at a time. Returns
    ``y``. CPU-only extra, single-threaded (the ops run parts of the batch side by side).

    Loop, the three steps of ``ops/conv_algorithms.winograd_conv`` per group::

        for each group of samples:
            V = winograd_input_transform(x[group])          # into a buffer the group reuses
            M[a, b] = U[a, b] @ V[a, b]     for the 16 (a, b)
            y[group] = winograd_output_transform(M)
    """
    _fused_checks("winograd_fused_conv", x, y, "y", lo, hi, group)
    if (U.ndim != 3 or U.shape[0] != 16 or U.shape[2] != x.shape[1] or U.dtype != x.dtype
            or y.shape[1] != U.shape[1] or not y.flags.c_contiguous):
        raise ValueError(f"winograd_fused_conv: U must be (16, C_out, C={x.shape[1]}) and y a "
                         f"C-contiguous (N, C_out, out_h, out_w) array, both {x.dtype}; got U "
                         f"{U.dtype} {U.shape}, y {y.dtype} {y.shape}")
    bias = _checked_bias("winograd_fused_conv", bias, y)
    load_scipy_blas()
    keep_freed_memory()
    out_h, out_w = y.shape[2:]
    return _fused_conv(np.ascontiguousarray(x), np.ascontiguousarray(U), int(ph), int(pw),
                       -(-out_h // 2), -(-out_w // 2), y, int(lo), int(hi), int(group),
                       SLAB_GAP_ROWS, *bias)


def winograd_fused_grad_filter(x, grad_y, ph, pw, lo, hi, group):
    """The weight gradient in the Winograd domain, ``grad_U`` (16, C_out, C), of samples ``lo ..
    hi``: ``sum over samples of dM[a, b] @ V[a, b]^T`` with ``V = winograd_input_transform(x)``
    and ``dM = winograd_grad_output_transform(grad_y)``, ``group`` samples at a time
    (``winograd_grad_filter_transform`` of it is the weight gradient). CPU-only extra,
    single-threaded."""
    _fused_checks("winograd_fused_grad_filter", x, grad_y, "grad_y", lo, hi, group)
    load_scipy_blas()
    keep_freed_memory()
    out_h, out_w = grad_y.shape[2:]
    return _fused_grad_filter(np.ascontiguousarray(x), np.ascontiguousarray(grad_y), int(ph),
                              int(pw), -(-out_h // 2), -(-out_w // 2), int(lo), int(hi),
                              int(group), SLAB_GAP_ROWS)
