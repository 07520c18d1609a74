"""``Linear``, ``Identity``, ``Flatten``: layers with no spatial structure."""

from __future__ import annotations

import math

import numpy as np

from .. import backend
from ..autograd.tensor import Tensor
from ..creation import get_default_dtype
from ..ops import api
from . import init
from .module import Module
from .parameter import Parameter


def empty_parameter(shape: tuple[int, ...], device=None, dtype=None) -> Parameter:
    """An uninitialised (zero) Parameter of ``shape``; layers fill it in ``reset_parameters``."""
    device = backend.check_device(device or "cpu")
    array = np.zeros(shape, dtype=get_default_dtype() if dtype is None else np.dtype(dtype))
    return Parameter(Tensor(backend.move_array(array, device), device=device))


def init_weight_and_bias(weight: Parameter, bias: Parameter | None) -> None:
    """torch's default for Linear and Conv: kaiming_uniform_(a=sqrt(5)), which is
    U(-1/sqrt(fan_in), 1/sqrt(fan_in)), and the bias from the same interval."""
    init.kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        fan_in, _ = init._calculate_fan_in_and_fan_out(weight)
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
        init.uniform_(bias, -bound, bound)


class Identity(Module):
    """Returns its input unchanged (arguments are accepted and ignored, as torch)."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input: Tensor) -> Tensor:
        return input


class Linear(Module):
    """``y = x W^T + b``.

    Shapes:
        input (*, in_features) -> output (*, out_features); weight (out_features, in_features),
        bias (out_features,).
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, device=None,
                 dtype=None):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.weight = empty_parameter((out_features, in_features), device, dtype)
        if bias:
            self.bias = empty_parameter((out_features,), device, dtype)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init_weight_and_bias(self.weight, self.bias)

    def forward(self, input: Tensor) -> Tensor:
        if input.shape[-1:] != (self.in_features,):
            raise RuntimeError(f"Linear expects inputs whose last dim is in_features="
                               f"{self.in_features}, got shape {input.shape}")
        out = api.matmul(input, self.weight.T)
        return out if self.bias is None else out + self.bias

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Flatten(Module):
    """Flattens dims ``start_dim..end_dim`` into one (default: all but the batch dim)."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, input: Tensor) -> Tensor:
        return api.flatten(input, self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"
