"""Reference kernels: naive, obviously-correct loops. The oracle for ``cpu/`` and ``gpu/``.

Every function here has the same name and signature as its fast twins in ``kernels/cpu`` and
``kernels/gpu`` and is written as the literal definition, one output element at a time, so a
student can check it by eye. They are slow (pure Python loops): use small shapes.

Shapes are NCHW. For a window of ``k`` taps with stride ``s``, padding ``p`` and dilation ``d``
over ``size`` input pixels, the output has::

    out = (size + 2*p - d*(k - 1) - 1) // s + 1

pixels, and output pixel ``o``'s tap ``i`` reads input pixel ``o*s - p + i*d`` (padding where
that index falls outside ``[0, size)``).
"""

from __future__ import annotations

import numpy as np

# --------------------------------------------------------------------------- convolution


def im2col(x, kh, kw, sh, sw, ph, pw, dh, dw, out_h, out_w):
    """(N, C, H, W) -> col (N, C, kh, kw, out_h, out_w), zeros where a tap reads padding."""
    N, C, H, W = x.shape
    col = np.zeros((N, C, kh, kw, out_h, out_w), dtype=x.dtype)
    for n in range(N):
        for c in range(C):
            for i in range(kh):
                for j in range(kw):
                    for oh in range(out_h):
                        for ow in range(out_w):
                            h = oh * sh - ph + i * dh
                            w = ow * sw - pw + j * dw
                            if 0 <= h < H and 0 <= w < W:
                                col[n, c, i, j, oh, ow] = x[n, c, h, w]
    return col


def col2im(col, H, W, sh, sw, ph, pw, dh, dw):
    """col (N, C, kh, kw, out_h, out_w) -> (N, C, H, W); overlapping taps add (im2col's adjoint)."""
    N, C, kh, kw, out_h, out_w = col.shape
    x = np.zeros((N, C, H, W), dtype=col.dtype)
    for n in range(N):
        for c in range(C):
            for i in range(kh):
                for j in range(kw):
                    for oh in range(out_h):
                        for ow in range(out_w):
                            h = oh * sh - ph + i * dh
                            w = ow * sw - pw + j * dw
                            if 0 <= h < H and 0 <= w < W:
                                x[n, c, h, w] += col[n, c, i, j, oh, ow]
    return x


# --------------------------------------------------------------------------- pooling


def max_pool2d_forward(x, kh, kw, sh, sw, ph, pw, dh, dw, out_h, out_w):
    """(N, C, H, W) -> (out (N, C, out_h, out_w), argmax int64 flat index h*W + w).

    Padding counts as -inf; the first maximum in row-major window order wins ties.
    """
    N, C, H, W = x.shape
    out = np.empty((N, C, out_h, out_w), dtype=x.dtype)
    argmax = np.empty((N, C, out_h, out_w), dtype=np.int64)
    for n in range(N):
        for c in range(C):
            for oh in range(out_h):
                for ow in range(out_w):
                    best, best_index = -np.inf, -1
                    for i in range(kh):
                        for j in range(kw):
                            h = oh * sh - ph + i * dh
                            w = ow * sw - pw + j * dw
                            if 0 <= h < H and 0 <= w < W:
                                value = x[n, c, h, w]
                                # `>` keeps the first maximum; a NaN always wins (torch's CPU rule)
                                if best_index < 0 or value > best or np.isnan(value):
                                    best, best_index = value, h * W + w
                    out[n, c, oh, ow] = best
                    argmax[n, c, oh, ow] = best_index
    return out, argmax


def max_pool2d_backward(grad_out, argmax, H, W):
    """grad_out, argmax (N, C, out_h, out_w) -> grad_x (N, C, H, W): each grad to its argmax."""
    N, C, out_h, out_w = grad_out.shape
    grad_x = np.zeros((N, C, H * W), dtype=grad_out.dtype)
    for n in range(N):
        for c in range(C):
            for oh in range(out_h):
                for ow in range(out_w):
                    if argmax[n, c, oh, ow] >= 0:  # -1: the window saw only padding
                        grad_x[n, c, argmax[n, c, oh, ow]] += grad_out[n, c, oh, ow]
    return grad_x.reshape(N, C, H, W)


def _avg_window(o, s, p, k, size):
    """Bounds of one average-pool window and its divisor terms (PyTorch's rule).

    Returns ``(start, end, padded_count)``: the real pixels are ``start..end-1``; the
    window clipped to the padded bounds ``[-p, size + p)`` has ``padded_count`` pixels.
    """
    start = o * s - p
    end = min(start + k, size + p)
    padded_count = end - start
    return max(start, 0), min(end, size), padded_count


def avg_pool2d_forward(x, kh, kw, sh, sw, ph, pw, out_h, out_w, count_include_pad):
    """(N, C, H, W) -> (N, C, out_h, out_w): window sum / divisor.

    Divisor: with ``count_include_pad`` the window clipped to the padded input
    ``(H + ph, W + pw)`` (it is smaller than kh*kw only for ceil_mode's last window);
    otherwise the number of real pixels in the window.
    """
    N, C, H, W = x.shape
    out = np.zeros((N, C, out_h, out_w), dtype=x.dtype)
    for n in range(N):
        for c in range(C):
            for oh in range(out_h):
                h0, h1, count_h = _avg_window(oh, sh, ph, kh, H)
                for ow in range(out_w):
                    w0, w1, count_w = _avg_window(ow, sw, pw, kw, W)
                    total = 0.0
                    for h in range(h0, h1):
                        for w in range(w0, w1):
                            total += x[n, c, h, w]
                    divisor = count_h * count_w if count_include_pad else (h1 - h0) * (w1 - w0)
                    out[n, c, oh, ow] = total / divisor
    return out


