"""``LayerNorm``, ``GroupNorm`` (over features, not the batch), ``Upsample``, ``Unfold`` and
``Fold``, around ``F.layer_norm`` / ``F.group_norm`` / ``F.interpolate`` / ``F.unfold`` /
``F.fold``, with torch's arguments and names."""

from __future__ import annotations

from .. import functional as F
from ..autograd.function import no_grad
from ..autograd.tensor import Tensor
from .linear import empty_parameter
from .module import Module


class _AffineNorm(Module):
    """What LayerNorm and GroupNorm share: an optional scale (ones) and shift (zeros)."""

    def _make_affine(self, shape: tuple[int, ...], affine: bool, bias: bool, device,
                     dtype) -> None:
        self.weight = self.bias = None
        if affine:
            self.weight = empty_parameter(shape, device, dtype)
            self.bias = empty_parameter(shape, device, dtype) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        with no_grad():
            if self.weight is not None:
                self.weight.fill_(1.0)
            if self.bias is not None:
                self.bias.zero_()


class LayerNorm(_AffineNorm):
    """Normalise over the last ``len(normalized_shape)`` dims, then scale and shift.

    Shapes: input (*, *normalized_shape) -> same; weight, bias: normalized_shape.
    """

    def __init__(self, normalized_shape, eps: float = 1e-5, elementwise_affine: bool = True,
                 bias: bool = True, device=None, dtype=None):
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, int) else normalized_shape
        self.normalized_shape, self.eps = tuple(shape), eps
        self.elementwise_affine, self.has_bias = elementwise_affine, bias
        self._make_affine(self.normalized_shape, elementwise_affine, bias, device, dtype)

    def forward(self, input: Tensor) -> Tensor:
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}, bias={self.has_bias}")


class GroupNorm(_AffineNorm):
    """Normalise each sample over groups of ``num_channels // num_groups`` channels.

    Shapes: input (N, C, *) -> same; weight, bias: (C,).
    """

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5,
                 affine: bool = True, device=None, dtype=None, *, bias: bool = True):
        super().__init__()
        if num_channels % num_groups:
            raise ValueError("num_channels must be divisible by num_groups")
        self.num_groups, self.num_channels, self.eps = num_groups, num_channels, eps
        self.affine, self.has_bias = affine, bias
        self._make_affine((num_channels,), affine, bias, device, dtype)

    def forward(self, input: Tensor) -> Tensor:
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
                f"bias={self.has_bias}")


class Upsample(Module):
    """``F.interpolate`` as a layer (``size`` or ``scale_factor``; nearest or bilinear)."""

    def __init__(self, size=None, scale_factor=None, mode: str = "nearest",
                 align_corners: bool | None = None, recompute_scale_factor=None):
        super().__init__()
        self.size, self.mode, self.align_corners = size, mode, align_corners
        self.scale_factor = float(scale_factor) if isinstance(scale_factor, (int, float)) \
            else scale_factor
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, input: Tensor) -> Tensor:
        return F.interpolate(input, self.size, self.scale_factor, self.mode, self.align_corners,
                             recompute_scale_factor=self.recompute_scale_factor)

    def extra_repr(self) -> str:
        info = f"scale_factor={self.scale_factor!r}" if self.scale_factor is not None \
            else f"size={self.size!r}"
        return info + f", mode={self.mode!r}"


class Unfold(Module):
    """``F.unfold`` (im2col) as a layer: (N, C, H, W) -> (N, C * kh * kw, L)."""

    def __init__(self, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.kernel_size, self.dilation, self.padding, self.stride = (kernel_size, dilation,
                                                                      padding, stride)

    def forward(self, input: Tensor) -> Tensor:
        return F.unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, dilation={self.dilation}, "
                f"padding={self.padding}, stride={self.stride}")


class Fold(Unfold):
    """``F.fold`` (col2im) as a layer: (N, C * kh * kw, L) -> (N, C, *output_size)."""

    def __init__(self, output_size, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__(kernel_size, dilation, padding, stride)
        self.output_size = output_size

    def forward(self, input: Tensor) -> Tensor:
        return F.fold(input, self.output_size, self.kernel_size, self.dilation, self.padding,
                      self.stride)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}, " + super().extra_repr()
