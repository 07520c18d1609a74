"""Tensor creation with torch's names and defaults (float32 unless told otherwise)."""

from __future__ import annotations

import numpy as np

from . import backend
from .autograd.tensor import Tensor, float32, int64
from .random import generator


def _make(array, device, dtype, requires_grad) -> Tensor:
    device = backend.check_device(device or "cpu")
    array = backend.move_array(np.asarray(array, dtype=np.dtype(dtype)), device)
    return Tensor(array, requires_grad=requires_grad, device=device)


def _size(size) -> tuple[int, ...]:
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    if any(int(n) < 0 for n in size):
        raise ValueError(f"sizes must be non-negative, got {tuple(size)}")
    return tuple(int(n) for n in size)


def tensor(data, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data`` (as ``torch.tensor``)."""
    if isinstance(data, Tensor):
        data = data.detach().array
    if hasattr(data, "copy"):
        data = data.copy()
    return Tensor(data, requires_grad=requires_grad, device=device, dtype=dtype)


def from_numpy(array: np.ndarray) -> Tensor:
    """Wrap a NumPy array without copying; the dtype is kept (float64 stays float64)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy expects a numpy.ndarray, got {type(array).__name__}")
    return Tensor._wrap(array, "cpu")


def zeros(*size, dtype=float32, device=None, requires_grad=False) -> Tensor:
    return _make(np.zeros(_size(size)), device, dtype, requires_grad)


def ones(*size, dtype=float32, device=None, requires_grad=False) -> Tensor:
    return _make(np.ones(_size(size)), device, dtype, requires_grad)


def empty(*size, dtype=float32, device=None, requires_grad=False) -> Tensor:
    return zeros(*size, dtype=dtype, device=device, requires_grad=requires_grad)


def full(size, fill_value, dtype=None, device=None, requires_grad=False) -> Tensor:
    if dtype is None:
        dtype = float32 if isinstance(fill_value, float) else np.asarray(fill_value).dtype
    return _make(np.full(_size((size,)), fill_value), device, dtype, requires_grad)


def eye(n: int, m: int | None = None, dtype=float32, device=None, requires_grad=False) -> Tensor:
    return _make(np.eye(n, m), device, dtype, requires_grad)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False) -> Tensor:
    if end is None:
        start, end = 0, start
    if dtype is None:
        is_float = any(isinstance(v, float) for v in (start, end, step))
        dtype = float32 if is_float else int64
    return _make(np.arange(start, end, step), device, dtype, requires_grad)


def linspace(start, end, steps, dtype=float32, device=None, requires_grad=False) -> Tensor:
    return _make(np.linspace(start, end, steps), device, dtype, requires_grad)


def rand(*size, dtype=float32, device=None, requires_grad=False) -> Tensor:
    """Uniform on [0, 1), from the seedable generator (``manual_seed``)."""
    values = generator(device or "cpu").random(_size(size))
    return _make(values, device, dtype, requires_grad)


def randn(*size, dtype=float32, device=None, requires_grad=False) -> Tensor:
    """Standard normal, from the seedable generator (``manual_seed``)."""
    values = generator(device or "cpu").standard_normal(_size(size))
    return _make(values, device, dtype, requires_grad)


def randint(low, high=None, size=(), dtype=int64, device=None) -> Tensor:
    if high is None:
        low, high = 0, low
    values = generator(device or "cpu").integers(low, high, size=tuple(size))
    return _make(values, device, dtype, False)


def randperm(n: int, device=None) -> Tensor:
    return _make(generator(device or "cpu").permutation(n), device, int64, False)


def _like(fn, other: Tensor, dtype, device, requires_grad, *args):
    return fn(*args, other.shape, dtype=dtype or other.dtype, device=device or other.device,
              requires_grad=requires_grad)


def zeros_like(other, dtype=None, device=None, requires_grad=False) -> Tensor:
    return _like(zeros, other, dtype, device, requires_grad)


def ones_like(other, dtype=None, device=None, requires_grad=False) -> Tensor:
    return _like(ones, other, dtype, device, requires_grad)


def rand_like(other, dtype=None, device=None, requires_grad=False) -> Tensor:
    return _like(rand, other, dtype, device, requires_grad)


def randn_like(other, dtype=None, device=None, requires_grad=False) -> Tensor:
    return _like(randn, other, dtype, device, requires_grad)


def full_like(other, fill_value, dtype=None, device=None, requires_grad=False) -> Tensor:
    return full(other.shape, fill_value, dtype=dtype or other.dtype,
                device=device or other.device, requires_grad=requires_grad)
