"""More of torchvision's transforms: ``ToPILImage``, ``RandomErasing``, ``RandomApply``."""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

import numpy as np

from ..autograd.tensor import Tensor
from .image import is_pil, pil_module
from .transform_base import Transform, apply_batch, augmentation_rng

_ONE_BAND_MODES = {np.dtype(np.uint8): "L", np.dtype(np.int16): "I;16",
                   np.dtype(np.int32): "I", np.dtype(np.float32): "F"}


class ToPILImage(Transform):
    """Tensor ``(C, H, W)`` or array ``(H, W[, C])`` -> PIL image, as torchvision.

    Floats are multiplied by 255 and truncated to bytes (``pic.mul(255).byte()``); one channel
    gives mode ``L`` (or ``I``/``F`` for int32/float32 with ``mode``), three ``RGB``, four
    ``RGBA``.
    """

    def __init__(self, mode: str | None = None):
        self.mode = mode

    def __call__(self, pic):
        if isinstance(pic, Tensor):
            array = np.asarray(pic.numpy())
            if array.ndim == 2:
                array = array[None]
            if array.ndim != 3:
                raise ValueError(f"pic should be 2/3 dimensional. Got {array.ndim} dimensions.")
            array = array.transpose(1, 2, 0)  # (C, H, W) -> (H, W, C)
        elif isinstance(pic, np.ndarray):
            array = pic[:, :, None] if pic.ndim == 2 else pic
            if array.ndim != 3:
                raise ValueError(f"pic should be 2/3 dimensional. Got {pic.ndim} dimensions.")
        else:
            raise TypeError(f"pic should be Tensor or ndarray. Got {type(pic)}.")
        if array.shape[-1] > 4:
            raise ValueError(f"pic should not have > 4 channels. Got {array.shape[-1]} channels.")
        if array.dtype.kind == "f" and self.mode != "F":
            array = (array * 255).astype(np.uint8)
        if array.shape[-1] == 1:
            mode = self.mode or _ONE_BAND_MODES.get(array.dtype)
            return pil_module().fromarray(np.ascontiguousarray(array[:, :, 0]), mode=mode)
        image = pil_module().fromarray(np.ascontiguousarray(array))
        return image if self.mode is None else image.convert(self.mode)


class RandomErasing(Transform):
    """With probability ``p``, set a random rectangle of a Tensor image to ``value``
    (Zhong et al. 2017), torchvision's algorithm: up to 10 tries to draw an area fraction from
    ``scale`` and an aspect ratio (log-uniform) from ``ratio`` that fit; ``value="random"``
    fills with standard normal noise."""

    def __init__(self, p: float = 0.5, scale=(0.02, 0.33), ratio=(0.3, 3.3), value=0,
                 inplace: bool = False):
        if not isinstance(value, (numbers.Number, str, tuple, list)):
            raise TypeError("Argument value should be either a number or str or a sequence")
        if isinstance(value, str) and value != "random":
            raise ValueError("If value is str, it should be 'random'")
        if scale[0] < 0 or scale[1] > 1:
            raise ValueError("Scale should be between 0 and 1")
        if p < 0 or p > 1:
            raise ValueError("Random erasing probability should be between 0 and 1")
        self.p, self.scale, self.ratio = p, tuple(scale), tuple(ratio)
        self.value, self.inplace = value, inplace

    def __call__(self, image):
        if is_pil(image):
            raise TypeError(f"img should be Tensor Image. Got {type(image)}: apply ToTensor() "
                            "before RandomErasing")
        return super().__call__(image)

    def _fill(self, channels: int):
        if isinstance(self.value, str):
            return None
        fill = [float(self.value)] if isinstance(self.value, numbers.Number) else self.value
        if len(fill) not in (1, channels):
            raise ValueError(
                f"If value is a sequence, it should have either a single value or {channels} "
                "(number of input channels)"
            )
        return np.asarray(fill, dtype=np.float64).reshape(-1, 1, 1)

    def get_params(self, channels: int, height: int, width: int):
        """``(top, left, h, w)`` of the rectangle, or ``None`` when nothing fits."""
        rng = augmentation_rng()
        area = height * width
        log_ratio = (math.log(self.ratio[0]), math.log(self.ratio[1]))
        for _ in range(10):
            erase_area = area * rng.uniform(*self.scale)
            aspect = math.exp(rng.uniform(*log_ratio))
            h = int(round(math.sqrt(erase_area * aspect)))
            w = int(round(math.sqrt(erase_area / aspect)))
            if h < height and w < width:
                top = int(rng.integers(0, height - h + 1))
                return top, int(rng.integers(0, width - w + 1)), h, w
        return None

    def batch(self, x):
        x = np.array(x, copy=True)
        rng = augmentation_rng()
        channels, height, width = x.shape[-3:]
        fill = self._fill(channels)
        for n in range(len(x)):
            if rng.random() >= self.p:
                continue
            box = self.get_params(channels, height, width)
            if box is None:
                continue
            top, left, h, w = box
            value = fill if fill is not None else rng.standard_normal((channels, h, w))
            x[n, ..., top : top + h, left : left + w] = value
        return x


class RandomApply(Transform):
    """Apply the list of ``transforms`` with probability ``p`` (decided per image)."""

    def __init__(self, transforms: Sequence, p: float = 0.5):
        self.transforms = list(transforms)
        self.p = p

    def __call__(self, image):
        if augmentation_rng().random() >= self.p:
            return image
        for transform in self.transforms:
            image = transform(image)
        return image

    def batch(self, x):
        x = np.array(x, copy=True)
        chosen = augmentation_rng().random(len(x)) < self.p
        if chosen.any():
            part = x[chosen]
            for transform in self.transforms:
                part = apply_batch(transform, part)
            x[chosen] = part
        return x
