"""Exercise 11: batch norm backward (training mode)."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from ... import functional as F
from ..core import Example, Exercise
from ..gradients import GradProblem
from . import _data, _engine

DOC = '''Batch normalisation backward, training mode (the batch statistics depend on x).

Lecture 02, "Implicit regularisation: batch norm". Every output of a channel depends on
every input of that channel through the mean and the variance, so the input gradient has
two extra terms besides the direct one. Per channel, over its M = N*H*W values, with
xhat = (x - mean) * invstd, invstd = 1 / sqrt(var + eps) (biased var) and g = grad_output:

    grad_beta  = sum(g)
    grad_gamma = sum(g * xhat)
    grad_x     = gamma * invstd / M * (M * g - sum(g) - xhat * sum(g * xhat))
                                        direct  mean term   variance term

Shapes: grad_output, x (N, C, H, W); gamma (C,). Return (grad_x, grad_gamma, grad_beta).

Worked example: with g the same value everywhere in a channel, grad_x is 0 for that channel
(shifting all inputs of a channel changes nothing after normalisation): the mean term
cancels the direct term, and sum(g * xhat) = g * sum(xhat) = 0. That is why gradcheck uses a
RANDOM upstream gradient: with a constant one, a backward that forgets the variance term
still gives the right answer, 0.
'''

HINTS = (
    "Compute mean, var (biased), invstd and xhat per channel, over axes (0, 2, 3), keepdims.",
    "grad_beta and grad_gamma are sums over (0, 2, 3) of g and g * xhat.",
    "grad_x = gamma[None, :, None, None] * invstd / M * (M * g - sum_g - xhat * sum_gxhat), "
    "where sum_g and sum_gxhat keep their dims. Forgetting either subtraction is the classic "
    "bug: gradcheck with a random upstream gradient catches it.",
)


def _bn(x, gamma, beta, eps):
    return F.batch_norm(x, None, None, gamma, beta, training=True, eps=eps)


def batch_norm_backward(grad_output, x, gamma, eps):
    return _engine.grads(_bn, grad_output, x, gamma, np.zeros_like(gamma), eps=eps)


def examples():
    x = np.array([1.0, 3.0, 2.0, 6.0]).reshape(4, 1, 1, 1)
    return [
        Example("batch_norm_backward", dict(grad_output=np.full((4, 1, 1, 1), 0.5), x=x,
                                            gamma=np.array([2.0]), eps=0.0),
                (np.zeros((4, 1, 1, 1)), np.array([0.0]), np.array([2.0])),
                "a constant upstream gradient: grad_x = 0 (the mean term cancels it), "
                "grad_gamma = 0.5 * sum(xhat) = 0, grad_beta = 4 * 0.5 = 2"),
        Example("batch_norm_backward", dict(grad_output=np.array([1.0, -1.0]).reshape(
            2, 1, 1, 1), x=np.array([1.0, 3.0]).reshape(2, 1, 1, 1), gamma=np.array([1.0]),
            eps=0.0), (np.zeros((2, 1, 1, 1)), np.array([-2.0]), np.array([0.0])),
            "x = [1, 3] (xhat = [-1, 1]), g = [1, -1]: grad_gamma = -2, and grad_x = 0 "
            "(two values always normalise to [-1, 1]: out does not depend on x at all)"),
    ]


@st.composite
def configs(draw):
    return dict(N=draw(st.integers(2, 3)), C=draw(st.integers(1, 2)),
                H=draw(st.integers(1, 3)), W=draw(st.integers(1, 2)),
                seed=draw(st.integers(0, 2**16)), contiguous=draw(st.booleans()))


def _inputs(g):
    x = _data.layout(_data.distinct(g["seed"], (g["N"], g["C"], g["H"], g["W"])),
                     g["contiguous"])
    return x, _data.values(g["seed"] + 1, (g["C"],)) + 2.0


def cases(g):
    x, gamma = _inputs(g)
    up = _data.values(g["seed"] + 2, x.shape)
    return [("batch_norm_backward", dict(grad_output=up, x=x, gamma=gamma, eps=1e-5))]


def grad_problems(g, student):
    x, gamma = _inputs(g)
    beta = np.zeros_like(gamma)

    def forward(x, gamma, beta):
        return _engine.value(_bn, x, gamma, beta, eps=1e-5)

    def backward(up, x, gamma, beta):
        return student["batch_norm_backward"](up, x, gamma, 1e-5)

    return [GradProblem("batch_norm_backward", forward, backward,
                        dict(x=x, gamma=gamma, beta=beta), {},
                        lambda up, a: dict(grad_output=up, x=a["x"], gamma=a["gamma"],
                                           eps=1e-5),
                        lambda up, x, gamma, beta: batch_norm_backward(up, x, gamma, 1e-5))]


def torch_check(student, seed):
    import torch  # noqa: PLC0415

    from ..calls import compare  # noqa: PLC0415

    rng = np.random.default_rng(seed)
    x, gamma, beta = rng.standard_normal((4, 3, 3, 2)), rng.standard_normal(3), np.zeros(3)
    tx, tg, tb = (torch.from_numpy(a.copy()).requires_grad_() for a in (x, gamma, beta))
    out = torch.nn.functional.batch_norm(tx, None, None, tg, tb, training=True, eps=1e-5)
    up = rng.standard_normal(out.shape)
    out.backward(torch.from_numpy(up))
    compare(student["batch_norm_backward"](up, x, gamma, 1e-5),
            (tx.grad.numpy(), tg.grad.numpy(), tb.grad.numpy()), 1e-8, 1e-10,
            what="gradients vs torch.nn.functional.batch_norm")
    return "all three gradients equal torch's (rtol 1e-8)"


EXERCISE = Exercise(
    name="batch_norm_backward", order=11, lecture="02 Fitting and regularisation",
    lesson="02_fitting_and_regularisation", title="batch norm backward (training mode)",
    functions={"batch_norm_backward": "grad_output, x, gamma, eps"},
    doc=DOC, hints=HINTS, solution={"batch_norm_backward": batch_norm_backward},
    examples=examples, strategy=configs, cases=cases, grad_strategy=configs,
    grad_problems=grad_problems, torch_check=torch_check, rtol=1e-8, atol=1e-10,
)
