"""Exercise 03: Linear forward and backward, and the gradient-descent update."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from ...ops import api
from ..core import Example, Exercise
from ..gradients import GradProblem
from . import _data, _engine

DOC = '''Linear layer forward and backward, and one step of gradient descent.

Lecture 00 (Autograd), the recap slide: f(X) = WX + b, ReLU, and the update
w <- w - lr * dL/dW. Here in PyTorch's layout (a batch of rows, weight (out, in)):

Shapes:
    x (N, in), weight (out, in), bias (out,)  ->  y (N, out)

Forward:     y = x @ weight.T + bias
Backward, with g = dL/dy (N, out):
    dL/dx      = g @ weight             (N, in)
    dL/dweight = g.T @ x                (out, in)
    dL/dbias   = g.sum(axis=0)          (out,)   (the bias was broadcast over N rows)
Update (return a NEW array):   param - lr * grad

Worked example: x = [[1, 2]], weight = [[3, 4]], bias = [5]: y = 1*3 + 2*4 + 5 = [[16]].
With g = [[1]]: dL/dx = [[3, 4]], dL/dweight = [[1, 2]], dL/dbias = [1]. The update with
lr = 0.1 moves weight [[3, 4]] with gradient [[1, 2]] to [[2.9, 3.8]].
'''

HINTS = (
    "Forward is one line: x @ weight.T + bias. Check the shapes on paper first.",
    "Each gradient has the shape of what it is the gradient of: dL/dweight is (out, in), so "
    "it must be g.T (out, N) @ x (N, in).",
    "dL/dx = g @ weight; dL/dbias = g.sum(axis=0) (the bias is used once per row). The "
    "update: return param - lr * grad.",
)


def _affine(x, weight, bias):
    """What nn.Linear.forward computes: x @ weight.T + bias."""
    return api.matmul(x, weight.transpose(0, 1)) + bias


def linear_forward(x, weight, bias):
    return _engine.value(_affine, x, weight, bias)


def linear_backward(grad_output, x, weight):
    return _engine.grads(_affine, grad_output, x, weight, np.zeros(weight.shape[0]))


def sgd_update(param, grad, lr):
    from ...autograd.tensor import Tensor  # noqa: PLC0415
    from ...nn import Parameter  # noqa: PLC0415
    from ...optim import SGD  # noqa: PLC0415

    p = Parameter(Tensor(np.array(param, dtype=np.float64)))
    p.grad = Tensor(np.array(grad, dtype=np.float64))
    SGD([p], lr=lr).step()
    return p.detach().numpy()


SOLUTION = {"linear_forward": linear_forward, "linear_backward": linear_backward,
            "sgd_update": sgd_update}


def examples():
    x, w = np.array([[1.0, 2.0]]), np.array([[3.0, 4.0]])
    return [
        Example("linear_forward", dict(x=x, weight=w, bias=np.array([5.0])),
                np.array([[16.0]]), "1*3 + 2*4 + 5 = 16"),
        Example("linear_backward", dict(grad_output=np.array([[1.0]]), x=x, weight=w),
                (np.array([[3.0, 4.0]]), np.array([[1.0, 2.0]]), np.array([1.0])),
                "g = 1: dL/dx = weight, dL/dweight = x, dL/dbias = 1"),
        Example("sgd_update", dict(param=w, grad=np.array([[1.0, 2.0]]), lr=0.1),
                np.array([[2.9, 3.8]]), "w - 0.1 * [1, 2] = [2.9, 3.8]"),
    ]


@st.composite
def configs(draw):
    return dict(N=draw(st.integers(1, 4)), n_in=draw(st.integers(1, 4)),
                n_out=draw(st.integers(1, 4)), seed=draw(st.integers(0, 2**16)),
                contiguous=draw(st.booleans()))


def _inputs(g):
    x = _data.layout(_data.values(g["seed"], (g["N"], g["n_in"])), g["contiguous"])
    w = _data.layout(_data.values(g["seed"] + 1, (g["n_out"], g["n_in"])), g["contiguous"])
    return x, w, _data.values(g["seed"] + 2, (g["n_out"],))


def cases(g):
    x, w, b = _inputs(g)
    up = _data.values(g["seed"] + 3, (g["N"], g["n_out"]))
    return [("linear_forward", dict(x=x, weight=w, bias=b)),
            ("linear_backward", dict(grad_output=up, x=x, weight=w)),
            ("sgd_update", dict(param=w, grad=_data.values(g["seed"] + 4, w.shape), lr=0.25))]


def grad_problems(g, student):
    x, w, b = _inputs(g)
    return [GradProblem(
        "linear_backward", linear_forward,
        lambda up, x, w, b: student["linear_backward"](up, x, w), dict(x=x, weight=w, bias=b),
        {}, lambda up, a: dict(grad_output=up, x=a["x"], weight=a["weight"]),
        lambda up, x, w, b: linear_backward(up, x, w))]


def torch_check(student, seed):
    import torch  # noqa: PLC0415

    from ..calls import compare  # noqa: PLC0415

    rng = np.random.default_rng(seed)
    x, w, b = rng.standard_normal((5, 3)), rng.standard_normal((4, 3)), rng.standard_normal(4)
    tx, tw, tb = (torch.from_numpy(a.copy()).requires_grad_() for a in (x, w, b))
    y = torch.nn.functional.linear(tx, tw, tb)
    up = rng.standard_normal((5, 4))
    y.backward(torch.from_numpy(up))
    compare(student["linear_forward"](x, w, b), y.detach().numpy(), 1e-12, 1e-12,
            what="forward vs torch.nn.functional.linear")
    compare(student["linear_backward"](up, x, w), (tx.grad.numpy(), tw.grad.numpy(),
                                                   tb.grad.numpy()), 1e-12, 1e-12,
            what="gradients vs torch")
    return "forward and gradients equal torch.nn.functional.linear's"


EXERCISE = Exercise(
    name="linear", order=3, lecture="00 Autograd", lesson="00_autograd",
    title="Linear forward/backward and the update w <- w - lr dL/dW",
    functions={"linear_forward": "x, weight, bias",
               "linear_backward": "grad_output, x, weight", "sgd_update": "param, grad, lr"},
    doc=DOC, hints=HINTS, solution=SOLUTION, examples=examples, strategy=configs,
    cases=cases, grad_strategy=configs, grad_problems=grad_problems, torch_check=torch_check,
)
