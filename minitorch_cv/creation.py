"""Tensor creation with torch's names, signatures and defaults.

``dtype=None`` means torch's default: the default float dtype (float32 unless changed with
``set_default_dtype``) for floating results, int64 for integer ranges. ``size`` may be given
as separate ints, one tuple, or the keyword ``size=`` (NumPy's spelling, which torch accepts).
Random functions draw from the seedable source (``manual_seed``) or from a ``Generator``.
"""

from __future__ import annotations

import numbers

import numpy as np

from . import backend
from .autograd import tensor as _tensor_module
from .autograd.tensor import Tensor, int64
from .generator import numpy_generator
from .random import generator


def get_default_dtype() -> np.dtype:
    """The dtype of floating tensors made without a dtype (float32, as torch)."""
    return _tensor_module._DEFAULT_FLOAT


def set_default_dtype(dtype) -> None:
    """Change the default floating dtype (``float32`` or ``float64``), as torch."""
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"only floating-point types are supported as the default type, got "
                        f"{dtype}")
    _tensor_module._DEFAULT_FLOAT = dtype


def _float(dtype) -> np.dtype:
    return get_default_dtype() if dtype is None else np.dtype(dtype)


def _make(array, device, dtype, requires_grad) -> Tensor:
    device = backend.check_device(device or "cpu")
    array = backend.move_array(np.asarray(array, dtype=np.dtype(dtype)), device)
    return Tensor(array, requires_grad=requires_grad, device=device)


def _size(size, keyword=None) -> tuple[int, ...]:
    """Sizes given as ints, as one tuple/list, or (``keyword``) as ``size=``."""
    if keyword is not None:
        if size:
            raise TypeError("give the size either positionally or as size=, not both")
        size = (keyword,)
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    if not all(isinstance(n, (numbers.Integral, Tensor)) for n in size):
        raise TypeError(f"sizes must be integers, got {tuple(size)}")
    if any(int(n) < 0 for n in size):
        raise RuntimeError(f"sizes must be non-negative, got {tuple(int(n) for n in size)}")
    return tuple(int(n) for n in size)


def _rng(generator_arg, device) -> np.random.Generator:
    """The device's seedable stream, or the given ``Generator``'s."""
    if generator_arg is None:
        return generator(device or "cpu")
    return numpy_generator(generator_arg)


def tensor(data, dtype=None, device=None, requires_grad: bool = False,
           pin_memory: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data`` (as ``torch.tensor``)."""
    if isinstance(data, Tensor):
        data = data.detach().array
    if hasattr(data, "copy"):
        data = data.copy()
    return Tensor(data, requires_grad=requires_grad, device=device, dtype=dtype)


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """``data`` as a tensor, sharing memory when it already is one (or a NumPy array) of the
    right dtype and device (as ``torch.as_tensor``)."""
    if isinstance(data, Tensor):
        return data.to(device or data.device, dtype or data.dtype)
    if isinstance(data, np.ndarray) and (dtype is None or np.dtype(dtype) == data.dtype) and (
            device is None or backend.check_device(device) == "cpu"):
        return Tensor._wrap(data, "cpu")
    return Tensor(data, device=device, dtype=dtype)


def from_numpy(array: np.ndarray) -> Tensor:
    """Wrap a NumPy array without copying; the dtype is kept (float64 stays float64)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy expects a numpy.ndarray, got {type(array).__name__}")
    return Tensor._wrap(array, "cpu")


def is_tensor(obj) -> bool:
    return isinstance(obj, Tensor)


def numel(input: Tensor) -> int:  # noqa: A002 (torch's name)
    return input.numel()


def zeros(*shape, dtype=None, device=None, requires_grad=False, size=None) -> Tensor:
    return _make(np.zeros(_size(shape, size)), device, _float(dtype), requires_grad)


def ones(*shape, dtype=None, device=None, requires_grad=False, size=None) -> Tensor:
    return _make(np.ones(_size(shape, size)), device, _float(dtype), requires_grad)


def empty(*shape, dtype=None, device=None, requires_grad=False, size=None) -> Tensor:
    """Zeros (torch leaves the memory uninitialised; reading it is a bug either way)."""
    return zeros(*shape, dtype=dtype, device=device, requires_grad=requires_grad, size=size)


def full(size, fill_value, dtype=None, device=None, requires_grad=False) -> Tensor:
    if dtype is None:
        kind = np.asarray(fill_value).dtype.kind
        dtype = {"f": get_default_dtype(), "b": np.bool_, "i": int64, "u": int64}.get(kind)
    return _make(np.full(_size((size,)), fill_value), device, dtype, requires_grad)


def eye(n: int, m: int | None = None, dtype=None, device=None, requires_grad=False) -> Tensor:
    return _make(np.eye(n, m), device, _float(dtype), requires_grad)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False) -> Tensor:
    if end is None:
        start, end = 0, start
    if dtype is None:
        is_float = any(isinstance(v, float) for v in (start, end, step))
        dtype = get_default_dtype() if is_float else int64
    return _make(np.arange(start, end, step), device, dtype, requires_grad)


