"""Data pipeline: datasets, the DataLoader, transforms, MixUp/CutMix, image datasets.

``from minitorch_cv.data import DataLoader, TensorDataset`` and
``from minitorch_cv.data import transforms as T`` mirror ``torch.utils.data`` and
``torchvision.transforms``; ``MNIST``, ``FashionMNIST`` and ``CIFAR10`` mirror
``torchvision.datasets``.
"""

from . import transforms
from .cifar import CIFAR10, CIFARFormatError
from .dataloader import DataLoader, collate_arrays, default_collate
from .dataset import Dataset, Subset, TensorDataset, random_split
from .download import DatasetNotFoundError, DownloadError
from .geometric import RandomResizedCrop, RandomRotation, Resize
from .idx import IDXFormatError, read_idx
from .mix import cutmix, mixup, one_hot
from .transforms import (
    CenterCrop,
    Compose,
    Lambda,
    Normalize,
    RandomCrop,
    RandomHorizontalFlip,
    RandomVerticalFlip,
    ToTensor,
)
from .vision import MNIST, EmbeddedDataWarning, EmbeddedFashionMNIST, FashionMNIST

__all__ = [
    "CIFAR10",
    "CIFARFormatError",
    "MNIST",
    "DatasetNotFoundError",
    "DownloadError",
    "EmbeddedDataWarning",
    "EmbeddedFashionMNIST",
    "FashionMNIST",
    "IDXFormatError",
    "read_idx",
    "CenterCrop",
    "Compose",
    "DataLoader",
    "Dataset",
    "Lambda",
    "Normalize",
    "RandomCrop",
    "RandomHorizontalFlip",
    "RandomResizedCrop",
    "RandomRotation",
    "RandomVerticalFlip",
    "Resize",
    "Subset",
    "TensorDataset",
    "ToTensor",
    "collate_arrays",
    "cutmix",
    "default_collate",
    "mixup",
    "one_hot",
    "random_split",
    "transforms",
]
