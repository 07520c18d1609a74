"""Bilinear resampling in NumPy: ``Resize``, ``RandomResizedCrop``, ``RandomRotation``.

Pixel centres sit at integer coordinates; output pixel ``i`` of a resize from ``size`` to
``out`` reads the source at ``(i + 0.5) * size / out - 0.5`` (``align_corners=False``, as
``torch.nn.functional.interpolate``), clamped to the image. With ``antialias=True`` (the
default, as torchvision) a shrink blends every source pixel under a triangle as wide as the
scale factor (Pillow's and torch's antialiased bilinear), so it does not alias. A PIL image is
resampled by Pillow itself, as torchvision does.

Resizes are separable, so they are two matrix products ``R_y @ image @ R_x.T`` with
interpolation matrices of two non-zeros per row. A rotation is not separable: it gathers the
four neighbours of every source point.
"""

from __future__ import annotations

import enum
import math

import numpy as np

from .image import pil_module
from .transform_base import Transform, augmentation_rng, size_pair


class InterpolationMode(enum.Enum):
    """torchvision's interpolation names; ``NEAREST`` and ``BILINEAR`` are implemented."""

    NEAREST = "nearest"
    BILINEAR = "bilinear"
    BICUBIC = "bicubic"


def _mode(interpolation) -> InterpolationMode:
    mode = InterpolationMode(getattr(interpolation, "value", interpolation))
    if mode not in (InterpolationMode.NEAREST, InterpolationMode.BILINEAR):
        raise ValueError(f"interpolation {mode.value!r} is not implemented: use "
                         "InterpolationMode.BILINEAR or InterpolationMode.NEAREST")
    return mode


def _pil_resample(mode: InterpolationMode):
    image = pil_module()
    return image.NEAREST if mode is InterpolationMode.NEAREST else image.BILINEAR


def _float_input(x, name: str) -> np.ndarray:
    """Integer images are interpolated as ``float32`` and rounded back (``_integer_output``),
    as torchvision does with ``uint8`` tensors."""
    x = np.asarray(x)
    return x if x.dtype.kind == "f" else x.astype(np.float32)


def _integer_output(out: np.ndarray, dtype) -> np.ndarray:
    if np.dtype(dtype).kind == "f":
        return out
    info = np.iinfo(dtype)
    return np.clip(np.rint(out), info.min, info.max).astype(dtype)


def antialias_matrix(start, length, size: int, out: int) -> np.ndarray:
    """As ``interpolation_matrix``, with a triangle filter as wide as the shrink factor.

    Output ``i`` of a window of ``length`` centred at ``c = start + (i + 0.5) * scale``
    (``scale = length / out``) averages the source pixels ``j`` with weights
    ``max(0, 1 - |j + 0.5 - c| / max(scale, 1))``, normalised to sum 1 (Pillow's and torch's
    ``antialias=True`` bilinear). Returns ``(N, out, size)`` float64.
    """
    start = np.asarray(start, dtype=np.float64)[:, None, None]  # (N, 1, 1)
    length = np.asarray(length, dtype=np.float64)[:, None, None]
    scale = length / out
    width = np.maximum(scale, 1.0)
    centre = (np.arange(out)[None, :, None] + 0.5) * scale  # (N, out, 1), window coordinates
    j = np.arange(size)[None, None, :] - start  # (N, 1, size), window coordinates
    weights = np.maximum(0.0, 1.0 - np.abs(j + 0.5 - centre) / width)
    weights *= (j >= 0) & (j < length)  # only pixels inside the window
    return weights / weights.sum(axis=-1, keepdims=True)


def interpolation_matrix(start, length, size: int, out: int) -> np.ndarray:
    """Rows that resample the window ``[start, start + length)`` of an axis of ``size`` to ``out``.

    Args:
        start, length: arrays of shape ``(N,)`` (one window per sample).
    Returns:
        ``(N, out, size)`` float64, two non-zeros per row that sum to 1.
    """
    start = np.asarray(start, dtype=np.float64)[:, None]  # (N, 1)
    length = np.asarray(length, dtype=np.float64)[:, None]
    src = start + (np.arange(out) + 0.5) * (length / out) - 0.5  # (N, out)
    src = np.clip(src, start, start + length - 1)
    lo = np.floor(src).astype(np.intp)
    hi = np.minimum(lo + 1, (start + length - 1).astype(np.intp))
    weight_hi = src - lo
    matrix = np.zeros((src.shape[0], out, size), dtype=np.float64)
    sample, row = np.indices(src.shape)  # each (n, row) appears once, so `+=` below is safe
    matrix[sample, row, lo] = 1.0 - weight_hi
    matrix[sample, row, hi] += weight_hi
    return matrix


