"""Typical student bugs (mutants), part B: convolution, pooling, blocks, kernels."""

from __future__ import annotations

import numpy as np
from numba import njit, prange

import minitorch_cv.nn as nn
from minitorch_cv.exercises import get
from minitorch_cv.kernels import reference as R
from minitorch_cv.models.googlenet import BasicConv2d

S = {e: get(e).solution for e in (
    "conv_naive", "im2col", "col2im", "conv2d", "max_pool", "avg_pool", "global_avg_pool",
    "conv1x1")}


def with_(name, **changes):
    return {**S[name], **changes}


# ---------------------------------------------------------------- im2col / col2im
def _im2col(x, kh, kw, sh, sw, ph, pw, dh, dw, out_h, out_w, *, pad=(1, 1, 1, 1), wrap=False,
            dil=True, sw_is_sh=False):
    N, C, H, W = x.shape
    col = np.zeros((N, C, kh, kw, out_h, out_w))
    sw = sh if sw_is_sh else sw
    for i in range(kh):
        for j in range(kw):
            for oh in range(out_h):
                for ow in range(out_w):
                    h = oh * sh - ph * pad[0] + i * (dh if dil else 1)
                    w = ow * sw - pw * pad[2] + j * (dw if dil else 1)
                    if (wrap and -H <= h < H and -W <= w < W) or (0 <= h < H and 0 <= w < W):
                        col[:, :, i, j, oh, ow] = x[:, :, h, w]
    return col


def im2col_one_side(x, kh, kw, sh, sw, ph, pw, dh, dw, out_h, out_w):
    return _im2col(x, kh, kw, sh, sw, ph, pw, dh, dw, out_h, out_w, pad=(0, 1, 0, 1))


def im2col_wraps(x, kh, kw, sh, sw, ph, pw, dh, dw, out_h, out_w):
    return _im2col(x, kh, kw, sh, sw, ph, pw, dh, dw, out_h, out_w, wrap=True)


def im2col_no_dilation(x, kh, kw, sh, sw, ph, pw, dh, dw, out_h, out_w):
    return _im2col(x, kh, kw, sh, sw, ph, pw, dh, dw, out_h, out_w, dil=False)


def im2col_sh_for_w(x, kh, kw, sh, sw, ph, pw, dh, dw, out_h, out_w):
    return _im2col(x, kh, kw, sh, sw, ph, pw, dh, dw, out_h, out_w, sw_is_sh=True)


def _col2im(col, H, W, sh, sw, ph, pw, dh, dw, *, add=True, dil=True, swap=False):
    N, C, kh, kw, out_h, out_w = col.shape
    x = np.zeros((N, C, H, W))
    for i in range(kh):
        for j in range(kw):
            for oh in range(out_h):
                for ow in range(out_w):
                    a, b = (j, i) if swap else (i, j)
                    h = oh * sh - ph + a * (dh if dil else 1)
                    w = ow * sw - pw + b * (dw if dil else 1)
                    if 0 <= h < H and 0 <= w < W:
                        if add:
                            x[:, :, h, w] += col[:, :, i, j, oh, ow]
                        else:
                            x[:, :, h, w] = col[:, :, i, j, oh, ow]
    return x


def col2im_overwrites(col, H, W, sh, sw, ph, pw, dh, dw):
    return _col2im(col, H, W, sh, sw, ph, pw, dh, dw, add=False)


def col2im_no_dilation(col, H, W, sh, sw, ph, pw, dh, dw):
    return _col2im(col, H, W, sh, sw, ph, pw, dh, dw, dil=False)


def col2im_swapped_taps(col, H, W, sh, sw, ph, pw, dh, dw):
    return _col2im(col, H, W, sh, sw, ph, pw, dh, dw, swap=True)


