"""Attach the differentiable ops to ``Tensor`` as methods and Python operators.

Kept apart from ``tensor.py`` so that file reads as the data structure alone; every method
here is one line that calls ``ops.api``.
"""

from __future__ import annotations

import numpy as np

from ..ops import api, api_math, api_shape
from .tensor import Tensor


def _reflected(fn):
    return lambda self, other: fn(other, self)


def _compare(op):
    def method(self, other):
        a, b = api._promote(self, other)
        a_data = a.array if isinstance(a, Tensor) else a
        b_data = b.array if isinstance(b, Tensor) else b
        return Tensor._wrap(op(a_data, b_data), self.device)

    return method


_METHODS = {
    "__add__": api.add, "__radd__": _reflected(api.add),
    "__sub__": api.sub, "__rsub__": _reflected(api.sub),
    "__mul__": api.mul, "__rmul__": _reflected(api.mul),
    "__truediv__": api.div, "__rtruediv__": _reflected(api.div),
    "__pow__": api.pow, "__rpow__": _reflected(api.pow),
    "__matmul__": api.matmul, "__rmatmul__": _reflected(api.matmul),
    "__neg__": api.neg, "__getitem__": api.getitem,
    "__lt__": _compare(lambda a, b: a < b), "__le__": _compare(lambda a, b: a <= b),
    "__gt__": _compare(lambda a, b: a > b), "__ge__": _compare(lambda a, b: a >= b),
    "__eq__": _compare(lambda a, b: a == b), "__ne__": _compare(lambda a, b: a != b),
    "add": api.add, "sub": api.sub, "mul": api.mul, "div": api.div, "pow": api.pow,
    "neg": api.neg, "exp": api.exp, "log": api.log, "sqrt": api.sqrt, "abs": api.abs,
    "clamp": api.clamp, "clip": api.clamp, "maximum": api.maximum, "minimum": api.minimum,
    "relu": api.relu, "sigmoid": api.sigmoid, "tanh": api.tanh,
    "sum": api.sum, "mean": api.mean, "var": api.var, "std": api.std, "max": api.max,
    "min": api.min, "argmax": api.argmax, "argmin": api.argmin, "logsumexp": api.logsumexp,
    "softmax": api.softmax, "log_softmax": api.log_softmax,
    "reshape": api.reshape, "view": api.reshape, "permute": api.permute,
    "transpose": api.transpose, "flatten": api.flatten, "squeeze": api.squeeze,
    "unsqueeze": api.unsqueeze, "expand": api.expand, "matmul": api.matmul,
}

_MATH = (
    "sin cos tan log1p expm1 log2 log10 rsqrt reciprocal square floor ceil trunc fix sign "
    "round frac remainder fmod floor_divide clamp_min clamp_max prod cumsum amax amin norm "
    "dist eq ne lt le gt ge greater less greater_equal less_equal not_equal logical_and "
    "logical_or logical_xor logical_not bitwise_and bitwise_or bitwise_xor bitwise_not isnan "
    "isinf isfinite isclose allclose any all count_nonzero argsort sort topk mm bmm dot outer "
    "median lerp diag"
).split()
_SHAPE = (
    "narrow split chunk unbind flip roll repeat tile masked_fill masked_select index_select "
    "gather t triu tril unflatten broadcast_to nonzero argwhere unique"
).split()
_METHODS.update({name: getattr(api_math, name) for name in _MATH})
_METHODS.update({name: getattr(api_shape, name) for name in _SHAPE})
_METHODS.update({
    "__abs__": api.abs, "__floordiv__": api_math.floor_divide,
    "__rfloordiv__": _reflected(api_math.floor_divide), "__mod__": api_math.remainder,
    "__rmod__": _reflected(api_math.remainder), "__and__": api_math.bitwise_and,
    "__rand__": api_math.bitwise_and, "__or__": api_math.bitwise_or,
    "__ror__": api_math.bitwise_or, "__xor__": api_math.bitwise_xor,
    "__rxor__": api_math.bitwise_xor, "__invert__": api_math.bitwise_not,
    "true_divide": api.div, "multiply": api.mul, "subtract": api.sub, "divide": api.div,
    "absolute": api.abs, "negative": api.neg,
})

for _name, _fn in _METHODS.items():
    setattr(Tensor, _name, _fn)


def _expand_as(self, other):
    return api.expand(self, other.shape)


def _view_as(self, other):
    return api.reshape(self, other.shape)


def _where(self, condition, other):
    return api.where(condition, self, other)


def _index(self) -> int:
    """A one-element integer tensor as a Python index (``range(t)``, ``lst[t]``)."""
    if self.dtype.kind not in "iub" or self.array.size != 1:
        raise TypeError("only integer tensors of a single element can be converted to an index")
    return int(self.item())


def _format(self, spec: str) -> str:
    """``f"{loss:.4f}"`` formats a 0-d tensor as its number, as torch."""
    if self.ndim == 0:
        return format(self.item(), spec)
    return object.__format__(self, spec) if spec else repr(self)


def _iter(self):
    if self.ndim == 0:
        raise TypeError("iteration over a 0-d tensor")
    return iter(api_shape.unbind(self, 0))


def _contains(self, element) -> bool:
    return bool((self.array == (element.array if isinstance(element, Tensor) else element))
                .any())


def _contiguous(self, memory_format=None):
    """``self`` when its memory is in row-major order, else a row-major copy (as torch)."""
    return self if self.is_contiguous() else self.clone()


def _is_contiguous(self, memory_format=None) -> bool:
    return bool(self.array.flags.c_contiguous)


def _new(fill):
    def method(self, *size, dtype=None, device=None, requires_grad=False):
        from .. import creation  # noqa: PLC0415  (creation imports this package)

        shape = api._shape_arg(size)
        array = self.xp.full(shape, fill, dtype=np.dtype(dtype or self.dtype))
        out = Tensor._wrap(array, self.device)
        out = out if device is None else out.to(device)
        return creation.tensor(out, requires_grad=requires_grad) if requires_grad else out

    return method


def _new_full(self, size, fill_value, dtype=None, device=None, requires_grad=False):
    return _new(fill_value)(self, *size, dtype=dtype, device=device,
                            requires_grad=requires_grad)


def _new_tensor(self, data, dtype=None, device=None, requires_grad=False):
    from .. import creation  # noqa: PLC0415

    return creation.tensor(data, dtype=dtype or self.dtype, device=device or self.device,
                           requires_grad=requires_grad)


Tensor.expand_as = _expand_as
Tensor.view_as = _view_as
Tensor.equal = api_math.equal
Tensor.where = _where
Tensor.__index__ = _index
Tensor.__format__ = _format
Tensor.__iter__ = _iter
Tensor.__contains__ = _contains
Tensor.__pos__ = lambda self: self.clone()
Tensor.contiguous = _contiguous
Tensor.is_contiguous = _is_contiguous
Tensor.new_zeros = _new(0)
Tensor.new_ones = _new(1)
Tensor.new_empty = _new(0)
Tensor.new_full = _new_full
Tensor.new_tensor = _new_tensor
Tensor.ndimension = Tensor.dim
Tensor.nelement = Tensor.numel
Tensor.element_size = lambda self: int(self.array.itemsize)
Tensor.mT = property(lambda self: api.transpose(self, -2, -1))