def nearest_matrix(start, length, size: int, out: int) -> np.ndarray:
    """Nearest neighbour as torch's ``mode="nearest"``: output ``i`` reads
    ``start + floor(i * length / out)``. Returns ``(N, out, size)`` float64."""
    start = np.asarray(start, dtype=np.int64)[:, None]
    length = np.asarray(length, dtype=np.float64)[:, None]
    src = start + np.minimum(np.floor(np.arange(out) * (length / out)), length - 1).astype(np.int64)
    matrix = np.zeros((src.shape[0], out, size), dtype=np.float64)
    sample, row = np.indices(src.shape)
    matrix[sample, row, src] = 1.0
    return matrix


def resample_windows(x: np.ndarray, top, left, h, w, out_size: tuple[int, int],
                     interpolation=InterpolationMode.BILINEAR,
                     antialias: bool = True) -> np.ndarray:
    """Resize the window ``(top, left, h, w)`` of each sample to ``out_size``.

    Shapes: ``x (N, C, H, W)``; ``top, left, h, w (N,)``; returns ``(N, C, out_h, out_w)``.
    """
    in_dtype = np.asarray(x).dtype
    x = _float_input(x, "Resize/RandomResizedCrop")
    dtype = x.dtype
    height, width = x.shape[-2:]
    if _mode(interpolation) is InterpolationMode.NEAREST:
        make = nearest_matrix
    else:
        make = antialias_matrix if antialias else interpolation_matrix
    rows = make(top, h, height, out_size[0]).astype(dtype)  # (N, out_h, H)
    cols = make(left, w, width, out_size[1]).astype(dtype)  # (N, out_w, W)
    extra = (1,) * (x.ndim - 3)  # broadcast the per-sample matrices over channel axes
    rows = rows.reshape(len(x), *extra, *rows.shape[1:])
    cols = cols.reshape(len(x), *extra, *cols.shape[1:])
    out = rows @ x.astype(dtype, copy=False) @ np.swapaxes(cols, -1, -2)
    return _integer_output(out, in_dtype)


def resize(x: np.ndarray, size: tuple[int, int], interpolation=InterpolationMode.BILINEAR,
           antialias: bool = True) -> np.ndarray:
    """Resize the last two axes of a batch ``(N, ..., H, W)`` to ``size``."""
    n_samples, height, width = len(x), x.shape[-2], x.shape[-1]
    if (height, width) == tuple(size):
        return x.copy()
    zeros = np.zeros(n_samples)
    return resample_windows(x, zeros, zeros, np.full(n_samples, height),
                            np.full(n_samples, width), size, interpolation, antialias)


class Resize(Transform):
    """Resize to ``size``: ``(h, w)`` is exact; an ``int`` sets the shorter edge, keeping the
    aspect ratio, and ``max_size`` caps the longer one (torchvision's rules).

    Args:
        interpolation: ``InterpolationMode.BILINEAR`` (default) or ``NEAREST``.
        antialias: blend when shrinking (torchvision's default ``True``); PIL images are always
            antialiased by Pillow, as in torchvision.
    """

    def __init__(self, size, interpolation=InterpolationMode.BILINEAR, max_size=None,
                 antialias: bool = True):
        if not isinstance(size, (int, np.integer)) and len(size) == 1:
            size = size[0]
        self.size = int(size) if isinstance(size, (int, np.integer)) else size_pair(size, "size")
        self.interpolation = _mode(interpolation)
        self.max_size = max_size
        self.antialias = antialias
        if max_size is not None and not isinstance(self.size, int):
            raise ValueError("max_size is only supported for a single int size")

    def output_size(self, height: int, width: int) -> tuple[int, int]:
        if not isinstance(self.size, int):
            return self.size
        short, long = (height, width) if height <= width else (width, height)
        new_short, new_long = self.size, int(self.size * long / short)
        if self.max_size is not None and new_long > self.max_size:
            new_short, new_long = int(self.max_size * new_short / new_long), self.max_size
        return (new_short, new_long) if height <= width else (new_long, new_short)

    def pil(self, image):
        out_h, out_w = self.output_size(image.size[1], image.size[0])
        return image.resize((out_w, out_h), _pil_resample(self.interpolation))

    def batch(self, x):
        x = np.asarray(x)
        return resize(x, self.output_size(*x.shape[-2:]), self.interpolation, self.antialias)


