"""Exercise 06: binary cross-entropy with logits (stable), forward and backward."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from ... import functional as F
from ..core import Example, Exercise
from ..gradients import GradProblem
from . import _data, _engine

DOC = '''Binary cross-entropy that takes the logits, not the probabilities.

Lecture 01 (Losses), "Binary cross-entropy: take the logits, not the probabilities". With
p = sigmoid(z), BCE = -(y log p + (1 - y) log(1 - p)). Computing p first loses everything
once |z| is large (sigmoid(40) == 1.0 in float64, log(1 - 1) = -inf). Rewrite it on z:

    loss_i = max(z, 0) - z*y + log(1 + exp(-|z|))          (never overflows)
    loss   = mean over all elements
    dloss/dz = (sigmoid(z) - y) / M                         (times the upstream grad_loss)

Shapes: logits and targets of the same shape; targets in [0, 1] (may be soft labels).

Worked example: z = [0], y = [1]: loss = 0 - 0 + log 2 = 0.6931...; gradient = 0.5 - 1 =
-0.5. z = [100], y = [0]: loss = 100 (the naive formula gives inf).
'''

HINTS = (
    "Do not compute sigmoid(z) and then log it: use the logits formula in the docstring.",
    "np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z))) is the per-element loss; take "
    "the mean.",
    "Backward: sigmoid(z) - y, divided by the number of elements, times grad_loss. A stable "
    "sigmoid: np.where(z >= 0, 1 / (1 + exp(-z)), exp(z) / (1 + exp(z))).",
)


def bce_forward(logits, target):
    return _engine.value(F.binary_cross_entropy_with_logits, logits, target)


def bce_backward(grad_loss, logits, target):
    return _engine.grads(F.binary_cross_entropy_with_logits, grad_loss, logits, target)[0]


def examples():
    return [
        Example("bce_forward", dict(logits=np.array([0.0]), target=np.array([1.0])),
                np.log(2.0), "z = 0, y = 1: log 2"),
        Example("bce_forward", dict(logits=np.array([100.0, -100.0]),
                                    target=np.array([0.0, 1.0])), 100.0,
                "z = 100 with y = 0 and z = -100 with y = 1: each costs 100 (naive: inf)"),
        Example("bce_backward", dict(grad_loss=np.array(1.0), logits=np.array([0.0, 0.0]),
                                     target=np.array([1.0, 0.0])), np.array([-0.25, 0.25]),
                "z = [0, 0], y = [1, 0]: (sigmoid - y) / 2 = [-0.25, 0.25]"),
    ]


@st.composite
def configs(draw):
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=2)))
    return dict(shape=shape, seed=draw(st.integers(0, 2**16)), big=draw(st.booleans()))


def _inputs(g):
    z = _data.values(g["seed"], g["shape"]) * (60.0 if g.get("big") else 1.0)
    y = np.random.default_rng(g["seed"] + 1).integers(0, 5, g["shape"]) / 4
    return z, y


def cases(g):
    z, y = _inputs(g)
    return [("bce_forward", dict(logits=z, target=y)),
            ("bce_backward", dict(grad_loss=np.array(1.25), logits=z, target=y))]


def grad_problems(g, student):
    z, y = _inputs(dict(g, big=False))
    return [GradProblem(
        "bce_backward", lambda z, target: bce_forward(z, target),
        lambda up, z, target: (student["bce_backward"](up, z, target),),
        dict(logits=z), dict(target=y),
        lambda up, a: dict(grad_loss=up, logits=a["logits"], target=y),
        lambda up, z, target: (bce_backward(up, z, target),))]


def torch_check(student, seed):
    import torch  # noqa: PLC0415

    from ..calls import compare  # noqa: PLC0415

    rng = np.random.default_rng(seed)
    z, y = rng.standard_normal((5, 3)) * 20, rng.random((5, 3))
    tz = torch.from_numpy(z.copy()).requires_grad_()
    loss = torch.nn.functional.binary_cross_entropy_with_logits(tz, torch.from_numpy(y))
    loss.backward()
    compare(student["bce_forward"](z, y), loss.item(), 1e-10, 1e-12, what="loss vs torch")
    compare(student["bce_backward"](np.array(1.0), z, y), tz.grad.numpy(), 1e-10, 1e-12,
            what="gradient vs torch")
    return "loss and gradient equal torch's binary_cross_entropy_with_logits"


EXERCISE = Exercise(
    name="bce_with_logits", order=6, lecture="01 Losses", lesson="01_losses",
    title="binary cross-entropy with logits, stable, forward and backward",
    functions={"bce_forward": "logits, target", "bce_backward": "grad_loss, logits, target"},
    doc=DOC, hints=HINTS, solution={"bce_forward": bce_forward, "bce_backward": bce_backward},
    examples=examples, strategy=configs, cases=cases, grad_strategy=configs,
    grad_problems=grad_problems, torch_check=torch_check,
)