def avg_pool2d_backward(grad_out, H, W, kh, kw, sh, sw, ph, pw, count_include_pad):
    """grad_out (N, C, out_h, out_w) -> grad_x (N, C, H, W): each grad / divisor to its window."""
    N, C, out_h, out_w = grad_out.shape
    grad_x = np.zeros((N, C, H, W), dtype=grad_out.dtype)
    for n in range(N):
        for c in range(C):
            for oh in range(out_h):
                h0, h1, count_h = _avg_window(oh, sh, ph, kh, H)
                for ow in range(out_w):
                    w0, w1, count_w = _avg_window(ow, sw, pw, kw, W)
                    divisor = count_h * count_w if count_include_pad else (h1 - h0) * (w1 - w0)
                    for h in range(h0, h1):
                        for w in range(w0, w1):
                            grad_x[n, c, h, w] += grad_out[n, c, oh, ow] / divisor
    return grad_x


# --------------------------------------------------------------------------- batch norm


def _as_ncl(x):
    """(N, C) -> (N, C, 1); (N, C, H, W) -> (N, C, H*W); (N, C, L) unchanged."""
    return x.reshape(x.shape[0], x.shape[1], -1)


def batch_norm_stats(x):
    """x (N, C, L) -> (mean (C,), biased var (C,)) accumulated in float64, in x's dtype."""
    x = _as_ncl(x)
    N, C, L = x.shape
    mean = np.zeros(C)
    var = np.zeros(C)
    for c in range(C):
        total = 0.0
        for n in range(N):
            for i in range(L):
                total += float(x[n, c, i])
        mean[c] = total / (N * L)
        squares = 0.0
        for n in range(N):
            for i in range(L):
                squares += (float(x[n, c, i]) - mean[c]) ** 2
        var[c] = squares / (N * L)
    return mean.astype(x.dtype), var.astype(x.dtype)


def batch_norm_forward(x, mean, invstd, weight, bias):
    """y[n, c, l] = (x[n, c, l] - mean[c]) * invstd[c] * weight[c] + bias[c]; x (N, C, L)."""
    shape = x.shape
    x = _as_ncl(x)
    N, C, L = x.shape
    y = np.empty_like(x)
    for n in range(N):
        for c in range(C):
            for i in range(L):
                y[n, c, i] = (x[n, c, i] - mean[c]) * invstd[c] * weight[c] + bias[c]
    return y.reshape(shape)


def batch_norm_backward(grad_y, x, mean, invstd, weight):
    """Training-mode gradients (batch statistics), M = N*L values per channel.

    grad_bias = sum(g); grad_weight = sum(g * xhat) with xhat = (x - mean) * invstd;
    grad_x = weight * invstd / M * (M*g - sum(g) - xhat * sum(g * xhat)).
    """
    shape = x.shape
    g, x = _as_ncl(grad_y), _as_ncl(x)
    N, C, L = x.shape
    M = N * L
    grad_x = np.empty_like(x)
    grad_weight = np.zeros(C, dtype=x.dtype)
    grad_bias = np.zeros(C, dtype=x.dtype)
    for c in range(C):
        sum_g, sum_gx = 0.0, 0.0
        for n in range(N):
            for i in range(L):
                xhat = (float(x[n, c, i]) - float(mean[c])) * float(invstd[c])
                sum_g += float(g[n, c, i])
                sum_gx += float(g[n, c, i]) * xhat
        grad_bias[c] = sum_g
        grad_weight[c] = sum_gx
        for n in range(N):
            for i in range(L):
                xhat = (float(x[n, c, i]) - float(mean[c])) * float(invstd[c])
                grad_x[n, c, i] = (float(weight[c]) * float(invstd[c]) / M
                                   * (M * float(g[n, c, i]) - sum_g - xhat * sum_gx))
    return grad_x.reshape(shape), grad_weight, grad_bias


# --------------------------------------------------------------------------- dropout

GOLDEN_GAMMA = np.uint64(0x9E3779B97F4A7C15)
MIX_1 = np.uint64(0xBF58476D1CE4E5B9)
MIX_2 = np.uint64(0x94D049BB133111EB)


def hash_uniform(seed, index):
    """The counter-based uniform every device shares bit for bit (SplitMix64's finaliser).

    ``index`` is an integer array (element numbers); returns float64 values in [0, 1) with 24
    random bits each. uint64 arithmetic wraps, as in C::

        z = seed + (i + 1) * 0x9E3779B97F4A7C15
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
        z = (z ^ (z >> 27)) * 0x94D049BB133111EB
        z = z ^ (z >> 31)
        u = (z >> 40) * 2**-24
    """
    i = np.asarray(index, dtype=np.uint64)
    with np.errstate(over="ignore"):
        z = np.uint64(seed) + (i + np.uint64(1)) * GOLDEN_GAMMA
        z = (z ^ (z >> np.uint64(30))) * MIX_1
        z = (z ^ (z >> np.uint64(27))) * MIX_2
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(40)).astype(np.float64) * 2.0**-24


def dropout_mask(shape_n, p, seed):
    """keep (shape_n,) uint8: element i is kept iff hash_uniform(seed, i) >= p."""
    return (hash_uniform(seed, np.arange(shape_n)) >= p).astype(np.uint8)
