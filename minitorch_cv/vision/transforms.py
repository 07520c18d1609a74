"""``torchvision.transforms``' names; implemented in ``minitorch_cv.data.transforms`` and
``minitorch_cv.data.geometric``. They take PIL images, Tensors (after ``ToTensor``) and, ours,
NumPy arrays."""

from ..data.geometric import InterpolationMode, RandomResizedCrop, RandomRotation, Resize
from ..data.transforms import (
    CenterCrop,
    Compose,
    Grayscale,
    Lambda,
    Normalize,
    Pad,
    PILToTensor,
    RandomCrop,
    RandomHorizontalFlip,
    RandomVerticalFlip,
    ToTensor,
)

__all__ = [
    "CenterCrop",
    "Compose",
    "Grayscale",
    "InterpolationMode",
    "Lambda",
    "Normalize",
    "PILToTensor",
    "Pad",
    "RandomCrop",
    "RandomHorizontalFlip",
    "RandomResizedCrop",
    "RandomRotation",
    "RandomVerticalFlip",
    "Resize",
    "ToTensor",
]
