"""Exercise 16: max pooling forward (first maximum wins ties) and backward."""

from __future__ import annotations

import numpy as np

from ...autograd.function import Function
from ...kernels import reference
from ..core import Example, Exercise
from ..gradients import GradProblem
from . import _data

DOC = '''Max pooling: the largest value of each window, and where it was.

Lecture 04 (Stride, padding, pooling), "Max, average and global pooling" and "Small shifts,
and where the gradient goes". Only the maximum of a window reaches the output, so only it
receives a gradient; we remember WHERE it was (argmax) in the forward pass.

Shapes:
    x (N, C, H, W); kernel_size = (kh, kw), stride = (sh, sw), padding = (ph, pw): pairs
    out, argmax (N, C, out_h, out_w); out_h = (H + 2*ph - kh) // sh + 1
    argmax holds the flat index h*W + w of the maximum in its (n, c) plane (int64)

Forward, for each window: the taps h = oh*sh - ph + i, w = ow*sw - pw + j inside the image
(padding never wins: it counts as -infinity, NOT as 0), in row-major order (i, then j).
TIES: the FIRST maximum in that order wins (PyTorch's CPU rule): use >, not >=.
Backward: grad_x[n, c, argmax] += grad_output[n, c, oh, ow]   (+=: with stride < kernel,
two windows can choose the same pixel).

Worked example: x = [[1, 3], [3, 2]], a 2x2 window: out = [[3]], argmax = [[1]] (the first
3, at h=0, w=1, not the one at h=1, w=0 = index 2). x = [[-1, -2]] with kernel (1, 2),
padding (0, 1), stride (1, 2): the windows are (pad, -1) and (-2, pad): out = [[-1, -2]].
'''

HINTS = (
    "For each output pixel, loop over the window's taps, skip those outside the image, and "
    "keep the best value and its flat index h*W + w.",
    "Start each window with best = -np.inf (not 0: a window of negative numbers must return "
    "the largest negative one); replace only when value > best (strictly), so ties keep the "
    "first.",
    "Backward: grad_x = zeros (N, C, H*W); for every output, grad_x[n, c, argmax[n, c, oh, "
    "ow]] += grad_output[n, c, oh, ow]; reshape to (N, C, H, W). np.add.at does it at once.",
)


def max_pool2d_forward(x, kernel_size, stride, padding):
    (kh, kw), (sh, sw), (ph, pw) = kernel_size, stride, padding
    out_h = _data.out_size(x.shape[2], kh, sh, ph)
    out_w = _data.out_size(x.shape[3], kw, sw, pw)
    return reference.max_pool2d_forward(x, kh, kw, sh, sw, ph, pw, 1, 1, out_h, out_w)


def max_pool2d_backward(grad_output, argmax, H, W):
    return reference.max_pool2d_backward(grad_output, argmax, H, W)


SOLUTION = {"max_pool2d_forward": max_pool2d_forward, "max_pool2d_backward": max_pool2d_backward}


def examples():
    x = np.array([[[[1.0, 3.0], [3.0, 2.0]]]])
    return [
        Example("max_pool2d_forward", dict(x=x, kernel_size=(2, 2), stride=(2, 2),
                                           padding=(0, 0)),
                (np.array([[[[3.0]]]]), np.array([[[[1]]]])),
                "a tie between the 3s: the first in row-major order (index 1) wins"),
        Example("max_pool2d_forward", dict(x=np.array([[[[-1.0, -2.0]]]]), kernel_size=(1, 2),
                                           stride=(1, 2), padding=(0, 1)),
                np.array([[[[-1.0, -2.0]]]]), "padding is -inf, not 0: [-1, -2]", output=0),
        Example("max_pool2d_backward", dict(grad_output=np.array([[[[1.0, 2.0]]]]),
                                            argmax=np.array([[[[1, 1]]]]), H=1, W=3),
                np.array([[[[0.0, 3.0, 0.0]]]]),
                "two windows chose pixel 1: its gradient is 1 + 2 = 3 (+=, not =)"),
    ]


def _args(g, x):
    return dict(x=x, kernel_size=(g["kh"], g["kw"]), stride=(g["sh"], g["sw"]),
                padding=(g["ph"], g["pw"]))


def _x(g):
    return _data.layout(_data.values(g["seed"], (g["N"], g["C"], g["H"], g["W"]), g["ties"]),
                        g["contiguous"])


