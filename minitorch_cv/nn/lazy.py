"""Lazy layers (torch's): the input size is found on the first forward pass.

``nn.LazyLinear(10)`` is a ``Linear`` whose ``in_features`` is read from the first input; the
current d2l edition writes every CNN this way. How it works, as in torch:

1. The constructor makes the layer with size 0 and puts ``UninitializedParameter``
   placeholders (dtype and device known, shape not) where the weights go. ``parameters()``
   yields them, so an optimizer can be built before the first forward pass; using their values
   (``p.numel()``, ``p * 2``) raises ``ValueError``, as torch.
2. A forward pre-hook runs once: it reads the size from the input, turns each placeholder
   into an ordinary Parameter of the right shape (the same object), and calls the ordinary
   layer's ``reset_parameters``: the same random draws as constructing ``Linear(in, out)``.
3. The module's class becomes the ordinary one (``type(layer) is nn.Linear``) and the hook is
   removed: from then on it is that layer.

``load_state_dict`` into a lazy module takes the shapes from the checkpoint. The textbook path
in this project's own models still writes channels out (students do the arithmetic); lazy
layers are here so that code written for torch runs unchanged.
"""

from __future__ import annotations

from ..autograd.function import no_grad
from ..autograd.tensor import Tensor
from .conv import Conv2d
from .linear import Linear
from .normalization import BatchNorm1d, BatchNorm2d
from .parameter import UninitializedBuffer, UninitializedParameter, UninitializedTensorMixin


def _infer_parameters(module: LazyModuleMixin, args) -> None:
    """The forward pre-hook: initialise from the first input, then become the ordinary layer."""
    module.initialize_parameters(*args)
    if module.has_uninitialized_params():
        raise RuntimeError(f"module {type(module).__name__} has not been fully initialized")
    module._initialize_hook.remove()
    del module._initialize_hook
    if module.cls_to_become is not None:
        module.__class__ = module.cls_to_become


class LazyModuleMixin:
    """Base of the lazy layers: ``initialize_parameters(input)`` is called on the first call."""

    cls_to_become: type | None = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._initialize_hook = self.register_forward_pre_hook(_infer_parameters)

    def has_uninitialized_params(self) -> bool:
        tensors = list(self._parameters.values()) + list(self._buffers.values())
        return any(isinstance(t, UninitializedTensorMixin) for t in tensors)

    def initialize_parameters(self, *args) -> None:  # pragma: no cover - abstract
        raise NotImplementedError("abstract: each lazy layer infers its own shapes")


def _check_input(input, name: str) -> None:
    if not isinstance(input, Tensor):
        raise TypeError(f"{name} needs a Tensor input to infer its size, got "
                        f"{type(input).__name__}")


class LazyLinear(LazyModuleMixin, Linear):
    """``Linear`` with ``in_features`` inferred from the first input's last dimension.

    Shapes: input (*, in_features) -> output (*, out_features).
    """

    cls_to_become = Linear

    def __init__(self, out_features: int, bias: bool = True, device=None, dtype=None):
        super().__init__(0, 0, False, device, dtype)
        self.weight = UninitializedParameter(device=device, dtype=dtype)
        self.out_features = out_features
        if bias:
            self.bias = UninitializedParameter(device=device, dtype=dtype)

    def reset_parameters(self) -> None:
        if not self.has_uninitialized_params() and self.in_features != 0:
            super().reset_parameters()

    def initialize_parameters(self, input) -> None:
        _check_input(input, "LazyLinear")
        if not self.has_uninitialized_params():
            self.in_features = self.weight.shape[1]  # loaded from a state dict
            return
        with no_grad():
            self.in_features = input.shape[-1]
            self.weight.materialize((self.out_features, self.in_features))
            if self.bias is not None:
                self.bias.materialize((self.out_features,))
            self.reset_parameters()


