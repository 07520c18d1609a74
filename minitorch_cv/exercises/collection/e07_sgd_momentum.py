"""Exercise 07: SGD with momentum and weight decay (PyTorch's update rule)."""

from __future__ import annotations

import numpy as np

from ...optim import SGD
from ..core import Example, Exercise
from . import _optim

DOC = '''One step of SGD with momentum and weight decay, as torch.optim.SGD does it.

Lecture 02 (Fitting and regularisation), "Explicit regularisation: weight decay". Weight
decay adds lambda/2 * ||w||^2 to the loss, so lambda * w to the gradient. Momentum keeps a
running direction (a velocity) so that steps in a consistent direction build up speed.

Shapes: param, grad and buf all have the parameter's shape; buf is None at the first step.

PyTorch's rule (dampening 0, no Nesterov):
    d   = grad + weight_decay * param
    buf = d                       at the first step (buf is None)
    buf = momentum * buf + d      afterwards
    param = param - lr * buf
Return (new_param, new_buf) as new arrays. With momentum == 0, buf is just d.

Worked example: param = [1], grad = [0.5], buf = None, lr = 0.1, momentum = 0.9,
weight_decay = 0.1: d = 0.5 + 0.1 = 0.6, buf = 0.6, param = 1 - 0.06 = 0.94. Next step with
grad = [0.5] again: d = 0.5 + 0.094 = 0.594, buf = 0.9*0.6 + 0.594 = 1.134,
param = 0.94 - 0.1134 = 0.8266.
'''

HINTS = (
    "Weight decay first: d = grad + weight_decay * param (the gradient of the decay term).",
    "The buffer: the first step has no history, so buf = d; later buf = momentum * buf + d "
    "(no (1 - momentum) factor in PyTorch).",
    "Update with the buffer, not with d: param - lr * buf. Return copies, do not change the "
    "arrays you were given.",
)


def sgd_momentum_step(param, grad, buf, lr, momentum, weight_decay):
    state = {} if buf is None else {"momentum_buffer": buf}
    new_param, new_state = _optim.engine_step(SGD, param, grad, state, lr=lr,
                                              momentum=momentum, weight_decay=weight_decay)
    if "momentum_buffer" not in new_state:  # momentum 0: torch keeps no buffer; it is d
        return new_param, grad + weight_decay * param
    return new_param, new_state["momentum_buffer"]


def examples():
    hyper = dict(lr=0.1, momentum=0.9, weight_decay=0.1)
    return [
        Example("sgd_momentum_step", dict(param=np.array([1.0]), grad=np.array([0.5]),
                                          buf=None, **hyper),
                (np.array([0.94]), np.array([0.6])), "first step: buf = d = 0.6, 1 - 0.06"),
        Example("sgd_momentum_step", dict(param=np.array([0.94]), grad=np.array([0.5]),
                                          buf=np.array([0.6]), **hyper),
                (np.array([0.8266]), np.array([1.134])),
                "second step: buf = 0.9*0.6 + 0.594 = 1.134, param = 0.94 - 0.1134"),
    ]


def property_body(exercise, student, config):
    hyper = dict(lr=config["lr"], momentum=config["momentum"],
                 weight_decay=config["weight_decay"])
    _optim.follow("sgd_momentum_step", sgd_momentum_step, student["sgd_momentum_step"],
                  config, lambda p, g, buf, step: dict(param=p, grad=g, buf=buf, **hyper),
                  lambda out: out)


def torch_check(student, seed):
    import torch  # noqa: PLC0415

    from ..calls import compare  # noqa: PLC0415

    rng = np.random.default_rng(seed)
    param = rng.standard_normal(5)
    tp = torch.from_numpy(param.copy()).requires_grad_()
    optimizer = torch.optim.SGD([tp], lr=0.05, momentum=0.9, weight_decay=0.01)
    buf = None
    for step in range(5):
        grad = rng.standard_normal(5)
        tp.grad = torch.from_numpy(grad.copy())
        optimizer.step()
        param, buf = student["sgd_momentum_step"](param, grad, buf, 0.05, 0.9, 0.01)
        compare(param, tp.detach().numpy(), 1e-12, 1e-14, what=f"step {step + 1} vs torch")
    return "5 steps equal torch.optim.SGD(lr=0.05, momentum=0.9, weight_decay=0.01)"


EXERCISE = Exercise(
    name="sgd_momentum", order=7, lecture="02 Fitting and regularisation",
    lesson="02_fitting_and_regularisation", title="SGD with momentum and weight decay",
    functions={"sgd_momentum_step": "param, grad, buf, lr, momentum, weight_decay"},
    doc=DOC, hints=HINTS, solution={"sgd_momentum_step": sgd_momentum_step},
    examples=examples, strategy=_optim.trajectories, property_body=property_body,
    torch_check=torch_check, rtol=1e-9, atol=1e-12,
)
