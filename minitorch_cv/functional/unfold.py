"""``unfold`` (im2col) and ``fold`` (col2im) with torch's arguments: the column layout a
convolution multiplies by its weights, ``conv2d(x, w) == w.view(C_out, -1) @ unfold(x, k)``.

Shapes:
    unfold: input (N, C, H, W) -> (N, C * kh * kw, out_h * out_w)
    fold: (N, C * kh * kw, out_h * out_w) -> (N, C, *output_size)
"""

from __future__ import annotations

from ..autograd.tensor import Tensor
from ..errors import SizeError
from ..ops import api
from ..ops.fold import Fold, window_indices


def _pair(value, name: str) -> tuple[int, int]:
    pair = tuple(value) if isinstance(value, (tuple, list)) else (value, value)
    if len(pair) != 2 or any(int(v) != v for v in pair):
        raise SizeError(f"{name} must be an int or a pair of ints, got {value!r}")
    return int(pair[0]), int(pair[1])


def unfold(input: Tensor, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    if input.ndim != 4:
        raise SizeError(f"unfold: expected 4-D input (N, C, H, W), got {input.ndim}-D")
    kernel, dil = _pair(kernel_size, "kernel_size"), _pair(dilation, "dilation")
    pad, step = _pair(padding, "padding"), _pair(stride, "stride")
    n, c, h, w = input.shape
    rows, cols, out_h, out_w = window_indices(input.xp, (h, w), kernel, dil, pad, step)
    if out_h < 1 or out_w < 1:
        raise SizeError(f"unfold: the input ({h}x{w}, padding {pad}) is smaller than the "
                        f"kernel {kernel} with dilation {dil}")
    padded = api.pad(input, (pad[1], pad[1], pad[0], pad[0])) if any(pad) else input
    blocks = api.getitem(padded, (slice(None), slice(None), rows, cols))  # (N, C, kh, kw, oh, ow)
    return api.reshape(blocks, n, c * kernel[0] * kernel[1], out_h * out_w)


def fold(input: Tensor, output_size, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    if input.ndim != 3:
        raise SizeError(f"fold: expected 3-D input (N, C * kh * kw, L), got {input.ndim}-D")
    size, kernel = _pair(output_size, "output_size"), _pair(kernel_size, "kernel_size")
    dil, pad, step = _pair(dilation, "dilation"), _pair(padding, "padding"), _pair(stride,
                                                                                   "stride")
    _, _, out_h, out_w = window_indices(input.xp, size, kernel, dil, pad, step)
    if input.shape[1] % (kernel[0] * kernel[1]) or input.shape[2] != out_h * out_w:
        raise SizeError(f"fold: expected input of shape (N, C * {kernel[0] * kernel[1]}, "
                        f"{out_h * out_w}) for output_size {size}, got {input.shape}")
    return Fold.apply(input, output_size=size, kernel=kernel, dilation=dil, padding=pad,
                      stride=step)