class RandomResizedCrop(Transform):
    """A random window of random area and aspect ratio, resized to ``size`` (Inception-style).

    Args:
        size: output ``int`` or ``(h, w)``.
        scale: range of the window's area as a fraction of the image's.
        ratio: range of the window's width / height, drawn log-uniformly.
    """

    def __init__(self, size, scale=(0.08, 1.0), ratio=(3 / 4, 4 / 3),
                 interpolation=InterpolationMode.BILINEAR, antialias: bool = True):
        self.size = size_pair(size, "size")
        self.scale = tuple(scale)
        self.ratio = tuple(ratio)
        self.interpolation = _mode(interpolation)
        self.antialias = antialias

    def pil(self, image):
        top, left, h, w = (int(v[0]) for v in self.windows(1, image.size[1], image.size[0]))
        window = image.crop((left, top, left + w, top + h))
        return window.resize(self.size[::-1], _pil_resample(self.interpolation))

    def windows(self, n_samples: int, height: int, width: int):
        """``(top, left, h, w)`` arrays of shape ``(N,)``: torchvision's rule, vectorised."""
        rng = augmentation_rng()
        area = height * width
        h = np.full(n_samples, height)
        w = np.full(n_samples, width)
        pending = np.ones(n_samples, dtype=bool)
        for _ in range(10):  # torchvision makes 10 attempts per image, then falls back
            target_area = area * rng.uniform(*self.scale, size=n_samples)
            aspect = np.exp(
                rng.uniform(math.log(self.ratio[0]), math.log(self.ratio[1]), size=n_samples)
            )
            cand_w = np.round(np.sqrt(target_area * aspect)).astype(int)
            cand_h = np.round(np.sqrt(target_area / aspect)).astype(int)
            fits = pending & (cand_w > 0) & (cand_h > 0) & (cand_w <= width) & (cand_h <= height)
            w[fits], h[fits] = cand_w[fits], cand_h[fits]
            pending &= ~fits
            if not pending.any():
                break
        if pending.any():  # fall back to a central window with the aspect ratio clamped
            in_ratio = width / height
            if in_ratio < min(self.ratio):
                w[pending], h[pending] = width, int(round(width / min(self.ratio)))
            elif in_ratio > max(self.ratio):
                h[pending], w[pending] = height, int(round(height * max(self.ratio)))
        top = np.floor(rng.random(n_samples) * (height - h + 1)).astype(int)
        left = np.floor(rng.random(n_samples) * (width - w + 1)).astype(int)
        if pending.any():
            top[pending] = (height - h[pending]) // 2
            left[pending] = (width - w[pending]) // 2
        return top, left, h, w

    def batch(self, x):
        x = np.asarray(x)
        top, left, h, w = self.windows(len(x), *x.shape[-2:])
        return resample_windows(x, top, left, h, w, self.size, self.interpolation, self.antialias)


