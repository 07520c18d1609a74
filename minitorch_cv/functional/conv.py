"""``F.conv2d`` with torch's arguments, and the argument checks shared with pooling.

Every check raises an error that names the problem, the shapes involved and a fix.
"""

from __future__ import annotations

from ..autograd.tensor import Tensor
from ..errors import DTypeError, SizeError
from ..ops import api
from ..ops.conv import Conv2d, conv_output_size


class ArgumentError(SizeError):
    """A convolution or pooling argument that cannot work (a kernel, stride or dilation below 1,
    negative padding, groups that do not divide the channels, an output smaller than 1).

    torch raises ``RuntimeError`` for these from ``F.conv2d`` and pooling, ``ValueError`` from
    some layer constructors: this is both, so code written for either catches it.
    """


def pair(value, name: str, fn: str) -> tuple[int, int]:
    """``3`` -> ``(3, 3)``; ``(3, 2)`` stays; anything else is an error naming ``name``."""
    if isinstance(value, (list, tuple)):
        if len(value) == 1:
            value = (value[0], value[0])
        if len(value) != 2:
            raise SizeError(f"{fn}: {name} must be an int or a pair of ints, got {value!r}")
        return int(value[0]), int(value[1])
    return int(value), int(value)


def check_positive(values: tuple[int, int], name: str, fn: str) -> None:
    if min(values) < 1:
        raise ArgumentError(f"{fn}: {name} must be >= 1 in each dimension, got {values}")


def check_4d(x, fn: str) -> tuple[Tensor, bool]:
    """Accept (N, C, H, W), or (C, H, W) as one unbatched sample (as torch does).

    Returns the 4-D tensor and whether a batch dimension was added (to remove it after).
    """
    if not isinstance(x, Tensor):
        raise TypeError(f"{fn}: input must be a Tensor, got {type(x).__name__}")
    if x.ndim == 3:
        return api.unsqueeze(x, 0), True
    if x.ndim != 4:
        raise SizeError(f"{fn}: expected 4-D input (N, C, H, W) (or 3-D (C, H, W) for one "
                         f"sample), got shape {x.shape}")
    if x.dtype.kind != "f":
        raise DTypeError(f"{fn}: expected a floating point input, got {x.dtype}; call .float()")
    return x, False


def output_size(size: int, k: int, stride: int, pad: int, dil: int, axis: str, fn: str,
                out: int | None = None) -> int:
    """The conv formula, or an error that shows it with the numbers filled in."""
    out = conv_output_size(size, k, stride, pad, dil) if out is None else out
    if out < 1:
        raise ArgumentError(
            f"{fn}: output {axis} would be {out} < 1: out = (size + 2*pad - dil*(k - 1) - 1) "
            f"// stride + 1 = ({size} + 2*{pad} - {dil}*({k} - 1) - 1) // {stride} + 1. The "
            f"kernel (extent {dil * (k - 1) + 1}) is larger than the padded input "
            f"({size + 2 * pad}); use a smaller kernel or dilation, more padding, or a larger "
            "input")
    return out


def _same_padding(k: int, dil: int) -> tuple[int, int]:
    """torch's 'same': total ``dil*(k - 1)``, the odd extra pixel on the right/bottom."""
    total = dil * (k - 1)
    return total // 2, total - total // 2


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):  # noqa: A002
    """2-D convolution (cross-correlation, as torch): im2col + GEMM, Winograd or direct loops,
    as ``minitorch_cv.backends.conv`` chooses for the shape.

    Args:
        input: (N, C, H, W), or (C, H, W) for one sample.
        weight: (C_out, C // groups, kh, kw).
        bias: (C_out,) or None.
        stride, dilation: int or (h, w), >= 1.
        padding: int, (h, w), ``"valid"`` (no padding) or ``"same"`` (output size = input
            size; stride 1 only; an odd total padding puts the extra pixel right/bottom).
        groups: C and C_out split into ``groups`` independent convolutions.

    Shapes:
        out: (N, C_out, out_h, out_w), ``out = (size + 2*pad - dil*(k - 1) - 1) // stride + 1``.
    """
    fn = "conv2d"
    x, unbatched = check_4d(input, fn)
    if not isinstance(weight, Tensor) or weight.ndim != 4:
        shape = weight.shape if isinstance(weight, Tensor) else type(weight).__name__
        raise SizeError(f"{fn}: expected a 4-D weight (C_out, C_in // groups, kh, kw), got "
                         f"{shape}")
    if weight.dtype != x.dtype:
        raise DTypeError(f"{fn}: input is {x.dtype} but weight is {weight.dtype}; they must "
                        f"match: convert one (x.float() / weight.double())")
    N, C, H, W = x.shape
    C_out, Cg, kh, kw = weight.shape
    if not isinstance(groups, int) or groups < 1:
        raise ArgumentError(f"{fn}: groups must be a positive int, got {groups!r}")
    if C % groups or C_out % groups:
        raise ArgumentError(f"{fn}: groups={groups} must divide both the input channels ({C}) "
                         f"and the output channels ({C_out})")
    if Cg * groups != C:
        raise ArgumentError(
            f"{fn}: weight of shape {weight.shape} with groups={groups} expects "
            f"{Cg}*{groups} = {Cg * groups} input channels, but the input of shape {x.shape} "
            f"has {C}; the weight must be (C_out, {C // groups}, kh, kw)")
    if bias is not None:
        if not isinstance(bias, Tensor) or bias.shape != (C_out,):
            shape = bias.shape if isinstance(bias, Tensor) else type(bias).__name__
            raise SizeError(f"{fn}: bias must have shape ({C_out},) for weight of shape "
                             f"{weight.shape}, got {shape}")
        if bias.dtype != x.dtype:
            raise DTypeError(f"{fn}: input is {x.dtype} but bias is {bias.dtype}; they must match")
    if min(kh, kw) < 1:
        raise ArgumentError(f"{fn}: kernel size must be >= 1 in each dimension, got {(kh, kw)} "
                            f"from the weight of shape {weight.shape}; a kernel_size of 0 has no "
                            "window to sum over: use kernel_size >= 1")
    (sh, sw), (dh, dw) = pair(stride, "stride", fn), pair(dilation, "dilation", fn)
    check_positive((sh, sw), "stride", fn)
    check_positive((dh, dw), "dilation", fn)
    if isinstance(padding, str):
        if padding == "valid":
            ph = pw = 0
        elif padding == "same":
            if (sh, sw) != (1, 1):
                raise SizeError(f"{fn}: padding='same' needs stride 1 (got {(sh, sw)}); give "
                                 "the padding as numbers for a strided convolution")
            (ph, extra_h), (pw, extra_w) = _same_padding(kh, dh), _same_padding(kw, dw)
            if extra_h != ph or extra_w != pw:  # asymmetric: pad the extra pixel explicitly
                x = api.pad(x, (0, extra_w - pw, 0, extra_h - ph))
                H, W = x.shape[2:]
        else:
            raise SizeError(f"{fn}: padding must be an int, a pair, 'same' or 'valid', got "
                             f"{padding!r}")
    else:
        ph, pw = pair(padding, "padding", fn)
        if min(ph, pw) < 0:
            raise ArgumentError(f"{fn}: padding must be >= 0, got {(ph, pw)}")
    output_size(H, kh, sh, ph, dh, "height", fn)
    output_size(W, kw, sw, pw, dw, "width", fn)
    out = Conv2d.apply(x, weight, bias, stride=(sh, sw), padding=(ph, pw), dilation=(dh, dw),
                       groups=groups)
    return api.squeeze(out, 0) if unbatched else out
