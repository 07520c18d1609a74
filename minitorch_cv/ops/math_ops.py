"""More primitives on raw arrays: trigonometry, log1p/expm1, piecewise-constant functions,
remainder, products and cumulative sums, gather, extreme values over several dims, norms.

Same contract as ``elementwise.py`` and ``reduce.py``: forward and backward side by side,
``unbroadcast`` for binary ops, reduced axes put back with ``_keep``.
"""

from __future__ import annotations

from ..autograd.function import Function
from .elementwise import _shape, unbroadcast
from .reduce import _keep, normalize_dims


class Sin(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return ctx.xp.sin(a)

    @staticmethod
    def backward(ctx, grad_output):
        (a,) = ctx.saved_tensors
        return grad_output * ctx.xp.cos(a)


class Cos(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return ctx.xp.cos(a)

    @staticmethod
    def backward(ctx, grad_output):
        (a,) = ctx.saved_tensors
        return -grad_output * ctx.xp.sin(a)


class Log1p(Function):
    """``log(1 + a)``, accurate for tiny ``a``."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return ctx.xp.log1p(a)

    @staticmethod
    def backward(ctx, grad_output):
        (a,) = ctx.saved_tensors
        return grad_output / (1 + a)


class Expm1(Function):
    """``exp(a) - 1``, accurate for tiny ``a``."""

    @staticmethod
    def forward(ctx, a):
        out = ctx.xp.expm1(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        (out,) = ctx.saved_tensors
        return grad_output * (out + 1)


class Step(Function):
    """A piecewise-constant function (``floor``, ``ceil``, ``round``, ``trunc``, ``sign``):
    its derivative is 0 wherever it exists, so the gradient is 0 (as torch)."""

    @staticmethod
    def forward(ctx, a, name="floor"):
        ctx.in_shape = a.shape
        if a.dtype.kind in "iub" and name != "sign":
            return a.copy()  # integers are already whole (and keep their dtype, as torch)
        return getattr(ctx.xp, name)(a)

    @staticmethod
    def backward(ctx, grad_output):
        return ctx.xp.zeros(ctx.in_shape, dtype=grad_output.dtype)


class Remainder(Function):
    """``a - b * floor(a / b)`` (``mode="floor"``, Python's ``%``, torch.remainder) or
    ``a - b * trunc(a / b)`` (``mode="trunc"``, C's fmod). d/da = 1, d/db = -floor(a / b)."""

    @staticmethod
    def forward(ctx, a, b, mode="floor"):
        xp = ctx.xp
        ctx.save_for_backward(a, b)
        ctx.mode = mode
        return xp.mod(a, b) if mode == "floor" else xp.fmod(a, b)

    @staticmethod
    def backward(ctx, grad_output):
        a, b = ctx.saved_tensors
        xp = ctx.xp
        need_a, need_b = ctx.needs_input_grad
        grad_a = unbroadcast(grad_output, _shape(a)) if need_a else None
        grad_b = None
        if need_b:
            quotient = (xp.floor if ctx.mode == "floor" else xp.trunc)(a / b)
            grad_b = unbroadcast(-grad_output * quotient, _shape(b))
        return grad_a, grad_b


class Prod(Function):
    """Product over ``dim`` (or everything). Backward multiplies the products of the elements
    before and after each one (exclusive cumulative products), so zeros need no division."""

    @staticmethod
    def forward(ctx, a, dim=None, keepdim=False):
        ctx.save_for_backward(a)
        ctx.dim, ctx.keepdim = dim, keepdim
        if dim is None:
            return a.prod()
        (axis,) = normalize_dims(dim, a.ndim)
        return a.prod(axis=axis, keepdims=keepdim)

    @staticmethod
    def backward(ctx, grad_output):
        (a,) = ctx.saved_tensors
        xp = ctx.xp
        if ctx.dim is None:
            flat = a.reshape(-1)
            return (grad_output * _others_product(xp, flat, 0)).reshape(a.shape)
        (axis,) = normalize_dims(ctx.dim, a.ndim)
        grad = _keep(grad_output, (axis,), ctx.keepdim) if a.ndim else grad_output
        return grad * _others_product(xp, a, axis)


def _others_product(xp, a, axis: int):
    """For each element, the product of all other elements along ``axis``."""
    if a.ndim == 0:
        return xp.ones_like(a)
    moved = xp.moveaxis(a, axis, -1)
    ones = xp.ones(moved.shape[:-1] + (1,), dtype=a.dtype)
    before = xp.cumprod(xp.concatenate([ones, moved[..., :-1]], axis=-1), axis=-1)
    after = xp.flip(xp.cumprod(xp.flip(xp.concatenate([moved[..., 1:], ones], axis=-1), -1),
                               axis=-1), -1)
    return xp.moveaxis(before * after, -1, axis)


class Cumsum(Function):
    @staticmethod
    def forward(ctx, a, dim=0):
        (axis,) = normalize_dims(dim, a.ndim)
        ctx.axis = axis
        return ctx.xp.cumsum(a, axis=axis) if a.ndim else a.copy()

    @staticmethod
    def backward(ctx, grad_output):
        if grad_output.ndim == 0:
            return grad_output
        xp = ctx.xp
        # each input adds to every later output: the reversed cumulative sum of the gradient
        return xp.flip(xp.cumsum(xp.flip(grad_output, ctx.axis), axis=ctx.axis), ctx.axis)


class Gather(Function):
    """``out[i][j] = a[index[i][j]][j]`` along ``dim`` (torch.gather). Repeated indices add
    their gradients (``add.at``)."""

    @staticmethod
    def forward(ctx, a, index=None, dim=0):
        (axis,) = normalize_dims(dim, a.ndim)
        if index.ndim != a.ndim:
            from ..errors import SizeError  # noqa: PLC0415

            raise SizeError(f"gather: index must have as many dims as the input ({a.ndim}), "
                            f"got {index.ndim}")
        ctx.in_shape, ctx.axis, ctx.index = a.shape, axis, index
        return ctx.xp.take_along_axis(a, index, axis=axis)

    @staticmethod
    def backward(ctx, grad_output):
        xp = ctx.xp
        grad = xp.zeros(ctx.in_shape, dtype=grad_output.dtype)
        where = list(xp.indices(ctx.index.shape, sparse=True))
        where[ctx.axis] = ctx.index
        xp.add.at(grad, tuple(where), grad_output)
        return grad


class Extreme(Function):
    """``amax``/``amin`` over one or several dims; tied extremes share the gradient evenly
    (as torch's amax/amin)."""

    @staticmethod
    def forward(ctx, a, dim=None, keepdim=False, largest=True):
        axes = normalize_dims(dim, a.ndim)
        out = a.max(axis=axes, keepdims=True) if largest else a.min(axis=axes, keepdims=True)
        mask = a == out
        ctx.share = (mask / mask.sum(axis=axes, keepdims=True)).astype(a.dtype, copy=False)
        ctx.axes, ctx.keepdim = axes, keepdim
        return out if keepdim else out.reshape([n for i, n in enumerate(a.shape)
                                                if i not in axes])

    @staticmethod
    def backward(ctx, grad_output):
        return _keep(grad_output, ctx.axes, ctx.keepdim) * ctx.share


class Norm(Function):
    """The vector p-norm over ``dim`` (all elements by default): ``(sum |a|^p)^(1/p)``, ``p``
    may be ``inf``. The gradient at a zero norm is 0 (torch's subgradient)."""

    @staticmethod
    def forward(ctx, a, p=2.0, dim=None, keepdim=False):
        xp = ctx.xp
        axes = normalize_dims(dim, a.ndim)
        magnitude = xp.abs(a)
        if p == float("inf"):
            out = magnitude.max(axis=axes, keepdims=True)
        elif p == 1:
            out = magnitude.sum(axis=axes, keepdims=True)
        elif p == 2:
            out = xp.sqrt((a * a).sum(axis=axes, keepdims=True))
        else:
            out = (magnitude**p).sum(axis=axes, keepdims=True) ** (1.0 / p)
        ctx.save_for_backward(a, out)
        ctx.p, ctx.axes, ctx.keepdim = p, axes, keepdim
        return out if keepdim else out.reshape([n for i, n in enumerate(a.shape)
                                                if i not in axes])

    @staticmethod
    def backward(ctx, grad_output):
        a, out = ctx.saved_tensors
        xp, p = ctx.xp, ctx.p
        grad = _keep(grad_output, ctx.axes, ctx.keepdim)
        if p == float("inf"):
            mask = xp.abs(a) == out
            share = (mask / mask.sum(axis=ctx.axes, keepdims=True)).astype(a.dtype, copy=False)
            return grad * xp.sign(a) * share
        if p == 1:
            return grad * xp.sign(a)
        safe = xp.where(out == 0, 1, out)
        if p == 2:
            return xp.where(out == 0, 0, grad * a / safe)
        local = xp.sign(a) * xp.abs(a) ** (p - 1) / safe ** (p - 1)
        return xp.where(out == 0, 0, grad * local)
