"""Data pipeline: datasets, the DataLoader, samplers, transforms, MixUp/CutMix, image datasets.

``minitorch_cv.utils.data`` offers the names of ``torch.utils.data`` and ``minitorch_cv.vision``
those of ``torchvision`` (``datasets``, ``transforms``, ``utils.make_grid``); this package
holds them all (see ``docs/data.md``).
"""

from . import transforms
from .cifar import CIFAR10, CIFARFormatError
from .collate import collate_arrays, default_collate, default_convert
from .dataloader import DataLoader, get_worker_info
from .dataset import ConcatDataset, Dataset, IterableDataset, Subset, TensorDataset, random_split
from .download import DatasetNotFoundError, DownloadError
from .folder import DatasetFolder, ImageFolder
from .geometric import InterpolationMode, RandomResizedCrop, RandomRotation, Resize
from .idx import IDXFormatError, read_idx
from .mix import cutmix, mixup, one_hot
from .sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)
from .transforms import (
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
from .vision import MNIST, EmbeddedDataWarning, EmbeddedFashionMNIST, FashionMNIST

__all__ = [
    "DatasetFolder",
    "ImageFolder",
    "BatchSampler",
    "ConcatDataset",
    "Grayscale",
    "InterpolationMode",
    "IterableDataset",
    "Pad",
    "PILToTensor",
    "RandomSampler",
    "Sampler",
    "SequentialSampler",
    "SubsetRandomSampler",
    "WeightedRandomSampler",
    "default_convert",
    "get_worker_info",
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
