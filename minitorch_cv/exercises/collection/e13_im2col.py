"""Exercise 13: im2col, the data movement that turns convolution into one matrix product."""

from __future__ import annotations

import numpy as np

from ...kernels import reference
from ..core import Example, Exercise
from . import _data

DOC = '''im2col: copy every window of the input into a column, so convolution becomes one GEMM.

Lecture 03 (Convolution), "How convolution is computed: im2col and one matrix product": a
filter is a dot product with every window of the image. Write each window out as a column
and all the dot products of all filters are ONE matrix product, which BLAS does fast.

Shapes (NCHW, PyTorch's layout):
    x    (N, C, H, W)
    col  (N, C, kh, kw, out_h, out_w)

    out_h = (H + 2*ph - dh*(kh - 1) - 1) // sh + 1      (the output-size formula; same for w)

The formula: output pixel (oh, ow)'s tap (i, j) reads the input pixel

    h = oh*sh - ph + i*dh,    w = ow*sw - pw + j*dw
    col[n, c, i, j, oh, ow] = x[n, c, h, w]   if 0 <= h < H and 0 <= w < W,   else 0 (padding)

Worked example: x = [[1, 2, 3], [4, 5, 6], [7, 8, 9]] (N = C = 1), a 2x2 window, stride 1,
no padding, no dilation: out_h = out_w = 2 and

    col[0, 0, 0, 0] = [[1, 2], [4, 5]]   (tap (0, 0) of each of the 4 windows)
    col[0, 0, 1, 1] = [[5, 6], [8, 9]]   (tap (1, 1))

With padding 1 (out_h = out_w = 4), col[0, 0, 0, 0, 0, 0] = 0: the first window's first tap
reads the padding, h = w = -1. Careful: in NumPy x[..., -1, -1] is the LAST pixel, not padding.
'''

HINTS = (
    "Six nested loops: n, c, i, j, oh, ow. Inside, compute the input pixel (h, w) that tap "
    "(i, j) of output pixel (oh, ow) reads, and copy it if it is inside the image.",
    "h = oh*sh - ph + i*dh and w = ow*sw - pw + j*dw. Start from np.zeros((N, C, kh, kw, out_h, "
    "out_w), dtype=x.dtype): the padding is then already there.",
    "Test the bounds on BOTH sides before reading: `if 0 <= h < H and 0 <= w < W:`. A negative "
    "index does not raise in NumPy, it wraps around to the other edge of the image.",
    "Faster (optional): loop only over i and j, and copy a whole strided slice at once from a "
    "zero-padded copy of x: xp[:, :, i*dh : i*dh + sh*out_h : sh, j*dw : j*dw + sw*out_w : sw].",
)


def im2col(x, kh, kw, sh, sw, ph, pw, dh, dw, out_h, out_w):
    return reference.im2col(x, kh, kw, sh, sw, ph, pw, dh, dw, out_h, out_w)


def _args(x, g):
    return dict(x=x, kh=g["kh"], kw=g["kw"], sh=g["sh"], sw=g["sw"], ph=g["ph"], pw=g["pw"],
                dh=g["dh"], dw=g["dw"], out_h=g["out_h"], out_w=g["out_w"])


def examples():
    x = np.arange(1.0, 10.0).reshape(1, 1, 3, 3)
    g = dict(kh=2, kw=2, sh=1, sw=1, ph=0, pw=0, dh=1, dw=1, out_h=2, out_w=2)
    want = np.array([[[[[[1, 2], [4, 5]], [[2, 3], [5, 6]]],
                       [[[4, 5], [7, 8]], [[5, 6], [8, 9]]]]]], dtype=np.float64)
    padded = dict(g, ph=1, pw=1, sh=2, sw=2, out_h=2, out_w=2)
    # windows start at (-1, -1), (-1, 1), (1, -1), (1, 1); tap (0, 0) reads those pixels
    want_pad = np.array([[0, 0], [0, 5]], dtype=np.float64)
    dilated = dict(g, dh=2, dw=2, out_h=1, out_w=1)
    return [
        Example("im2col", _args(x, g), want, "x = 1..9 as 3x3, 2x2 windows, stride 1: each "
                "window's four values"),
        Example("im2col", _args(x, padded), want_pad, "padding 1, stride 2: tap (0, 0) of the "
                "four windows reads pixels (-1,-1), (-1,1), (1,-1), (1,1) = 0, 0, 0, 5",
                index=(0, 0, 0, 0)),
        Example("im2col", _args(x, dilated), np.array([1.0, 3.0, 7.0, 9.0]).reshape(
            1, 1, 2, 2, 1, 1), "dilation 2: the 2x2 window's taps are the corners 1, 3, 7, 9"),
    ]


def cases(g):
    x = _data.layout(_data.values(g["seed"], (g["N"], g["C"], g["H"], g["W"]), g["ties"]),
                     g["contiguous"])
    return [("im2col", _args(x, g))]


def torch_check(student, seed):
    import torch  # noqa: PLC0415

    rng = np.random.default_rng(seed)
    for g in (dict(kh=3, kw=2, sh=2, sw=1, ph=1, pw=2, dh=2, dw=1), dict(kh=1, kw=1, sh=1,
              sw=1, ph=0, pw=0, dh=1, dw=1)):
        x = rng.standard_normal((2, 3, 7, 6))
        g["out_h"] = _data.out_size(7, g["kh"], g["sh"], g["ph"], g["dh"])
        g["out_w"] = _data.out_size(6, g["kw"], g["sw"], g["pw"], g["dw"])
        got = np.asarray(student["im2col"](x.copy(), **{k: v for k, v in g.items()}))
        want = torch.nn.functional.unfold(torch.from_numpy(x), (g["kh"], g["kw"]),
                                          dilation=(g["dh"], g["dw"]),
                                          padding=(g["ph"], g["pw"]),
                                          stride=(g["sh"], g["sw"])).numpy()
        want = want.reshape(2, 3, g["kh"], g["kw"], g["out_h"], g["out_w"])
        from ..calls import compare  # noqa: PLC0415

        compare(got, want, 1e-12, 1e-12, what=f"im2col vs torch.nn.functional.unfold, {g}")
    return "equal to torch.nn.functional.unfold (reshaped to 6-D) on 2 configurations"


EXERCISE = Exercise(
    name="im2col", order=13, lecture="03 Convolution", lesson="03_convolution",
    title="im2col: every window as a column",
    functions={"im2col": "x, kh, kw, sh, sw, ph, pw, dh, dw, out_h, out_w"},
    doc=DOC, hints=HINTS, solution={"im2col": im2col}, examples=examples,
    strategy=lambda: _data.geometry(), cases=cases, torch_check=torch_check,
)
