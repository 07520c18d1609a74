"""Exercise 12: the naive convolution loop (the slide's filter dot product)."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from ..core import Example, Exercise
from . import _data
from .e15_conv2d import conv2d_forward

DOC = '''Convolution as the lecture defines it: the filter's dot product at every position.

Lecture 03 (Convolution), "A filter is a dot product at every position": the slide's 2x2
patch [[1, 10], [2, 20]] times the filter [[1, 2], [2, 0]], element by element and summed:
1*1 + 10*2 + 2*2 + 20*0 = 25. A filter covers ALL input channels (a 5x5 filter on a colour
image has 5*5*3 = 75 weights), and there is one output channel per filter.

Shapes:
    x (N, C, H, W),  weight (C_out, C, kh, kw),  bias (C_out,) or None
    stride, padding: ints (the same in both directions)
    out (N, C_out, out_h, out_w),  out_h = (H + 2*padding - kh) // stride + 1  (same for w)

The loop:
    out[n, o, oh, ow] = bias[o] + sum over c, i, j of
                        weight[o, c, i, j] * x[n, c, oh*stride - padding + i,
                                               ow*stride - padding + j]
    where an index outside the image reads 0 (zero padding, on ALL four sides)

Worked example: the slide, x = [[[[1, 10], [2, 20]]]], weight = [[[[1, 2], [2, 0]]]], no
bias, stride 1, padding 0: out = [[[[25]]]].
'''

HINTS = (
    "Pad first: xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding))). "
    "Then no index is outside xp.",
    "Loop over n, o, oh, ow; the window is xp[n, :, oh*stride : oh*stride + kh, ow*stride : "
    "ow*stride + kw] and the output is np.sum(window * weight[o]).",
    "Compute out_h with the formula on xp's size: (H + 2*padding - kh) // stride + 1; add "
    "bias[o] when bias is not None.",
)


def conv2d_naive(x, weight, bias, stride, padding):
    return conv2d_forward(x, weight, bias, (stride, stride), (padding, padding), (1, 1))


def examples():
    x = np.array([[[[1.0, 10.0], [2.0, 20.0]]]])
    w = np.array([[[[1.0, 2.0], [2.0, 0.0]]]])
    rgb = np.arange(12.0).reshape(1, 3, 2, 2)
    return [
        Example("conv2d_naive", dict(x=x, weight=w, bias=None, stride=1, padding=0),
                np.array([[[[25.0]]]]), "the slide: 1*1 + 10*2 + 2*2 + 20*0 = 25"),
        Example("conv2d_naive", dict(x=rgb, weight=np.ones((2, 3, 2, 2)),
                                     bias=np.array([0.0, 1.0]), stride=1, padding=0),
                np.array([[[[66.0]], [[67.0]]]]),
                "a filter covers all 3 channels: 0 + 1 + ... + 11 = 66, two filters, bias 1"),
        Example("conv2d_naive", dict(x=x, weight=np.ones((1, 1, 1, 1)), bias=None, stride=2,
                                     padding=1), np.array([[[[0.0, 0.0], [0.0, 20.0]]]]),
                "1x1 filter, padding 1, stride 2 on the 4x4 padded patch: pixels (-1,-1), "
                "(-1,1), (1,-1), (1,1) = 0, 0, 0, 20"),
    ]


@st.composite
def configs(draw):
    g = draw(_data.geometry(dilation=False, out_channels=True))
    s, p = g["sh"], g["ph"]
    H = max(g["H"], g["kh"] - 2 * p)
    W = max(g["W"], g["kw"] - 2 * p)
    g.update(sw=s, pw=p, H=max(1, H), W=max(1, W), bias=draw(st.booleans()))
    return g


def cases(g):
    x = _data.layout(_data.values(g["seed"], (g["N"], g["C"], g["H"], g["W"])),
                     g["contiguous"])
    w = _data.values(g["seed"] + 1, (g["C_out"], g["C"], g["kh"], g["kw"]))
    b = _data.values(g["seed"] + 2, (g["C_out"],)) if g["bias"] else None
    return [("conv2d_naive", dict(x=x, weight=w, bias=b, stride=g["sh"], padding=g["ph"]))]


EXERCISE = Exercise(
    name="conv_naive", order=12, lecture="03 Convolution", lesson="03_convolution",
    title="convolution as a loop: the filter's dot product at every position",
    functions={"conv2d_naive": "x, weight, bias, stride, padding"}, doc=DOC, hints=HINTS,
    solution={"conv2d_naive": conv2d_naive}, examples=examples, strategy=configs,
    cases=cases, max_examples=25, rtol=1e-9, atol=1e-10,
)
