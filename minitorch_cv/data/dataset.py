"""Datasets, as ``torch.utils.data``: ``Dataset``, ``IterableDataset``, ``TensorDataset``,
``Subset``, ``ConcatDataset`` and ``random_split``.

A map-style dataset has ``__len__`` and ``__getitem__``. One that keeps its samples in arrays
also defines ``get_batch(indices)``, which returns the whole batch already stacked (one
fancy-index per array, transforms applied to the batch). The ``DataLoader`` uses it when it
would otherwise call ``default_collate`` on the samples, so a batch of 256 images costs one
NumPy call instead of 256 Python calls to ``__getitem__``; it gives the same batch, value for
value, as the sample-by-sample path (tested).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence

import numpy as np

from ..autograd.tensor import Tensor
from ..generator import numpy_generator


class Dataset:
    """Base class: subclasses define ``__len__`` and ``__getitem__(index) -> sample``."""

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must define __len__")

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")

    def __add__(self, other):
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """A stream of samples: subclasses define ``__iter__`` (and ``__len__`` if they can).

    With ``num_workers > 0`` each worker iterates its own view of the dataset, as in torch;
    ``get_worker_info()`` inside ``__iter__`` tells a worker which share is its own.
    """

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __iter__")

    def __getitem__(self, index):
        raise TypeError(f"{type(self).__name__} is an IterableDataset: iterate it, do not index")


class SizeMismatchError(ValueError, AssertionError):
    """Tensors of different lengths; an AssertionError as torch's, a ValueError as ours were."""


def _as_tensor(data) -> Tensor:
    """A Tensor as it is, anything else (NumPy array, list) wrapped without changing dtype."""
    if isinstance(data, Tensor):
        return data
    return Tensor(np.asarray(data))


class TensorDataset(Dataset):
    """Samples are the rows of equally long tensors: ``dataset[i]`` is
    ``(tensors[0][i], tensors[1][i], ...)``, a tuple of Tensors, as torch's.

    NumPy arrays are accepted too (torch takes only tensors) and wrapped, dtype kept.
    """

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor")
        self.tensors = tuple(_as_tensor(t) for t in tensors)
        sizes = [t.shape[0] if t.ndim else None for t in self.tensors]
        if len(set(sizes)) != 1 or sizes[0] is None:
            raise SizeMismatchError(
                f"Size mismatch between tensors: all must have the same first dimension, got "
                f"{sizes}"
            )

    def __len__(self) -> int:
        return self.tensors[0].shape[0]

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def get_batch(self, indices: np.ndarray) -> tuple:
        """The rows at ``indices`` of every tensor (the stacked batch ``default_collate`` makes)."""
        return tuple(Tensor(t.array[indices]) for t in self.tensors)


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order (``indices`` kept as given)."""

    def __init__(self, dataset, indices: Sequence[int]):
        self.dataset = dataset
        self.indices = indices
        self._positions = np.asarray(indices, dtype=np.int64)
        if self._positions.ndim != 1:
            raise ValueError(f"indices must be one-dimensional, got shape {self._positions.shape}")
        n = len(dataset)
        if self._positions.size and (self._positions.min() < -n or self._positions.max() >= n):
            raise IndexError(f"Subset indices out of range for a dataset of length {n}")

    def __len__(self) -> int:
        return len(self._positions)

    def __getitem__(self, index):
        if isinstance(index, (list, np.ndarray)):
            return self.dataset[[int(i) for i in self._positions[index]]]
        return self.dataset[int(self._positions[index])]

    def __getitems__(self, indices: list) -> list:
        if callable(getattr(self.dataset, "__getitems__", None)):
            return self.dataset.__getitems__([int(self._positions[i]) for i in indices])
        return [self.dataset[int(self._positions[i])] for i in indices]

    @property
    def get_batch(self):
        # A property that raises AttributeError when the wrapped dataset has no batched getter,
        # so the DataLoader's `hasattr(dataset, "get_batch")` stays truthful.
        if not hasattr(self.dataset, "get_batch"):
            raise AttributeError(f"{type(self.dataset).__name__} has no get_batch")
        return self._get_batch

    def _get_batch(self, indices: np.ndarray) -> tuple:
        return self.dataset.get_batch(self._positions[indices])


class ConcatDataset(Dataset):
    """Datasets one after the other: index ``i`` of the whole is found in the right part."""

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise AssertionError("datasets should not be an empty iterable")
        for part in self.datasets:
            if isinstance(part, IterableDataset):
                raise AssertionError("ConcatDataset does not support IterableDataset")
        self.cumulative_sizes = np.cumsum([len(part) for part in self.datasets]).tolist()

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, index: int):
        if index < 0:
            if -index > len(self):
                raise ValueError("absolute value of index should not exceed dataset length")
            index = len(self) + index
        if index >= len(self):
            raise IndexError(f"index {index} is out of range for a dataset of length {len(self)}")
        part = bisect.bisect_right(self.cumulative_sizes, index)
        start = self.cumulative_sizes[part - 1] if part > 0 else 0
        return self.datasets[part][index - start]


def _split_lengths(total: int, lengths: Sequence[float]) -> list[int]:
    """Integer lengths; fractions summing to 1 are rounded down, the rest dealt round-robin."""
    is_fractions = math.isclose(sum(lengths), 1.0) and sum(lengths) <= 1
    if is_fractions and not all(isinstance(n, (int, np.integer)) for n in lengths):
        if any(f < 0 for f in lengths):
            raise ValueError(f"fractions {list(lengths)} must be non-negative and sum to 1")
        counts = [int(math.floor(total * f)) for f in lengths]
        for i in range(total - sum(counts)):  # as torch: the remainder goes one by one, in order
            counts[i % len(counts)] += 1
        return counts
    if sum(lengths) != total or any(n < 0 for n in lengths):
        raise ValueError(
            f"Sum of input lengths does not equal the length of the input dataset! lengths "
            f"{list(lengths)} must be non-negative and sum to the dataset length {total} "
            "(or be fractions that sum to 1)"
        )
    return [int(n) for n in lengths]


def random_split(dataset, lengths: Sequence[float], generator=None) -> list[Subset]:
    """Split ``dataset`` into non-overlapping random ``Subset`` s.

    Args:
        dataset: any dataset with ``__len__``.
        lengths: integer lengths summing to ``len(dataset)``, or fractions summing to 1.
        generator: a ``minitorch_cv.Generator`` (``torch.Generator().manual_seed(42)``);
            ``None`` uses the global generator (``minitorch_cv.manual_seed``). Our extensions:
            an int seed or a ``numpy.random.Generator``.
    """
    counts = _split_lengths(len(dataset), lengths)
    order = numpy_generator(generator).permutation(len(dataset)).tolist()
    bounds = np.cumsum([0] + counts).tolist()
    return [Subset(dataset, order[lo:hi]) for lo, hi in zip(bounds[:-1], bounds[1:])]
