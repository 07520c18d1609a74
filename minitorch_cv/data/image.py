"""The three kinds of image a transform takes, and how each becomes a ``(1, C, H, W)`` array.

- a PIL image (what the image datasets return without a transform, as torchvision's);
- a ``Tensor`` ``(..., C, H, W)`` (after ``ToTensor``), returned as a Tensor;
- a NumPy array ``(..., H, W)`` (ours: torchvision takes arrays only in ``ToTensor``),
  returned as an array.

Pillow is imported only when an image needs it, so ``import minitorch_cv`` does not load it.
"""

from __future__ import annotations

import numpy as np

from ..autograd.tensor import Tensor


def is_pil(image) -> bool:
    return type(image).__module__.startswith("PIL.")


def pil_module():
    """``PIL.Image``, imported on first use."""
    from PIL import Image  # noqa: PLC0415

    return Image


def pil_to_hwc(image) -> np.ndarray:
    """A PIL image as ``(H, W, C)`` (``(H, W, 1)`` for one band), its own dtype kept."""
    array = np.asarray(image)
    if image.mode == "1":  # bilevel images read as bool; torchvision makes them 0/255 bytes
        array = array.astype(np.uint8) * 255
    return array[..., None] if array.ndim == 2 else array


def hwc_to_pil(array: np.ndarray, like=None):
    """``(H, W, C)`` back to a PIL image (one band -> mode ``L`` for bytes)."""
    Image = pil_module()
    if array.shape[-1] == 1:
        array = array[..., 0]
    image = Image.fromarray(np.ascontiguousarray(array))
    if like is not None and like.mode == "1":
        image = image.convert("1")
    return image


def to_tensor_array(image) -> np.ndarray:
    """``ToTensor``'s rule: PIL or ``(H, W[, C])`` array -> ``(C, H, W)``; ``uint8`` is scaled to
    ``float32`` in [0, 1], other dtypes are kept unscaled (as torchvision)."""
    if isinstance(image, Tensor):
        raise TypeError(
            "pic should be PIL Image or ndarray. Got Tensor: ToTensor converts images to Tensors; "
            "a Tensor is already one (drop ToTensor, or use ConvertImageDtype-style casts)"
        )
    if is_pil(image):
        hwc = pil_to_hwc(image)
    else:
        hwc = np.asarray(image)
        if hwc.ndim not in (2, 3):
            raise ValueError(f"pic should be 2/3 dimensional. Got {hwc.ndim} dimensions.")
        if hwc.ndim == 2:
            hwc = hwc[..., None]
    chw = np.ascontiguousarray(hwc.transpose(2, 0, 1))  # (H, W, C) -> (C, H, W)
    if chw.dtype == np.uint8:
        return chw.astype(np.float32) / np.float32(255)
    return chw


def apply_to_image(image, batch_fn):
    """Run ``batch_fn`` (a function of ``(N, ..., H, W)`` arrays) on one image of any kind.

    PIL images travel as ``(1, C, H, W)`` arrays of their own dtype and come back as PIL
    images; Tensors come back as Tensors; anything else as an array.
    """
    if is_pil(image):
        chw = pil_to_hwc(image).transpose(2, 0, 1)
        out = batch_fn(chw[None])[0]
        return hwc_to_pil(out.transpose(1, 2, 0).astype(chw.dtype, copy=False), like=image)
    if isinstance(image, Tensor):
        if not isinstance(image.array, np.ndarray):
            raise ValueError("transforms run on the host: apply them before moving to the GPU")
        return Tensor(np.ascontiguousarray(batch_fn(image.array[None])[0]))
    return batch_fn(np.asarray(image)[None])[0]


def image_size(image) -> tuple[int, int]:
    """``(H, W)`` of a PIL image, Tensor or array."""
    if is_pil(image):
        return image.size[1], image.size[0]
    return tuple(image.shape[-2:])
