"""``interpolate``: resize a batch of images, ``mode="nearest"`` or ``"bilinear"``.

Written as two separable index-and-blend steps (rows, then columns), each an index array
(``getitem``, whose backward adds with ``add.at``) and a weighted sum, so autograd gives the
gradient. The source coordinates follow torch's formulas, in float32 as torch computes them:

- nearest: ``src = min(floor(dst * scale), size_in - 1)``;
- bilinear, ``align_corners=False``: ``src = max(scale * (dst + 0.5) - 0.5, 0)``;
  ``align_corners=True``: ``src = dst * (size_in - 1) / (size_out - 1)``;

with ``scale = size_in / size_out``, or ``1 / scale_factor`` when a scale factor is given.

Shapes: input (N, C, H, W) -> (N, C, out_h, out_w).
"""

from __future__ import annotations

import math

import numpy as np

from ..autograd.tensor import Tensor
from ..errors import SizeError, UnsupportedError
from ..ops import api


def _pair(value, name: str):
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise SizeError(f"interpolate: {name} must have 2 values for a 4-D input, got "
                            f"{value}")
        return tuple(value)
    return (value, value)


def _nearest_index(size_in: int, size_out: int, scale_factor) -> np.ndarray:
    scale = np.float32(1.0 / scale_factor if scale_factor else size_in / size_out)
    dst = np.arange(size_out, dtype=np.float32)
    return np.minimum(np.floor(dst * scale).astype(np.int64), size_in - 1)


def _linear_weights(size_in: int, size_out: int, scale_factor, align_corners: bool, real):
    """Corner indices and weights, computed in ``real`` (float32 for float32 data, float64
    for float64: torch's ``opmath_t``)."""
    dst = np.arange(size_out, dtype=real)
    if align_corners:
        scale = real((size_in - 1) / (size_out - 1) if size_out > 1 else 0.0)
        src = dst * scale
    else:
        scale = real(1.0 / scale_factor if scale_factor else size_in / size_out)
        src = np.maximum(scale * (dst + real(0.5)) - real(0.5), real(0))
    low = src.astype(np.int64)
    high = low + (low < size_in - 1)
    weight_high = src - low.astype(real)
    return low, high, real(1) - weight_high, weight_high


def _blend(x: Tensor, axis: int, low, high, w_low, w_high) -> Tensor:
    xp, dtype = x.xp, x.dtype
    shape = [1] * x.ndim
    shape[axis] = -1
    index = [slice(None)] * x.ndim
    index[axis] = xp.asarray(low)
    lower = api.getitem(x, tuple(index))
    index[axis] = xp.asarray(high)
    upper = api.getitem(x, tuple(index))
    w_low = xp.asarray(w_low.astype(dtype).reshape(shape))
    w_high = xp.asarray(w_high.astype(dtype).reshape(shape))
    return api.add(api.mul(lower, w_low), api.mul(upper, w_high))


def interpolate(input: Tensor, size=None, scale_factor=None, mode: str = "nearest",
                align_corners: bool | None = None, recompute_scale_factor=None,
                antialias: bool = False) -> Tensor:
    if input.ndim != 4:
        raise UnsupportedError(f"interpolate: only 4-D input (N, C, H, W) is implemented, got "
                               f"{input.ndim}-D")
    if mode not in ("nearest", "bilinear"):
        raise UnsupportedError(f"interpolate: mode {mode!r} is not implemented; use 'nearest' "
                               "or 'bilinear'")
    if antialias:
        raise UnsupportedError("interpolate: antialias=True is not implemented")
    if mode == "nearest" and align_corners is not None:
        raise SizeError("align_corners option can only be set with the interpolating modes: "
                        "linear | bilinear | bicubic | trilinear")
    if (size is None) == (scale_factor is None):
        raise SizeError("interpolate: give exactly one of size and scale_factor")
    h, w = input.shape[2:]
    if size is not None:
        out_h, out_w = (int(s) for s in _pair(size, "size"))
        factors = (None, None)
    else:
        factors = tuple(float(f) for f in _pair(scale_factor, "scale_factor"))
        out_h, out_w = math.floor(h * factors[0]), math.floor(w * factors[1])
        if recompute_scale_factor:
            factors = (None, None)
    if out_h < 1 or out_w < 1:
        raise SizeError(f"interpolate: output size ({out_h}, {out_w}) must be positive")
    out = input
    for axis, size_in, size_out, factor in ((2, h, out_h, factors[0]), (3, w, out_w, factors[1])):
        if mode == "nearest":
            index = [slice(None)] * 4
            index[axis] = input.xp.asarray(_nearest_index(size_in, size_out, factor))
            out = api.getitem(out, tuple(index))
        else:
            real = np.float64 if input.dtype == np.float64 else np.float32
            weights = _linear_weights(size_in, size_out, factor, bool(align_corners), real)
            out = _blend(out, axis, *weights)
    return out
