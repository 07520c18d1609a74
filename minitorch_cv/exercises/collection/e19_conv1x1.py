"""Exercise 19: the 1x1 convolution (a linear layer at every pixel)."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from ..core import Example, Exercise
from ..gradients import GradProblem
from . import _data
from .e15_conv2d import conv2d_backward, conv2d_forward

DOC = '''A 1x1 convolution: the same linear layer applied at every pixel, across channels.

Lecture 04, "1x1 convolutions: a linear layer applied at every pixel", and lecture 13
(Network in Network: the 1x1 convolutions are a per-pixel MLP); GoogLeNet's bottlenecks.

Shapes:  x (N, C, H, W), weight (C_out, C, 1, 1) (PyTorch's layout), bias (C_out,)
    out[n, o, h, w] = bias[o] + sum over c of weight[o, c, 0, 0] * x[n, c, h, w]
    i.e. np.einsum("oc,nchw->nohw", weight[:, :, 0, 0], x) + bias[None, :, None, None]
Backward, g = grad_output (N, C_out, H, W):
    grad_x[n, c, h, w]   = sum over o of weight[o, c] * g[n, o, h, w]
    grad_weight[o, c]    = sum over n, h, w of g[n, o, h, w] * x[n, c, h, w]
                           (returned with shape (C_out, C, 1, 1))
    grad_bias[o]         = sum over n, h, w of g[n, o, h, w]

Worked example: one pixel with channels x = [1, 2, 3] and weight [[1, 0, -1]] (C_out = 1),
bias [10]: out = 1 - 3 + 10 = 8.
'''

HINTS = (
    "Take W2 = weight[:, :, 0, 0] (C_out, C). np.einsum('oc,nchw->nohw', W2, x) is the whole "
    "forward (plus the bias reshaped to (1, C_out, 1, 1)).",
    "Backward: grad_x = einsum('oc,nohw->nchw', W2, g); grad_W2 = einsum('nohw,nchw->oc', g, x)"
    "; grad_bias = g.sum((0, 2, 3)).",
    "Give grad_weight back the shape (C_out, C, 1, 1): grad_W2[:, :, None, None].",
)

ONE = dict(stride=(1, 1), padding=(0, 0), dilation=(1, 1))


def conv1x1_forward(x, weight, bias):
    return conv2d_forward(x, weight, bias, **ONE)


def conv1x1_backward(grad_output, x, weight):
    return conv2d_backward(grad_output, x, weight, **ONE)


SOLUTION = {"conv1x1_forward": conv1x1_forward, "conv1x1_backward": conv1x1_backward}


def examples():
    x = np.array([1.0, 2.0, 3.0]).reshape(1, 3, 1, 1)
    w = np.array([1.0, 0.0, -1.0]).reshape(1, 3, 1, 1)
    return [
        Example("conv1x1_forward", dict(x=x, weight=w, bias=np.array([10.0])),
                np.array([[[[8.0]]]]), "1*1 + 2*0 + 3*(-1) + 10 = 8"),
        Example("conv1x1_backward", dict(grad_output=np.ones((1, 1, 1, 1)), x=x, weight=w),
                (w.reshape(1, 3, 1, 1), x.reshape(1, 3, 1, 1), np.array([1.0])),
                "g = 1: grad_x = the weights, grad_weight = the pixel's channels, grad_bias 1"),
    ]


@st.composite
def configs(draw):
    return dict(N=draw(st.integers(1, 2)), C=draw(st.integers(1, 4)),
                C_out=draw(st.integers(1, 4)), H=draw(st.integers(1, 3)),
                W=draw(st.integers(1, 3)), seed=draw(st.integers(0, 2**16)),
                contiguous=draw(st.booleans()))


def _inputs(g):
    x = _data.layout(_data.values(g["seed"], (g["N"], g["C"], g["H"], g["W"])),
                     g["contiguous"])
    w = _data.values(g["seed"] + 1, (g["C_out"], g["C"], 1, 1))
    return x, w, _data.values(g["seed"] + 2, (g["C_out"],))


def cases(g):
    x, w, b = _inputs(g)
    return [("conv1x1_forward", dict(x=x, weight=w, bias=b))]


def grad_problems(g, student):
    x, w, b = _inputs(g)
    return [GradProblem(
        "conv1x1_backward", conv1x1_forward,
        lambda up, x, w, b: student["conv1x1_backward"](up, x, w),
        dict(x=x, weight=w, bias=b), {},
        lambda up, a: dict(grad_output=up, x=a["x"], weight=a["weight"]),
        lambda up, x, w, b: conv1x1_backward(up, x, w))]


EXERCISE = Exercise(
    name="conv1x1", order=19, lecture="04 Stride, padding, pooling",
    lesson="04_stride_padding_pooling", title="1x1 convolution forward/backward",
    functions={"conv1x1_forward": "x, weight, bias", "conv1x1_backward": "grad_output, x, weight"},
    doc=DOC, hints=HINTS, solution=SOLUTION, examples=examples, strategy=configs, cases=cases,
    grad_strategy=configs, grad_problems=grad_problems, rtol=1e-9, atol=1e-10,
)
