"""Attach the differentiable ops to ``Tensor`` as methods and Python operators.

Kept apart from ``tensor.py`` so that file reads as the data structure alone; every method
here is one line that calls ``ops.api``.
"""

from __future__ import annotations

from ..ops import api
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

for _name, _fn in _METHODS.items():
    setattr(Tensor, _name, _fn)


def _expand_as(self, other):
    return api.expand(self, other.shape)


def _view_as(self, other):
    return api.reshape(self, other.shape)


def _eq_all(self, other) -> bool:
    return bool((self == other).array.all())


def _any(self):
    return Tensor._wrap(self.xp.asarray(self.array.any()), self.device)


def _all(self):
    return Tensor._wrap(self.xp.asarray(self.array.all()), self.device)


Tensor.expand_as = _expand_as
Tensor.view_as = _view_as
Tensor.equal = _eq_all
Tensor.any = _any
Tensor.all = _all
