"""Device and dtype conversions of ``Tensor``: ``to``, ``cpu``, ``cuda``, ``float``, ``type``, ...

Attached to ``Tensor`` here (as ``tensor_methods`` does for the ops) so that ``tensor.py`` reads
as the data structure. Every conversion is differentiable (``Cast`` and ``ToDevice`` pass the
gradient back), and returns ``self`` when nothing changes, as torch does.
"""

from __future__ import annotations

import numpy as np

from .. import backend
from .tensor import Tensor, bool_, float16, float32, float64, int32, int64, uint8


def is_dtype(value) -> bool:
    """True for what torch code passes as a dtype: ``float32`` (a NumPy dtype), ``np.float32``,
    Python ``float``/``int``/``bool``. Strings are never dtypes here (they are devices)."""
    if isinstance(value, np.dtype):
        return True
    return isinstance(value, type) and (issubclass(value, np.generic)
                                        or value in (float, int, bool))


def parse_to_args(tensor: Tensor, args, kwargs) -> tuple[backend.device, np.dtype, bool]:
    """torch's three forms of ``to``: ``to(dtype)``, ``to(device=None, dtype=None)``,
    ``to(other)``; plus ``non_blocking`` (accepted: copies here are synchronous) and ``copy``."""
    device, dtype = kwargs.pop("device", None), kwargs.pop("dtype", None)
    copy = bool(kwargs.pop("copy", False))
    kwargs.pop("non_blocking", None)
    kwargs.pop("memory_format", None)  # one memory format (contiguous) exists here
    if kwargs:
        raise TypeError(f"to() got unexpected keyword arguments {sorted(kwargs)}")
    args = list(args)
    if args and isinstance(args[-1], bool):  # to(device, dtype, non_blocking, copy) positionally
        flags = []
        while args and isinstance(args[-1], bool):
            flags.insert(0, args.pop())
        copy = copy or (len(flags) > 1 and flags[1])
    if len(args) > 2:
        raise TypeError(f"to() takes at most 2 positional arguments (device, dtype), got "
                        f"{len(args)}")
    for arg in args:
        if isinstance(arg, Tensor):
            device, dtype = arg.device, arg.dtype
        elif isinstance(arg, str):
            device = arg
        elif is_dtype(arg):
            dtype = arg
        elif arg is not None:
            raise TypeError(f"to() expects a device (e.g. 'cpu', device('cuda')), a dtype (e.g. "
                            f"minitorch_cv.float64) or a tensor, got {arg!r}")
    device = tensor.device if device is None else backend.check_device(device)
    dtype = tensor.dtype if dtype is None else np.dtype(dtype)
    return device, dtype, copy


def to(self: Tensor, *args, **kwargs) -> Tensor:
    """``to(device)``, ``to(dtype)``, ``to(device, dtype)``, ``to(other)``, with
    ``non_blocking=`` and ``copy=`` (as torch); differentiable."""
    device, dtype, copy = parse_to_args(self, args, kwargs)
    out = self
    if dtype != self.dtype:
        out = out.type(dtype)
    if device != self.device:
        from ..ops.movement import ToDevice  # noqa: PLC0415

        out = ToDevice.apply(out, device=device)
    if copy and out is self:
        out = self.clone()
    return out


def cpu(self: Tensor, memory_format=None) -> Tensor:
    return self.to("cpu")


def cuda(self: Tensor, device=None, non_blocking: bool = False, memory_format=None) -> Tensor:
    if device is not None and not isinstance(device, str):
        device = f"cuda:{int(device)}"
    return self.to(device or "cuda")


def type_(self: Tensor, dtype=None, non_blocking: bool = False):
    """``type(dtype)`` casts (differentiable); ``type()`` names the dtype (``"float32"``)."""
    if dtype is None:
        return str(self.dtype)
    from ..ops.elementwise import Cast  # noqa: PLC0415

    return self if np.dtype(dtype) == self.dtype else Cast.apply(self, dtype=np.dtype(dtype))


def type_as(self: Tensor, other: Tensor) -> Tensor:
    return self.type(other.dtype)


def _caster(dtype):
    def method(self, memory_format=None):
        return self.type(dtype)

    method.__doc__ = f"This tensor as {dtype} (``self`` when it already is)."
    return method


def pin_memory(self: Tensor, device=None) -> Tensor:
    """Accepted for torch code (page-locked memory speeds host-to-GPU copies there): the same
    tensor here, where every copy is synchronous."""
    return self


def is_pinned(self: Tensor, device=None) -> bool:
    return False


Tensor.to = to
Tensor.cpu = cpu
Tensor.cuda = cuda
Tensor.type = type_
Tensor.type_as = type_as
Tensor.pin_memory = pin_memory
Tensor.is_pinned = is_pinned
Tensor.float = _caster(float32)
Tensor.double = _caster(float64)
Tensor.half = _caster(float16)
Tensor.long = _caster(int64)
Tensor.int = _caster(int32)
Tensor.bool = _caster(bool_)
Tensor.byte = _caster(uint8)
Tensor.is_cuda = property(lambda self: self.device.type == "cuda",
                          doc="True on a real GPU (``cuda``), False on ``cpu`` and ``cuda-sim``.")
Tensor.is_cpu = property(lambda self: self.device.type == "cpu")
Tensor.get_device = lambda self: -1 if self.device.type == "cpu" else 0
