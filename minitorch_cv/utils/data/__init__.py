"""``torch.utils.data``'s names: ``from minitorch_cv.utils.data import DataLoader, Dataset``.

The same objects as ``minitorch_cv.data`` (where the image datasets and transforms live too);
see ``docs/data.md`` for what each does and where it differs from torch.
"""

from ...data.collate import default_collate, default_convert
from ...data.dataloader import DataLoader, WorkerInfo, get_worker_info
from ...data.dataset import (
    ConcatDataset,
    Dataset,
    IterableDataset,
    Subset,
    TensorDataset,
    random_split,
)
from ...data.sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)
from . import dataloader, dataset, sampler

__all__ = [
    "BatchSampler",
    "ConcatDataset",
    "DataLoader",
    "Dataset",
    "IterableDataset",
    "RandomSampler",
    "Sampler",
    "SequentialSampler",
    "Subset",
    "SubsetRandomSampler",
    "TensorDataset",
    "WeightedRandomSampler",
    "WorkerInfo",
    "dataloader",
    "dataset",
    "default_collate",
    "default_convert",
    "get_worker_info",
    "random_split",
    "sampler",
]