def rotate(x: np.ndarray, degrees: np.ndarray, fill: float = 0.0,
           interpolation=InterpolationMode.BILINEAR, center=None) -> np.ndarray:
    """Rotate each sample of ``(N, C, H, W)`` counter-clockwise by ``degrees[n]``.

    The centre is the image's, ``((W - 1) / 2, (H - 1) / 2)``, or ``center = (x, y)``. Each
    output pixel reads the source point that the inverse rotation sends it to: its nearest
    pixel (``NEAREST``, rounding half to even as torch's ``grid_sample``) or its four
    neighbours blended (``BILINEAR``), with ``fill`` outside the image.
    """
    in_dtype = np.asarray(x).dtype
    x = _float_input(x, "RandomRotation")
    dtype = x.dtype
    n_samples, height, width = len(x), x.shape[-2], x.shape[-1]
    theta = np.deg2rad(np.asarray(degrees, dtype=np.float64))[:, None, None]  # (N, 1, 1)
    cx, cy = ((width - 1) / 2, (height - 1) / 2) if center is None else center
    yy, xx = np.meshgrid(np.arange(height) - cy, np.arange(width) - cx, indexing="ij")
    cos, sin = np.cos(theta), np.sin(theta)
    src_x = cos * xx - sin * yy + cx  # (N, H, W); y points down, so this is counter-clockwise
    src_y = sin * xx + cos * yy + cy
    # A one-pixel frame of `fill` makes points just outside blend towards `fill`, and clipping
    # to the frame makes points far outside read `fill` alone.
    flat = x.reshape(n_samples, -1, height, width)
    framed = np.pad(flat, ((0, 0), (0, 0), (1, 1), (1, 1)), constant_values=fill)
    sample = np.arange(n_samples)[:, None, None]

    def at(rows, cols):
        return framed[sample, :, rows, cols]  # (N, H, W, C')

    if _mode(interpolation) is InterpolationMode.NEAREST:
        rows = np.clip(np.rint(src_y).astype(np.intp) + 1, 0, height + 1)
        cols = np.clip(np.rint(src_x).astype(np.intp) + 1, 0, width + 1)
        out = at(rows, cols)
    else:
        src_y = np.clip(src_y + 1, 0, height + 1)
        src_x = np.clip(src_x + 1, 0, width + 1)
        y0 = np.minimum(np.floor(src_y).astype(np.intp), height)
        x0 = np.minimum(np.floor(src_x).astype(np.intp), width)
        wy = (src_y - y0).astype(dtype)[..., None]  # (N, H, W, 1): broadcast over channels
        wx = (src_x - x0).astype(dtype)[..., None]
        top = at(y0, x0) * (1 - wx) + at(y0, x0 + 1) * wx
        bottom = at(y0 + 1, x0) * (1 - wx) + at(y0 + 1, x0 + 1) * wx
        out = top * (1 - wy) + bottom * wy
    out = out.transpose(0, 3, 1, 2).reshape(x.shape).astype(dtype, copy=False)
    return _integer_output(out, in_dtype)


class RandomRotation(Transform):
    """Rotate by an angle drawn uniformly from ``[-degrees, degrees]`` (or ``(min, max)``),
    counter-clockwise for positive angles, as torchvision.

    Args:
        interpolation: ``InterpolationMode.NEAREST`` (torchvision's default) or ``BILINEAR``.
        expand: only ``False`` (the output keeps the input's size).
        center: ``(x, y)`` to rotate about; default the image centre.
        fill: value outside the image.
    """

    def __init__(self, degrees, interpolation=InterpolationMode.NEAREST, expand: bool = False,
                 center=None, fill: float = 0.0):
        if isinstance(degrees, (int, float, np.integer, np.floating)):
            if degrees < 0:
                raise ValueError(f"If degrees is a single number, it must be positive, got "
                                 f"{degrees}")
            degrees = (-float(degrees), float(degrees))
        self.degrees = (float(degrees[0]), float(degrees[1]))
        self.interpolation = _mode(interpolation)
        if expand:
            raise ValueError("RandomRotation(expand=True) is not implemented: the output "
                             "keeps the input's size; pad the image first to keep corners")
        self.expand = expand
        self.center = center
        self.fill = fill

    def pil(self, image):
        angle = float(augmentation_rng().uniform(self.degrees[0], self.degrees[1]))
        bands = len(image.getbands())
        fill = self.fill
        fill = int(fill) if bands == 1 else tuple(int(fill) for _ in range(bands))
        return image.rotate(angle, _pil_resample(self.interpolation), False, self.center,
                            fillcolor=fill)

    def batch(self, x):
        angles = augmentation_rng().uniform(self.degrees[0], self.degrees[1], size=len(x))
        return rotate(x, angles, self.fill, self.interpolation, self.center)
