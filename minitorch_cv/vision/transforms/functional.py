"""``torchvision.transforms.functional``: the transforms as functions with explicit parameters
(``import minitorch_cv.vision.transforms.functional as TF``).

Each takes a PIL image (returns one), a Tensor ``(..., C, H, W)`` (returns one) or, ours, an
array, and does what the transform classes do with the parameters given instead of drawn.
"""

from __future__ import annotations

import numpy as np

from ...autograd.tensor import Tensor
from ...data import color, geometric
from ...data import transforms as _t
from ...data.extra import ToPILImage
from ...data.geometric import InterpolationMode
from ...data.image import apply_to_image, is_pil, pil_module


def to_tensor(pic) -> Tensor:
    return _t.ToTensor()(pic)


def pil_to_tensor(pic) -> Tensor:
    return _t.PILToTensor()(pic)


def to_pil_image(pic, mode: str | None = None):
    return ToPILImage(mode)(pic)


def normalize(tensor, mean, std, inplace: bool = False):
    return _t.Normalize(mean, std, inplace)(tensor)


def resize(img, size, interpolation=InterpolationMode.BILINEAR, max_size=None,
           antialias: bool = True):
    return geometric.Resize(size, interpolation, max_size, antialias)(img)


def hflip(img):
    if is_pil(img):
        return img.transpose(pil_module().FLIP_LEFT_RIGHT)
    return apply_to_image(img, lambda x: np.ascontiguousarray(x[..., ::-1]))


def vflip(img):
    if is_pil(img):
        return img.transpose(pil_module().FLIP_TOP_BOTTOM)
    return apply_to_image(img, lambda x: np.ascontiguousarray(x[..., ::-1, :]))


def crop(img, top: int, left: int, height: int, width: int):
    """The window ``[top, top + height) x [left, left + width)``; parts outside the image are
    zeros, as torchvision."""
    if is_pil(img):
        return img.crop((left, top, left + width, top + height))

    def window(x):
        h, w = x.shape[-2:]
        pads = (max(-left, 0), max(-top, 0), max(left + width - w, 0), max(top + height - h, 0))
        if any(pads):
            x = _t.pad(x, pads)
        row, col = top + pads[1], left + pads[0]
        return np.ascontiguousarray(x[..., row : row + height, col : col + width])

    return apply_to_image(img, window)


def center_crop(img, output_size):
    return _t.CenterCrop(output_size)(img)


def pad(img, padding, fill=0, padding_mode: str = "constant"):
    return _t.Pad(padding, fill, padding_mode)(img)


def resized_crop(img, top: int, left: int, height: int, width: int, size,
                 interpolation=InterpolationMode.BILINEAR, antialias: bool = True):
    return resize(crop(img, top, left, height, width), size, interpolation, antialias=antialias)


def rotate(img, angle: float, interpolation=InterpolationMode.NEAREST, expand: bool = False,
           center=None, fill=None):
    """Rotate counter-clockwise by ``angle`` degrees (``expand=False`` only)."""
    rotation = geometric.RandomRotation((angle, angle), interpolation, expand, center,
                                        0.0 if fill is None else fill)
    return rotation(img)


def rgb_to_grayscale(img, num_output_channels: int = 1):
    return _t.Grayscale(num_output_channels)(img)


to_grayscale = rgb_to_grayscale


def _enhance(img, factor: float, array_fn, enhancer: str):
    """``array_fn(x, factor)`` on Tensors/arrays, ``PIL.ImageEnhance.<enhancer>`` on PIL."""
    if is_pil(img):
        from PIL import ImageEnhance  # noqa: PLC0415

        return getattr(ImageEnhance, enhancer)(img).enhance(factor)
    return apply_to_image(img, lambda x: np.stack([array_fn(sample, factor) for sample in x]))


def adjust_brightness(img, brightness_factor: float):
    return _enhance(img, brightness_factor, color.adjust_brightness, "Brightness")


def adjust_contrast(img, contrast_factor: float):
    return _enhance(img, contrast_factor, color.adjust_contrast, "Contrast")


def adjust_saturation(img, saturation_factor: float):
    return _enhance(img, saturation_factor, color.adjust_saturation, "Color")


def adjust_hue(img, hue_factor: float):
    if is_pil(img):
        return color.pil_hue(img, hue_factor)
    return apply_to_image(img, lambda x: color.adjust_hue(x, hue_factor))


def erase(img, i: int, j: int, h: int, w: int, v, inplace: bool = False):
    """Set ``img[..., i:i+h, j:j+w] = v`` on a Tensor image (a copy unless ``inplace``)."""
    if not isinstance(img, Tensor):
        raise TypeError(f"img should be Tensor Image. Got {type(img)}")
    value = getattr(v, "array", v)
    if inplace:
        img.array[..., i : i + h, j : j + w] = value
        return img
    out = img.array.copy()
    out[..., i : i + h, j : j + w] = value
    return Tensor(out)
