"""User-facing maths beyond ``api.py``: trigonometry, rounding, remainders, products, norms,
comparisons, sorting, and the checked matrix products (``mm``, ``bmm``, ``dot``, ``outer``).

torch's rules kept here: floating functions of integer tensors return the default float
dtype; ``sort``/``topk``/``max(dim)`` return ``(values, indices)`` pairs with those field
names; NumPy's ``axis=``/``keepdims=`` are accepted wherever ``dim``/``keepdim`` are.
"""

from __future__ import annotations

import math
from collections import namedtuple

import numpy as np

from ..autograd.tensor import Tensor
from ..errors import SizeError
from . import api
from . import math_ops as X
from .api import _floating, numpy_names


def sin(a):
    return X.Sin.apply(_floating(a))


def cos(a):
    return X.Cos.apply(_floating(a))


def tan(a):
    a = _floating(a)
    return api.div(sin(a), cos(a))


def log1p(a):
    return X.Log1p.apply(_floating(a))


def expm1(a):
    return X.Expm1.apply(_floating(a))


def log2(a):
    return api.div(api.log(_floating(a)), math.log(2.0))


def log10(a):
    return api.div(api.log(_floating(a)), math.log(10.0))


def rsqrt(a):
    return api.div(1.0, api.sqrt(_floating(a)))


def reciprocal(a):
    return api.div(1.0, _floating(a))


def square(a):
    return api.mul(a, a)


def _step(name):
    def fn(a):
        return X.Step.apply(a, name=name)

    fn.__name__ = name
    fn.__doc__ = f"``{name}`` elementwise; its gradient is 0 (piecewise constant)."
    return fn


floor, ceil, trunc, sign = _step("floor"), _step("ceil"), _step("trunc"), _step("sign")
fix = trunc


def round(a, decimals: int = 0):  # noqa: A001 (torch's name)
    """Round half to even, as torch; ``decimals`` scales by 10**decimals first."""
    if decimals == 0:
        return X.Step.apply(a, name="round")
    scale = 10.0**decimals
    return api.div(X.Step.apply(api.mul(a, scale), name="round"), scale)


def frac(a):
    return api.sub(a, trunc(a))


def remainder(a, b):
    """Python's ``%``: the result has the sign of ``b`` (torch.remainder)."""
    return X.Remainder.apply(*api._promote(a, b), mode="floor")


def fmod(a, b):
    """C's fmod: the result has the sign of ``a``."""
    return X.Remainder.apply(*api._promote(a, b), mode="trunc")


