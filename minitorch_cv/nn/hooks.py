"""Helpers of ``Module``: hook handles and the argument parsing of ``Module.to``."""

from __future__ import annotations

import itertools

import numpy as np

from .. import backend
from ..autograd.tensor import Tensor


class RemovableHandle:
    """Returned by ``register_forward_hook``; ``handle.remove()`` unregisters the hook."""

    _next_id = itertools.count()

    def __init__(self, hooks: dict):
        self.hooks = hooks
        self.id = next(RemovableHandle._next_id)

    def remove(self) -> None:
        self.hooks.pop(self.id, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc) -> None:
        self.remove()


def parse_to(args, kwargs) -> tuple[str | None, np.dtype | None]:
    """``to("cuda")``, ``to(float64)``, ``to("cpu", float64)``, ``to(device=..., dtype=...)``,
    ``to(tensor)``, with ``non_blocking=`` accepted (copies are synchronous here)."""
    device, dtype = kwargs.pop("device", None), kwargs.pop("dtype", None)
    kwargs.pop("non_blocking", None)
    kwargs.pop("memory_format", None)
    if kwargs:
        raise TypeError(f"to() got unexpected arguments {sorted(kwargs)}")
    for arg in args:
        if isinstance(arg, Tensor):
            device, dtype = arg.device, arg.dtype
        elif isinstance(arg, str):  # strings are devices; dtypes are dtype objects
            device = arg
        elif isinstance(arg, bool):  # to(device, dtype, non_blocking) positionally
            continue
        elif arg is not None:
            dtype = arg
    if dtype is not None:
        dtype = np.dtype(dtype)
        if dtype.kind != "f":
            raise TypeError(f"nn.Module.to only accepts floating point dtypes, but got "
                            f"desired dtype={dtype}")
    return (backend.check_device(device) if device is not None else None), dtype
