"""Reductions over ``dim`` (an int, a tuple, or None for all) with ``keepdim``, as torch.

The backward of a reduction puts the reduced axes back (size 1) and broadcasts.
Softmax and log-softmax subtract the row maximum first, so logits of +-1e4 give no inf/nan.
"""

from __future__ import annotations

from ..autograd.function import Function


def normalize_dims(dim, ndim: int) -> tuple[int, ...]:
    """``dim`` as a sorted tuple of non-negative axes; ``None`` means every axis."""
    if dim is None:
        return tuple(range(ndim))
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    out = []
    for d in dims:
        if not -max(ndim, 1) <= d < max(ndim, 1):
            raise IndexError(f"dimension {d} is out of range for a tensor with {ndim} dims "
                             f"(expected -{max(ndim, 1)}..{max(ndim, 1) - 1})")
        out.append(d % max(ndim, 1))
    return tuple(sorted(set(out))) if ndim > 0 else ()


def _keep(grad, axes, keepdim: bool):
    """Re-insert reduced axes as size 1 so ``grad`` broadcasts against the input."""
    if keepdim or not axes:
        return grad
    for axis in axes:
        grad = grad.reshape(grad.shape[:axis] + (1,) + grad.shape[axis:])
    return grad


class Sum(Function):
    @staticmethod
    def forward(ctx, a, dim=None, keepdim=False):
        ctx.axes = normalize_dims(dim, a.ndim)
        ctx.keepdim, ctx.in_shape = keepdim, a.shape
        return a.sum(axis=ctx.axes, keepdims=keepdim)

    @staticmethod
    def backward(ctx, grad_output):
        grad = _keep(grad_output, ctx.axes, ctx.keepdim)
        return ctx.xp.broadcast_to(grad, ctx.in_shape)


class Mean(Function):
    @staticmethod
    def forward(ctx, a, dim=None, keepdim=False):
        ctx.axes = normalize_dims(dim, a.ndim)
        ctx.keepdim, ctx.in_shape = keepdim, a.shape
        ctx.count = 1
        for axis in ctx.axes:
            ctx.count *= a.shape[axis]
        return a.mean(axis=ctx.axes, keepdims=keepdim)

    @staticmethod
    def backward(ctx, grad_output):
        grad = _keep(grad_output, ctx.axes, ctx.keepdim) / ctx.count
        return ctx.xp.broadcast_to(grad, ctx.in_shape)


class Var(Function):
    """Variance with Bessel's ``correction`` (1 = unbiased, torch's default)."""

    @staticmethod
    def forward(ctx, a, dim=None, keepdim=False, correction=1):
        axes = normalize_dims(dim, a.ndim)
        count = 1
        for axis in axes:
            count *= a.shape[axis]
        centered = a - a.mean(axis=axes, keepdims=True)
        ctx.save_for_backward(centered)
        ctx.axes, ctx.keepdim = axes, keepdim
        ctx.divisor = max(count - correction, 0)
        return (centered * centered).sum(axis=axes, keepdims=keepdim) / ctx.divisor

    @staticmethod
    def backward(ctx, grad_output):
        (centered,) = ctx.saved_tensors
        grad = _keep(grad_output, ctx.axes, ctx.keepdim)
        return grad * 2 * centered / ctx.divisor


class MaxMin(Function):
    """``max``/``min`` along one dim, with indices (first extreme wins), or over everything.

    Along a dim the gradient goes to the returned index. Over all elements (``dim=None``) it is
    shared evenly between tied extremes, as torch's ``max()`` without a dim does.
    """

    @staticmethod
    def forward(ctx, a, dim=None, keepdim=False, largest=True):
        xp = ctx.xp
        ctx.in_shape, ctx.dim, ctx.keepdim = a.shape, dim, keepdim
        if a.size == 0:
            raise RuntimeError("max()/min() of an empty tensor; give it at least one element")
        if dim is None:
            out = a.max() if largest else a.min()
            ctx.mask = a == out
            return out
        (axis,) = normalize_dims(dim, a.ndim)
        ctx.axis = axis
        idx = a.argmax(axis=axis) if largest else a.argmin(axis=axis)
        idx = xp.expand_dims(idx, axis)
        values = xp.take_along_axis(a, idx, axis=axis)
        ctx.index = idx
        if not keepdim and a.ndim > 0:
            values, idx = values.squeeze(axis), idx.squeeze(axis)
        return values, idx.astype("int64")

    @staticmethod
    def backward(ctx, grad_output):
        xp = ctx.xp
        if ctx.dim is None:
            mask = ctx.mask
            return grad_output * mask / mask.sum()
        grad = xp.zeros(ctx.in_shape, dtype=grad_output.dtype)
        g = grad_output if ctx.keepdim else xp.expand_dims(grad_output, ctx.axis)
        xp.put_along_axis(grad, ctx.index, g, axis=ctx.axis)
        return grad


class LogSumExp(Function):
    @staticmethod
    def forward(ctx, a, dim=None, keepdim=False):
        xp = ctx.xp
        axes = normalize_dims(dim, a.ndim)
        peak = a.max(axis=axes, keepdims=True)
        peak = xp.where(xp.isfinite(peak), peak, 0)
        out = xp.log(xp.exp(a - peak).sum(axis=axes, keepdims=True)) + peak
        ctx.save_for_backward(a, out)
        ctx.axes, ctx.keepdim = axes, keepdim
        return out if keepdim else out.squeeze(axis=axes)

    @staticmethod
    def backward(ctx, grad_output):
        a, out = ctx.saved_tensors
        grad = _keep(grad_output, ctx.axes, ctx.keepdim)
        return grad * ctx.xp.exp(a - out)


class Softmax(Function):
    @staticmethod
    def forward(ctx, a, dim=-1):
        xp = ctx.xp
        (axis,) = normalize_dims(dim, a.ndim)
        e = xp.exp(a - a.max(axis=axis, keepdims=True))
        out = e / e.sum(axis=axis, keepdims=True)
        ctx.save_for_backward(out)
        ctx.axis = axis
        return out

    @staticmethod
    def backward(ctx, grad_output):
        (out,) = ctx.saved_tensors
        # J^T g for J = diag(s) - s s^T
        return out * (grad_output - (grad_output * out).sum(axis=ctx.axis, keepdims=True))


class LogSoftmax(Function):
    @staticmethod
    def forward(ctx, a, dim=-1):
        xp = ctx.xp
        (axis,) = normalize_dims(dim, a.ndim)
        shifted = a - a.max(axis=axis, keepdims=True)
        out = shifted - xp.log(xp.exp(shifted).sum(axis=axis, keepdims=True))
        ctx.save_for_backward(out)
        ctx.axis = axis
        return out

    @staticmethod
    def backward(ctx, grad_output):
        (out,) = ctx.saved_tensors
        return grad_output - ctx.xp.exp(out) * grad_output.sum(axis=ctx.axis, keepdims=True)
