"""Exercise 15: conv2d forward and backward through im2col + one GEMM (and col2im)."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from ...autograd.function import Function
from ...autograd.tensor import Tensor
from ...functional.conv import conv2d as engine_conv2d
from ..calls import compare
from ..core import Example, Exercise
from ..gradients import GradProblem
from . import _data

DOC = '''conv2d through im2col + GEMM: forward, and backward with col2im.

Lecture 03 (Convolution), "How convolution is computed: im2col and one matrix product", and
lecture 04 (stride, padding, dilation). A filter is a dot product with every window: the
slide's 2x2 patch [[1, 10], [2, 20]] times the filter [[1, 2], [2, 0]] gives
1*1 + 10*2 + 2*2 + 20*0 = 25. Lay every window out as a column (im2col) and all filters at
all positions are one matrix product.

Shapes:
    x       (N, C, H, W)             weight  (C_out, C, kh, kw)      bias (C_out,) or None
    out     (N, C_out, out_h, out_w) with out_h = (H + 2*ph - dh*(kh - 1) - 1) // sh + 1
    stride = (sh, sw), padding = (ph, pw), dilation = (dh, dw): pairs of ints

Forward:
    col = im2col(x, ...)                                  (N, C, kh, kw, out_h, out_w)
    out[n, o, :, :] = sum over c, i, j of weight[o, c, i, j] * col[n, c, i, j, :, :] + bias[o]
    i.e. W (C_out, C*kh*kw) @ col[n] reshaped (C*kh*kw, out_h*out_w)

Backward, with g = grad_output (N, C_out, out_h, out_w):
    grad_bias[o]   = sum of g[:, o, :, :]
    grad_weight    = sum over n of g[n] (C_out, L) @ col[n].T (L, C*kh*kw)
    grad_col[n]    = W.T (C*kh*kw, C_out) @ g[n] (C_out, L)
    grad_x         = col2im(grad_col, H, W, ...)   (overlapping windows ADD their gradients)

You may use `from minitorch_cv.kernels.reference import im2col, col2im` (or your own from
the previous two exercises).

Worked examples: the slide (x = [[1, 10], [2, 20]], weight = [[1, 2], [2, 0]], no bias) gives
out = [[25]]; with grad_output = [[1]] the backward gives grad_x = the filter
[[1, 2], [2, 0]], grad_weight = the patch [[1, 10], [2, 20]] and grad_bias = [1].
'''

HINTS = (
    "Forward: col = im2col(...) then one matrix product. Reshape the weight to (C_out, "
    "C*kh*kw) and col to (N, C*kh*kw, out_h*out_w); np.matmul broadcasts over N.",
    "Compute out_h and out_w with the formula before calling im2col. Add the bias with shape "
    "(1, C_out, 1, 1) so it broadcasts over the batch and the pixels; skip it when it is None.",
    "Backward: rebuild col, then grad_weight = sum over n of g[n] @ col[n].T (np.einsum("
    "'nol,nkl->ok', g, col) does it in one line), grad_bias = g.sum((0, 2, 3)).",
    "grad_col = W2.T @ g (shape (N, C*kh*kw, L)); reshape it to (N, C, kh, kw, out_h, out_w) "
    "and call col2im(grad_col, H, W, sh, sw, ph, pw, dh, dw). Do not write your own "
    "'overwrite' here: taps that read the same pixel must add.",
)


def conv2d_forward(x, weight, bias, stride, padding, dilation):
    b = None if bias is None else Tensor(bias)
    return engine_conv2d(Tensor(x), Tensor(weight), b, stride, padding, dilation).numpy()


def conv2d_backward(grad_output, x, weight, stride, padding, dilation):
    xt, wt = Tensor(x, requires_grad=True), Tensor(weight, requires_grad=True)
    out = engine_conv2d(xt, wt, None, stride, padding, dilation)
    out.backward(Tensor(grad_output))
    return xt.grad.numpy(), wt.grad.numpy(), grad_output.sum(axis=(0, 2, 3))


SOLUTION = {"conv2d_forward": conv2d_forward, "conv2d_backward": conv2d_backward}


def examples():
    x = np.array([[[[1.0, 10.0], [2.0, 20.0]]]])
    w = np.array([[[[1.0, 2.0], [2.0, 0.0]]]])
    plain = dict(stride=(1, 1), padding=(0, 0), dilation=(1, 1))
    ones = np.ones((1, 1, 3, 3))
    return [
        Example("conv2d_forward", dict(x=x, weight=w, bias=None, **plain), np.array(
            [[[[25.0]]]]), "the slide: 1*1 + 10*2 + 2*2 + 20*0 = 25"),
        Example("conv2d_forward", dict(x=x, weight=w, bias=np.array([0.5]), **plain),
                np.array([[[[25.5]]]]), "the slide with bias 0.5: 25.5"),
        Example("conv2d_forward", dict(x=ones, weight=ones, bias=None, stride=(1, 1),
                                       padding=(1, 1), dilation=(1, 1)),
                np.array([[[[4.0, 6, 4], [6, 9, 6], [4, 6, 4]]]]),
                "3x3 ones, 3x3 ones filter, padding 1: each output counts the real pixels "
                "its window covers (4 in a corner, 6 on an edge, 9 in the middle)"),
        Example("conv2d_backward", dict(grad_output=np.ones((1, 1, 1, 1)), x=x, weight=w,
                                        **plain), (w, x, np.array([1.0])),
                "the slide backwards: grad_x = filter, grad_weight = patch, grad_bias = 1"),
        Example("conv2d_backward", dict(grad_output=np.ones((1, 1, 3, 3)), x=ones, weight=ones,
                                        stride=(1, 1), padding=(1, 1), dilation=(1, 1)),
                np.array([[[[4.0, 6, 4], [6, 9, 6], [4, 6, 4]]]]),
                "padding 1, grad_output all ones: each input pixel collects one gradient per "
                "window that reads it (col2im adds): 4, 6 or 9", output=0),
    ]


@st.composite
def configs(draw):
    g = draw(_data.geometry(out_channels=True))
    g["bias"] = draw(st.booleans())
    return g


def _inputs(g):
    x = _data.layout(_data.values(g["seed"], (g["N"], g["C"], g["H"], g["W"])),
                     g["contiguous"])
    w = _data.layout(_data.values(g["seed"] + 1, (g["C_out"], g["C"], g["kh"], g["kw"])),
                     g["contiguous"])
    b = _data.values(g["seed"] + 2, (g["C_out"],)) if g.get("bias", True) else None
    geometry = dict(stride=(g["sh"], g["sw"]), padding=(g["ph"], g["pw"]),
                    dilation=(g["dh"], g["dw"]))
    return x, w, b, geometry


def cases(g):
    x, w, b, geometry = _inputs(g)
    return [("conv2d_forward", dict(x=x, weight=w, bias=b, **geometry))]


def grad_problems(g, student):
    x, w, b, geometry = _inputs(g)

    def forward(x, weight, bias, **geometry):
        return conv2d_forward(x, weight, bias, **geometry)

    def backward(grad, x, weight, bias, **geometry):
        return student["conv2d_backward"](grad, x, weight, **geometry)

    def reference(grad, x, weight, bias, **geometry):
        return conv2d_backward(grad, x, weight, **geometry)

    return [GradProblem("conv2d_backward", forward, backward, dict(x=x, weight=w, bias=b),
                        geometry, lambda up, a: dict(grad_output=up, x=a["x"],
                                                     weight=a["weight"], **geometry),
                        reference)]


def grad_configs():
    return _data.geometry(max_size=5, out_channels=True).map(lambda g: dict(g, bias=True))


def torch_check(student, seed):
    import torch  # noqa: PLC0415

    rng = np.random.default_rng(seed)
    for stride, padding, dilation in (((2, 1), (1, 2), (1, 2)), ((1, 1), (0, 0), (1, 1))):
        x, w, b = rng.standard_normal((2, 3, 7, 6)), rng.standard_normal((4, 3, 3, 2)), \
            rng.standard_normal(4)
        tx, tw, tb = (torch.from_numpy(a.copy()).requires_grad_() for a in (x, w, b))
        out = torch.nn.functional.conv2d(tx, tw, tb, stride, padding, dilation)
        up = rng.standard_normal(tuple(out.shape))
        out.backward(torch.from_numpy(up))
        what = f"stride={stride}, padding={padding}, dilation={dilation}"
        compare(student["conv2d_forward"](x, w, b, stride, padding, dilation),
                out.detach().numpy(), 1e-9, 1e-10, what=f"forward vs torch ({what})")
        compare(student["conv2d_backward"](up, x, w, stride, padding, dilation),
                (tx.grad.numpy(), tw.grad.numpy(), tb.grad.numpy()), 1e-9, 1e-10,
                what=f"backward vs torch ({what})")
    return "forward and all three gradients equal torch.nn.functional.conv2d's (rtol 1e-9)"


def plugin_conv2d(student):
    """``F.conv2d`` with the student's forward and backward inside an autograd Function."""
    from ...functional.conv import pair  # noqa: PLC0415

    class StudentConv2d(Function):
        @staticmethod
        def forward(ctx, x, weight, bias=None, stride=(1, 1), padding=(0, 0),
                    dilation=(1, 1)):
            ctx.save_for_backward(x, weight)
            ctx.geometry, ctx.has_bias = (stride, padding, dilation), bias is not None
            return np.asarray(student["conv2d_forward"](x, weight, bias, stride, padding,
                                                        dilation), dtype=x.dtype)

        @staticmethod
        def backward(ctx, grad_output):
            x, weight = ctx.saved_tensors
            gx, gw, gb = student["conv2d_backward"](grad_output, x, weight, *ctx.geometry)
            return (np.asarray(gx, x.dtype), np.asarray(gw, x.dtype),
                    np.asarray(gb, x.dtype) if ctx.has_bias else None)

    def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):  # noqa: A002
        if groups != 1:
            raise ValueError("the plugged-in conv2d handles groups=1 only")
        return StudentConv2d.apply(input, weight, bias, stride=pair(stride, "stride", "conv2d"),
                                   padding=pair(padding, "padding", "conv2d"),
                                   dilation=pair(dilation, "dilation", "conv2d"))

    return conv2d


def plugin(student):
    from ... import functional  # noqa: PLC0415
    from ..plugin import compare_training  # noqa: PLC0415

    return compare_training(functional, "conv2d", plugin_conv2d(student), "conv2d")


EXERCISE = Exercise(
    name="conv2d", order=15, lecture="03 Convolution", lesson="03_convolution",
    title="conv2d forward and backward via im2col + GEMM",
    functions={"conv2d_forward": "x, weight, bias, stride, padding, dilation",
               "conv2d_backward": "grad_output, x, weight, stride, padding, dilation"},
    doc=DOC, hints=HINTS, solution=SOLUTION, examples=examples,
    imports="import numpy as np\nfrom minitorch_cv.kernels.reference import col2im, im2col",
    strategy=configs, cases=cases, grad_strategy=grad_configs, grad_problems=grad_problems,
    torch_check=torch_check, plugin=plugin, max_examples=25, rtol=1e-9, atol=1e-10,
)
