"""``Conv2d``: the layer around ``F.conv2d`` (im2col + one GEMM in the kernels)."""

from __future__ import annotations

from .. import functional as F
from ..autograd.tensor import Tensor
from ..functional.conv import ArgumentError
from .linear import empty_parameter, init_weight_and_bias
from .module import Module


def _pair(value, name: str) -> tuple[int, int]:
    if isinstance(value, int):
        return (value, value)
    value = tuple(value)
    if len(value) != 2 or not all(isinstance(v, int) for v in value):
        raise ValueError(f"{name} must be an int or a pair of ints, got {value!r}")
    return value


def check_window(layer: str, kernel_size, stride, padding, dilation) -> None:
    """Refuse a window that cannot work when the layer is built, not deep inside a kernel:
    kernel, stride and dilation >= 1, padding >= 0 (pairs already expanded)."""
    hints = {"kernel_size": "a kernel of 0 has no window; use 1 for a 1x1 layer",
             "stride": "a stride of 0 never moves the window; use 1 to visit every position",
             "dilation": "dilation 1 is an ordinary (undilated) kernel"}
    for name, value in (("kernel_size", kernel_size), ("stride", stride),
                        ("dilation", dilation)):
        if min(value) < 1:
            raise ArgumentError(f"{layer}: {name} must be >= 1 in each dimension, got {value} "
                                f"({hints[name]})")
    if isinstance(padding, tuple) and min(padding) < 0:
        raise ArgumentError(f"{layer}: padding must be >= 0 in each dimension, got {padding} "
                            "(to crop, slice the input before the layer)")


def conv_output_size(size: int, kernel: int, stride: int, padding: int, dilation: int) -> int:
    """``out = (size + 2*pad - dil*(k - 1) - 1) // stride + 1`` (may be <= 0: too small)."""
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


class Conv2d(Module):
    """2-D convolution (cross-correlation, as every framework), torch's arguments.

    Args:
        padding: int, pair, ``"valid"`` (no padding) or ``"same"`` (output size = input size,
            stride 1 only; an odd total padding puts the extra row/column at the bottom/right,
            as torch does).
        groups: ``in_channels`` and ``out_channels`` must both be divisible by it.
        padding_mode: only ``"zeros"`` (the constant padding the kernels implement).

    Shapes:
        input (N, C_in, H, W) -> output (N, C_out, out_h, out_w) (or without N) with
        ``out_h = (H + 2*ph - dh*(kh - 1) - 1) // sh + 1``; weight (C_out, C_in/groups, kh, kw),
        bias (C_out,).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 device=None, dtype=None):
        super().__init__()
        for name, value in (("in_channels", in_channels), ("out_channels", out_channels)):
            if not isinstance(value, int) or value < 0:
                raise ArgumentError(f"Conv2d: {name} must be an int >= 0, got {value!r}")
        if not isinstance(groups, int) or groups <= 0:
            raise ArgumentError(f"Conv2d: groups must be a positive integer, got {groups!r} "
                                "(1 is an ordinary convolution)")
        if in_channels % groups or out_channels % groups:
            raise ArgumentError(f"Conv2d: in_channels ({in_channels}) and out_channels "
                                f"({out_channels}) must both be divisible by groups ({groups})")
        if padding_mode != "zeros":
            raise ValueError(f"padding_mode={padding_mode!r}: only 'zeros' is implemented")
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = _pair(kernel_size, "kernel_size")
        self.stride = _pair(stride, "stride")
        self.dilation = _pair(dilation, "dilation")
        self.padding_mode = padding_mode
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"padding={padding!r}: use an int, a pair, 'same' or 'valid'")
            if padding == "same" and self.stride != (1, 1):
                raise ValueError("padding='same' is not supported for strided convolutions")
            self.padding = padding
        else:
            self.padding = _pair(padding, "padding")
        check_window("Conv2d", self.kernel_size, self.stride, self.padding, self.dilation)
        self.weight = empty_parameter(
            (out_channels, in_channels // groups, *self.kernel_size), device, dtype)
        if bias:
            self.bias = empty_parameter((out_channels,), device, dtype)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init_weight_and_bias(self.weight, self.bias)

    def explicit_padding(self) -> tuple[tuple[int, int], tuple[int, int]]:
        """``((top, bottom), (left, right))`` the layer applies."""
        if self.padding == "valid":
            return (0, 0), (0, 0)
        if self.padding == "same":
            pads = []
            for k, d in zip(self.kernel_size, self.dilation):
                total = d * (k - 1)
                pads.append((total // 2, total - total // 2))
            return pads[0], pads[1]
        ph, pw = self.padding
        return (ph, ph), (pw, pw)

    def output_size(self, height: int, width: int) -> tuple[int, int]:
        (top, bottom), (left, right) = self.explicit_padding()
        (kh, kw), (sh, sw), (dh, dw) = self.kernel_size, self.stride, self.dilation
        out_h = (height + top + bottom - dh * (kh - 1) - 1) // sh + 1
        out_w = (width + left + right - dw * (kw - 1) - 1) // sw + 1
        return out_h, out_w

    def forward(self, input: Tensor) -> Tensor:
        if input.ndim not in (3, 4) or input.shape[-3] != self.in_channels:
            raise RuntimeError(f"Conv2d expects input (N, {self.in_channels}, H, W) or "
                               f"({self.in_channels}, H, W), got shape {input.shape}")
        (top, bottom), (left, right) = self.explicit_padding()
        if top != bottom or left != right:
            # asymmetric 'same' padding: pad explicitly, then convolve without padding
            input = F.pad(input, (left, right, top, bottom))
            padding = (0, 0)
        else:
            padding = (top, left)
        return F.conv2d(input, self.weight, self.bias, self.stride, padding, self.dilation,
                        self.groups)

    def extra_repr(self) -> str:
        text = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}")
        if self.padding != (0, 0):
            text += f", padding={self.padding}"
        if self.dilation != (1, 1):
            text += f", dilation={self.dilation}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        return text
