"""``torchvision.utils``: ``make_grid`` and ``save_image``, with torchvision's layout rules."""

from __future__ import annotations

import math

import numpy as np

from ..autograd.tensor import Tensor
from ..data.image import pil_module


def _as_batch(tensor) -> np.ndarray:
    """A Tensor (or list of them) as a ``(B, C, H, W)`` array, one channel made three."""
    if isinstance(tensor, (list, tuple)):
        array = np.stack([np.asarray(getattr(t, "array", t)) for t in tensor])
    elif isinstance(tensor, Tensor):
        array = np.asarray(tensor.array) if tensor.device == "cpu" else tensor.numpy()
    else:
        raise TypeError(f"tensor should be of type Tensor (or a list of them), got {type(tensor)}")
    if array.ndim == 2:
        array = array[None]
    if array.ndim == 3:
        if array.shape[0] == 1:
            array = np.concatenate([array] * 3, axis=0)
        array = array[None]
    if array.ndim != 4:
        raise ValueError(f"make_grid takes (B, C, H, W), (C, H, W) or (H, W); got {array.shape}")
    if array.shape[1] == 1:
        array = np.concatenate([array] * 3, axis=1)
    return array


def _normalize(array: np.ndarray, value_range) -> np.ndarray:
    low, high = value_range if value_range is not None else (array.min(), array.max())
    return (np.clip(array, low, high) - low) / max(float(high) - float(low), 1e-5)


def make_grid(tensor, nrow: int = 8, padding: int = 2, normalize: bool = False,
              value_range: tuple[float, float] | None = None, scale_each: bool = False,
              pad_value: float = 0.0) -> Tensor:
    """Tile a batch of images into one image, as ``torchvision.utils.make_grid``.

    Args:
        tensor: ``(B, C, H, W)`` Tensor or a list of ``(C, H, W)`` ones; one channel is
            repeated to three.
        nrow: images per row (the grid has ``ceil(B / nrow)`` rows).
        padding: pixels of ``pad_value`` around and between the images.
        normalize: shift and scale to [0, 1] by ``value_range`` (clamped to it), or by the
            minimum and maximum (of each image with ``scale_each``).

    Shapes:
        ``(C, rows * (H + padding) + padding, cols * (W + padding) + padding)`` with
        ``cols = min(nrow, B)``; a batch of one returns the image itself, ``(C, H, W)``.
    """
    if value_range is not None and not isinstance(value_range, tuple):
        raise TypeError("value_range has to be a tuple (min, max) if specified. min and max "
                        "are numbers")
    batch = _as_batch(tensor)
    if normalize:
        batch = batch.copy()
        if scale_each:
            batch = np.stack([_normalize(image, value_range) for image in batch])
        else:
            batch = _normalize(batch, value_range)
        batch = batch.astype(_as_batch(tensor).dtype, copy=False)
    if len(batch) == 1:
        return Tensor(batch[0])
    n_images, channels, height, width = batch.shape
    cols = min(nrow, n_images)
    rows = int(math.ceil(n_images / cols))
    cell_h, cell_w = height + padding, width + padding
    grid = np.full((channels, cell_h * rows + padding, cell_w * cols + padding), pad_value,
                   dtype=batch.dtype)
    for k, image in enumerate(batch):
        row, col = divmod(k, cols)
        top, left = row * cell_h + padding, col * cell_w + padding
        grid[:, top : top + height, left : left + width] = image
    return Tensor(grid)


def save_image(tensor, fp, format: str | None = None, **kwargs) -> None:  # noqa: A002
    """``make_grid(tensor, **kwargs)`` written as an 8-bit image file (values in [0, 1] map to
    0..255, rounded), as ``torchvision.utils.save_image``."""
    grid = make_grid(tensor, **kwargs).numpy()
    pixels = np.clip(grid * 255 + 0.5, 0, 255).astype(np.uint8).transpose(1, 2, 0)
    pil_module().fromarray(np.ascontiguousarray(pixels)).save(fp, format=format)
