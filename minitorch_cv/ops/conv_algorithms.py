"""The convolution algorithms, run on arrays: im2col (tuned), Winograd F(2x2, 3x3), direct.

Each is a class with ``forward(K, xp, x, weight, geo, bias=None) -> (out, saved)`` (the
bias, if any, added) and
``backward(K, xp, x, weight, saved, grad_out, geo, need_x, need_w) -> (grad_x, grad_w)``;
``choose`` asks ``minitorch_cv.backends.conv`` which one a call uses. They compute the same
convolution (up to rounding: each sums in another order, and Winograd's transforms add a little
error of their own, see ``docs/design.md``).

- ``Im2col``: the textbook path of ``ops/conv.py`` run block by block, shared out over
  threads, columns kept for backward (``ops/conv_schedule.py``).
- ``Winograd``: 3x3, stride 1, dilation 1, one group. Forward and input gradient by the
  transforms of ``kernels/*/winograd*`` around 16 GEMMs; the input gradient of a stride-1 3x3
  convolution is the convolution of the output gradient with the flipped filters, channels
  swapped, padding ``2 - ph``; the weight gradient is the adjoint of the transforms
  (``winograd_grad_weight``). On the CPU, where one sample's transformed input and products fit
  one core's L2 cache, the transforms and the GEMMs run per small group of samples inside one
  compiled loop (``winograd_fused_conv``, ``winograd_fused_grad_filter``: the same arithmetic,
  1.1-1.3x faster forward + backward, as their comment in ``kernels/cpu/winograd_fused.py`` says);
  otherwise, and on GPUs, block by block as written below.
- ``Direct``: the definition's loops (``kernels/cpu/direct.py``), any geometry; CPU only.
"""

from __future__ import annotations

import time

from .. import backends
from . import conv as textbook
from .conv_schedule import block_samples, calls_of_groups, fused_group, in_blocks, keeps_columns


