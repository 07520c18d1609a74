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


# --------------------------------------------------------------------------- direct convolution


def conv2d_direct_forward(x, weight, sh, sw, ph, pw, dh, dw, groups, out_h, out_w):
    """x (N, C, H, W), weight (C_out, C // groups, kh, kw) -> (N, C_out, out_h, out_w).

    The definition, one output at a time: ``out[n, co, oh, ow] = sum over c, i, j of
    weight[co, c, i, j] * x[n, g*Cg + c, oh*sh - ph + i*dh, ow*sw - pw + j*dw]`` (zero padding),
    with ``g = co // (C_out // groups)`` the group of output channel ``co``.
    """
    N, C, H, W = x.shape
    C_out, Cg, kh, kw = weight.shape
    out = np.zeros((N, C_out, out_h, out_w), dtype=x.dtype)
    for n in range(N):
        for co in range(C_out):
            first = (co // (C_out // groups)) * Cg  # first input channel of co's group
            for oh in range(out_h):
                for ow in range(out_w):
                    for c in range(Cg):
                        for i in range(kh):
                            for j in range(kw):
                                h = oh * sh - ph + i * dh
                                w = ow * sw - pw + j * dw
                                if 0 <= h < H and 0 <= w < W:
                                    out[n, co, oh, ow] += weight[co, c, i, j] * x[n, first + c,
                                                                                  h, w]
    return out


def conv2d_direct_grad_input(grad_out, weight, H, W, sh, sw, ph, pw, dh, dw, groups):
    """grad_out (N, C_out, out_h, out_w) -> grad_x (N, C, H, W): every tap sends its share back."""
    N, C_out, out_h, out_w = grad_out.shape
    _, Cg, kh, kw = weight.shape
    grad_x = np.zeros((N, Cg * groups, H, W), dtype=grad_out.dtype)
    for n in range(N):
        for co in range(C_out):
            first = (co // (C_out // groups)) * Cg
            for c in range(Cg):
                for i in range(kh):
                    for j in range(kw):
                        for oh in range(out_h):
                            for ow in range(out_w):
                                h = oh * sh - ph + i * dh
                                w = ow * sw - pw + j * dw
                                if 0 <= h < H and 0 <= w < W:
                                    grad_x[n, first + c, h, w] += (weight[co, c, i, j]
                                                                   * grad_out[n, co, oh, ow])
    return grad_x


def conv2d_direct_grad_weight(x, grad_out, kh, kw, sh, sw, ph, pw, dh, dw, groups):
    """x (N, C, H, W), grad_out (N, C_out, out_h, out_w) -> grad_weight (C_out, C // groups,
    kh, kw): ``sum over n, oh, ow of grad_out[n, co, oh, ow] * (the input pixel tap (i, j)
    read)``."""
    N, C, H, W = x.shape
    _, C_out, out_h, out_w = grad_out.shape
    Cg = C // groups
    grad_w = np.zeros((C_out, Cg, kh, kw), dtype=x.dtype)
    for co in range(C_out):
        first = (co // (C_out // groups)) * Cg
        for c in range(Cg):
            for i in range(kh):
                for j in range(kw):
                    for n in range(N):
                        for oh in range(out_h):
                            for ow in range(out_w):
                                h = oh * sh - ph + i * dh
                                w = ow * sw - pw + j * dw
                                if 0 <= h < H and 0 <= w < W:
                                    grad_w[co, c, i, j] += (grad_out[n, co, oh, ow]
                                                            * x[n, first + c, h, w])
    return grad_w


# --------------------------------------------------------------------------- Winograd F(2x2, 3x3)
# Lavin and Gray (2015): a 2x2 output tile of a 3x3 convolution from a 4x4 input tile ``d``:
#     Y = A^T [ (G g G^T) * (B^T d B) ] A      (* elementwise: 16 multiplications, not 36)
# Tiles start every 2 pixels; tile (ty, tx) reads input rows 2*ty - ph ... 2*ty - ph + 3.

WINOGRAD_BT = np.array([[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]], np.float64)
WINOGRAD_G = np.array([[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]], np.float64)
WINOGRAD_AT = np.array([[1, 1, 1, 0], [0, 1, -1, -1]], np.float64)


def winograd_filter_transform(weight):
    """weight (C_out, C, 3, 3) -> U (4, 4, C_out, C), ``U[:, :, co, c] = G g G^T``."""
    C_out, C = weight.shape[:2]
    G = WINOGRAD_G.astype(weight.dtype)
    U = np.empty((4, 4, C_out, C), dtype=weight.dtype)
    for co in range(C_out):
        for c in range(C):
            U[:, :, co, c] = G @ weight[co, c] @ G.T
    return U


def winograd_input_transform(x, ph, pw, tiles_h, tiles_w):
    """x (N, C, H, W) -> V (4, 4, C, N, tiles_h, tiles_w), ``V[:, :, c, n, ty, tx] = B^T d B``
    with ``d[a, b] = x[n, c, 2*ty - ph + a, 2*tx - pw + b]`` (0 outside the image; the padding
    may be negative, as it is for the input gradient of a convolution with padding above 2)."""
    N, C, H, W = x.shape
    BT = WINOGRAD_BT.astype(x.dtype)
    V = np.empty((4, 4, C, N, tiles_h, tiles_w), dtype=x.dtype)
    for n in range(N):
        for c in range(C):
            for ty in range(tiles_h):
                for tx in range(tiles_w):
                    d = np.zeros((4, 4), dtype=x.dtype)
                    for a in range(4):
                        for b in range(4):
                            h, w = 2 * ty - ph + a, 2 * tx - pw + b
                            if 0 <= h < H and 0 <= w < W:
                                d[a, b] = x[n, c, h, w]
                    V[:, :, c, n, ty, tx] = BT @ d @ BT.T
    return V


def winograd_output_transform(m, out_h, out_w):
    """m (4, 4, C_out, N, tiles_h, tiles_w) -> y (N, C_out, out_h, out_w): each tile's
    ``A^T m A`` (2x2), cropped where the last tile passes the output's edge."""
    _, _, C_out, N, tiles_h, tiles_w = m.shape
    AT = WINOGRAD_AT.astype(m.dtype)
    y = np.empty((N, C_out, out_h, out_w), dtype=m.dtype)
    for n in range(N):
        for co in range(C_out):
            for ty in range(tiles_h):
                for tx in range(tiles_w):
                    tile = AT @ m[:, :, co, n, ty, tx] @ AT.T
                    for r in range(2):
                        for s in range(2):
                            if 2 * ty + r < out_h and 2 * tx + s < out_w:
                                y[n, co, 2 * ty + r, 2 * tx + s] = tile[r, s]
    return y


def winograd_grad_output_transform(grad_y, tiles_h, tiles_w):
    """The adjoint of ``winograd_output_transform``: grad_y (N, C_out, out_h, out_w) ->
    dM (4, 4, C_out, N, tiles_h, tiles_w), ``dM[:, :, co, n, ty, tx] = A dY A^T`` with ``dY``
    the tile's 2x2 of grad_y (zero past the output's edge)."""
    N, C_out, out_h, out_w = grad_y.shape
    AT = WINOGRAD_AT.astype(grad_y.dtype)
    dM = np.empty((4, 4, C_out, N, tiles_h, tiles_w), dtype=grad_y.dtype)
    for n in range(N):
        for co in range(C_out):
            for ty in range(tiles_h):
                for tx in range(tiles_w):
                    dY = np.zeros((2, 2), dtype=grad_y.dtype)
                    for r in range(2):
                        for s in range(2):
                            if 2 * ty + r < out_h and 2 * tx + s < out_w:
                                dY[r, s] = grad_y[n, co, 2 * ty + r, 2 * tx + s]
                    dM[:, :, co, n, ty, tx] = AT.T @ dY @ AT
    return dM


def winograd_grad_filter_transform(grad_U):
    """The adjoint of ``winograd_filter_transform``: grad_U (4, 4, C_out, C) -> grad_weight
    (C_out, C, 3, 3), ``G^T grad_U[:, :, co, c] G``."""
    C_out, C = grad_U.shape[2:]
    G = WINOGRAD_G.astype(grad_U.dtype)
    grad_w = np.empty((C_out, C, 3, 3), dtype=grad_U.dtype)
    for co in range(C_out):
        for c in range(C):
            grad_w[co, c] = G.T @ grad_U[:, :, co, c] @ G
    return grad_w


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
