"""Exercise 08: Adam (with bias correction and L2 weight decay, PyTorch's rule)."""

from __future__ import annotations

import numpy as np

from ...optim import Adam
from ..core import Example, Exercise
from . import _optim

DOC = '''One step of Adam, as torch.optim.Adam does it.

Lectures 02 and 10 (training LeNet "modern" with Adam). Adam keeps two running averages per
parameter: of the gradient (m, the momentum) and of its square (v, the scale), and divides
one by the square root of the other, so every weight gets its own step size.

Shapes: param, grad, exp_avg (m), exp_avg_sq (v) all of the parameter's shape (m and v start
as zeros); step counts from 1 (this is the step-th update).

PyTorch's rule (weight_decay is L2: added to the gradient, not AdamW's decoupled decay):
    g = grad + weight_decay * param
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g^2
    m_hat = m / (1 - beta1^step),   v_hat = v / (1 - beta2^step)     (bias correction)
    param = param - lr * m_hat / (sqrt(v_hat) + eps)
Return (new_param, new_m, new_v).

Worked example: the first step (step = 1, m = v = 0) of ANY gradient moves each weight by
about lr in the direction -sign(g): m_hat = g, v_hat = g^2. param = [1], grad = [4], lr =
0.1, betas (0.9, 0.999), eps 1e-8: m = 0.4, v = 0.016, m_hat = 4, v_hat = 16, param = 1 - 0.1
* 4 / (4 + 1e-8) = 0.9000000002...
'''

HINTS = (
    "Update the two averages first, with (1 - beta) in front of the new term.",
    "Bias correction: at step 1, m is only (1 - beta1) * g because it started at zero; "
    "divide by (1 - beta1**step) (and v by (1 - beta2**step)) to undo that.",
    "eps goes OUTSIDE the square root: lr * m_hat / (np.sqrt(v_hat) + eps). Weight decay: "
    "g = grad + weight_decay * param before everything else.",
)


def adam_step(param, grad, exp_avg, exp_avg_sq, step, lr, betas, eps, weight_decay):
    state = {"step": float(step - 1), "exp_avg": exp_avg, "exp_avg_sq": exp_avg_sq}
    new_param, new = _optim.engine_step(Adam, param, grad, state, lr=lr, betas=betas, eps=eps,
                                        weight_decay=weight_decay)
    return new_param, new["exp_avg"], new["exp_avg_sq"]


def examples():
    return [
        Example("adam_step", dict(param=np.array([1.0]), grad=np.array([4.0]),
                                  exp_avg=np.zeros(1), exp_avg_sq=np.zeros(1), step=1, lr=0.1,
                                  betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0),
                (np.array([1 - 0.1 * 4 / (4 + 1e-8)]), np.array([0.4]), np.array([0.016])),
                "first step: m_hat = g, v_hat = g^2, the weight moves by lr: 1 -> 0.9"),
    ]


def property_body(exercise, student, config):
    hyper = dict(lr=config["lr"], betas=config["betas"], eps=1e-8,
                 weight_decay=config["weight_decay"])

    def make(param, grad, state, step):
        m, v = (np.zeros(param.shape), np.zeros(param.shape)) if state is None else state
        return dict(param=param, grad=grad, exp_avg=m, exp_avg_sq=v, step=step, **hyper)

    _optim.follow("adam_step", adam_step, student["adam_step"], config, make,
                  lambda out: (out[0], (out[1], out[2])))


def torch_check(student, seed):
    import torch  # noqa: PLC0415

    from ..calls import compare  # noqa: PLC0415

    rng = np.random.default_rng(seed)
    param = rng.standard_normal(5)
    tp = torch.from_numpy(param.copy()).requires_grad_()
    optimizer = torch.optim.Adam([tp], lr=0.01, betas=(0.8, 0.99), weight_decay=0.01)
    m, v = np.zeros(5), np.zeros(5)
    for step in range(1, 6):
        grad = rng.standard_normal(5)
        tp.grad = torch.from_numpy(grad.copy())
        optimizer.step()
        param, m, v = student["adam_step"](param, grad, m, v, step, 0.01, (0.8, 0.99), 1e-8,
                                           0.01)
        compare(param, tp.detach().numpy(), 1e-10, 1e-12, what=f"step {step} vs torch")
    return "5 steps equal torch.optim.Adam(lr=0.01, betas=(0.8, 0.99), weight_decay=0.01)"


EXERCISE = Exercise(
    name="adam", order=8, lecture="02 Fitting and regularisation",
    lesson="02_fitting_and_regularisation", title="Adam with bias correction",
    functions={"adam_step": "param, grad, exp_avg, exp_avg_sq, step, lr, betas, eps, "
               "weight_decay"},
    doc=DOC, hints=HINTS, solution={"adam_step": adam_step}, examples=examples,
    strategy=_optim.trajectories, property_body=property_body, torch_check=torch_check,
    rtol=1e-9, atol=1e-12,
)
