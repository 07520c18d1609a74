"""Batch norm and local response norm layers, around ``F.batch_norm`` / ``F.local_response_norm``.

Buffers and parameters carry torch's names (``weight``, ``bias``, ``running_mean``,
``running_var``, ``num_batches_tracked``) so state dicts map one to one.
"""

from __future__ import annotations

import numpy as np

from .. import backend
from .. import functional as F
from ..autograd.function import no_grad
from ..autograd.tensor import Tensor
from ..creation import get_default_dtype
from ..errors import SizeError
from . import init
from .linear import empty_parameter
from .module import Module


def _buffer(array, device) -> Tensor:
    device = backend.check_device(device or "cpu")
    return Tensor(backend.move_array(array, device), device=device)


class _BatchNorm(Module):
    _expected_dims: tuple[int, ...] = ()

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, device=None, dtype=None,
                 *, bias: bool = True):
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        dtype = get_default_dtype() if dtype is None else np.dtype(dtype)
        if affine:
            self.weight = empty_parameter((num_features,), device, dtype)
            if bias:
                self.bias = empty_parameter((num_features,), device, dtype)
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", _buffer(np.zeros(num_features, dtype), device))
            self.register_buffer("running_var", _buffer(np.ones(num_features, dtype), device))
            self.register_buffer("num_batches_tracked",
                                 _buffer(np.zeros((), np.int64), device))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            with no_grad():
                self.running_mean.zero_()
                self.running_var.fill_(1.0)
                self.num_batches_tracked.zero_()

    def reset_parameters(self) -> None:
        self.reset_running_stats()
        if self.affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def _check_input(self, input: Tensor) -> None:
        if input.ndim not in self._expected_dims:
            dims = " or ".join(f"{d}D" for d in self._expected_dims)
            raise ValueError(f"{type(self).__name__} expected {dims} input, got shape "
                             f"{input.shape}")
        if input.shape[1] != self.num_features:
            raise SizeError(f"{type(self).__name__}({self.num_features}) got an input with "
                             f"{input.shape[1]} channels (shape {input.shape})")

    def forward(self, input: Tensor) -> Tensor:
        self._check_input(input)
        # torch's logic: momentum=None means a cumulative average, factor 1/num_batches
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            with no_grad():
                self.num_batches_tracked.add_(1)
            if self.momentum is None:
                factor = 1.0 / float(self.num_batches_tracked.item())
        batch_stats = self.training or (self.running_mean is None and self.running_var is None)
        use_running = not self.training or self.track_running_stats
        return self._batch_norm(
            input,
            self.running_mean if use_running else None,
            self.running_var if use_running else None,
            batch_stats, factor)

    def _batch_norm(self, input, running_mean, running_var, training, momentum) -> Tensor:
        return F.batch_norm(input, running_mean, running_var, self.weight, self.bias, training,
                            momentum, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.bias is not None}, "
                f"track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch norm over (N, C) or (N, C, L) input: statistics per channel over N (and L).

    Shapes:
        input (N, C) or (N, C, L) -> output of the same shape.
    """

    _expected_dims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch norm over (N, C, H, W): per channel, normalised with the biased batch variance,
    ``running_var`` updated with the unbiased one, ``momentum`` in torch's meaning
    (``running = (1 - momentum) * running + momentum * batch``).

    Shapes:
        input (N, C, H, W) -> output (N, C, H, W); weight, bias, running stats (C,).
    """

    _expected_dims = (4,)


class LocalResponseNorm(Module):
    """AlexNet's cross-channel normalisation:
    ``b_c = a_c / (k + alpha/n * sum_{c' near c} a_{c'}^2) ** beta`` over ``size`` channels."""

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0):
        super().__init__()
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, input: Tensor) -> Tensor:
        return F.local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"
