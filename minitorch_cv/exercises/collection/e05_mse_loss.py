"""Exercise 05: mean squared error, forward and backward."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from ... import functional as F
from ..core import Example, Exercise
from ..gradients import GradProblem
from . import _data, _engine

DOC = '''Mean squared error: the negative log-likelihood of a Gaussian, up to constants.

Lecture 01 (Losses), "MSE is the negative log-likelihood of a Gaussian".

Shapes: prediction and target of the same shape (any); the loss is a scalar (the mean over
ALL elements, PyTorch's reduction='mean'); the gradient has the prediction's shape.

Formulas, with M the number of elements:
    loss = (1/M) * sum (prediction - target)^2
    dloss/dprediction = (2/M) * (prediction - target)      (times the upstream grad_loss)

Worked example: prediction [1, 2, 3], target [1, 0, 0]: loss = (0 + 4 + 9) / 3 = 13/3;
gradient = (2/3) * [0, 2, 3] = [0, 4/3, 2].
'''

HINTS = (
    "The loss is one line: the mean of the squared difference.",
    "The derivative of d^2 is 2d, and the mean divides by the number of elements M = "
    "prediction.size.",
    "grad = grad_loss * 2 * (prediction - target) / prediction.size. Check the sign: it is "
    "prediction MINUS target.",
)


def mse_forward(prediction, target):
    return _engine.value(F.mse_loss, prediction, target)


def mse_backward(grad_loss, prediction, target):
    return _engine.grads(F.mse_loss, grad_loss, prediction, target)[0]


def examples():
    p, t = np.array([1.0, 2.0, 3.0]), np.array([1.0, 0.0, 0.0])
    return [
        Example("mse_forward", dict(prediction=p, target=t), 13 / 3,
                "(0 + 4 + 9) / 3 = 13/3"),
        Example("mse_backward", dict(grad_loss=np.array(1.0), prediction=p, target=t),
                np.array([0.0, 4 / 3, 2.0]), "(2/3) * [0, 2, 3] = [0, 4/3, 2]"),
    ]


@st.composite
def configs(draw):
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=3)))
    return dict(shape=shape, seed=draw(st.integers(0, 2**16)), contiguous=draw(st.booleans()))


def _inputs(g):
    return (_data.layout(_data.values(g["seed"], g["shape"]), g["contiguous"]),
            _data.values(g["seed"] + 1, g["shape"]))


def cases(g):
    p, t = _inputs(g)
    return [("mse_forward", dict(prediction=p, target=t)),
            ("mse_backward", dict(grad_loss=np.array(0.75), prediction=p, target=t))]


def grad_problems(g, student):
    p, t = _inputs(g)
    return [GradProblem(
        "mse_backward", lambda p, target: mse_forward(p, target),
        lambda up, p, target: (student["mse_backward"](up, p, target),),
        dict(prediction=p), dict(target=t),
        lambda up, a: dict(grad_loss=up, prediction=a["prediction"], target=t),
        lambda up, p, target: (mse_backward(up, p, target),))]


def torch_check(student, seed):
    import torch  # noqa: PLC0415

    from ..calls import compare  # noqa: PLC0415

    rng = np.random.default_rng(seed)
    p, t = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    tp = torch.from_numpy(p.copy()).requires_grad_()
    loss = torch.nn.functional.mse_loss(tp, torch.from_numpy(t))
    loss.backward()
    compare(student["mse_forward"](p, t), loss.item(), 1e-12, 1e-14, what="loss vs torch")
    compare(student["mse_backward"](np.array(1.0), p, t), tp.grad.numpy(), 1e-12, 1e-14,
            what="gradient vs torch")
    return "loss and gradient equal torch.nn.functional.mse_loss's"


EXERCISE = Exercise(
    name="mse_loss", order=5, lecture="01 Losses", lesson="01_losses",
    title="mean squared error, forward and backward",
    functions={"mse_forward": "prediction, target",
               "mse_backward": "grad_loss, prediction, target"},
    doc=DOC, hints=HINTS, solution={"mse_forward": mse_forward, "mse_backward": mse_backward},
    examples=examples, strategy=configs, cases=cases, grad_strategy=configs,
    grad_problems=grad_problems, torch_check=torch_check,
)
