"""Shape and selection ops with torch's names, composed from the movement primitives.

Everything here is an expression of ``getitem`` (slices and index arrays), ``reshape``,
``expand``, ``cat`` and ``where``, so autograd provides the gradients: ``chunk``/``split``/
``unbind`` are slices, ``repeat`` is reshape-expand-reshape, ``flip`` a negative-step slice,
``roll`` two slices joined, ``index_select`` an index array, ``triu``/``tril`` a ``where``.
"""

from __future__ import annotations

import builtins

import numpy as np

from ..autograd.tensor import Tensor
from ..errors import SizeError
from . import api
from . import math_ops as X
from .api import numpy_names


def _axis(a: Tensor, dim: int) -> int:
    if not -builtins.max(a.ndim, 1) <= dim < builtins.max(a.ndim, 1):
        raise IndexError(f"Dimension out of range (expected to be in range of "
                         f"[{-a.ndim}, {a.ndim - 1}], but got {dim})")
    return dim % builtins.max(a.ndim, 1)


def _slice_along(a: Tensor, axis: int, index):
    return api.getitem(a, (slice(None),) * axis + (index,))


def narrow(a, dim, start, length):
    axis = _axis(a, dim)
    start = start % a.shape[axis] if start < 0 else start
    if start + length > a.shape[axis]:
        raise SizeError(f"narrow: start ({start}) + length ({length}) exceeds dimension size "
                        f"({a.shape[axis]})")
    return _slice_along(a, axis, slice(start, start + length))


@numpy_names
def split(a, split_size_or_sections, dim=0):
    """Pieces of ``split_size`` along ``dim`` (the last may be smaller), or of the given
    sizes when a list is passed (they must add up to the dimension's size)."""
    axis = _axis(a, dim)
    size = a.shape[axis]
    if isinstance(split_size_or_sections, int):
        step = split_size_or_sections
        if step <= 0:
            raise SizeError(f"split expects split_size be non-negative, but got {step}")
        sizes = [builtins.min(step, size - start) for start in range(0, size, step)] or [0]
    else:
        sizes = [int(n) for n in split_size_or_sections]
        if sum(sizes) != size:
            raise SizeError(f"split_with_sizes expects split_sizes to sum exactly to {size} "
                            f"(input tensor's size at dimension {dim}), but got {sizes}")
    pieces, start = [], 0
    for n in sizes:
        pieces.append(_slice_along(a, axis, slice(start, start + n)))
        start += n
    return tuple(pieces)


