"""Pooling with torch's names and arguments: max, average, adaptive average, adaptive max."""

from __future__ import annotations

from ..errors import SizeError
from ..ops import api
from ..ops.pool import (
    AdaptiveAvgPool2d,
    AdaptiveMaxPool2d,
    AvgPool2d,
    MaxPool2d,
    pool_output_size,
)
from .conv import ArgumentError, check_4d, check_positive, output_size, pair


def _geometry(x, kernel_size, stride, padding, dilation, ceil_mode, fn, max_pad_rule):
    """Checked (kernel, stride, padding, dilation, out_size) pairs, torch's rules."""
    kernel = pair(kernel_size, "kernel_size", fn)
    stride = kernel if stride is None or stride == [] or stride == () else pair(stride,
                                                                                  "stride", fn)
    padding, dilation = pair(padding, "padding", fn), pair(dilation, "dilation", fn)
    check_positive(kernel, "kernel_size", fn)
    check_positive(stride, "stride", fn)
    check_positive(dilation, "dilation", fn)
    for k, p, d in zip(kernel, padding, dilation):
        limit = max_pad_rule(k, d)
        if p < 0 or p > limit:
            raise ArgumentError(f"{fn}: padding should be between 0 and half the kernel size "
                             f"({limit} for kernel {k}), got {padding}")
    H, W = x.shape[2:]
    out_h = output_size(H, kernel[0], stride[0], padding[0], dilation[0], "height", fn,
                        pool_output_size(H, kernel[0], stride[0], padding[0], dilation[0],
                                         ceil_mode))
    out_w = output_size(W, kernel[1], stride[1], padding[1], dilation[1], "width", fn,
                        pool_output_size(W, kernel[1], stride[1], padding[1], dilation[1],
                                         ceil_mode))
    return kernel, stride, padding, dilation, (out_h, out_w)


def _unbatch(result, unbatched):
    if not unbatched:
        return result
    if isinstance(result, tuple):
        return tuple(api.squeeze(r, 0) for r in result)
    return api.squeeze(result, 0)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1,  # noqa: A002
               ceil_mode=False, return_indices=False):
    """Maximum over each window; padding counts as -inf; the first maximum wins ties.

    Shapes:
        input (N, C, H, W) or (C, H, W) -> out (N, C, out_h, out_w); with ``return_indices``
        also indices (int64, flat ``h*W + w`` into each input plane, as torch).
    """
    fn = "max_pool2d"
    x, unbatched = check_4d(input, fn)
    kernel, stride, padding, dilation, out_size = _geometry(
        x, kernel_size, stride, padding, dilation, ceil_mode, fn, lambda k, d: k // 2)
    out, indices = MaxPool2d.apply(x, kernel=kernel, stride=stride, padding=padding,
                                   dilation=dilation, out_size=out_size)
    return _unbatch((out, indices) if return_indices else out, unbatched)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,  # noqa: A002
               count_include_pad=True, divisor_override=None):
    """Mean over each window.

    The divisor is, as in torch: ``divisor_override`` if given; else with
    ``count_include_pad`` the window size clipped to the padded input; else the number of real
    (non-padding) pixels in the window.

    Shapes: input (N, C, H, W) or (C, H, W) -> out (N, C, out_h, out_w).
    """
    fn = "avg_pool2d"
    x, unbatched = check_4d(input, fn)
    if divisor_override is not None and divisor_override == 0:
        raise SizeError(f"{fn}: divisor_override must be non-zero")
    kernel, stride, padding, _, out_size = _geometry(
        x, kernel_size, stride, padding, 1, ceil_mode, fn, lambda k, d: k // 2)
    out = AvgPool2d.apply(x, kernel=kernel, stride=stride, padding=padding, out_size=out_size,
                          count_include_pad=bool(count_include_pad),
                          divisor_override=divisor_override)
    return _unbatch(out, unbatched)


def _adaptive_size(x, output_size, fn):
    size = output_size if isinstance(output_size, (tuple, list)) else (output_size,) * 2
    if len(size) != 2:
        raise SizeError(f"{fn}: output_size must be an int or a pair, got {output_size!r}")
    size = tuple(x.shape[2 + i] if s is None else int(s) for i, s in enumerate(size))
    if min(size) < 1:
        raise ArgumentError(f"{fn}: output_size must be >= 1, got {output_size!r}")
    return size


def adaptive_avg_pool2d(input, output_size):  # noqa: A002
    """Average over torch's adaptive windows ``[floor(o*H/out_h), ceil((o+1)*H/out_h))``.

    ``output_size`` is an int, a pair, or contains None (keep that input size); 1 is global
    average pooling. Shapes: (N, C, H, W) or (C, H, W) -> (N, C, out_h, out_w).
    """
    fn = "adaptive_avg_pool2d"
    x, unbatched = check_4d(input, fn)
    out_h, out_w = _adaptive_size(x, output_size, fn)
    H, W = x.shape[2:]
    if H % out_h == 0 and W % out_w == 0:  # equal, disjoint windows: plain average pooling
        kernel = (H // out_h, W // out_w)
        out = AvgPool2d.apply(x, kernel=kernel, stride=kernel, padding=(0, 0),
                              out_size=(out_h, out_w))
    else:
        out = AdaptiveAvgPool2d.apply(x, out_size=(out_h, out_w))
    return _unbatch(out, unbatched)


def adaptive_max_pool2d(input, output_size, return_indices=False):  # noqa: A002
    """Maximum over torch's adaptive windows; indices as ``max_pool2d`` (flat ``h*W + w``).

    Shapes: (N, C, H, W) or (C, H, W) -> (N, C, out_h, out_w).
    """
    fn = "adaptive_max_pool2d"
    x, unbatched = check_4d(input, fn)
    out_h, out_w = _adaptive_size(x, output_size, fn)
    H, W = x.shape[2:]
    if H % out_h == 0 and W % out_w == 0:
        kernel = (H // out_h, W // out_w)
        out, indices = MaxPool2d.apply(x, kernel=kernel, stride=kernel, padding=(0, 0),
                                       dilation=(1, 1), out_size=(out_h, out_w))
    else:
        out, indices = AdaptiveMaxPool2d.apply(x, out_size=(out_h, out_w))
    return _unbatch((out, indices) if return_indices else out, unbatched)
