"""Pooling layers around ``F.max_pool2d``, ``F.avg_pool2d`` and the adaptive versions."""

from __future__ import annotations

import math

from .. import functional as F
from ..autograd.tensor import Tensor
from ..functional.conv import ArgumentError, pair
from .conv import check_window
from .module import Module


def _pair(value) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else tuple(value)


def pool_output_size(size: int, kernel: int, stride: int, padding: int, dilation: int = 1,
                     ceil_mode: bool = False) -> int:
    """torch's pooling output size: ``(size + 2*pad - dil*(k-1) - 1) / stride + 1``, floored
    (or ceiled with ``ceil_mode``, dropping a last window that would start in the padding)."""
    span = size + 2 * padding - dilation * (kernel - 1) - 1
    if ceil_mode:
        out = math.ceil(span / stride) + 1 if span >= 0 else span // stride + 1
        if out > 0 and (out - 1) * stride >= size + padding:
            out -= 1
        return out
    return span // stride + 1


def _check_pool(layer: str, kernel_size, stride, padding, dilation=1) -> None:
    """The window checks of ``Conv2d`` plus torch's pooling rule: padding <= kernel // 2."""
    kernel, padding = pair(kernel_size, "kernel_size", layer), pair(padding, "padding", layer)
    stride = kernel if stride is None or len(_pair(stride)) == 0 else pair(stride, "stride",
                                                                            layer)
    check_window(layer, kernel, stride, padding, pair(dilation, "dilation", layer))
    if any(p > k // 2 for p, k in zip(padding, kernel)):
        raise ArgumentError(f"{layer}: padding should be at most half the kernel size, got "
                            f"padding={padding} for kernel_size={kernel} (a window that lies "
                            "wholly in the padding sees no input)")


class _PoolNd(Module):
    def _check(self, input: Tensor) -> None:
        if input.ndim not in (3, 4):
            raise RuntimeError(f"{type(self).__name__} expects (N, C, H, W) or (C, H, W) input, "
                               f"got shape {input.shape}")


class MaxPool2d(_PoolNd):
    """Max over ``kernel_size`` windows (ties: the first maximum gets the gradient).

    Shapes:
        input (N, C, H, W) -> output (N, C, out_h, out_w),
        ``out_h = (H + 2*ph - dh*(kh - 1) - 1) // sh + 1``.
    """

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1,
                 return_indices: bool = False, ceil_mode: bool = False):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.dilation = padding, dilation
        _check_pool("MaxPool2d", kernel_size, self.stride, padding, dilation)
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def forward(self, input: Tensor):
        self._check(input)
        return F.max_pool2d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                            ceil_mode=self.ceil_mode, return_indices=self.return_indices)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class AvgPool2d(_PoolNd):
    """Mean over ``kernel_size`` windows (``count_include_pad``: padded zeros count).

    Shapes:
        input (N, C, H, W) -> output (N, C, out_h, out_w), ``out_h = (H + 2*ph - kh) // sh + 1``.
    """

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
                 count_include_pad: bool = True, divisor_override: int | None = None):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.ceil_mode = padding, ceil_mode
        _check_pool("AvgPool2d", kernel_size, self.stride, padding)
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override

    def forward(self, input: Tensor) -> Tensor:
        self._check(input)
        return F.avg_pool2d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad, self.divisor_override)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool2d(_PoolNd):
    """Averages over windows chosen so the output is ``output_size`` for any input size
    (window i spans ``floor(i*H/out_h) .. ceil((i+1)*H/out_h)``)."""

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, input: Tensor) -> Tensor:
        self._check(input)
        return F.adaptive_avg_pool2d(input, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveMaxPool2d(_PoolNd):
    def __init__(self, output_size, return_indices: bool = False):
        super().__init__()
        self.output_size, self.return_indices = output_size, return_indices

    def forward(self, input: Tensor):
        self._check(input)
        return F.adaptive_max_pool2d(input, self.output_size, self.return_indices)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"