def linspace(start, end, steps, dtype=None, device=None, requires_grad=False) -> Tensor:
    return _make(np.linspace(start, end, steps), device, _float(dtype), requires_grad)


def logspace(start, end, steps, base: float = 10.0, dtype=None, device=None,
             requires_grad=False) -> Tensor:
    return _make(np.logspace(start, end, steps, base=base), device, _float(dtype),
                 requires_grad)


def rand(*shape, generator=None, dtype=None, device=None, requires_grad=False,
         size=None) -> Tensor:
    """Uniform on [0, 1), from the seedable generator (``manual_seed``) or ``generator``."""
    values = _rng(generator, device).random(_size(shape, size))
    return _make(values, device, _float(dtype), requires_grad)


def randn(*shape, generator=None, dtype=None, device=None, requires_grad=False,
          size=None) -> Tensor:
    """Standard normal, from the seedable generator (``manual_seed``) or ``generator``."""
    values = _rng(generator, device).standard_normal(_size(shape, size))
    return _make(values, device, _float(dtype), requires_grad)


def randint(low, high=None, size=(), generator=None, dtype=None, device=None,
            requires_grad=False) -> Tensor:
    """``randint(high, size)`` or ``randint(low, high, size)``: integers in [low, high)."""
    if high is None:
        low, high = 0, low
    elif isinstance(high, (tuple, list)):  # randint(high, size) positionally
        low, high, size = 0, low, high
    values = _rng(generator, device).integers(low, high, size=_size((size,)))
    return _make(values, device, int64 if dtype is None else dtype, requires_grad)


def randperm(n: int, generator=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    values = _rng(generator, device).permutation(int(n))
    return _make(values, device, int64 if dtype is None else dtype, requires_grad)


def normal(mean=0.0, std=1.0, size=None, generator=None, dtype=None, device=None,
           requires_grad=False) -> Tensor:
    """Normal samples: ``normal(mean, std, size)`` with numbers, or elementwise with tensors
    for ``mean`` and/or ``std`` (broadcast together), as ``torch.normal``. Not differentiable
    (torch's isn't either for the tensor forms' reparameterisation)."""
    tensors = [t for t in (mean, std) if isinstance(t, Tensor)]
    if tensors:
        if size is not None:
            raise RuntimeError("normal(): give size only when mean and std are numbers")
        device = tensors[0].device
        mean_a = mean.detach().array if isinstance(mean, Tensor) else mean
        std_a = std.detach().array if isinstance(std, Tensor) else std
        shape = np.broadcast_shapes(np.shape(mean_a), np.shape(std_a))
        dtype = dtype or next(t.dtype for t in tensors if t.dtype.kind == "f")
        noise = backend.move_array(_rng(generator, device).standard_normal(shape), device)
        return Tensor._wrap((mean_a + std_a * noise).astype(dtype), device)
    if size is None:
        raise TypeError("normal() with a number for mean and std needs size=(...)")
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
    values = _rng(generator, device).normal(mean, std, _size((size,)))
    return _make(values, device, _float(dtype), requires_grad)


def _like(fn, other: Tensor, dtype, device, requires_grad, *args, **kwargs):
    return fn(*args, other.shape, dtype=dtype or other.dtype, device=device or other.device,
              requires_grad=requires_grad, **kwargs)


def zeros_like(input, dtype=None, device=None, requires_grad=False) -> Tensor:  # noqa: A002
    return _like(zeros, input, dtype, device, requires_grad)


def ones_like(input, dtype=None, device=None, requires_grad=False) -> Tensor:  # noqa: A002
    return _like(ones, input, dtype, device, requires_grad)


def empty_like(input, dtype=None, device=None, requires_grad=False) -> Tensor:  # noqa: A002
    return _like(zeros, input, dtype, device, requires_grad)


def rand_like(input, dtype=None, device=None, requires_grad=False) -> Tensor:  # noqa: A002
    return _like(rand, input, dtype, device, requires_grad)


def randn_like(input, dtype=None, device=None, requires_grad=False) -> Tensor:  # noqa: A002
    return _like(randn, input, dtype, device, requires_grad)


def randint_like(input, low=0, high=None, dtype=None, device=None,  # noqa: A002
                 requires_grad=False) -> Tensor:
    if high is None:
        low, high = 0, low
    return randint(low, high, input.shape, dtype=dtype or input.dtype,
                   device=device or input.device, requires_grad=requires_grad)


def full_like(input, fill_value, dtype=None, device=None, requires_grad=False) -> Tensor:  # noqa: A002
    return full(input.shape, fill_value, dtype=dtype or input.dtype,
                device=device or input.device, requires_grad=requires_grad)
