"""Transforms on NumPy arrays, for one sample or a whole batch at once.

Every transform has two entry points:

- ``t(sample)``: one image. ``ToTensor`` takes a ``uint8`` image ``(H, W)`` or ``(H, W, C)``;
  the others take its output, a float array ``(C, H, W)``.
- ``t.batch(images)``: a batch with a leading ``N``, ``(N, H, W)`` / ``(N, H, W, C)`` for
  ``ToTensor`` and ``(N, C, H, W)`` after it. Random transforms draw one set of parameters per
  sample, in a few vectorised NumPy calls; the image datasets call ``batch`` so a DataLoader
  batch is never a Python loop over images.

Randomness comes from ``minitorch_cv.random.generator("cpu")``, so ``minitorch_cv.manual_seed``
makes augmentation repeatable. The bilinear ones (``Resize``, ``RandomRotation``,
``RandomResizedCrop``) are written in ``geometric.py`` and exported here too, so
``from minitorch_cv.data import transforms as T`` offers torchvision's names.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from .geometric import RandomResizedCrop, RandomRotation, Resize
from .transform_base import Transform, apply_batch, augmentation_rng, size_pair

__all__ = [
    "CenterCrop",
    "Compose",
    "Lambda",
    "Normalize",
    "RandomCrop",
    "RandomHorizontalFlip",
    "RandomResizedCrop",
    "RandomRotation",
    "RandomVerticalFlip",
    "Resize",
    "ToTensor",
    "Transform",
    "apply_batch",
    "crop_batch",
    "pad",
]


class Compose(Transform):
    """Apply ``transforms`` in order (each may be a ``Transform`` or any callable)."""

    def __init__(self, transforms: Sequence[Callable]):
        self.transforms = list(transforms)

    def __call__(self, x):
        for t in self.transforms:
            x = t(x)
        return x

    def batch(self, x):
        for t in self.transforms:
            x = apply_batch(t, x)
        return x

    def __repr__(self) -> str:
        inner = "".join(f"\n    {t!r}," for t in self.transforms)
        return f"Compose([{inner}\n])"


class ToTensor(Transform):
    """``uint8`` ``(H, W)`` / ``(H, W, C)`` -> ``float32`` ``(C, H, W)`` in [0, 1].

    Scale first, then resize or rotate: interpolating ``uint8`` values and dividing afterwards
    loses precision, and ``uint8`` arithmetic wraps around (``np.uint8(250) + 10 == 4``).
    Float input is converted to ``float32`` without scaling (torchvision's rule).
    """

    def __call__(self, image):
        image = np.asarray(image)
        if image.ndim not in (2, 3):
            raise ValueError(f"ToTensor expects (H, W) or (H, W, C), got shape {image.shape}")
        return self.batch(image[None])[0]

    def batch(self, images):
        images = np.asarray(images)
        if images.ndim == 3:
            images = images[..., None]  # (N, H, W) -> (N, H, W, 1)
        if images.ndim != 4:
            raise ValueError(f"ToTensor.batch expects (N, H, W[, C]), got shape {images.shape}")
        out = images.transpose(0, 3, 1, 2)  # (N, H, W, C) -> (N, C, H, W)
        if out.dtype == np.uint8:
            return out.astype(np.float32) / np.float32(255)
        return np.ascontiguousarray(out, dtype=np.float32)


class Normalize(Transform):
    """``(x - mean[c]) / std[c]`` per channel of ``(C, H, W)`` / ``(N, C, H, W)`` input."""

    def __init__(self, mean: Sequence[float] | float, std: Sequence[float] | float):
        self.mean = tuple(np.atleast_1d(np.asarray(mean, dtype=np.float64)).tolist())
        self.std = tuple(np.atleast_1d(np.asarray(std, dtype=np.float64)).tolist())
        if len(self.mean) != len(self.std):
            raise ValueError(f"mean and std differ in length: {self.mean} vs {self.std}")
        if any(s == 0 for s in self.std):
            raise ValueError(f"std must be non-zero, got {self.std}")

    def batch(self, x):
        x = np.asarray(x)
        channels = x.shape[1]
        if len(self.mean) not in (1, channels):
            raise ValueError(f"Normalize has {len(self.mean)} channels, the input has {channels}")
        dtype = x.dtype if x.dtype.kind == "f" else np.float32
        mean = np.asarray(self.mean, dtype=dtype).reshape(-1, 1, 1)
        std = np.asarray(self.std, dtype=dtype).reshape(-1, 1, 1)
        return (x.astype(dtype, copy=False) - mean) / std


class RandomHorizontalFlip(Transform):
    """Mirror left-right with probability ``p`` (decided per sample)."""

    def __init__(self, p: float = 0.5):
        self.p = p

    def batch(self, x):
        flip = augmentation_rng().random(len(x)) < self.p
        out = np.array(x, copy=True)
        out[flip] = out[flip][..., ::-1]
        return out


class RandomVerticalFlip(Transform):
    """Mirror top-bottom with probability ``p`` (decided per sample)."""

    def __init__(self, p: float = 0.5):
        self.p = p

    def batch(self, x):
        flip = augmentation_rng().random(len(x)) < self.p
        out = np.array(x, copy=True)
        out[flip] = out[flip][..., ::-1, :]
        return out


def _padding4(padding) -> tuple[int, int, int, int]:
    """torchvision's padding forms -> (left, top, right, bottom)."""
    if isinstance(padding, (int, np.integer)):
        return (int(padding),) * 4
    padding = tuple(int(p) for p in padding)
    if len(padding) == 2:
        return padding[0], padding[1], padding[0], padding[1]
    if len(padding) == 4:
        return padding
    raise ValueError(f"padding must be an int, (lr, tb) or (l, t, r, b), got {padding!r}")


def pad(x: np.ndarray, padding, fill: float = 0, padding_mode: str = "constant") -> np.ndarray:
    """Pad the last two axes; ``padding_mode`` is one of constant, edge, reflect, symmetric."""
    left, top, right, bottom = _padding4(padding)
    widths = [(0, 0)] * (x.ndim - 2) + [(top, bottom), (left, right)]
    if padding_mode == "constant":
        return np.pad(x, widths, mode="constant", constant_values=fill)
    if padding_mode not in ("edge", "reflect", "symmetric"):
        raise ValueError(f"unknown padding_mode {padding_mode!r}")
    return np.pad(x, widths, mode=padding_mode)


def crop_batch(x: np.ndarray, top: np.ndarray, left: np.ndarray, h: int, w: int) -> np.ndarray:
    """Per-sample crops of one size: ``out[n] = x[n, ..., top[n]:top[n]+h, left[n]:left[n]+w]``."""
    n_samples, height, width = x.shape[0], x.shape[-2], x.shape[-1]
    flat = x.reshape(n_samples, -1, height, width)  # (N, C', H, W), C' = product of middle axes
    rows = top[:, None, None] + np.arange(h)[None, :, None]  # (N, h, 1)
    cols = left[:, None, None] + np.arange(w)[None, None, :]  # (N, 1, w)
    sample = np.arange(n_samples)[:, None, None]
    out = flat[sample, :, rows, cols]  # advanced indices first: (N, h, w, C')
    return out.transpose(0, 3, 1, 2).reshape(*x.shape[:-2], h, w)


class RandomCrop(Transform):
    """Pad by ``padding``, then cut a random ``size`` window (one position per sample).

    Args:
        size: ``int`` or ``(h, w)``.
        padding: ``int``, ``(left/right, top/bottom)`` or ``(left, top, right, bottom)``.
        fill: value of constant padding.
        padding_mode: ``constant``, ``edge``, ``reflect`` or ``symmetric``.
    """

    def __init__(self, size, padding=0, fill: float = 0, padding_mode: str = "constant"):
        self.size = size_pair(size, "size")
        self.padding = padding
        self.fill = fill
        self.padding_mode = padding_mode

    def batch(self, x):
        x = pad(np.asarray(x), self.padding, self.fill, self.padding_mode)
        h, w = self.size
        height, width = x.shape[-2:]
        if h > height or w > width:
            raise ValueError(f"crop {self.size} is larger than the padded image {(height, width)}")
        rng = augmentation_rng()
        top = rng.integers(0, height - h + 1, size=len(x))
        left = rng.integers(0, width - w + 1, size=len(x))
        return crop_batch(x, top, left, h, w)


class CenterCrop(Transform):
    """Cut the central ``size`` window (torchvision's rounding of the offsets)."""

    def __init__(self, size):
        self.size = size_pair(size, "size")

    def batch(self, x):
        h, w = self.size
        height, width = x.shape[-2:]
        if h > height or w > width:
            raise ValueError(f"crop {self.size} is larger than the image {(height, width)}")
        top, left = int(round((height - h) / 2)), int(round((width - w) / 2))
        return np.ascontiguousarray(x[..., top : top + h, left : left + w])


class Lambda(Transform):
    """Wrap a function of one sample; ``batch`` loops over the samples."""

    def __init__(self, fn: Callable):
        self.fn = fn

    def __call__(self, x):
        return self.fn(x)

    def batch(self, x):
        return np.stack([np.asarray(self.fn(sample)) for sample in x])
