"""Colour transforms: ``ColorJitter`` and ``RandomGrayscale``, with torchvision's formulas.

On Tensors and arrays ``(..., C, H, W)`` with values in [0, 1] (float) or [0, 255] (integers):

- brightness ``f``: ``clip(f * x)``;
- contrast ``f``: ``clip(f * x + (1 - f) * mean(gray(x)))``, the mean over the whole image;
- saturation ``f``: ``clip(f * x + (1 - f) * gray(x))``;
- hue ``h``: rotate the hue of each pixel by ``h`` turns (RGB -> HSV -> RGB);

``gray`` is ``0.2989 R + 0.587 G + 0.114 B``. PIL images go through Pillow's ``ImageEnhance``
and an HSV round trip, as torchvision does for them.
"""

from __future__ import annotations

import numbers

import numpy as np

from .image import pil_module
from .transform_base import Transform, augmentation_rng


def _gray(x: np.ndarray) -> np.ndarray:
    """``(..., 3, H, W)`` -> ``(..., 1, H, W)`` luma, in float."""
    red, green, blue = (x[..., c : c + 1, :, :] for c in range(3))
    return 0.2989 * red + 0.587 * green + 0.114 * blue


def _blend(x: np.ndarray, other, factor: float) -> np.ndarray:
    bound = 1.0 if x.dtype.kind == "f" else 255.0
    out = np.clip(factor * x.astype(np.float64) + (1.0 - factor) * other, 0.0, bound)
    return out.astype(x.dtype)  # integer images are truncated back, as torchvision


def adjust_brightness(x: np.ndarray, factor: float) -> np.ndarray:
    return _blend(x, 0.0, factor)


def adjust_contrast(x: np.ndarray, factor: float) -> np.ndarray:
    gray = _gray(x.astype(np.float64)) if x.shape[-3] == 3 else x.astype(np.float64)
    if x.dtype.kind != "f":
        gray = np.floor(gray)  # torchvision casts the gray image back to the integer dtype
    return _blend(x, gray.mean(axis=(-3, -2, -1), keepdims=True), factor)


def adjust_saturation(x: np.ndarray, factor: float) -> np.ndarray:
    if x.shape[-3] == 1:  # a gray image has no saturation to change
        return x.copy()
    gray = _gray(x.astype(np.float64))
    if x.dtype.kind != "f":
        gray = np.floor(gray)
    return _blend(x, gray, factor)


def adjust_hue(x: np.ndarray, factor: float) -> np.ndarray:
    """Shift the hue by ``factor`` turns (in [-0.5, 0.5]); the HSV formulas of torchvision."""
    if not -0.5 <= factor <= 0.5:
        raise ValueError(f"hue_factor ({factor}) is not in [-0.5, 0.5].")
    if x.shape[-3] == 1:
        return x.copy()
    scale = 1.0 if x.dtype.kind == "f" else 255.0
    rgb = x.astype(np.float64) / scale
    red, green, blue = rgb[..., 0, :, :], rgb[..., 1, :, :], rgb[..., 2, :, :]
    maxc, minc = rgb.max(axis=-3), rgb.min(axis=-3)
    value, spread = maxc, maxc - minc
    sat = spread / np.where(maxc == 0, 1.0, maxc)
    safe = np.where(spread == 0, 1.0, spread)
    rc, gc, bc = (maxc - red) / safe, (maxc - green) / safe, (maxc - blue) / safe
    hue = np.where(maxc == red, bc - gc, np.where(maxc == green, 2.0 + rc - bc, 4.0 + gc - rc))
    hue = np.where(spread == 0, 0.0, (hue / 6.0) % 1.0)
    hue = (hue + factor) % 1.0
    # HSV -> RGB: the six sectors of the hue circle
    sector = np.floor(hue * 6.0)
    frac = hue * 6.0 - sector
    sector = sector.astype(np.int64) % 6
    p, q, t = (np.clip(value * (1 - sat * w), 0.0, 1.0) for w in (1.0, frac, 1.0 - frac))
    choices = [(value, t, p), (q, value, p), (p, value, t), (p, q, value), (t, p, value),
               (value, p, q)]
    out = np.stack(
        [np.choose(sector, [c[channel] for c in choices]) for channel in range(3)], axis=-3
    )
    if x.dtype.kind == "f":
        return out.astype(x.dtype)
    return (out * (256 - 1e-3)).astype(x.dtype)  # torchvision's float -> uint8 conversion


