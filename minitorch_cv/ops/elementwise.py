"""Elementwise ops: one Function per primitive, on raw arrays, written once with ``xp``.

Binary ops broadcast as NumPy does; their backward reduces each gradient back to the input's
own shape with ``unbroadcast``. Python scalars may stand for either input; they get no gradient.
"""

from __future__ import annotations

import numpy as np

from .. import kernels
from ..autograd.function import Function
from ..errors import SizeError


def unbroadcast(grad, shape: tuple[int, ...]):
    """Sum ``grad`` over the axes that broadcasting added or stretched, to get ``shape`` back.

    Shapes: grad (*broadcast_shape) -> (*shape). Example: x (3, 1) + y (4,) gives (3, 4); the
    gradient for x is summed over axis 1 (kept), the one for y over axis 0 (dropped).
    """
    if tuple(grad.shape) == tuple(shape):
        return grad
    extra = grad.ndim - len(shape)
    if extra > 0:
        grad = grad.sum(axis=tuple(range(extra)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if stretched:
        grad = grad.sum(axis=stretched, keepdims=True)
    return grad


def _shape(x) -> tuple[int, ...]:
    return tuple(np.shape(x))


class Add(Function):
    """``a + b`` with broadcasting; two large same-shape CPU arrays (a residual connection) are
    added by the parallel loop of ``kernels/cpu/elementwise.py``."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (_shape(a), _shape(b))
        if ctx.shapes[0] == ctx.shapes[1]:
            K = kernels.for_device(ctx.device)
            if hasattr(K, "add"):
                return K.add(a, b)
        return a + b

    @staticmethod
    def backward(ctx, grad_output):
        sa, sb = ctx.shapes
        need_a, need_b = ctx.needs_input_grad
        return (unbroadcast(grad_output, sa) if need_a else None,
                unbroadcast(grad_output, sb) if need_b else None)


class Sub(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (_shape(a), _shape(b))
        return a - b

    @staticmethod
    def backward(ctx, grad_output):
        sa, sb = ctx.shapes
        need_a, need_b = ctx.needs_input_grad
        return (unbroadcast(grad_output, sa) if need_a else None,
                unbroadcast(-grad_output, sb) if need_b else None)


class Mul(Function):
    # saves only what the needed gradients use (as torch): an unneeded saved input would make
    # a later in-place change of it raise on backward where torch does not
    @staticmethod
    def forward(ctx, a, b):
        need_a, need_b = ctx.needs_input_grad
        ctx.shapes = (_shape(a), _shape(b))
        ctx.save_for_backward(a if need_b else None, b if need_a else None)
        return a * b

    @staticmethod
    def backward(ctx, grad_output):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        return (unbroadcast(grad_output * b, ctx.shapes[0]) if need_a else None,
                unbroadcast(grad_output * a, ctx.shapes[1]) if need_b else None)


class Div(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (_shape(a), _shape(b))
        ctx.save_for_backward(a if ctx.needs_input_grad[1] else None, b)  # as torch
        with np.errstate(divide="ignore", invalid="ignore"):  # x / 0 is +-inf or nan, silently
            return a / b

    @staticmethod
    def backward(ctx, grad_output):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        grad_a = unbroadcast(grad_output / b, ctx.shapes[0]) if need_a else None
        grad_b = unbroadcast(-grad_output * a / (b * b), _shape(b)) if need_b else None
        return grad_a, grad_b


class Pow(Function):
    """``a ** b``; d/da = b a^(b-1), d/db = a^b log(a)."""

    @staticmethod
    def forward(ctx, a, b):
        out = a**b
        ctx.save_for_backward(a, b, out if ctx.needs_input_grad[1] else None)  # as torch
        return out

    @staticmethod
    def backward(ctx, grad_output):
        a, b, out = ctx.saved_tensors
        xp = ctx.xp
        need_a, need_b = ctx.needs_input_grad
        grad_a = grad_b = None
        if need_a:
            # b * a**(b-1), written so that b == 0 gives 0 even at a == 0 (torch does the same)
            local = xp.where(xp.asarray(b) == 0, 0.0, b * a ** (b - 1))
            grad_a = unbroadcast(grad_output * local, _shape(a))
        if need_b:
            with np.errstate(divide="ignore", invalid="ignore"):
                log_a = xp.where((xp.asarray(a) == 0) & (xp.asarray(b) >= 0), 0.0, xp.log(a))
            grad_b = unbroadcast(grad_output * out * log_a, _shape(b))
        return grad_a, grad_b


class Maximum(Function):
    """Ties split the gradient in half between both inputs, as torch does."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return ctx.xp.maximum(a, b)

    @staticmethod
    def backward(ctx, grad_output):
        return _min_max_backward(ctx, grad_output, greater=True)


class Minimum(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return ctx.xp.minimum(a, b)

    @staticmethod
    def backward(ctx, grad_output):
        return _min_max_backward(ctx, grad_output, greater=False)


def _min_max_backward(ctx, grad_output, greater: bool):
    a, b = ctx.saved_tensors
    a_wins = (a > b) if greater else (a < b)
    tie = a == b
    share_a = a_wins + 0.5 * tie
    need_a, need_b = ctx.needs_input_grad
    return (unbroadcast(grad_output * share_a, _shape(a)) if need_a else None,
            unbroadcast(grad_output * (1.0 - share_a), _shape(b)) if need_b else None)


class Neg(Function):
    @staticmethod
    def forward(ctx, a):
        return -a

    @staticmethod
    def backward(ctx, grad_output):
        return -grad_output


class Exp(Function):
    @staticmethod
    def forward(ctx, a):
        out = ctx.xp.exp(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        (out,) = ctx.saved_tensors
        return grad_output * out


class Log(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        with np.errstate(divide="ignore", invalid="ignore"):  # log(0) = -inf, as torch
            return ctx.xp.log(a)

    @staticmethod
    def backward(ctx, grad_output):
        (a,) = ctx.saved_tensors
        return grad_output / a


class Sqrt(Function):
    @staticmethod
    def forward(ctx, a):
        with np.errstate(invalid="ignore"):  # sqrt(-1) = nan, as torch
            out = ctx.xp.sqrt(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        (out,) = ctx.saved_tensors
        return grad_output / (2 * out)


class Abs(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return ctx.xp.abs(a)

    @staticmethod
    def backward(ctx, grad_output):
        (a,) = ctx.saved_tensors
        return grad_output * ctx.xp.sign(a)  # sign(0) = 0, as torch


class Clamp(Function):
    """Gradient flows where ``min <= a <= max`` (inclusive bounds, as torch)."""

    @staticmethod
    def forward(ctx, a, min=None, max=None):  # noqa: A002 (torch's names)
        if min is None and max is None:
            raise SizeError("clamp: at least one of 'min' or 'max' must not be None")
        ctx.save_for_backward(a)
        ctx.bounds = (min, max)
        return ctx.xp.clip(a, min, max)

    @staticmethod
    def backward(ctx, grad_output):
        (a,) = ctx.saved_tensors
        low, high = ctx.bounds
        keep = ctx.xp.ones(a.shape, dtype=bool)
        if low is not None:
            keep &= a >= low
        if high is not None:
            keep &= a <= high
        return grad_output * keep


class ReLU(Function):
    """``maximum(a, 0)``; gradient ``grad_output * (out > 0)``. On the CPU these run as the
    parallel loops of ``kernels/cpu/elementwise.py`` (the same values). ``into_input=True``
    (``relu_``, ``autograd/inplace.py``) writes the result into ``a`` itself."""

    @staticmethod
    def forward(ctx, a, into_input=False):
        K = kernels.for_device(ctx.device)
        target = a if into_input else None
        if hasattr(K, "relu_forward"):
            out = K.relu_forward(a, out=target)
        else:
            out = ctx.xp.maximum(a, 0, out=target)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        (out,) = ctx.saved_tensors
        K = kernels.for_device(ctx.device)
        if hasattr(K, "relu_backward") and np.shape(grad_output) == out.shape:
            return K.relu_backward(grad_output, out)
        return grad_output * (out > 0)


class LeakyReLU(Function):
    @staticmethod
    def forward(ctx, a, negative_slope=0.01):
        ctx.save_for_backward(a)
        ctx.negative_slope = negative_slope
        return ctx.xp.where(a > 0, a, a * a.dtype.type(negative_slope))

    @staticmethod
    def backward(ctx, grad_output):
        (a,) = ctx.saved_tensors
        slope = a.dtype.type(ctx.negative_slope)
        return ctx.xp.where(a > 0, grad_output, grad_output * slope)


class Sigmoid(Function):
    @staticmethod
    def forward(ctx, a):
        xp = ctx.xp
        # two branches so that exp never overflows: 1/(1+e^-a) for a >= 0, e^a/(1+e^a) else
        e = xp.exp(-xp.abs(a))
        out = xp.where(a >= 0, 1 / (1 + e), e / (1 + e)).astype(a.dtype, copy=False)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        (out,) = ctx.saved_tensors
        return grad_output * out * (1 - out)


class Tanh(Function):
    @staticmethod
    def forward(ctx, a):
        out = ctx.xp.tanh(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        (out,) = ctx.saved_tensors
        return grad_output * (1 - out * out)


class Where(Function):
    """``where(condition, a, b)``; the condition gets no gradient."""

    @staticmethod
    def forward(ctx, condition, a, b):
        ctx.condition = condition
        ctx.shapes = (_shape(a), _shape(b))
        return ctx.xp.where(condition, a, b)

    @staticmethod
    def backward(ctx, grad_output):
        xp = ctx.xp
        sa, sb = ctx.shapes
        _, need_a, need_b = ctx.needs_input_grad
        zero = xp.zeros((), dtype=grad_output.dtype)
        grad_a = unbroadcast(xp.where(ctx.condition, grad_output, zero), sa) if need_a else None
        grad_b = unbroadcast(xp.where(ctx.condition, zero, grad_output), sb) if need_b else None
        return None, grad_a, grad_b


class Cast(Function):
    @staticmethod
    def forward(ctx, a, dtype=None):
        ctx.source_dtype = a.dtype
        return a.astype(dtype)

    @staticmethod
    def backward(ctx, grad_output):
        if ctx.source_dtype.kind != "f":
            return None
        return grad_output.astype(ctx.source_dtype)


class Clone(Function):
    @staticmethod
    def forward(ctx, a):
        return a.copy()

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output
