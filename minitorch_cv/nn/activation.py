"""Activation layers: thin Modules over the functional ops, with torch's arguments.

Shapes (every layer here):
    input (*) -> output (*), the same shape; Softmax/LogSoftmax normalise along ``dim``.
"""

from __future__ import annotations

import warnings

from ..autograd.tensor import Tensor
from ..ops import api
from .module import Module


class ReLU(Module):
    """max(x, 0). ``inplace=True`` overwrites the input and returns it (recorded in the graph,
    as torch: fine after conv/batch norm/``+=``, an error on backward after an op that saved
    its output, such as sigmoid)."""

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return api.relu(input, inplace=self.inplace)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class LeakyReLU(Module):
    """x for x > 0, ``negative_slope * x`` otherwise."""

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False):
        super().__init__()
        self.negative_slope, self.inplace = negative_slope, inplace

    def forward(self, input: Tensor) -> Tensor:
        return api.leaky_relu(input, self.negative_slope, inplace=self.inplace)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class Sigmoid(Module):
    """1 / (1 + exp(-x)), computed without overflow for large |x|."""

    def forward(self, input: Tensor) -> Tensor:
        return api.sigmoid(input)


class Tanh(Module):
    """The hyperbolic tangent."""

    def forward(self, input: Tensor) -> Tensor:
        return api.tanh(input)


def _softmax_dim(name: str, ndim: int) -> int:
    # torch's legacy rule for dim=None, with the same warning
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call "
                  "to include dim=X as an argument.", stacklevel=3)
    return 0 if ndim in (0, 1, 3) else 1


class Softmax(Module):
    """exp(x) / sum(exp(x)) along ``dim`` (``dim=None``: torch's legacy choice, with a
    warning)."""

    def __init__(self, dim: int | None = None):
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:
        dim = _softmax_dim("softmax", input.ndim) if self.dim is None else self.dim
        return api.softmax(input, dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """log(softmax(x)) along ``dim``, computed stably (x - max - log sum exp)."""

    def __init__(self, dim: int | None = None):
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:
        dim = _softmax_dim("log_softmax", input.ndim) if self.dim is None else self.dim
        return api.log_softmax(input, dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"
