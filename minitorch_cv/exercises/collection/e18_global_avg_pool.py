"""Exercise 18: global average pooling forward and backward."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from ... import functional as F
from ..core import Example, Exercise
from ..gradients import GradProblem
from . import _data, _engine

DOC = '''Global average pooling: one number per channel, the mean of its whole map.

Lecture 04 ("Max, average and global pooling") and lecture 13 (Network in Network, "Global
average pooling instead of dense layers"): instead of flattening the last feature maps into
a huge dense layer, average each channel's map: C numbers, no parameters, any input size.

Shapes:  x (N, C, H, W)  ->  out (N, C)       backward: grad_output (N, C) -> (N, C, H, W)
    out[n, c] = (1 / (H*W)) * sum over h, w of x[n, c, h, w]
    grad_x[n, c, h, w] = grad_output[n, c] / (H*W)       (every pixel shares equally)

Worked example: x = [[[[1, 2], [3, 6]]]] (N = C = 1): out = [[3]]; with grad_output [[4]]
the gradient is [[[[1, 1], [1, 1]]]].
'''

HINTS = (
    "Mean over the two spatial axes only: axis=(2, 3). Not over N: each image keeps its own.",
    "Return (N, C), not (N, C, 1, 1) (PyTorch's adaptive_avg_pool2d(x, 1) gives (N, C, 1, 1); "
    "this exercise flattens it, as a classifier head does).",
    "Backward: np.broadcast_to(grad_output[:, :, None, None] / (H*W), (N, C, H, W)).copy().",
)


def global_avg_pool_forward(x):
    return _engine.value(lambda t: F.adaptive_avg_pool2d(t, 1).flatten(1), x)


def global_avg_pool_backward(grad_output, H, W):
    N, C = grad_output.shape
    return _engine.grads(lambda t: F.adaptive_avg_pool2d(t, 1).flatten(1), grad_output,
                         np.zeros((N, C, H, W)))[0]


SOLUTION = {"global_avg_pool_forward": global_avg_pool_forward,
            "global_avg_pool_backward": global_avg_pool_backward}


def examples():
    return [
        Example("global_avg_pool_forward", dict(x=np.array([[[[1.0, 2.0], [3.0, 6.0]]]])),
                np.array([[3.0]]), "(1 + 2 + 3 + 6) / 4 = 3"),
        Example("global_avg_pool_backward", dict(grad_output=np.array([[4.0]]), H=2, W=2),
                np.ones((1, 1, 2, 2)), "4 / (2*2) = 1 to every pixel"),
    ]


@st.composite
def configs(draw):
    return dict(N=draw(st.integers(1, 3)), C=draw(st.integers(1, 3)),
                H=draw(st.integers(1, 4)), W=draw(st.integers(1, 4)),
                seed=draw(st.integers(0, 2**16)), contiguous=draw(st.booleans()))


def cases(g):
    x = _data.layout(_data.values(g["seed"], (g["N"], g["C"], g["H"], g["W"])),
                     g["contiguous"])
    return [("global_avg_pool_forward", dict(x=x)),
            ("global_avg_pool_backward", dict(grad_output=_data.values(g["seed"] + 1, (
                g["N"], g["C"])), H=g["H"], W=g["W"]))]


def grad_problems(g, student):
    x = _data.values(g["seed"], (g["N"], g["C"], g["H"], g["W"]))
    return [GradProblem(
        "global_avg_pool_backward", global_avg_pool_forward,
        lambda up, x: (student["global_avg_pool_backward"](up, x.shape[2], x.shape[3]),),
        dict(x=x), {}, lambda up, a: dict(grad_output=up, H=g["H"], W=g["W"]),
        lambda up, x: (global_avg_pool_backward(up, x.shape[2], x.shape[3]),))]


EXERCISE = Exercise(
    name="global_avg_pool", order=18, lecture="04 Stride, padding, pooling",
    lesson="13_nin", title="global average pooling forward/backward",
    functions={"global_avg_pool_forward": "x", "global_avg_pool_backward": "grad_output, H, W"},
    doc=DOC, hints=HINTS, solution=SOLUTION, examples=examples, strategy=configs, cases=cases,
    grad_strategy=configs, grad_problems=grad_problems,
)
