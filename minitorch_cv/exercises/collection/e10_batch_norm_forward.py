"""Exercise 10: batch norm forward, training (with running statistics) and evaluation."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from ... import functional as F
from ...autograd.tensor import Tensor
from ..core import Example, Exercise
from . import _data

DOC = '''Batch normalisation forward: training mode (batch statistics, running averages
updated) and evaluation mode (the running averages).

Lecture 02 (Fitting and regularisation), "Implicit regularisation: batch norm and
mini-batch noise". Per channel c, over the M = N*H*W values of that channel:

Shapes: x (N, C, H, W); gamma, beta, running_mean, running_var (C,).

Training:
    mean = x.mean over (N, H, W)
    var  = ((x - mean)^2).mean over (N, H, W)          the BIASED variance (divide by M)
    out  = gamma * (x - mean) / sqrt(var + eps) + beta
    running_mean = (1 - momentum) * running_mean + momentum * mean
    running_var  = (1 - momentum) * running_var + momentum * var * M / (M - 1)   UNBIASED
Evaluation:
    out = gamma * (x - running_mean) / sqrt(running_var + eps) + beta; running stats unchanged
Return (out, new_running_mean, new_running_var) as new arrays. momentum = 0.1 means "10% new".

Worked example: one channel, x = [1, 3] (N = 2, H = W = 1), gamma = 1, beta = 0, eps = 0,
running stats (0, 1), momentum 0.1, training: mean 2, var 1, out = [-1, 1],
running_mean = 0.2, running_var = 0.9 + 0.1 * 2 = 1.1 (the unbiased variance is 2).
'''

HINTS = (
    "Reduce over axes (0, 2, 3) with keepdims=True so mean and var broadcast against x.",
    "Normalise with the biased variance (np.var's default), but update running_var with the "
    "unbiased one: var * M / (M - 1), M = N*H*W.",
    "Reshape gamma and beta to (1, C, 1, 1). In eval mode use the running statistics and "
    "return them unchanged (copies).",
)


def batch_norm_forward(x, gamma, beta, running_mean, running_var, training, momentum, eps):
    rm, rv = Tensor(np.array(running_mean)), Tensor(np.array(running_var))
    out = F.batch_norm(Tensor(np.array(x)), rm, rv, Tensor(gamma), Tensor(beta),
                       training=training, momentum=momentum, eps=eps)
    return out.numpy(), rm.numpy(), rv.numpy()


def examples():
    x = np.array([1.0, 3.0]).reshape(2, 1, 1, 1)
    one, zero = np.ones(1), np.zeros(1)
    return [
        Example("batch_norm_forward", dict(x=x, gamma=one, beta=zero, running_mean=zero,
                                           running_var=one, training=True, momentum=0.1,
                                           eps=0.0),
                (np.array([-1.0, 1.0]).reshape(2, 1, 1, 1), np.array([0.2]), np.array([1.1])),
                "x = [1, 3]: mean 2, biased var 1 -> [-1, 1]; running_var = 0.9 + 0.1 * 2"),
        Example("batch_norm_forward", dict(x=x, gamma=np.array([2.0]), beta=np.array([1.0]),
                                           running_mean=np.array([1.0]),
                                           running_var=np.array([4.0]), training=False,
                                           momentum=0.1, eps=0.0),
                (np.array([1.0, 3.0]).reshape(2, 1, 1, 1), np.array([1.0]), np.array([4.0])),
                "eval: 2 * (x - 1) / 2 + 1 = [1, 3]; running stats unchanged"),
    ]


@st.composite
def configs(draw):
    return dict(N=draw(st.integers(1, 3)), C=draw(st.integers(1, 3)),
                H=draw(st.integers(1, 3)), W=draw(st.integers(1, 3)),
                training=draw(st.booleans()), momentum=draw(st.sampled_from([0.1, 0.5])),
                seed=draw(st.integers(0, 2**16)), contiguous=draw(st.booleans()))


def cases(g):
    if g["training"] and g["N"] * g["H"] * g["W"] == 1:
        g = dict(g, N=2)  # torch refuses one value per channel in training
    x = _data.layout(_data.values(g["seed"], (g["N"], g["C"], g["H"], g["W"])),
                     g["contiguous"])
    C = g["C"]
    return [("batch_norm_forward", dict(
        x=x, gamma=_data.values(g["seed"] + 1, (C,)), beta=_data.values(g["seed"] + 2, (C,)),
        running_mean=_data.values(g["seed"] + 3, (C,)),
        running_var=np.abs(_data.values(g["seed"] + 4, (C,))) + 0.5,
        training=g["training"], momentum=g["momentum"], eps=1e-5))]


def torch_check(student, seed):
    import torch  # noqa: PLC0415

    from ..calls import compare  # noqa: PLC0415

    rng = np.random.default_rng(seed)
    x = rng.standard_normal((4, 3, 5, 2))
    layer = torch.nn.BatchNorm2d(3, momentum=0.2).double()
    with torch.no_grad():
        layer.weight.copy_(torch.from_numpy(rng.standard_normal(3)))
        layer.bias.copy_(torch.from_numpy(rng.standard_normal(3)))
    gamma, beta = layer.weight.detach().numpy().copy(), layer.bias.detach().numpy().copy()
    rm, rv = np.zeros(3), np.ones(3)
    for training in (True, True, False):
        layer.train(training)
        want = layer(torch.from_numpy(x)).detach().numpy()
        out, rm, rv = student["batch_norm_forward"](x, gamma, beta, rm, rv, training, 0.2,
                                                    1e-5)
        compare((out, rm, rv), (want, layer.running_mean.numpy(), layer.running_var.numpy()),
                1e-9, 1e-11, what=f"vs torch.nn.BatchNorm2d (training={training})")
    return "two training steps and one eval step equal torch.nn.BatchNorm2d's"


EXERCISE = Exercise(
    name="batch_norm_forward", order=10, lecture="02 Fitting and regularisation",
    lesson="02_fitting_and_regularisation",
    title="batch norm forward: training with running statistics, and eval",
    functions={"batch_norm_forward": "x, gamma, beta, running_mean, running_var, training, "
               "momentum, eps"},
    doc=DOC, hints=HINTS, solution={"batch_norm_forward": batch_norm_forward},
    examples=examples, strategy=configs, cases=cases, torch_check=torch_check, rtol=1e-9,
    atol=1e-10,
)