@numpy_names
def chunk(a, chunks, dim=0):
    """At most ``chunks`` pieces of size ``ceil(size / chunks)`` (torch's rule)."""
    if chunks <= 0:
        raise SizeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    size = a.shape[_axis(a, dim)]
    return split(a, builtins.max(-(-size // chunks), 1), dim)


@numpy_names
def unbind(a, dim=0):
    axis = _axis(a, dim)
    return tuple(_slice_along(a, axis, i) for i in range(a.shape[axis]))


def flip(a, dims):
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    index = [slice(None)] * a.ndim
    for d in dims:
        index[_axis(a, d)] = slice(None, None, -1)
    return api.getitem(a, tuple(index))


def roll(a, shifts, dims=None):
    if dims is None:
        return api.reshape(roll(api.flatten(a), shifts, 0), *a.shape)
    shifts = (shifts,) if isinstance(shifts, int) else tuple(shifts)
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    if len(shifts) != len(dims):
        raise SizeError(f"roll: shifts ({len(shifts)}) and dims ({len(dims)}) must have the "
                        "same length")
    out = a
    for shift, d in zip(shifts, dims):
        axis = _axis(a, d)
        n = a.shape[axis]
        if n == 0 or shift % n == 0:
            continue
        cut = n - shift % n
        out = api.cat([_slice_along(out, axis, slice(cut, None)),
                       _slice_along(out, axis, slice(None, cut))], dim=axis)
    return out


def repeat(a, *sizes):
    """Tile ``a`` ``sizes[i]`` times along each dim (torch's ``Tensor.repeat``; leading extra
    sizes add dims). Shapes: (s0, s1) with repeat(r0, r1) -> (r0 * s0, r1 * s1)."""
    sizes = api._shape_arg(sizes)
    if len(sizes) < a.ndim:
        raise SizeError(f"Number of dimensions of repeat dims ({len(sizes)}) can not be smaller "
                        f"than number of dimensions of tensor ({a.ndim})")
    shape = (1,) * (len(sizes) - a.ndim) + a.shape
    spread = [n for s in shape for n in (1, s)]           # (1, s0, 1, s1, ...)
    wide = [n for r, s in zip(sizes, shape) for n in (r, s)]  # (r0, s0, r1, s1, ...)
    out = api.expand(api.reshape(a, *spread), *wide)
    return api.reshape(out, *[r * s for r, s in zip(sizes, shape)])


def tile(a, dims):
    dims = tuple(dims)
    return repeat(a, *((1,) * (a.ndim - len(dims)) + dims))


def _array(value):
    return value.array if isinstance(value, Tensor) else value


def masked_fill(a, mask, value):
    """``value`` where ``mask`` is True, ``a`` elsewhere; the dtype stays ``a``'s."""
    mask = _array(mask)
    if mask.dtype.kind != "b":
        raise SizeError(f"masked_fill only supports boolean masks, but got mask with dtype "
                        f"{mask.dtype}")
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise SizeError(f"masked_fill only supports a 0-dimensional value tensor, but got "
                            f"tensor with {value.ndim} dimension(s)")
        if value.requires_grad:
            return api.where(mask, value.type(a.dtype), a)
        value = value.item()
    filled = api.where(mask, a.dtype.type(value), a)
    return filled if filled.shape == a.shape else api.expand(filled, *a.shape)


def masked_select(a, mask):
    mask = _array(mask)
    shape = np.broadcast_shapes(a.shape, tuple(mask.shape))
    if a.shape != shape:
        a = api.expand(a, *shape)
    return api.getitem(a, a.xp.broadcast_to(mask, shape))


@numpy_names
def index_select(a, dim, index):
    index = _array(index)
    if index.ndim > 1:
        raise SizeError("index_select(): Index is supposed to be a vector")
    return _slice_along(a, _axis(a, dim), index.reshape(-1))


@numpy_names
def gather(a, dim, index):
    return X.Gather.apply(a, index=_array(index), dim=dim)


def t(a):
    """Transpose a matrix; 0-D and 1-D tensors come back as they are (torch.t)."""
    if a.ndim > 2:
        raise SizeError(f"t() expects a tensor with <= 2 dimensions, but self is {a.ndim}D")
    return api.transpose(a, 0, 1) if a.ndim == 2 else a


def _triangle(a, diagonal: int, upper: bool):
    rows, cols = a.shape[-2], a.shape[-1]
    xp = a.xp
    offset = xp.arange(cols)[None, :] - xp.arange(rows)[:, None]
    keep = offset >= diagonal if upper else offset <= diagonal
    return api.where(keep, a, a.dtype.type(0))


def triu(a, diagonal: int = 0):
    return _triangle(a, diagonal, upper=True)


def tril(a, diagonal: int = 0):
    return _triangle(a, diagonal, upper=False)


def meshgrid(*tensors, indexing: str = "ij"):
    """Coordinate grids from 1-D tensors; ``indexing="ij"`` (matrix, torch's default) or
    ``"xy"`` (Cartesian: the first two outputs' dims swapped)."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing not in ("ij", "xy"):
        raise SizeError(f"meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
    sizes = [t.numel() for t in tensors]
    order = list(range(len(tensors)))
    if indexing == "xy" and len(tensors) > 1:
        order[0], order[1] = 1, 0
    shape = [sizes[i] for i in order]
    grids = []
    for k, tensor in enumerate(tensors):
        view = [1] * len(tensors)
        view[order.index(k)] = sizes[k]
        grids.append(api.expand(api.reshape(tensor, *view), *shape))
    return tuple(grids)


def unflatten(a, dim, sizes):
    axis = _axis(a, dim)
    return api.reshape(a, *a.shape[:axis], *sizes, *a.shape[axis + 1:])


def broadcast_to(a, size):
    return api.expand(a, *size)


def nonzero(a, as_tuple: bool = False):
    """Indices of the non-zero elements: (n, ndim) int64, or one index tensor per dim."""
    where = a.xp.nonzero(a.array)
    if as_tuple:
        return tuple(Tensor._wrap(w.astype("int64"), a.device) for w in where)
    return Tensor._wrap(a.xp.stack(where, axis=1).astype("int64"), a.device)


def argwhere(a):
    return nonzero(a)


def unique(a, sorted: bool = True, return_inverse: bool = False,  # noqa: A002
           return_counts: bool = False, dim=None):
    """The distinct elements, sorted (as torch on CPU); not differentiable."""
    if dim is not None:
        raise SizeError("unique(dim=...) is not supported; use dim=None (all elements)")
    values, inverse, counts = a.xp.unique(a.array, return_inverse=True, return_counts=True)
    out = [Tensor._wrap(values, a.device)]
    if return_inverse:
        out.append(Tensor._wrap(inverse.reshape(a.shape).astype("int64"), a.device))
    if return_counts:
        out.append(Tensor._wrap(counts.astype("int64"), a.device))
    return out[0] if len(out) == 1 else tuple(out)


def concat(tensors, dim=0, axis=None):
    return api.cat(tensors, dim=dim if axis is None else axis)


concatenate = concat
