"""Bilinear resampling in NumPy: ``Resize``, ``RandomResizedCrop``, ``RandomRotation``.

Pixel centres sit at integer coordinates; output pixel ``i`` of a resize from ``size`` to
``out`` reads the source at ``(i + 0.5) * size / out - 0.5`` (``align_corners=False``, as
``torch.nn.functional.interpolate``), clamped to the image. No antialiasing: shrinking by a
large factor aliases, as torchvision's ``antialias=False``.

Resizes are separable, so they are two matrix products ``R_y @ image @ R_x.T`` with
interpolation matrices of two non-zeros per row. A rotation is not separable: it gathers the
four neighbours of every source point.
"""

from __future__ import annotations

import math

import numpy as np

from .transform_base import Transform, augmentation_rng, size_pair


def _float_input(x, name: str) -> np.ndarray:
    x = np.asarray(x)
    if x.dtype.kind != "f":
        raise TypeError(
            f"{name} needs float images, got {x.dtype}: apply ToTensor() first (scaling to [0, 1] "
            "must come before interpolation, integer images would be rounded or wrap around)"
        )
    return x


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


def resample_windows(x: np.ndarray, top, left, h, w, out_size: tuple[int, int]) -> np.ndarray:
    """Bilinear resize of the window ``(top, left, h, w)`` of each sample to ``out_size``.

    Shapes: ``x (N, C, H, W)``; ``top, left, h, w (N,)``; returns ``(N, C, out_h, out_w)``.
    """
    x = _float_input(x, "Resize/RandomResizedCrop")
    dtype = x.dtype
    height, width = x.shape[-2:]
    rows = interpolation_matrix(top, h, height, out_size[0]).astype(dtype)  # (N, out_h, H)
    cols = interpolation_matrix(left, w, width, out_size[1]).astype(dtype)  # (N, out_w, W)
    extra = (1,) * (x.ndim - 3)  # broadcast the per-sample matrices over channel axes
    rows = rows.reshape(len(x), *extra, *rows.shape[1:])
    cols = cols.reshape(len(x), *extra, *cols.shape[1:])
    return rows @ x.astype(dtype, copy=False) @ np.swapaxes(cols, -1, -2)


def resize(x: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Bilinear resize of the last two axes of a batch ``(N, ..., H, W)`` to ``size``."""
    n_samples, height, width = len(x), x.shape[-2], x.shape[-1]
    if (height, width) == tuple(size):
        return x.copy()
    zeros = np.zeros(n_samples)
    return resample_windows(
        x, zeros, zeros, np.full(n_samples, height), np.full(n_samples, width), size
    )


class Resize(Transform):
    """Bilinear resize. ``size=(h, w)`` is exact; an ``int`` sets the shorter edge, keeping
    the aspect ratio (torchvision's rule)."""

    def __init__(self, size):
        self.size = size if isinstance(size, (int, np.integer)) else size_pair(size, "size")

    def output_size(self, height: int, width: int) -> tuple[int, int]:
        if not isinstance(self.size, (int, np.integer)):
            return self.size
        short, long = (height, width) if height <= width else (width, height)
        new_long = int(self.size * long / short)
        return (self.size, new_long) if height <= width else (new_long, self.size)

    def batch(self, x):
        x = _float_input(x, "Resize")
        return resize(x, self.output_size(*x.shape[-2:]))


class RandomResizedCrop(Transform):
    """A random window of random area and aspect ratio, resized to ``size`` (Inception-style).

    Args:
        size: output ``int`` or ``(h, w)``.
        scale: range of the window's area as a fraction of the image's.
        ratio: range of the window's width / height, drawn log-uniformly.
    """

    def __init__(self, size, scale=(0.08, 1.0), ratio=(3 / 4, 4 / 3)):
        self.size = size_pair(size, "size")
        self.scale = tuple(scale)
        self.ratio = tuple(ratio)

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
        return resample_windows(x, top, left, h, w, self.size)


def rotate(x: np.ndarray, degrees: np.ndarray, fill: float = 0.0) -> np.ndarray:
    """Rotate each sample of ``(N, C, H, W)`` counter-clockwise by ``degrees[n]`` about its centre.

    Each output pixel reads the source point that the inverse rotation sends it to; its four
    neighbours are blended bilinearly, with ``fill`` outside the image.
    """
    x = _float_input(x, "RandomRotation")
    dtype = x.dtype
    n_samples, height, width = len(x), x.shape[-2], x.shape[-1]
    theta = np.deg2rad(np.asarray(degrees, dtype=np.float64))[:, None, None]  # (N, 1, 1)
    cy, cx = (height - 1) / 2, (width - 1) / 2
    yy, xx = np.meshgrid(np.arange(height) - cy, np.arange(width) - cx, indexing="ij")
    cos, sin = np.cos(theta), np.sin(theta)
    src_x = cos * xx - sin * yy + cx  # (N, H, W); y points down, so this is counter-clockwise
    src_y = sin * xx + cos * yy + cy
    # A one-pixel frame of `fill` makes points just outside blend towards `fill`, and clipping
    # to the frame makes points far outside read `fill` alone.
    flat = x.reshape(n_samples, -1, height, width)
    framed = np.pad(flat, ((0, 0), (0, 0), (1, 1), (1, 1)), constant_values=fill)
    src_y = np.clip(src_y + 1, 0, height + 1)
    src_x = np.clip(src_x + 1, 0, width + 1)
    y0 = np.minimum(np.floor(src_y).astype(np.intp), height)
    x0 = np.minimum(np.floor(src_x).astype(np.intp), width)
    wy = (src_y - y0).astype(dtype)[..., None]  # (N, H, W, 1): broadcast over channels
    wx = (src_x - x0).astype(dtype)[..., None]
    sample = np.arange(n_samples)[:, None, None]

    def at(rows, cols):
        return framed[sample, :, rows, cols]  # (N, H, W, C')

    top = at(y0, x0) * (1 - wx) + at(y0, x0 + 1) * wx
    bottom = at(y0 + 1, x0) * (1 - wx) + at(y0 + 1, x0 + 1) * wx
    out = top * (1 - wy) + bottom * wy
    return out.transpose(0, 3, 1, 2).reshape(x.shape).astype(dtype, copy=False)


class RandomRotation(Transform):
    """Rotate by an angle drawn uniformly from ``[-degrees, degrees]`` (or ``(min, max)``),
    counter-clockwise for positive angles as torchvision; ``fill`` outside the image."""

    def __init__(self, degrees, fill: float = 0.0):
        if isinstance(degrees, (int, float, np.integer, np.floating)):
            if degrees < 0:
                raise ValueError(f"degrees must be non-negative, got {degrees}")
            degrees = (-float(degrees), float(degrees))
        self.degrees = (float(degrees[0]), float(degrees[1]))
        self.fill = fill

    def batch(self, x):
        angles = augmentation_rng().uniform(self.degrees[0], self.degrees[1], size=len(x))
        return rotate(x, angles, self.fill)
