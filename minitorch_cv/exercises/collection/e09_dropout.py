"""Exercise 09: inverted dropout, training and evaluation, forward and backward."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from ...kernels import reference
from ..core import Example, Exercise
from ..gradients import GradProblem
from . import _data

DOC = '''Inverted dropout: zero each unit with probability p in training, scale the rest.

Lecture 02 (Fitting and regularisation), "Explicit regularisation: ... dropout", and lecture
11 (AlexNet), "Dropout: random units off in training, identity in eval". Scaling the kept
units by 1/(1 - p) during TRAINING keeps every unit's expected value unchanged, so
evaluation needs no change at all: in eval mode dropout is the identity.

The randomness is given to you, so the result is checkable: u has x's shape with values in
[0, 1). The engine's rule (kernels/reference.py: dropout_mask) keeps a unit when u >= p.

Shapes: x, u (any shape, the same);  out and mask of x's shape.
    training:   mask = (u >= p)   (as 0/1 floats),   out = x * mask / (1 - p)
    eval:       mask = all ones,                     out = x
    p == 1 in training: everything is dropped, out = 0 (do not divide by zero)
Backward:   grad_x = grad_output * mask / (1 - p)     (training; in eval p is passed as 0)

Worked example: x = [1, 2, 3, 4], u = [0.1, 0.6, 0.4, 0.9], p = 0.5, training:
mask = [0, 1, 0, 1], out = [0, 4, 0, 8]. The same in eval: out = [1, 2, 3, 4].
'''

HINTS = (
    "mask = (u >= p).astype(x.dtype): a unit survives when its random number is at least p.",
    "Multiply the survivors by 1 / (1 - p), so that the mean of out equals the mean of x. In "
    "eval mode return x unchanged (and a mask of ones).",
    "Backward is the same multiplication applied to grad_output: grad_output * mask / (1 - p)"
    " (guard p == 1: return zeros).",
)


def _scale(p):
    return 0.0 if p >= 1 else 1.0 / (1.0 - p)


def dropout_forward(x, p, training, u):
    if not training or p == 0:
        return x.copy(), np.ones_like(x)
    mask = (np.asarray(u) >= p).astype(x.dtype)  # the engine's rule (reference.dropout_mask)
    return x * mask * _scale(p), mask


def dropout_backward(grad_output, mask, p):
    return grad_output * mask * _scale(p)


def examples():
    x, u = np.array([1.0, 2, 3, 4]), np.array([0.1, 0.6, 0.4, 0.9])
    return [
        Example("dropout_forward", dict(x=x, p=0.5, training=True, u=u),
                (np.array([0.0, 4, 0, 8]), np.array([0.0, 1, 0, 1])),
                "p = 0.5: keep u >= 0.5 -> mask [0, 1, 0, 1], survivors doubled"),
        Example("dropout_forward", dict(x=x, p=0.5, training=False, u=u), x,
                "eval: the identity", output=0),
        Example("dropout_backward", dict(grad_output=np.ones(4), mask=np.array([0.0, 1, 0, 1]),
                                         p=0.5), np.array([0.0, 2, 0, 2]),
                "backward: the same mask and scale"),
    ]


@st.composite
def configs(draw):
    shape = tuple(draw(st.lists(st.integers(1, 5), min_size=1, max_size=3)))
    return dict(shape=shape, p=draw(st.sampled_from([0.0, 0.25, 0.5, 0.8])),
                training=draw(st.booleans()), seed=draw(st.integers(0, 2**16)))


def _inputs(g):
    n = int(np.prod(g["shape"]))
    u = reference.hash_uniform(g["seed"], np.arange(n)).reshape(g["shape"])
    return _data.values(g["seed"], g["shape"]), np.round(u * 64) / 64


def cases(g):
    x, u = _inputs(g)
    mask = dropout_forward(x, g["p"], True, u)[1]
    return [("dropout_forward", dict(x=x, p=g["p"], training=g["training"], u=u)),
            ("dropout_backward", dict(grad_output=_data.values(g["seed"] + 1, g["shape"]),
                                      mask=mask, p=g["p"]))]


def grad_problems(g, student):
    x, u = _inputs(g)
    mask = dropout_forward(x, g["p"], True, u)[1]
    return [GradProblem(
        "dropout_backward", lambda x, u, p: dropout_forward(x, p, True, u)[0],
        lambda up, x, u, p: (student["dropout_backward"](up, mask, p),), dict(x=x),
        dict(u=u, p=g["p"]), lambda up, a: dict(grad_output=up, mask=mask, p=g["p"]),
        lambda up, x, u, p: (dropout_backward(up, mask, p),))]


EXERCISE = Exercise(
    name="dropout", order=9, lecture="02 Fitting and regularisation",
    lesson="02_fitting_and_regularisation", title="inverted dropout (train and eval)",
    functions={"dropout_forward": "x, p, training, u",
               "dropout_backward": "grad_output, mask, p"},
    doc=DOC, hints=HINTS,
    solution={"dropout_forward": dropout_forward, "dropout_backward": dropout_backward},
    examples=examples, strategy=configs, cases=cases, grad_strategy=configs,
    grad_problems=grad_problems,
)
