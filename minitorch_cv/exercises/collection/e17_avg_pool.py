"""Exercise 17: average pooling forward and backward (zero padding counted, torch's default)."""

from __future__ import annotations

import numpy as np

from ...kernels import reference
from ..core import Example, Exercise
from ..gradients import GradProblem
from . import _data

DOC = '''Average pooling: the mean of each window; its gradient is shared equally.

Lecture 04 (Stride, padding, pooling), "Max, average and global pooling".

Shapes:
    x (N, C, H, W); kernel_size = (kh, kw), stride = (sh, sw), padding = (ph, pw): pairs
    out (N, C, out_h, out_w), out_h = (H + 2*ph - kh) // sh + 1

PyTorch's default count_include_pad=True: the padding counts as zeros IN the mean, so
every window divides by kh*kw:
    out[n, c, oh, ow] = (1 / (kh*kw)) * sum of x over the window's taps inside the image
Backward: every pixel of a window receives grad_output / (kh*kw), once per window that
covers it (+=):
    grad_x[n, c, h, w] += grad_output[n, c, oh, ow] / (kh*kw)

Worked example: x = [[1, 2], [3, 6]], a 2x2 window: out = 12/4 = 3. With padding 1 and a
2x2 window with stride 2 on x = [[4]] (1x1): the window holds 3 zeros and the 4: out = 1.
'''

HINTS = (
    "Same window loops as max pooling; sum the taps that are inside the image.",
    "Divide by kh*kw always (the padding counts as zeros), not by the number of real pixels.",
    "Backward: for each output, add grad_output / (kh*kw) to every real pixel of its window.",
)


def _geo(x_shape, kernel_size, stride, padding):
    (kh, kw), (sh, sw), (ph, pw) = kernel_size, stride, padding
    return (kh, kw, sh, sw, ph, pw, _data.out_size(x_shape[2], kh, sh, ph),
            _data.out_size(x_shape[3], kw, sw, pw))


def avg_pool2d_forward(x, kernel_size, stride, padding):
    return reference.avg_pool2d_forward(x, *_geo(x.shape, kernel_size, stride, padding), True)


def avg_pool2d_backward(grad_output, H, W, kernel_size, stride, padding):
    (kh, kw), (sh, sw), (ph, pw) = kernel_size, stride, padding
    return reference.avg_pool2d_backward(grad_output, H, W, kh, kw, sh, sw, ph, pw, True)


SOLUTION = {"avg_pool2d_forward": avg_pool2d_forward, "avg_pool2d_backward": avg_pool2d_backward}


def examples():
    return [
        Example("avg_pool2d_forward", dict(x=np.array([[[[1.0, 2.0], [3.0, 6.0]]]]),
                                           kernel_size=(2, 2), stride=(2, 2), padding=(0, 0)),
                np.array([[[[3.0]]]]), "(1 + 2 + 3 + 6) / 4 = 3"),
        Example("avg_pool2d_forward", dict(x=np.array([[[[4.0]]]]), kernel_size=(2, 2),
                                           stride=(2, 2), padding=(1, 1)),
                np.array([[[[1.0]]]]), "padding counts: (0 + 0 + 0 + 4) / 4 = 1"),
        Example("avg_pool2d_backward", dict(grad_output=np.array([[[[4.0, 8.0]]]]), H=1, W=3,
                                            kernel_size=(1, 2), stride=(1, 1),
                                            padding=(0, 0)),
                np.array([[[[2.0, 6.0, 4.0]]]]),
                "two overlapping 1x2 windows: the middle pixel gets 4/2 + 8/2 = 6"),
    ]


def _geo_args(g):
    return dict(kernel_size=(g["kh"], g["kw"]), stride=(g["sh"], g["sw"]),
                padding=(g["ph"], g["pw"]))


def cases(g):
    x = _data.layout(_data.values(g["seed"], (g["N"], g["C"], g["H"], g["W"])),
                     g["contiguous"])
    up = _data.values(g["seed"] + 1, (g["N"], g["C"], g["out_h"], g["out_w"]))
    return [("avg_pool2d_forward", dict(x=x, **_geo_args(g))),
            ("avg_pool2d_backward", dict(grad_output=up, H=g["H"], W=g["W"], **_geo_args(g)))]


def grad_problems(g, student):
    x = _data.values(g["seed"], (g["N"], g["C"], g["H"], g["W"]))
    geo = _geo_args(g)
    return [GradProblem(
        "avg_pool2d_backward", lambda x, **geo: avg_pool2d_forward(x, **geo),
        lambda up, x, **geo: (student["avg_pool2d_backward"](up, g["H"], g["W"], **geo),),
        dict(x=x), geo, lambda up, a: dict(grad_output=up, H=g["H"], W=g["W"], **geo),
        lambda up, x, **geo: (avg_pool2d_backward(up, g["H"], g["W"], **geo),))]


def torch_check(student, seed):
    import torch  # noqa: PLC0415

    from ..calls import compare  # noqa: PLC0415

    rng = np.random.default_rng(seed)
    x = rng.standard_normal((2, 3, 7, 6))
    tx = torch.from_numpy(x.copy()).requires_grad_()
    out = torch.nn.functional.avg_pool2d(tx, (3, 2), (2, 1), (1, 1))
    up = rng.standard_normal(out.shape)
    out.backward(torch.from_numpy(up))
    compare(student["avg_pool2d_forward"](x, (3, 2), (2, 1), (1, 1)), out.detach().numpy(),
            1e-12, 1e-14, what="forward vs torch")
    compare(student["avg_pool2d_backward"](up, 7, 6, (3, 2), (2, 1), (1, 1)), tx.grad.numpy(),
            1e-12, 1e-14, what="backward vs torch")
    return "forward and gradient equal torch's avg_pool2d (count_include_pad=True)"


EXERCISE = Exercise(
    name="avg_pool", order=17, lecture="04 Stride, padding, pooling",
    lesson="04_stride_padding_pooling", title="average pooling forward/backward",
    functions={"avg_pool2d_forward": "x, kernel_size, stride, padding",
               "avg_pool2d_backward": "grad_output, H, W, kernel_size, stride, padding"},
    doc=DOC, hints=HINTS, solution=SOLUTION, examples=examples,
    strategy=lambda: _data.pool_geometry(dilation=False), cases=cases,
    grad_strategy=lambda: _data.pool_geometry(dilation=False, max_size=5),
    grad_problems=grad_problems, torch_check=torch_check,
)
