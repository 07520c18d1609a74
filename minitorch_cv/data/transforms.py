"""Transforms with torchvision's names, for one image or a whole batch at once.

Every transform has two entry points:

- ``t(image)``: one image, as torchvision: a PIL image before ``ToTensor`` (returned as a PIL
  image), a Tensor ``(C, H, W)`` after it (returned as a Tensor); ``ToTensor`` turns the first
  into the second. NumPy arrays are accepted too and returned as arrays (``image.py``).
- ``t.batch(images)``: a batch of arrays with a leading ``N``, ``(N, H, W)`` / ``(N, H, W, C)``
  raw bytes for ``ToTensor`` and ``(N, C, H, W)`` after it. Random transforms draw one set of
  parameters per sample, in a few vectorised NumPy calls; the image datasets call ``batch`` when
  their transform starts with ``ToTensor``, so a DataLoader batch is not a loop over images.

Randomness comes from ``minitorch_cv.random.generator("cpu")``, so ``minitorch_cv.manual_seed``
makes augmentation repeatable. The resampling ones (``Resize``, ``RandomRotation``,
``RandomResizedCrop``) are written in ``geometric.py`` and exported here too, so
``from minitorch_cv.data import transforms as T`` offers torchvision's names.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from ..autograd.tensor import Tensor
from .color import ColorJitter, RandomGrayscale
from .extra import RandomApply, RandomErasing, ToPILImage
from .geometric import InterpolationMode, RandomResizedCrop, RandomRotation, Resize
from .image import is_pil, pil_to_hwc, to_tensor_array
from .transform_base import Transform, apply_batch, augmentation_rng, size_pair

__all__ = [
    "CenterCrop",
    "ChannelMismatchError",
    "ColorJitter",
    "RandomApply",
    "RandomErasing",
    "RandomGrayscale",
    "ToPILImage",
    "Grayscale",
    "InterpolationMode",
    "Pad",
    "PILToTensor",
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
    """PIL image or ``(H, W[, C])`` array -> ``Tensor (C, H, W)``; ``uint8`` becomes ``float32``
    in [0, 1], other dtypes are kept unscaled (torchvision's rule).

    ``batch`` takes the raw ``(N, H, W[, C])`` arrays the datasets hold and gives
    ``(N, C, H, W)`` arrays.
    """

    converts_raw_batch = True

    def __call__(self, pic):
        return Tensor(to_tensor_array(pic))

    def batch(self, images):
        images = np.asarray(images)
        if images.ndim == 3:
            images = images[..., None]  # (N, H, W) -> (N, H, W, 1)
        if images.ndim != 4:
            raise ValueError(f"ToTensor.batch expects (N, H, W[, C]), got shape {images.shape}")
        out = np.ascontiguousarray(images.transpose(0, 3, 1, 2))  # (N, H, W, C) -> (N, C, H, W)
        if out.dtype == np.uint8:
            return out.astype(np.float32) / np.float32(255)
        return out


class PILToTensor(Transform):
    """PIL image -> ``Tensor (C, H, W)`` of the image's own dtype (``uint8``), unscaled."""

    converts_raw_batch = True

    def __call__(self, pic):
        if not is_pil(pic):
            raise TypeError(f"pic should be PIL Image. Got {type(pic)}")
        return Tensor(np.ascontiguousarray(pil_to_hwc(pic).transpose(2, 0, 1)))

    def batch(self, images):
        images = np.asarray(images)
        if images.ndim == 3:
            images = images[..., None]
        return np.ascontiguousarray(images.transpose(0, 3, 1, 2))


class ChannelMismatchError(ValueError, RuntimeError):
    """Per-channel values that do not match the image's channels (torch: a RuntimeError)."""


class Normalize(Transform):
    """``(x - mean[c]) / std[c]`` per channel of a float ``(..., C, H, W)`` Tensor or array."""

    def __init__(self, mean: Sequence[float] | float, std: Sequence[float] | float,
                 inplace: bool = False):
        self.mean = tuple(np.atleast_1d(np.asarray(mean, dtype=np.float64)).tolist())
        self.std = tuple(np.atleast_1d(np.asarray(std, dtype=np.float64)).tolist())
        self.inplace = inplace  # accepted; the result is always a new array here
        if len(self.mean) != len(self.std):
            raise ValueError(f"mean and std differ in length: {self.mean} vs {self.std}")
        if any(s == 0 for s in self.std):
            raise ValueError(
                f"std evaluated to zero after conversion to float, leading to division by zero: "
                f"std must be non-zero, got {self.std}"
            )

    def __call__(self, x):
        if is_pil(x):
            raise TypeError(f"img should be Tensor Image. Got {type(x)}: apply ToTensor() first")
        return super().__call__(x)

    def batch(self, x):
        x = np.asarray(x)
        if x.dtype.kind != "f":
            raise TypeError(
                f"Input tensor should be a float tensor. Got {x.dtype}: apply ToTensor() first"
            )
        channels = x.shape[-3]
        if len(self.mean) not in (1, channels):
            raise ChannelMismatchError(
                f"Normalize has {len(self.mean)} channels, the input has {channels}"
            )
        mean = np.asarray(self.mean, dtype=x.dtype).reshape(-1, 1, 1)
        std = np.asarray(self.std, dtype=x.dtype).reshape(-1, 1, 1)
        return (x - mean) / std


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


class Pad(Transform):
    """Pad the borders: ``padding`` is an int, ``(left/right, top/bottom)`` or
    ``(left, top, right, bottom)``; ``padding_mode`` constant (with ``fill``), edge, reflect or
    symmetric."""

    def __init__(self, padding, fill: float = 0, padding_mode: str = "constant"):
        _padding4(padding)  # validate now
        if padding_mode not in ("constant", "edge", "reflect", "symmetric"):
            raise ValueError(f"unknown padding_mode {padding_mode!r}")
        self.padding, self.fill, self.padding_mode = padding, fill, padding_mode

    def batch(self, x):
        return pad(np.asarray(x), self.padding, self.fill, self.padding_mode)


class RandomCrop(Transform):
    """Pad by ``padding``, then cut a random ``size`` window (one position per sample).

    Args:
        size: ``int`` or ``(h, w)``.
        padding: ``None``, ``int``, ``(left/right, top/bottom)`` or ``(left, top, right, bottom)``.
        pad_if_needed: pad an image smaller than ``size`` up to it (after ``padding``).
        fill: value of constant padding.
        padding_mode: ``constant``, ``edge``, ``reflect`` or ``symmetric``.
    """

    def __init__(self, size, padding=None, pad_if_needed: bool = False, fill: float = 0,
                 padding_mode: str = "constant"):
        self.size = size_pair(size, "size")
        self.padding = padding
        self.pad_if_needed = pad_if_needed
        self.fill = fill
        self.padding_mode = padding_mode

    def batch(self, x):
        x = np.asarray(x)
        if self.padding is not None:
            x = pad(x, self.padding, self.fill, self.padding_mode)
        h, w = self.size
        if self.pad_if_needed and (x.shape[-1] < w or x.shape[-2] < h):
            grow_w, grow_h = max(w - x.shape[-1], 0), max(h - x.shape[-2], 0)
            x = pad(x, (grow_w, grow_h), self.fill, self.padding_mode)
        height, width = x.shape[-2:]
        if h > height or w > width:
            raise ValueError(
                f"Required crop size {(h, w)} is larger than input image size {(height, width)} "
                "(after padding): pass padding= or pad_if_needed=True"
            )
        rng = augmentation_rng()
        top = rng.integers(0, height - h + 1, size=len(x))
        left = rng.integers(0, width - w + 1, size=len(x))
        return crop_batch(x, top, left, h, w)


class CenterCrop(Transform):
    """Cut the central ``size`` window (torchvision's rounding); a crop larger than the image
    pads it with zeros first, as torchvision."""

    def __init__(self, size):
        self.size = size_pair(size, "size")

    def batch(self, x):
        x = np.asarray(x)
        h, w = self.size
        height, width = x.shape[-2:]
        if h > height or w > width:
            grow_h, grow_w = max(h - height, 0), max(w - width, 0)
            x = pad(x, (grow_w // 2, grow_h // 2, (grow_w + 1) // 2, (grow_h + 1) // 2))
            height, width = x.shape[-2:]
        top, left = int(round((height - h) / 2)), int(round((width - w) / 2))
        return np.ascontiguousarray(x[..., top : top + h, left : left + w])


class Grayscale(Transform):
    """RGB -> gray with ITU-R 601-2 luma weights, ``num_output_channels`` 1 or 3.

    A PIL image goes through Pillow's ``convert("L")`` (integer weights 299/587/114, as
    torchvision on PIL); a Tensor or array uses ``0.2989 R + 0.587 G + 0.114 B`` (torchvision's
    tensor weights), an integer dtype truncated back to it.
    """

    def __init__(self, num_output_channels: int = 1):
        if num_output_channels not in (1, 3):
            raise ValueError("num_output_channels should be either 1 or 3")
        self.num_output_channels = num_output_channels

    def pil(self, image):
        gray = image.convert("L")
        return gray if self.num_output_channels == 1 else gray.convert("RGB")

    def batch(self, x):
        x = np.asarray(x)
        channels = x.shape[-3]
        if channels not in (1, 3):
            raise TypeError(f"Input image tensor permitted channel values are 1 or 3, but found "
                            f"{channels}")
        if channels == 3:
            red, green, blue = (x[..., c : c + 1, :, :].astype(np.float32) for c in range(3))
            gray = (0.2989 * red + 0.587 * green + 0.114 * blue).astype(x.dtype)
        else:
            gray = x.copy()
        if self.num_output_channels == 3:
            gray = np.repeat(gray, 3, axis=-3)
        return gray


class Lambda(Transform):
    """Wrap a function of one image; ``batch`` loops over the samples, giving each as a Tensor
    (what the function gets image by image after ``ToTensor``)."""

    def __init__(self, fn: Callable):
        if not callable(fn):
            raise TypeError(f"Argument lambd should be callable, got {type(fn).__name__}")
        self.fn = fn

    def __call__(self, x):
        return self.fn(x)

    def batch(self, x):
        return apply_batch(self.fn, x)