def _range(value, name: str, center: float = 1.0, bound=(0.0, float("inf")), clip=True):
    if value is None:
        return None
    if isinstance(value, numbers.Number):
        if value < 0:
            raise ValueError(f"If {name} is a single number, it must be non negative.")
        low, high = center - float(value), center + float(value)
        if clip:
            low = max(low, 0.0)
    else:
        low, high = float(value[0]), float(value[1])
    if not bound[0] <= low <= high <= bound[1]:
        raise ValueError(f"{name} values should be between {bound}, but got {(low, high)}.")
    return None if low == high == center else (low, high)


class ColorJitter(Transform):
    """Randomly change brightness, contrast, saturation and hue, in a random order.

    Args:
        brightness, contrast, saturation: ``f`` draws a factor from ``[max(0, 1 - f), 1 + f]``,
            or give ``(min, max)``.
        hue: ``h`` draws a shift from ``[-h, h]`` (``0 <= h <= 0.5``), or give ``(min, max)``.
    """

    def __init__(self, brightness=0, contrast=0, saturation=0, hue=0):
        self.brightness = _range(brightness, "brightness")
        self.contrast = _range(contrast, "contrast")
        self.saturation = _range(saturation, "saturation")
        self.hue = _range(hue, "hue", center=0.0, bound=(-0.5, 0.5), clip=False)

    def get_params(self):
        """``(order, brightness, contrast, saturation, hue)`` for one image."""
        rng = augmentation_rng()
        order = rng.permutation(4)
        factors = [None if r is None else float(rng.uniform(*r))
                   for r in (self.brightness, self.contrast, self.saturation, self.hue)]
        return order, *factors

    def _steps(self, params):
        order, *factors = params
        functions = (adjust_brightness, adjust_contrast, adjust_saturation, adjust_hue)
        return [(functions[i], factors[i]) for i in order if factors[i] is not None]

    def pil(self, image):
        from PIL import ImageEnhance  # noqa: PLC0415

        enhancers = (ImageEnhance.Brightness, ImageEnhance.Contrast, ImageEnhance.Color)
        for function, factor in self._steps(self.get_params()):
            if function is adjust_hue:
                image = pil_hue(image, factor)
            else:
                index = (adjust_brightness, adjust_contrast, adjust_saturation).index(function)
                image = enhancers[index](image).enhance(factor)
        return image

    def batch(self, x):
        x = np.asarray(x)
        out = np.empty_like(x)
        for n in range(len(x)):  # one set of factors per image
            image = x[n]
            for function, factor in self._steps(self.get_params()):
                image = function(image, factor)
            out[n] = image
        return out


def pil_hue(image, factor: float):
    """torchvision's PIL hue shift: add ``factor * 255`` to the H band, wrapping around."""
    if not -0.5 <= factor <= 0.5:
        raise ValueError(f"hue_factor ({factor}) is not in [-0.5, 0.5].")
    if image.mode in ("L", "1", "I", "F"):
        return image
    mode = image.mode
    h, s, v = image.convert("HSV").split()
    shifted = (np.asarray(h).astype(np.int16) + int(factor * 255)) % 256
    h = pil_module().fromarray(shifted.astype(np.uint8), "L")
    return pil_module().merge("HSV", (h, s, v)).convert(mode)


class RandomGrayscale(Transform):
    """Make the image gray with probability ``p``, keeping its number of channels."""

    def __init__(self, p: float = 0.1):
        self.p = p

    def pil(self, image):
        if augmentation_rng().random() >= self.p:
            return image
        bands = len(image.getbands())
        gray = image.convert("L")
        return gray.convert("RGB") if bands == 3 else gray

    def batch(self, x):
        x = np.asarray(x)
        change = augmentation_rng().random(len(x)) < self.p
        out = np.array(x, copy=True)
        if change.any() and x.shape[-3] == 3:
            gray = _gray(x[change].astype(np.float64)).astype(x.dtype)
            out[change] = np.repeat(gray, 3, axis=-3)
        return out
