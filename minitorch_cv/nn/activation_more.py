"""More layers with torch's names over ``functional/activation.py``: the smooth activations
(ELU, SELU, SiLU, GELU, Softplus, ...), clamps (ReLU6, Hardtanh), ``Unflatten`` and the smooth
L1 / Huber losses.

Shapes (activations): input (*) -> output (*), the same shape.
"""

from __future__ import annotations

from .. import functional as F
from ..autograd.tensor import Tensor
from .module import Module


class _Elementwise(Module):
    """A layer that applies ``self._fn(input, **self._kwargs())``; ``inplace`` is accepted
    (the result is a new tensor, with the same numbers)."""

    _fn = None
    _fields: tuple[str, ...] = ()

    def forward(self, input: Tensor) -> Tensor:
        return type(self)._fn(input, **{name: getattr(self, name) for name in self._fields})

    def extra_repr(self) -> str:
        parts = [f"{name}={getattr(self, name)}" for name in self._fields]
        if getattr(self, "inplace", False):
            parts.append("inplace=True")
        return ", ".join(parts)


class ReLU6(_Elementwise):
    """min(max(x, 0), 6)."""

    _fn = staticmethod(F.relu6)

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace


class Hardtanh(_Elementwise):
    """min(max(x, min_val), max_val)."""

    _fn = staticmethod(F.hardtanh)
    _fields = ("min_val", "max_val")

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False):
        super().__init__()
        self.min_val, self.max_val, self.inplace = min_val, max_val, inplace


class ELU(_Elementwise):
    """x for x > 0, alpha (exp(x) - 1) otherwise."""

    _fn = staticmethod(F.elu)
    _fields = ("alpha",)

    def __init__(self, alpha: float = 1.0, inplace: bool = False):
        super().__init__()
        self.alpha, self.inplace = alpha, inplace


class SELU(_Elementwise):
    """scale * ELU(x, alpha) with the self-normalising constants."""

    _fn = staticmethod(F.selu)

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace


class SiLU(_Elementwise):
    """x * sigmoid(x)."""

    _fn = staticmethod(F.silu)

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace


class Hardswish(SiLU):
    """x * relu6(x + 3) / 6."""

    _fn = staticmethod(F.hardswish)


class Hardsigmoid(SiLU):
    """relu6(x + 3) / 6."""

    _fn = staticmethod(F.hardsigmoid)


class GELU(_Elementwise):
    """x * Phi(x); only ``approximate="tanh"`` is implemented (see ``F.gelu``)."""

    _fn = staticmethod(F.gelu)
    _fields = ("approximate",)

    def __init__(self, approximate: str = "none"):
        super().__init__()
        self.approximate = approximate


class Softplus(_Elementwise):
    """log(1 + exp(beta x)) / beta, linear above ``threshold``."""

    _fn = staticmethod(F.softplus)
    _fields = ("beta", "threshold")

    def __init__(self, beta: float = 1.0, threshold: float = 20.0):
        super().__init__()
        self.beta, self.threshold = beta, threshold


class LogSigmoid(_Elementwise):
    """log(sigmoid(x)), without overflow."""

    _fn = staticmethod(F.logsigmoid)


class Softmin(_Elementwise):
    """softmax(-x) along ``dim``."""

    _fn = staticmethod(F.softmin)
    _fields = ("dim",)

    def __init__(self, dim: int | None = None):
        super().__init__()
        self.dim = dim


class Unflatten(Module):
    """Expand dim ``dim`` into ``unflattened_size``: (N, C*H*W) -> (N, C, H, W)."""

    def __init__(self, dim: int, unflattened_size: tuple[int, ...]):
        super().__init__()
        self.dim, self.unflattened_size = dim, tuple(unflattened_size)

    def forward(self, input: Tensor) -> Tensor:
        return input.unflatten(self.dim, self.unflattened_size)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


class SmoothL1Loss(Module):
    def __init__(self, reduction: str = "mean", beta: float = 1.0):
        super().__init__()
        self.reduction, self.beta = reduction, beta

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class HuberLoss(Module):
    def __init__(self, reduction: str = "mean", delta: float = 1.0):
        super().__init__()
        self.reduction, self.delta = reduction, delta

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class Mish(_Elementwise):
    """x * tanh(softplus(x))."""

    _fn = staticmethod(F.mish)

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace


class PReLU(Module):
    """x for x > 0, ``a * x`` otherwise, with a learned slope ``a`` (one, or one per channel:
    ``num_parameters=C`` for input (N, C, *)), initialised to ``init``."""

    def __init__(self, num_parameters: int = 1, init: float = 0.25, device=None, dtype=None):
        from ..autograd.function import no_grad  # noqa: PLC0415
        from .linear import empty_parameter  # noqa: PLC0415

        super().__init__()
        self.num_parameters, self.init = num_parameters, init
        self.weight = empty_parameter((num_parameters,), device, dtype)
        with no_grad():
            self.weight.fill_(init)

    def forward(self, input: Tensor) -> Tensor:
        return F.prelu(input, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"
