"""Exercise 02: reducing a broadcast gradient back to the input's shape (sum_to)."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from ...ops.elementwise import unbroadcast
from ...testing.strategies import broadcastable_pair
from ..core import Example, Exercise
from ..gradients import GradProblem
from . import _data

DOC = '''sum_to: the backward of broadcasting.

Lecture 00 (Autograd), "From scalars to tensors: f(X) = XW + b". In X @ W + b the bias b
(shape (K,)) is broadcast to every row of the (N, K) result: it was USED N times, so its
gradient is the SUM of the N rows of the upstream gradient. In general, broadcasting (1)
prepends axes and (2) stretches axes of size 1; the gradient must be summed over both.

Shapes: grad has the broadcast shape; return an array of `shape` (a tuple).

    extra leading axes:   grad (2, 3, 4) -> shape (3, 4):    sum over axis 0
    stretched axes:       grad (3, 4)    -> shape (3, 1):    sum over axis 1, keepdims=True

Worked example: grad = [[1, 2, 3], [4, 5, 6]] to shape (3,) is [5, 7, 9]; to shape (2, 1) it
is [[6], [15]]; to shape (1, 1) it is [[21]].
'''

HINTS = (
    "First sum away the leading axes that the shape does not have: grad.ndim - len(shape) "
    "of them.",
    "Then, for every axis i where shape[i] == 1 but grad.shape[i] != 1, sum over it keeping "
    "the axis (keepdims=True).",
    "grad = grad.sum(axis=tuple(range(extra))); stretched = tuple(i for i, n in "
    "enumerate(shape) if n == 1 and grad.shape[i] != 1); return grad.sum(axis=stretched, "
    "keepdims=True).",
)


def sum_to(grad, shape):
    return np.asarray(unbroadcast(grad, tuple(shape)))


def examples():
    g = np.array([[1.0, 2, 3], [4, 5, 6]])
    return [
        Example("sum_to", dict(grad=g, shape=(3,)), np.array([5.0, 7, 9]),
                "(2, 3) -> (3,): sum the rows"),
        Example("sum_to", dict(grad=g, shape=(2, 1)), np.array([[6.0], [15]]),
                "(2, 3) -> (2, 1): sum each row, keep the axis"),
        Example("sum_to", dict(grad=g, shape=(1, 1)), np.array([[21.0]]), "(2, 3) -> (1, 1)"),
        Example("sum_to", dict(grad=g, shape=(2, 3)), g, "same shape: unchanged"),
    ]


@st.composite
def configs(draw):
    big, small = draw(broadcastable_pair())
    big = np.broadcast_shapes(big, small)
    return dict(big=tuple(big), small=tuple(small), seed=draw(st.integers(0, 2**16)))


def cases(g):
    return [("sum_to", dict(grad=_data.values(g["seed"], g["big"]), shape=g["small"]))]


def grad_problems(g, student):
    x = _data.values(g["seed"], g["small"])
    return [GradProblem(
        "sum_to", lambda x, big: np.broadcast_to(x, big).copy(),
        lambda up, x, big: (student["sum_to"](up, x.shape),), dict(x=x), dict(big=g["big"]),
        lambda up, a: dict(grad=up, shape=g["small"]),
        lambda up, x, big: (sum_to(up, x.shape),))]


EXERCISE = Exercise(
    name="sum_to", order=2, lecture="00 Autograd", lesson="00_autograd",
    title="sum_to: the gradient of broadcasting",
    functions={"sum_to": "grad, shape"}, doc=DOC, hints=HINTS, solution={"sum_to": sum_to},
    examples=examples, strategy=configs, cases=cases, grad_strategy=configs,
    grad_problems=grad_problems, max_examples=50,
)