class LazyConv2d(LazyModuleMixin, Conv2d):
    """``Conv2d`` with ``in_channels`` inferred from the first input (``input.shape[-3]``).

    Shapes: input (N, C_in, H, W) or (C_in, H, W) -> output (N, C_out, out_h, out_w).
    """

    cls_to_become = Conv2d

    def __init__(self, out_channels: int, kernel_size, stride=1, padding=0, dilation=1,
                 groups: int = 1, bias: bool = True, padding_mode: str = "zeros", device=None,
                 dtype=None):
        super().__init__(0, 0, kernel_size, stride, padding, dilation, groups, False,
                         padding_mode, device, dtype)
        self.weight = UninitializedParameter(device=device, dtype=dtype)
        self.out_channels = out_channels
        if out_channels % groups:
            raise ValueError(f"out_channels ({out_channels}) must be divisible by groups "
                             f"({groups})")
        if bias:
            self.bias = UninitializedParameter(device=device, dtype=dtype)

    def reset_parameters(self) -> None:
        if not self.has_uninitialized_params() and self.in_channels != 0:
            super().reset_parameters()

    def initialize_parameters(self, input) -> None:
        _check_input(input, "LazyConv2d")
        if not self.has_uninitialized_params():
            self.in_channels = self.weight.shape[1] * self.groups
            return
        if input.ndim not in (3, 4):
            raise RuntimeError(f"LazyConv2d expects input (N, C, H, W) or (C, H, W), got shape "
                               f"{input.shape}")
        in_channels = input.shape[-3]
        if in_channels % self.groups:
            raise ValueError(f"in_channels ({in_channels}, from the input of shape "
                             f"{input.shape}) must be divisible by groups ({self.groups})")
        with no_grad():
            self.in_channels = in_channels
            self.weight.materialize(
                (self.out_channels, in_channels // self.groups, *self.kernel_size))
            if self.bias is not None:
                self.bias.materialize((self.out_channels,))
            self.reset_parameters()


class _LazyNormBase(LazyModuleMixin):
    def __init__(self, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, device=None, dtype=None):
        super().__init__(0, eps, momentum, affine, track_running_stats, device, dtype)
        if affine:
            self.weight = UninitializedParameter(device=device, dtype=dtype)
            self.bias = UninitializedParameter(device=device, dtype=dtype)
        if track_running_stats:
            self.running_mean = UninitializedBuffer(device=device, dtype=dtype)
            self.running_var = UninitializedBuffer(device=device, dtype=dtype)

    def reset_parameters(self) -> None:
        if not self.has_uninitialized_params() and self.num_features != 0:
            super().reset_parameters()

    def initialize_parameters(self, input) -> None:
        _check_input(input, type(self).__name__)
        if not self.has_uninitialized_params():  # loaded from a state dict
            loaded = self.weight if self.weight is not None else self.running_mean
            self.num_features = input.shape[1] if loaded is None else loaded.shape[0]
            return
        if input.ndim < 2:
            raise ValueError(f"{type(self).__name__} expects input (N, C, ...), got shape "
                             f"{input.shape}")
        with no_grad():
            self.num_features = input.shape[1]
            for tensor in (self.weight, self.bias, self.running_mean, self.running_var):
                if isinstance(tensor, UninitializedTensorMixin):
                    tensor.materialize((self.num_features,))
            self.reset_parameters()


class LazyBatchNorm1d(_LazyNormBase, BatchNorm1d):
    """``BatchNorm1d`` with ``num_features`` inferred from ``input.shape[1]``."""

    cls_to_become = BatchNorm1d


class LazyBatchNorm2d(_LazyNormBase, BatchNorm2d):
    """``BatchNorm2d`` with ``num_features`` inferred from ``input.shape[1]``."""

    cls_to_become = BatchNorm2d


__all__ = ["LazyBatchNorm1d", "LazyBatchNorm2d", "LazyConv2d", "LazyLinear", "LazyModuleMixin"]