def cases(g):
    x = _x(g)
    out, argmax = max_pool2d_forward(x, (g["kh"], g["kw"]), (g["sh"], g["sw"]),
                                     (g["ph"], g["pw"]))
    up = _data.values(g["seed"] + 1, out.shape)
    return [("max_pool2d_forward", _args(g, x)),
            ("max_pool2d_backward", dict(grad_output=up, argmax=argmax, H=g["H"], W=g["W"]))]


def grad_problems(g, student):
    x = _data.distinct(g["seed"], (g["N"], g["C"], g["H"], g["W"]))
    geo = dict(kernel_size=(g["kh"], g["kw"]), stride=(g["sh"], g["sw"]),
               padding=(g["ph"], g["pw"]))
    argmax = max_pool2d_forward(x, **geo)[1]
    return [GradProblem(
        "max_pool2d_backward", lambda x, **geo: max_pool2d_forward(x, **geo)[0],
        lambda up, x, **geo: (student["max_pool2d_backward"](up, argmax, g["H"], g["W"]),),
        dict(x=x), geo, lambda up, a: dict(grad_output=up, argmax=argmax, H=g["H"], W=g["W"]),
        lambda up, x, **geo: (max_pool2d_backward(up, argmax, g["H"], g["W"]),))]


def torch_check(student, seed):
    import torch  # noqa: PLC0415

    from ..calls import compare  # noqa: PLC0415

    rng = np.random.default_rng(seed)
    x = rng.integers(-3, 4, (2, 3, 7, 6)).astype(np.float64)  # many ties
    tx = torch.from_numpy(x.copy()).requires_grad_()
    out, index = torch.nn.functional.max_pool2d(tx, (3, 2), (2, 1), (1, 1),
                                                return_indices=True)
    up = rng.standard_normal(out.shape)
    out.backward(torch.from_numpy(up))
    mine, argmax = student["max_pool2d_forward"](x, (3, 2), (2, 1), (1, 1))
    compare((mine, argmax), (out.detach().numpy(), index.numpy()), 1e-12, 0,
            what="forward (values, argmax) vs torch with ties")
    compare(student["max_pool2d_backward"](up, argmax, 7, 6), tx.grad.numpy(), 1e-12, 1e-14,
            what="backward vs torch")
    return "values, indices (ties included) and gradient equal torch's max_pool2d"


def plugin(student):
    """``F.max_pool2d`` with the student's forward and backward; the small CNN trains."""
    from ... import functional  # noqa: PLC0415
    from ...functional.conv import pair  # noqa: PLC0415
    from ..plugin import compare_training  # noqa: PLC0415

    class StudentMaxPool(Function):
        @staticmethod
        def forward(ctx, x, kernel_size=(1, 1), stride=(1, 1), padding=(0, 0)):
            out, argmax = student["max_pool2d_forward"](x, kernel_size, stride, padding)
            ctx.argmax, ctx.size = np.asarray(argmax), x.shape[2:]
            return np.asarray(out, x.dtype)

        @staticmethod
        def backward(ctx, grad_output):
            grad = student["max_pool2d_backward"](grad_output, ctx.argmax, *ctx.size)
            return np.asarray(grad, grad_output.dtype)

    def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1,  # noqa: A002
                   ceil_mode=False, return_indices=False):
        if pair(dilation, "dilation", "max_pool2d") != (1, 1) or ceil_mode or return_indices:
            raise ValueError("the plugged-in max_pool2d has no dilation, ceil_mode or indices")
        kernel = pair(kernel_size, "kernel_size", "max_pool2d")
        return StudentMaxPool.apply(input, kernel_size=kernel,
                                    stride=kernel if stride is None else pair(
                                        stride, "stride", "max_pool2d"),
                                    padding=pair(padding, "padding", "max_pool2d"))

    return compare_training(functional, "max_pool2d", max_pool2d, "max pooling")


EXERCISE = Exercise(
    name="max_pool", order=16, lecture="04 Stride, padding, pooling",
    lesson="04_stride_padding_pooling", title="max pooling forward/backward, first max wins",
    functions={"max_pool2d_forward": "x, kernel_size, stride, padding",
               "max_pool2d_backward": "grad_output, argmax, H, W"},
    doc=DOC, hints=HINTS, solution=SOLUTION, examples=examples,
    strategy=lambda: _data.pool_geometry(dilation=False), cases=cases,
    grad_strategy=lambda: _data.pool_geometry(dilation=False, max_size=5),
    grad_problems=grad_problems, torch_check=torch_check, plugin=plugin,
)