def floor_divide(a, b):
    """``a // b``, rounding down (torch.floor_divide); no gradient, as torch."""
    a, b = api._promote(a, b)
    arrays = [t.detach().array if isinstance(t, Tensor) else t for t in (a, b)]
    like = a if isinstance(a, Tensor) else b
    return Tensor._wrap(like.xp.asarray(arrays[0] // arrays[1]), like.device)


def clamp_min(a, min):  # noqa: A002
    return api.clamp(a, min=min)


def clamp_max(a, max):  # noqa: A002
    return api.clamp(a, max=max)


# ----------------------------------------------------------------------------- reductions
@numpy_names
def prod(a, dim=None, keepdim=False, dtype=None):
    if dtype is not None:
        a = a.type(dtype)
    if a.dtype.kind in "b":
        a = a.long()
    return X.Prod.apply(a, dim=dim, keepdim=keepdim)


@numpy_names
def cumsum(a, dim, dtype=None):
    if dtype is not None:
        a = a.type(dtype)
    elif a.dtype.kind in "biu":
        a = a.long()  # torch accumulates integers in int64
    return X.Cumsum.apply(a, dim=dim)


@numpy_names
def amax(a, dim=(), keepdim=False):
    return X.Extreme.apply(a, dim=None if dim == () else dim, keepdim=keepdim, largest=True)


@numpy_names
def amin(a, dim=(), keepdim=False):
    return X.Extreme.apply(a, dim=None if dim == () else dim, keepdim=keepdim, largest=False)


@numpy_names
def norm(a, p="fro", dim=None, keepdim=False, dtype=None):
    """``torch.norm``: the 2-norm (``"fro"``) of all elements by default; ``p`` any positive
    number or ``inf``; over ``dim`` when given."""
    if dtype is not None:
        a = a.type(dtype)
    a = _floating(a)
    if p == "fro" or p is None:
        p = 2.0
    if isinstance(p, str) or p <= 0:
        raise SizeError(f"norm: p={p!r} is not supported; use 'fro', a positive number or inf")
    return X.Norm.apply(a, p=float(p), dim=dim, keepdim=keepdim)


def dist(a, b, p=2.0):
    return norm(api.sub(a, b), p=p)


# ----------------------------------------------------------------------------- comparisons
def _compare(name, op):
    def fn(a, b):
        a, b = api._promote(a, b)
        like = a if isinstance(a, Tensor) else b
        arrays = [t.array if isinstance(t, Tensor) else t for t in (a, b)]
        return Tensor._wrap(like.xp.asarray(op(*arrays)), like.device)

    fn.__name__ = name
    fn.__doc__ = f"Elementwise ``{name}`` (broadcasting); a bool tensor without gradient."
    return fn


eq = _compare("eq", lambda a, b: a == b)
ne = _compare("ne", lambda a, b: a != b)
lt = _compare("lt", lambda a, b: a < b)
le = _compare("le", lambda a, b: a <= b)
gt = _compare("gt", lambda a, b: a > b)
ge = _compare("ge", lambda a, b: a >= b)
logical_and = _compare("logical_and", lambda a, b: np.logical_and(a, b))
logical_or = _compare("logical_or", lambda a, b: np.logical_or(a, b))
logical_xor = _compare("logical_xor", lambda a, b: np.logical_xor(a, b))
bitwise_and = _compare("bitwise_and", lambda a, b: a & b)
bitwise_or = _compare("bitwise_or", lambda a, b: a | b)
bitwise_xor = _compare("bitwise_xor", lambda a, b: a ^ b)
greater, less, greater_equal, less_equal, not_equal = gt, lt, ge, le, ne


def _predicate(name, fn):
    def predicate(a):
        return Tensor._wrap(a.xp.asarray(fn(a.xp, a.array)), a.device)

    predicate.__name__ = name
    return predicate


logical_not = _predicate("logical_not", lambda xp, x: xp.logical_not(x))
bitwise_not = _predicate("bitwise_not", lambda xp, x: ~x)
isnan = _predicate("isnan", lambda xp, x: xp.isnan(x))
isinf = _predicate("isinf", lambda xp, x: xp.isinf(x))
isfinite = _predicate("isfinite", lambda xp, x: xp.isfinite(x))


def isclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    return Tensor._wrap(a.xp.asarray(a.xp.isclose(a.array, b.array if isinstance(b, Tensor)
                                                  else b, rtol, atol, equal_nan)), a.device)


def allclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False) -> bool:
    """``|a - b| <= atol + rtol * |b|`` everywhere (torch's rule, same defaults)."""
    return bool(isclose(a, b, rtol, atol, equal_nan).array.all())


def equal(a, b) -> bool:
    """True when both have the same shape and elements (torch.equal)."""
    return a.shape == b.shape and bool((a.array == b.array).all())


@numpy_names
def any(a, dim=None, keepdim=False):  # noqa: A001
    return Tensor._wrap(a.xp.asarray(a.array.any(axis=dim, keepdims=keepdim)), a.device)


@numpy_names
def all(a, dim=None, keepdim=False):  # noqa: A001
    return Tensor._wrap(a.xp.asarray(a.array.all(axis=dim, keepdims=keepdim)), a.device)


@numpy_names
def count_nonzero(a, dim=None):
    return Tensor._wrap(a.xp.asarray(a.xp.count_nonzero(a.array, axis=dim), dtype="int64"),
                        a.device)


# ----------------------------------------------------------------------------- sorting
sort_type = namedtuple("sort", ["values", "indices"])
topk_type = namedtuple("topk", ["values", "indices"])


def _order(a: Tensor, dim: int, descending: bool):
    """Stable indices that sort ``a`` along ``dim`` (ties keep their order)."""
    key = a.array
    if descending:
        key = -key.astype("int64") if key.dtype.kind in "bu" else -key
    return a.xp.argsort(key, axis=dim, kind="stable")


@numpy_names
def argsort(a, dim=-1, descending=False, stable=False):
    return Tensor._wrap(_order(a, dim, descending).astype("int64"), a.device)


@numpy_names
def sort(a, dim=-1, descending=False, stable=False):
    """``(values, indices)`` sorted along ``dim``; values are differentiable (a gather)."""
    if a.ndim == 0:
        return sort_type(a, Tensor._wrap(a.xp.zeros((), dtype="int64"), a.device))
    index = _order(a, dim, descending)
    return sort_type(X.Gather.apply(a, index=index, dim=dim),
                     Tensor._wrap(index.astype("int64"), a.device))


@numpy_names
def topk(a, k, dim=-1, largest=True, sorted=True):  # noqa: A002
    """The ``k`` largest (or smallest) along ``dim``: ``(values, indices)``."""
    size = a.shape[dim] if a.ndim else 1
    if not 0 <= k <= size:
        raise SizeError(f"topk: k ({k}) is out of range for a dimension of size {size}")
    index = _order(a, dim, largest)
    index = a.xp.take(index, a.xp.arange(k), axis=dim % max(a.ndim, 1))
    return topk_type(X.Gather.apply(a, index=index, dim=dim),
                     Tensor._wrap(index.astype("int64"), a.device))


# ----------------------------------------------------------------------------- products
def mm(a, b):
    """The product of two matrices (2-D only, as torch.mm)."""
    if a.ndim != 2 or b.ndim != 2:
        raise SizeError(f"mm: both arguments must be matrices (2-D), got {a.ndim}-D and "
                        f"{b.ndim}-D; use matmul for other shapes")
    return api.matmul(a, b)


def bmm(a, b):
    """Batched matrix product: (B, n, k) @ (B, k, m) -> (B, n, m), no broadcasting."""
    if a.ndim != 3 or b.ndim != 3:
        raise SizeError(f"bmm: batch1 must be a 3D tensor and batch2 must be a 3D tensor, got "
                        f"{a.ndim}-D and {b.ndim}-D")
    if a.shape[0] != b.shape[0]:
        raise SizeError(f"bmm: batch sizes differ ({a.shape[0]} and {b.shape[0]})")
    return api.matmul(a, b)


def dot(a, b):
    if a.ndim != 1 or b.ndim != 1:
        raise SizeError(f"dot: 1D tensors expected, but got {a.ndim}D and {b.ndim}D tensors")
    if a.shape != b.shape:
        raise SizeError(f"dot: inconsistent tensor size, expected tensor [{a.shape[0]}] and "
                        f"src [{b.shape[0]}] to have the same number of elements")
    return api.matmul(a, b)


def outer(a, b):
    return api.mul(api.unsqueeze(a, 1), api.unsqueeze(b, 0))


# ----------------------------------------------------------------------------- statistics
median_type = namedtuple("median", ["values", "indices"])


@numpy_names
def median(a, dim=None, keepdim=False):
    """The lower median (element ``(n - 1) // 2`` in sorted order), as torch; along ``dim`` it
    returns ``(values, indices)``. The gradient goes to the chosen element."""
    if dim is None:
        values = sort(api.reshape(a, -1)).values
        return api.getitem(values, (values.shape[0] - 1) // 2)
    axis = dim % max(a.ndim, 1)
    ordered = sort(a, dim=axis)
    pick = (slice(None),) * axis + ((a.shape[axis] - 1) // 2,)
    values, indices = api.getitem(ordered.values, pick), api.getitem(ordered.indices, pick)
    if keepdim:
        values, indices = api.unsqueeze(values, axis), api.unsqueeze(indices, axis)
    return median_type(values, indices)


@numpy_names
def var_mean(a, dim=None, unbiased=True, keepdim=False, correction=None):
    return (api.var(a, dim=dim, unbiased=unbiased, keepdim=keepdim, correction=correction),
            api.mean(a, dim=dim, keepdim=keepdim))


@numpy_names
def std_mean(a, dim=None, unbiased=True, keepdim=False, correction=None):
    return (api.std(a, dim=dim, unbiased=unbiased, keepdim=keepdim, correction=correction),
            api.mean(a, dim=dim, keepdim=keepdim))


def lerp(start, end, weight):
    """``start + weight * (end - start)``, written as torch does (from ``end`` when
    ``|weight| >= 0.5``) so that the last bits agree."""
    diff = api.sub(end, start)
    low = api.add(start, api.mul(diff, weight))
    high = api.sub(end, api.mul(diff, api.sub(1.0, weight) if isinstance(weight, Tensor)
                                else 1.0 - weight))
    small = (weight.abs().array < 0.5) if isinstance(weight, Tensor) else abs(weight) < 0.5
    if isinstance(small, bool):
        return low if small else high
    return api.where(small, low, high)


def diag(a, diagonal: int = 0):
    """A 1-D tensor -> the square matrix with it on diagonal ``diagonal``; a matrix -> that
    diagonal as a 1-D tensor. Differentiable (index arrays)."""
    xp = a.xp
    if a.ndim == 1:
        n = a.shape[0] + abs(diagonal)
        rows, cols = xp.indices((n, n))
        source = rows if diagonal >= 0 else cols  # the position along ``a`` of each cell
        on_diagonal = cols - rows == diagonal
        padded = api.cat([api.reshape(api.mul(a[:1], 0), 1), a])  # index 0: a zero
        return api.getitem(padded, xp.where(on_diagonal, source + 1, 0))
    if a.ndim != 2:
        raise SizeError(f"diag(): Supports 1D or 2D tensors. Got {a.ndim}D")
    start_row, start_col = max(-diagonal, 0), max(diagonal, 0)
    length = max(min(a.shape[0] - start_row, a.shape[1] - start_col), 0)
    steps = xp.arange(length)
    return api.getitem(a, (steps + start_row, steps + start_col))
