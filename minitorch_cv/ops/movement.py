"""Movement ops: they move or select elements without arithmetic.

Each backward is the adjoint movement: reshape back, permute with the inverse order, sum over
expanded axes, scatter-add for indexing (``add.at`` so that repeated indices add up).
"""

from __future__ import annotations

import numpy as np

from .. import backend
from ..autograd.function import Function
from ..errors import SizeError
from .elementwise import unbroadcast


class Reshape(Function):
    @staticmethod
    def forward(ctx, a, shape=None):
        ctx.in_shape = a.shape
        try:
            return a.reshape(shape)
        except ValueError:
            raise RuntimeError(f"shape {tuple(shape)} is invalid for a tensor of shape "
                               f"{tuple(a.shape)} ({a.size} elements)") from None

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output.reshape(ctx.in_shape)


class Permute(Function):
    @staticmethod
    def forward(ctx, a, dims=None):
        dims = tuple(d % a.ndim for d in dims)
        if sorted(dims) != list(range(a.ndim)):
            raise RuntimeError(f"permute dims {dims} must be a permutation of 0..{a.ndim - 1}")
        ctx.inverse = tuple(np.argsort(dims))
        return a.transpose(dims)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output.transpose(ctx.inverse)


class Expand(Function):
    @staticmethod
    def forward(ctx, a, shape=None):
        ctx.in_shape = a.shape
        shape = tuple(a.shape[i - (len(shape) - a.ndim)] if s == -1 else s
                      for i, s in enumerate(shape))
        try:
            return ctx.xp.broadcast_to(a, shape)
        except ValueError:
            raise SizeError(f"expand: the shape {tuple(a.shape)} cannot be expanded to {shape} "
                            "(only dimensions of size 1 can grow)") from None

    @staticmethod
    def backward(ctx, grad_output):
        return unbroadcast(grad_output, ctx.in_shape)


def _is_advanced(index) -> bool:
    parts = index if isinstance(index, tuple) else (index,)
    return any(hasattr(p, "dtype") or isinstance(p, list) for p in parts)


class GetItem(Function):
    """``a[index]`` for ints, slices, None, Ellipsis, integer and boolean arrays."""

    @staticmethod
    def forward(ctx, a, index=None):
        ctx.in_shape, ctx.index, ctx.dtype = a.shape, index, a.dtype
        return a[index]

    @staticmethod
    def backward(ctx, grad_output):
        xp = ctx.xp
        grad = xp.zeros(ctx.in_shape, dtype=grad_output.dtype)
        if _is_advanced(ctx.index):
            # repeated integer indices must add up: a plain assignment would keep only one
            xp.add.at(grad, ctx.index, grad_output)
        else:
            grad[ctx.index] = grad_output
        return grad


class Cat(Function):
    """``cat(tensors, dim)``; every input is positional so each gets its own gradient."""

    @staticmethod
    def forward(ctx, *arrays, dim=0):
        ndim = arrays[0].ndim
        axis = dim % ndim
        for a in arrays[1:]:
            if a.ndim != ndim or any(a.shape[i] != arrays[0].shape[i]
                                     for i in range(ndim) if i != axis):
                raise RuntimeError(
                    f"cat: sizes must match except in dim {dim}: got {tuple(arrays[0].shape)} "
                    f"and {tuple(a.shape)}")
        ctx.axis = axis
        ctx.sizes = [a.shape[axis] for a in arrays]
        return ctx.xp.concatenate(arrays, axis=axis)

    @staticmethod
    def backward(ctx, grad_output):
        splits = np.cumsum(ctx.sizes)[:-1].tolist()
        return tuple(ctx.xp.split(grad_output, splits, axis=ctx.axis))


class Pad(Function):
    """Constant padding with torch's ``pad`` order: last dim first, (left, right) pairs."""

    @staticmethod
    def forward(ctx, a, pad=(), value=0.0):
        if len(pad) % 2 or len(pad) // 2 > a.ndim:
            raise ValueError(f"pad must hold (left, right) pairs for at most {a.ndim} dims, "
                             f"got {tuple(pad)}")
        widths = [(0, 0)] * a.ndim
        for i in range(len(pad) // 2):
            widths[a.ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
        if any(w < 0 for pair in widths for w in pair):
            raise ValueError("negative padding (cropping) is not supported; slice instead")
        ctx.slices = tuple(slice(lo, lo + n) for (lo, _), n in zip(widths, a.shape))
        return ctx.xp.pad(a, widths, mode="constant", constant_values=value)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output[ctx.slices]


class ToDevice(Function):
    @staticmethod
    def forward(ctx, a, device=None):
        ctx.source = ctx.device
        ctx.out_device = device
        return backend.move_array(a, device)

    @staticmethod
    def backward(ctx, grad_output):
        return backend.move_array(grad_output, ctx.source)
