"""The two ops that exist only as in-place forms: overwrite every element, overwrite a selection.

They are written out-of-place like every other Function (``forward`` returns a new array); the
in-place machinery (``autograd/inplace.py``) copies the result into the tensor's own array.

- ``Overwrite(a, src)``: every element of ``a`` becomes ``src`` broadcast to ``a``'s shape
  (``fill_``, ``zero_``, ``copy_``, ``uniform_``, ``normal_``). The old values are gone, so
  ``a`` gets a zero gradient (torch's ``ZeroBackward``/``FillBackward``/``CopyBackwards``) and
  ``src``, when it is a tensor, the upstream gradient summed back to its shape.
- ``SetItem(a, value, index=...)``: ``a[index] = value`` (torch's ``CopySlices``). ``a`` gets
  the upstream gradient with the overwritten positions zeroed, ``value`` the gradient at those
  positions summed back to its own shape.
"""

from __future__ import annotations

import numpy as np

from ..autograd.function import Function
from .elementwise import unbroadcast


def _shape(x) -> tuple[int, ...]:
    return tuple(np.shape(x))


def _sum_to(grad, shape: tuple[int, ...]):
    """``grad`` summed to ``shape``, where ``shape`` may have extra leading 1s (NumPy drops
    them when it assigns: a (1, 3) value fits a (3,) slot)."""
    core = list(shape)
    while len(core) > grad.ndim and core[0] == 1:
        core.pop(0)
    return unbroadcast(grad, tuple(core)).reshape(shape)


class Overwrite(Function):
    """Shapes: a (*), src broadcastable to (*) -> (*)."""

    @staticmethod
    def forward(ctx, a, src):
        ctx.src_shape = _shape(src)
        xp = ctx.xp
        return xp.broadcast_to(xp.asarray(src).astype(a.dtype, copy=False), a.shape).copy()

    @staticmethod
    def backward(ctx, grad_output):
        need_a, need_src = ctx.needs_input_grad
        grad_a = ctx.xp.zeros_like(grad_output) if need_a else None
        grad_src = _sum_to(grad_output, ctx.src_shape) if need_src else None
        return grad_a, grad_src


class SetItem(Function):
    """``a[index] = value``. Shapes: a (*), value broadcastable to a[index] -> (*)."""

    @staticmethod
    def forward(ctx, a, value, index=None):
        ctx.index, ctx.value_shape = index, _shape(value)
        out = a.copy()
        out[index] = value
        return out

    @staticmethod
    def backward(ctx, grad_output):
        need_a, need_value = ctx.needs_input_grad
        grad_a = grad_value = None
        if need_a:
            grad_a = grad_output.copy()
            grad_a[ctx.index] = 0  # overwritten: the old values no longer reach the output
        if need_value:
            # a repeated integer index gathers the same position twice, as torch's index_put
            grad_value = _sum_to(grad_output[ctx.index], ctx.value_shape)
        return grad_a, grad_value