# ---------------------------------------------------------------- conv2d
def _conv_forward(x, weight, bias, stride, padding, dilation, im2col=R.im2col):
    N, C, H, W = x.shape
    C_out, _, kh, kw = weight.shape
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    out_h = (H + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    out_w = (W + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    col = im2col(x, kh, kw, sh, sw, ph, pw, dh, dw, out_h, out_w).reshape(N, -1, out_h * out_w)
    out = np.matmul(weight.reshape(C_out, -1), col).reshape(N, C_out, out_h, out_w)
    return out if bias is None else out + bias[None, :, None, None]


def conv_forward_one_side(x, weight, bias, stride, padding, dilation):
    return _conv_forward(x, weight, bias, stride, padding, dilation, im2col=im2col_one_side)


def _conv_backward(grad_output, x, weight, stride, padding, dilation, col2im=R.col2im,
                   scale_w=1.0):
    N, C, H, W = x.shape
    C_out, _, kh, kw = weight.shape
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    out_h, out_w = grad_output.shape[2:]
    col = R.im2col(x, kh, kw, sh, sw, ph, pw, dh, dw, out_h, out_w).reshape(N, -1, out_h * out_w)
    g = grad_output.reshape(N, C_out, -1)
    grad_w = np.einsum("nol,nkl->ok", g, col).reshape(weight.shape) * scale_w
    grad_col = np.matmul(weight.reshape(C_out, -1).T, g).reshape(N, C, kh, kw, out_h, out_w)
    return col2im(grad_col, H, W, sh, sw, ph, pw, dh, dw), grad_w, grad_output.sum((0, 2, 3))


def conv_backward_overwrites(grad_output, x, weight, stride, padding, dilation):
    return _conv_backward(grad_output, x, weight, stride, padding, dilation,
                          col2im=col2im_overwrites)


def conv_backward_no_dilation(grad_output, x, weight, stride, padding, dilation):
    return _conv_backward(grad_output, x, weight, stride, padding, dilation,
                          col2im=col2im_no_dilation)


def conv_backward_grad_w_off(grad_output, x, weight, stride, padding, dilation):
    return _conv_backward(grad_output, x, weight, stride, padding, dilation, scale_w=1.001)


def naive_one_side(x, weight, bias, stride, padding):
    return _conv_forward(x, weight, bias, (stride, stride), (padding, padding), (1, 1),
                         im2col=im2col_one_side)


def naive_stride_h_only(x, weight, bias, stride, padding):
    full = _conv_forward(x, weight, bias, (stride, 1), (padding, padding), (1, 1))
    return full


def naive_no_bias(x, weight, bias, stride, padding):
    return _conv_forward(x, weight, None, (stride, stride), (padding, padding), (1, 1))


# ---------------------------------------------------------------- pooling
def _max_pool(x, kernel_size, stride, padding, ties_last=False, pad_zero=False):
    (kh, kw), (sh, sw), (ph, pw) = kernel_size, stride, padding
    N, C, H, W = x.shape
    out_h, out_w = (H + 2 * ph - kh) // sh + 1, (W + 2 * pw - kw) // sw + 1
    out, arg = np.empty((N, C, out_h, out_w)), np.empty((N, C, out_h, out_w), np.int64)
    for n in range(N):
        for c in range(C):
            for oh in range(out_h):
                for ow in range(out_w):
                    best, where = (0.0 if pad_zero else -np.inf), -1
                    for i in range(kh):
                        for j in range(kw):
                            h, w = oh * sh - ph + i, ow * sw - pw + j
                            if 0 <= h < H and 0 <= w < W:
                                v = x[n, c, h, w]
                                if v > best or (ties_last and v == best) or (where < 0 and
                                                                             not pad_zero):
                                    best, where = v, h * W + w
                    out[n, c, oh, ow], arg[n, c, oh, ow] = best, max(where, 0)
    return out, arg


def max_pool_last_wins(x, kernel_size, stride, padding):
    return _max_pool(x, kernel_size, stride, padding, ties_last=True)


def max_pool_zero_padding(x, kernel_size, stride, padding):
    return _max_pool(x, kernel_size, stride, padding, pad_zero=True)


def max_pool_backward_overwrites(grad_output, argmax, H, W):
    N, C = grad_output.shape[:2]
    gx = np.zeros((N, C, H * W))
    for n in range(N):
        for c in range(C):
            gx[n, c, argmax[n, c].ravel()] = grad_output[n, c].ravel()
    return gx.reshape(N, C, H, W)


def avg_pool_real_count(x, kernel_size, stride, padding):
    (kh, kw), (sh, sw), (ph, pw) = kernel_size, stride, padding
    out_h, out_w = (x.shape[2] + 2 * ph - kh) // sh + 1, (x.shape[3] + 2 * pw - kw) // sw + 1
    return R.avg_pool2d_forward(x, kh, kw, sh, sw, ph, pw, out_h, out_w, False)


def avg_pool_backward_undivided(grad_output, H, W, kernel_size, stride, padding):
    (kh, kw) = kernel_size
    return S["avg_pool"]["avg_pool2d_backward"](grad_output, H, W, kernel_size, stride,
                                                padding) * (kh * kw)


def avg_pool_backward_stride_one(grad_output, H, W, kernel_size, stride, padding):
    return S["avg_pool"]["avg_pool2d_backward"](grad_output, H, W, kernel_size,
                                                (stride[0], 1) if stride[1] != 1 else stride,
                                                padding)


def gap_over_batch(x):
    return np.broadcast_to(x.mean((0, 2, 3)), x.shape[:2]).copy()


def gap_keepdims(x):
    return x.mean((2, 3), keepdims=True)


def gap_backward_undivided(grad_output, H, W):
    return np.broadcast_to(grad_output[:, :, None, None], grad_output.shape + (H, W)).copy()


def c1_no_bias(x, weight, bias):
    return np.einsum("oc,nchw->nohw", weight[:, :, 0, 0], x)


def c1_grad_w_2d(grad_output, x, weight):
    gx, gw, gb = S["conv1x1"]["conv1x1_backward"](grad_output, x, weight)
    return gx, gw[:, :, 0, 0], gb


def c1_grad_x_untransposed(grad_output, x, weight):
    # weight read as (C, C_out): only works by accident when C == C_out
    w2 = weight[:, :, 0, 0].reshape(weight.shape[1], weight.shape[0])
    gx = np.einsum("co,nohw->nchw", w2, grad_output)
    _, gw, gb = S["conv1x1"]["conv1x1_backward"](grad_output, x, weight)
    return gx, gw, gb


# ---------------------------------------------------------------- blocks
class ResidualReluBeforeAdd(nn.Module):
    def __init__(self, in_channels, planes, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = (nn.Sequential(nn.Conv2d(in_channels, planes, 1, stride=stride,
                                                   bias=False), nn.BatchNorm2d(planes))
                           if stride != 1 or in_channels != planes else None)
        self.relu = nn.ReLU()

    def residual(self, x):
        return self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(self.residual(x)) + identity


class ResidualNoDownsample(ResidualReluBeforeAdd):
    def __init__(self, in_channels, planes, stride=1):
        super().__init__(in_channels, planes, stride)
        self.downsample = None

    def forward(self, x):
        return self.relu(self.residual(x) + x)


class ResidualConvBias(ResidualReluBeforeAdd):
    def __init__(self, in_channels, planes, stride=1):
        super().__init__(in_channels, planes, stride)
        self.conv1 = nn.Conv2d(in_channels, planes, 3, stride=stride, padding=1, bias=True)

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(self.residual(x) + identity)


class SENoSigmoid(nn.Module):
    def __init__(self, channels, reduction=16):
        super().__init__()
        hidden = max(1, channels // reduction)
        self.fc1, self.fc2 = nn.Linear(channels, hidden), nn.Linear(hidden, channels)
        self.relu = nn.ReLU()

    def gate(self, s):
        return self.fc2(self.relu(self.fc1(s)))

    def forward(self, x):
        n, c = x.shape[0], x.shape[1]
        return x * self.gate(x.mean((2, 3))).reshape(n, c, 1, 1)


class SEHiddenZero(SENoSigmoid):
    def __init__(self, channels, reduction=16):
        super().__init__(channels, reduction)
        hidden = channels // reduction
        self.fc1, self.fc2 = nn.Linear(channels, hidden), nn.Linear(hidden, channels)

    def gate(self, s):
        return super().gate(s).sigmoid()


class SEMaxSqueeze(SENoSigmoid):
    def gate(self, s):
        return super().gate(s).sigmoid()

    def forward(self, x):
        n, c = x.shape[0], x.shape[1]
        import minitorch_cv.functional as F

        squeezed = F.adaptive_max_pool2d(x, 1).flatten(1)
        return x * self.gate(squeezed).reshape(n, c, 1, 1)


def _inception(order=(0, 1, 2, 3), five=3, pool_padding=1):
    import minitorch_cv as mt

    class Block(nn.Module):
        def __init__(self, in_channels, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj):
            super().__init__()
            self.branch1 = BasicConv2d(in_channels, ch1x1, kernel_size=1)
            self.branch2 = nn.Sequential(BasicConv2d(in_channels, ch3x3red, kernel_size=1),
                                         BasicConv2d(ch3x3red, ch3x3, kernel_size=3, padding=1))
            self.branch3 = nn.Sequential(BasicConv2d(in_channels, ch5x5red, kernel_size=1),
                                         BasicConv2d(ch5x5red, ch5x5, kernel_size=five,
                                                     padding=five // 2))
            self.branch4 = nn.Sequential(nn.MaxPool2d(3, stride=1, padding=pool_padding,
                                                      ceil_mode=True),
                                         BasicConv2d(in_channels, pool_proj, kernel_size=1))

        def forward(self, x):
            outs = [self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)]
            return mt.cat([outs[k] for k in order], 1)

    return Block


# ---------------------------------------------------------------- numba kernel
@njit(parallel=True, cache=False)
def numba_ties_last(x, kh, kw, sh, sw, ph, pw, dh, dw, out_h, out_w):
    N, C, H, W = x.shape
    out = np.empty((N, C, out_h, out_w), x.dtype)
    argmax = np.empty((N, C, out_h, out_w), np.int64)
    for plane in prange(N * C):
        n, c = plane // C, plane % C
        for oh in range(out_h):
            for ow in range(out_w):
                best, index = -np.inf, -1
                for i in range(kh):
                    for j in range(kw):
                        h, w = oh * sh - ph + i * dh, ow * sw - pw + j * dw
                        if 0 <= h < H and 0 <= w < W and (index < 0 or x[n, c, h, w] >= best):
                            best, index = x[n, c, h, w], h * W + w
                out[n, c, oh, ow], argmax[n, c, oh, ow] = best, index
    return out, argmax


@njit(parallel=True, cache=False)
def numba_zero_padding(x, kh, kw, sh, sw, ph, pw, dh, dw, out_h, out_w):
    N, C, H, W = x.shape
    out = np.empty((N, C, out_h, out_w), x.dtype)
    argmax = np.empty((N, C, out_h, out_w), np.int64)
    for plane in prange(N * C):
        n, c = plane // C, plane % C
        for oh in range(out_h):
            for ow in range(out_w):
                best, index = 0.0, -1
                for i in range(kh):
                    for j in range(kw):
                        h, w = oh * sh - ph + i * dh, ow * sw - pw + j * dw
                        if 0 <= h < H and 0 <= w < W:
                            if index < 0 and (ph == 0 and pw == 0):
                                best, index = x[n, c, h, w], h * W + w
                            elif x[n, c, h, w] > best:
                                best, index = x[n, c, h, w], h * W + w
                out[n, c, oh, ow], argmax[n, c, oh, ow] = best, index
    return out, argmax


def numba_plain_python(x, kh, kw, sh, sw, ph, pw, dh, dw, out_h, out_w):
    return R.max_pool2d_forward(x, kh, kw, sh, sw, ph, pw, dh, dw, out_h, out_w)


MUTANTS_B = [
    ("conv_naive", "padding on one side only", {"conv2d_naive": naive_one_side}, "examples"),
    ("conv_naive", "stride applied to rows only", {"conv2d_naive": naive_stride_h_only},
     "examples"),
    ("conv_naive", "bias forgotten", {"conv2d_naive": naive_no_bias}, "examples"),
    ("im2col", "padding on one side only", {"im2col": im2col_one_side}, "examples"),
    ("im2col", "negative indices wrap around", {"im2col": im2col_wraps}, "examples"),
    ("im2col", "dilation ignored", {"im2col": im2col_no_dilation}, "examples"),
    ("im2col", "the row stride used for the columns", {"im2col": im2col_sh_for_w},
     "properties"),
    ("col2im", "overwrites instead of adding", {"col2im": col2im_overwrites}, "examples"),
    ("col2im", "dilation ignored", {"col2im": col2im_no_dilation}, "properties"),
    ("col2im", "taps i and j swapped", {"col2im": col2im_swapped_taps}, "properties"),
    ("conv2d", "forward pads one side only", with_("conv2d", conv2d_forward=conv_forward_one_side),
     "examples"),
    ("conv2d", "backward's col2im overwrites", with_(
        "conv2d", conv2d_backward=conv_backward_overwrites), "examples"),
    ("conv2d", "backward's col2im ignores dilation", with_(
        "conv2d", conv2d_backward=conv_backward_no_dilation), "gradcheck"),
    ("conv2d", "grad_weight 0.1% off", with_("conv2d", conv2d_backward=conv_backward_grad_w_off),
     "examples"),
    ("max_pool", "the last maximum wins a tie", with_(
        "max_pool", max_pool2d_forward=max_pool_last_wins), "examples"),
    ("max_pool", "padding counts as 0", with_(
        "max_pool", max_pool2d_forward=max_pool_zero_padding), "examples"),
    ("max_pool", "backward overwrites", with_(
        "max_pool", max_pool2d_backward=max_pool_backward_overwrites), "examples"),
    ("avg_pool", "divides by the real pixels only", with_(
        "avg_pool", avg_pool2d_forward=avg_pool_real_count), "examples"),
    ("avg_pool", "backward not divided", with_(
        "avg_pool", avg_pool2d_backward=avg_pool_backward_undivided), "examples"),
    ("avg_pool", "backward ignores the column stride", with_(
        "avg_pool", avg_pool2d_backward=avg_pool_backward_stride_one), "properties"),
    ("global_avg_pool", "mean over the batch too", with_(
        "global_avg_pool", global_avg_pool_forward=gap_over_batch), "properties"),
    ("global_avg_pool", "keeps (N, C, 1, 1)", with_(
        "global_avg_pool", global_avg_pool_forward=gap_keepdims), "signature"),
    ("global_avg_pool", "backward not divided by H*W", with_(
        "global_avg_pool", global_avg_pool_backward=gap_backward_undivided), "examples"),
    ("conv1x1", "bias forgotten", with_("conv1x1", conv1x1_forward=c1_no_bias), "examples"),
    ("conv1x1", "grad_weight left 2-D", with_("conv1x1", conv1x1_backward=c1_grad_w_2d),
     "examples"),
    ("conv1x1", "grad_x wrong when C != C_out", with_(
        "conv1x1", conv1x1_backward=c1_grad_x_untransposed), "gradcheck"),
    ("residual_block", "ReLU before the addition", {"ResidualBlock": ResidualReluBeforeAdd},
     "properties"),
    ("residual_block", "no projection shortcut", {"ResidualBlock": ResidualNoDownsample},
     "signature"),
    ("residual_block", "conv1 with a bias", {"ResidualBlock": ResidualConvBias}, "examples"),
    ("se_block", "gate without the sigmoid", {"SEBlock": SENoSigmoid}, "properties"),
    ("se_block", "hidden = channels // reduction (0 for few channels)",
     {"SEBlock": SEHiddenZero}, "examples"),
    ("se_block", "squeeze with the max instead of the mean", {"SEBlock": SEMaxSqueeze},
     "properties"),
    ("inception_block", "branches concatenated in the wrong order",
     {"InceptionBlock": _inception(order=(1, 0, 2, 3))}, "properties"),
    ("inception_block", "a real 5x5 in branch 3 (not torchvision's 3x3)",
     {"InceptionBlock": _inception(five=5)}, "examples"),
    ("inception_block", "pool branch without padding",
     {"InceptionBlock": _inception(pool_padding=0)}, "signature"),
    ("numba_max_pool", "the last maximum wins a tie", {"max_pool2d_forward": numba_ties_last},
     "examples"),
    ("numba_max_pool", "padding counts as 0", {"max_pool2d_forward": numba_zero_padding},
     "properties"),
    ("numba_max_pool", "plain Python, not a Numba kernel",
     {"max_pool2d_forward": numba_plain_python}, "signature"),
    ("numba_max_pool", "compiled without parallel=True",
     {"max_pool2d_forward": njit(cache=False)(numba_ties_last.py_func)}, "signature"),
]
