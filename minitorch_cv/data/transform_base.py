"""The ``Transform`` base class and the helpers every transform module shares."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .. import random as _random
from ..autograd.tensor import Tensor
from .image import apply_to_image, is_pil


def augmentation_rng() -> np.random.Generator:
    return _random.generator("cpu")


def size_pair(size, name: str) -> tuple[int, int]:
    if isinstance(size, (int, np.integer)):
        size = (int(size), int(size))
    if len(size) != 2 or any(int(s) < 1 for s in size):
        raise ValueError(f"{name} must be a positive int or an (h, w) pair, got {size!r}")
    return int(size[0]), int(size[1])


class Transform:
    """Base class: implement ``batch(x)`` for a batch; one sample is a batch of one.

    ``t(image)`` takes a PIL image (returns one), a Tensor (returns one) or an array (returns
    one), as ``image.py`` describes; a transform whose PIL result must come from Pillow itself
    (resampling: ``Resize``, ``RandomRotation``) overrides ``pil(image)``.
    """

    def __call__(self, x):
        if is_pil(x) and hasattr(self, "pil"):
            return self.pil(x)
        return apply_to_image(x, self.batch)

    def batch(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError(f"{type(self).__name__} must define batch()")

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({args})"


def apply_batch(transform: Callable, x: np.ndarray) -> np.ndarray:
    """``transform.batch(x)`` if the transform has one, else a loop over samples (any callable)."""
    if hasattr(transform, "batch"):
        return transform.batch(x)
    # A plain function gets what it would get image by image after ToTensor: a Tensor.
    return np.stack([_as_array(transform(Tensor(sample))) for sample in x])


def _as_array(value) -> np.ndarray:
    array = getattr(value, "array", None)  # a Tensor's own array
    return np.asarray(value if array is None else array)


def batch_safe(transform) -> bool:
    """True when ``apply_batch(transform, raw_images)`` equals transforming image by image.

    That holds when the first step turns the raw ``(N, H, W[, C])`` bytes into ``(N, C, H, W)``
    (``ToTensor``, ``PILToTensor``): every later step then sees a batch of what one image
    would be. Steps before it expect PIL images, so the datasets go image by image.
    """
    steps = getattr(transform, "transforms", [transform])
    return bool(steps) and getattr(steps[0], "converts_raw_batch", False)