class Im2col:
    """im2col + GEMM + col2im (``ops/conv.py``), in cache-sized blocks over threads; on the CPU,
    where one sample's columns fit one core's L2 cache, the same steps per small group of
    samples inside one compiled loop (``im2col_fused_forward`` / ``im2col_fused_backward``:
    columns never leave the cache, and backward rebuilds them instead of keeping them)."""

    name = "im2col"

    @staticmethod
    def forward(K, xp, x, weight, geo, bias=None):
        N, C = x.shape[:2]
        C_out, L = weight.shape[0], geo.out_h * geo.out_w
        per_sample = C * geo.kh * geo.kw * L * x.dtype.itemsize
        group = fused_group(K, "im2col", per_sample, N)
        if group:  # CPU: im2col and GEMM per small group of samples, in the L2 cache
            x = xp.ascontiguousarray(x)
            w = xp.ascontiguousarray(weight).reshape(geo.groups, C_out // geo.groups, -1)
            out = xp.empty((N, C_out, geo.out_h, geo.out_w), dtype=x.dtype)
            in_blocks(K, N, calls_of_groups(K, N, group), lambda start, stop:
                      K.im2col_fused_forward(x, w, *geo[:8], out, start, stop, group, bias))
            return out, None
        chunk = block_samples(K, N, per_sample)
        keep = keeps_columns(K, N * per_sample)
        out = xp.empty((N, C_out, L), dtype=x.dtype)

        def block(start, stop):
            out[start:stop], col = textbook.im2col_forward(K, xp, x[start:stop], weight, geo)
            return col if keep else None

        cols = [col for part in in_blocks(K, N, chunk, block) for col in part]
        out = out.reshape(N, C_out, geo.out_h, geo.out_w)
        return add_bias(out, bias), (chunk, cols if keep else None)

    @staticmethod
    def backward(K, xp, x, weight, saved, grad_out, geo, need_x, need_w):
        N, C, H, W = x.shape
        if saved is None:  # forward ran the fused kernel: so does backward
            return Im2col.fused_backward(K, xp, x, weight, grad_out, geo, need_x, need_w)
        chunk, cols = saved
        g = grad_out.reshape(N, weight.shape[0], geo.out_h * geo.out_w)
        grad_x = xp.empty((N, C, H, W), dtype=x.dtype) if need_x else None
        weight_t = textbook.transposed_weight(xp, weight, geo.groups) if need_x else None

        def block(start, stop):
            col = cols[start // chunk] if cols is not None else None
            gx, gw = textbook.im2col_backward(K, xp, x[start:stop], weight, col,
                                              g[start:stop], geo, need_x, need_w, weight_t)
            if need_x:
                grad_x[start:stop] = gx
            return gw

        # with the columns kept and no input gradient, the blocks are GEMMs only
        parts = in_blocks(K, N, chunk, block, split=need_x or cols is None)
        grad_w = sum(gw for part in parts for gw in part) if need_w else None
        return grad_x, (grad_w.reshape(weight.shape) if need_w else None)

    @staticmethod
    def fused_backward(K, xp, x, weight, grad_out, geo, need_x, need_w):
        N = x.shape[0]
        per_sample = x.shape[1] * geo.kh * geo.kw * geo.out_h * geo.out_w * x.dtype.itemsize
        group = fused_group(K, "im2col", per_sample, N) or 1  # 0: settings changed since forward
        x, grad_out = xp.ascontiguousarray(x), xp.ascontiguousarray(grad_out)
        weight_t = textbook.transposed_weight(xp, weight, geo.groups)
        grad_x = xp.empty(x.shape, dtype=x.dtype) if need_x else None
        parts = in_blocks(K, N, calls_of_groups(K, N, group), lambda start, stop:
                          K.im2col_fused_backward(x, weight_t, grad_out, *geo[:8], grad_x,
                                                  need_w, start, stop, group))
        if not need_w:
            return grad_x, None
        grad_wt = sum(gw for part in parts for gw in part)  # (G, Cg*kh*kw, C_out/G)
        return grad_x, xp.ascontiguousarray(grad_wt.transpose(0, 2, 1)).reshape(weight.shape)


class Winograd:
    """Winograd F(2x2, 3x3): 16 multiplications per 2x2 output tile instead of 36."""

    name = "winograd"

    @staticmethod
    def forward(K, xp, x, weight, geo, bias=None):
        N, C = x.shape[:2]
        tiles = -(-geo.out_h // 2) * -(-geo.out_w // 2)
        keep = keeps_columns(K, N * 16 * C * tiles * x.dtype.itemsize)  # V, as im2col's columns
        return winograd_conv(K, xp, x, weight, geo.ph, geo.pw, geo.out_h, geo.out_w, keep, bias)

    @staticmethod
    def backward(K, xp, x, weight, saved, grad_out, geo, need_x, need_w):
        N, C, H, W = x.shape
        grad_x = grad_w = None
        if need_x:  # the output gradient convolved with the flipped, transposed filters
            flipped = xp.ascontiguousarray(weight[:, :, ::-1, ::-1].transpose(1, 0, 2, 3))
            grad_x, _ = winograd_conv(K, xp, grad_out, flipped, 2 - geo.ph, 2 - geo.pw, H, W)
        if need_w:
            grad_w = winograd_grad_weight(K, xp, x, grad_out, geo.ph, geo.pw, saved)
        return grad_x, grad_w


def winograd_conv(K, xp, x, weight, ph, pw, out_h, out_w, keep=False, bias=None):
    """x (N, C, H, W) * weight (C_out, C, 3, 3) (+ bias), stride 1, padding (ph, pw) (may be
    negative) -> (N, C_out, out_h, out_w), in blocks of samples over threads like im2col; and
    ``(chunk, transformed input blocks)`` for the weight gradient (the blocks only if ``keep``),
    or None where the fused CPU kernel ran (``conv_schedule.fused_group``)."""
    N, C = x.shape[:2]
    C_out = weight.shape[0]
    tiles_h, tiles_w = -(-out_h // 2), -(-out_w // 2)
    U = K.winograd_filter_transform(weight).reshape(16, C_out, C)
    out = xp.empty((N, C_out, out_h, out_w), dtype=x.dtype)
    group = fused_group(K, "winograd_conv",
                        16 * (C + C_out) * tiles_h * tiles_w * x.dtype.itemsize, N)
    if group:  # CPU: the three steps per small group of samples, in the L2 cache
        x, U = xp.ascontiguousarray(x), xp.ascontiguousarray(U)
        in_blocks(K, N, calls_of_groups(K, N, group),
                  lambda start, stop: K.winograd_fused_conv(x, U, ph, pw, out, start, stop, group,
                                                            bias))
        return out, None
    chunk = block_samples(K, N, 16 * C * tiles_h * tiles_w * x.dtype.itemsize)

    def block(start, stop):
        V = K.winograd_input_transform(x[start:stop], ph, pw, tiles_h, tiles_w)
        M = xp.matmul(U, V.reshape(16, C, -1))  # 16 GEMMs: (C_out, C) @ (C, n*tiles)
        M = M.reshape(4, 4, C_out, stop - start, tiles_h, tiles_w)
        if hasattr(K, "winograd_output_transform_into"):  # CPU: straight into the output
            K.winograd_output_transform_into(M, out[start:stop])
        else:
            out[start:stop] = K.winograd_output_transform(M, out_h, out_w)
        return V if keep else None

    Vs = [V for part in in_blocks(K, N, chunk, block) for V in part]
    return add_bias(out, bias), (chunk, Vs if keep else None)


def winograd_grad_weight(K, xp, x, grad_out, ph, pw, saved=None):
    """The weight gradient of ``winograd_conv`` (the convolution's, in exact arithmetic):
    ``grad_U[a, b] = dM[a, b] @ V[a, b]^T`` summed over the batch, ``dM = A dY A^T`` per output
    tile, then ``grad_weight = G^T grad_U G``: 16 GEMMs with a quarter of the columns of
    im2col's, and no column buffer. ``saved``: forward's ``(chunk, V blocks)``; without the
    blocks, V is transformed again."""
    N, C = x.shape[:2]
    C_out, out_h, out_w = grad_out.shape[1:]
    tiles_h, tiles_w = -(-out_h // 2), -(-out_w // 2)
    chunk, Vs = saved if saved is not None else (None, None)
    group = fused_group(K, "winograd_grad_filter",
                        16 * (C + C_out) * tiles_h * tiles_w * x.dtype.itemsize, N)
    if group:  # CPU: transforms and GEMMs per small group of samples, in the L2 cache
        x, grad_out = xp.ascontiguousarray(x), xp.ascontiguousarray(grad_out)
        parts = in_blocks(K, N, calls_of_groups(K, N, group), lambda start, stop:
                          K.winograd_fused_grad_filter(x, grad_out, ph, pw, start, stop, group))
        grad_U = sum(part_sum for part in parts for part_sum in part)
        return K.winograd_grad_filter_transform(grad_U.reshape(4, 4, C_out, C))
    if Vs is None:
        chunk = block_samples(K, N, 16 * (C + C_out) * tiles_h * tiles_w * x.dtype.itemsize)

    def block(start, stop):
        if Vs is not None:
            V = Vs[start // chunk]
        else:
            V = K.winograd_input_transform(x[start:stop], ph, pw, tiles_h, tiles_w)
        dM = K.winograd_grad_output_transform(grad_out[start:stop], tiles_h, tiles_w)
        # (16, C_out, n*tiles) @ (16, n*tiles, C): the tiles are the GEMMs' inner dimension
        return xp.matmul(dM.reshape(16, C_out, -1), V.reshape(16, C, -1).transpose(0, 2, 1))

    grad_U = sum(part_sum for part in in_blocks(K, N, chunk, block) for part_sum in part)
    return K.winograd_grad_filter_transform(grad_U.reshape(4, 4, C_out, C))


class Direct:
    """The definition's loops, no column buffer (``kernels/cpu/direct.py``)."""

    name = "direct"

    @staticmethod
    def forward(K, xp, x, weight, geo, bias=None):
        kh, kw, sh, sw, ph, pw, dh, dw, out_h, out_w, groups = geo
        return add_bias(K.conv2d_direct_forward(x, weight, sh, sw, ph, pw, dh, dw, groups, out_h,
                                                out_w), bias), None

    @staticmethod
    def backward(K, xp, x, weight, saved, grad_out, geo, need_x, need_w):
        kh, kw, sh, sw, ph, pw, dh, dw, _, _, groups = geo
        strides = (sh, sw, ph, pw, dh, dw, groups)
        H, W = x.shape[2:]
        grad_x = K.conv2d_direct_grad_input(grad_out, weight, H, W, *strides) if need_x else None
        grad_w = K.conv2d_direct_grad_weight(x, grad_out, kh, kw, *strides) if need_w else None
        return grad_x, grad_w


def add_bias(out, bias):
    """``out += bias`` per output channel (the block pipeline's and the GPU's way); ``out``."""
    if bias is not None:
        out += bias.reshape(1, -1, 1, 1)
    return out


ALGORITHMS = {a.name: a for a in (Im2col, Winograd, Direct)}
_KERNELS = {"im2col": "im2col", "winograd": "winograd_input_transform",
            "direct": "conv2d_direct_forward"}


def available(K) -> tuple[str, ...]:
    """The algorithms whose kernels the namespace ``K`` has (the GPU has no direct kernels)."""
    return tuple(name for name, kernel in _KERNELS.items() if hasattr(K, kernel))


def choose(K, xp, device: str, x, weight, geo):
    """The algorithm class this call runs, as ``minitorch_cv.backends.conv`` decides."""
    shape = backends.conv.ConvShape(device, x.dtype.name, *x.shape, weight.shape[0], *geo[:8],
                                    geo.groups)

    synchronize = getattr(K, "synchronize", None) or (lambda: None)  # GPU launches are async

    def timer(name):  # benchmark mode: one warm-up and one timed forward + backward
        algorithm = ALGORITHMS[name]
        seconds = 0.0
        for _ in range(2):
            synchronize()
            start = time.perf_counter()
            out, saved = algorithm.forward(K, xp, x, weight, geo)
            algorithm.backward(K, xp, x, weight, saved, out, geo, True, True)
            synchronize()
            seconds = time.perf_counter() - start
        return seconds

    return ALGORITHMS[backends.conv.choose(shape, available(K), timer)]
