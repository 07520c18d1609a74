"""Batch normalisation ops: training (batch statistics, fused kernels) and evaluation.

Training, per channel over the ``M = N*H*W`` values (``N`` for 2-D inputs)::

    mean, var = batch_norm_stats(x)              # biased variance, float64 sums
    invstd = 1 / sqrt(var + eps)
    y = (x - mean) * invstd * weight + bias      # batch_norm_forward

and backward is the fused ``batch_norm_backward`` (the gradient through mean and var included).
Evaluation uses the running statistics, which are constants: y is then a per-channel affine
map and its gradient needs no kernel of its own.
"""

from __future__ import annotations

from .. import kernels
from ..autograd.function import Function
from .kernel_dtype import check_kernel_dtype


def _channel_shape(x) -> tuple[int, ...]:
    """(1, C, 1, 1) for 4-D input, (1, C) for 2-D: broadcasts a (C,) vector over x."""
    return (1, x.shape[1]) + (1,) * (x.ndim - 2)


def _affine_params(xp, x, weight, bias):
    C = x.shape[1]
    weight = xp.ones(C, dtype=x.dtype) if weight is None else weight
    bias = xp.zeros(C, dtype=x.dtype) if bias is None else bias
    return weight, bias


class BatchNormTrain(Function):
    """Returns ``(y, mean, var)``; mean and the biased var are for the running statistics.

    Shapes: x (N, C) or (N, C, H, W); weight, bias (C,) or None -> y like x; mean, var (C,).
    """

    @staticmethod
    def forward(ctx, x, weight=None, bias=None, eps=1e-5):
        check_kernel_dtype(x, "batch_norm")
        K, xp = kernels.for_device(ctx.device), ctx.xp
        x = xp.ascontiguousarray(x)
        mean, var = K.batch_norm_stats(x)
        invstd = (1.0 / xp.sqrt(var.astype("float64") + eps)).astype(x.dtype)
        w, b = _affine_params(xp, x, weight, bias)
        y = K.batch_norm_forward(x, mean, invstd, w, b)
        ctx.save_for_backward(x, w)
        ctx.mean, ctx.invstd = mean, invstd
        return y, mean, var

    @staticmethod
    def backward(ctx, grad_output):
        K = kernels.for_device(ctx.device)
        x, w = ctx.saved_tensors
        grad_x, grad_w, grad_b = K.batch_norm_backward(grad_output, x, ctx.mean, ctx.invstd, w)
        need_x, need_w, need_b = ctx.needs_input_grad
        return (grad_x if need_x else None, grad_w if need_w else None,
                grad_b if need_b else None)


class BatchNormEval(Function):
    """Normalise with given (running) statistics, which get no gradient.

    Shapes: x (N, C) or (N, C, H, W); weight, bias, running_mean, running_var (C,).
    """

    @staticmethod
    def forward(ctx, x, weight=None, bias=None, running_mean=None, running_var=None, eps=1e-5):
        check_kernel_dtype(x, "batch_norm")
        K, xp = kernels.for_device(ctx.device), ctx.xp
        x = xp.ascontiguousarray(x)
        invstd = (1.0 / xp.sqrt(running_var.astype("float64") + eps)).astype(x.dtype)
        mean = running_mean.astype(x.dtype)
        w, b = _affine_params(xp, x, weight, bias)
        ctx.save_for_backward(x, w)
        ctx.mean, ctx.invstd = mean, invstd
        return K.batch_norm_forward(x, mean, invstd, w, b)

    @staticmethod
    def backward(ctx, grad_output):
        x, w = ctx.saved_tensors
        shape = _channel_shape(x)
        axes = (0,) + tuple(range(2, x.ndim))
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        invstd = ctx.invstd.reshape(shape)
        grad_x = grad_output * (invstd * w.reshape(shape)) if need_x else None
        grad_w = None
        if need_w:
            xhat = (x - ctx.mean.reshape(shape)) * invstd
            grad_w = (grad_output * xhat).sum(axis=axes)
        grad_b = grad_output.sum(axis=axes) if need_b else None
        return grad_x, grad_w, grad_b, None, None
