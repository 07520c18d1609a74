"""Datasets: anything with ``__len__`` and ``__getitem__``, plus an optional batched getter.

A dataset that keeps its samples in arrays also defines ``get_batch(indices)``, which returns
the whole batch at once (one fancy-index per array, transforms applied to the batch). The
``DataLoader`` uses it when it exists, so a batch of 256 images costs one NumPy call instead of
256 Python calls to ``__getitem__``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from .. import random as _random
from ..autograd.tensor import Tensor


class Dataset:
    """Base class: subclasses define ``__len__`` and ``__getitem__(index) -> sample``."""

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must define __len__")

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")


def _as_array(data):
    """The raw array of a Tensor, or ``np.asarray`` of anything else."""
    if isinstance(data, Tensor):
        return data.array
    return np.asarray(data)


class TensorDataset(Dataset):
    """Samples are rows of equally long arrays (Tensors or NumPy arrays), as ``torch``'s.

    ``dataset[i]`` is the tuple ``(arrays[0][i], arrays[1][i], ...)`` of NumPy/CuPy values;
    the ``DataLoader`` turns batches of them into Tensors.
    """

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset needs at least one array")
        self.tensors = tuple(_as_array(t) for t in tensors)
        lengths = {len(t) for t in self.tensors}
        if len(lengths) != 1:
            sizes = [len(t) for t in self.tensors]
            raise ValueError(f"all arrays must have the same first dimension, got {sizes}")

    def __len__(self) -> int:
        return len(self.tensors[0])

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def get_batch(self, indices: np.ndarray) -> tuple:
        return tuple(t[indices] for t in self.tensors)


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order."""

    def __init__(self, dataset, indices: Sequence[int]):
        self.dataset = dataset
        self.indices = np.asarray(indices, dtype=np.int64)
        if self.indices.ndim != 1:
            raise ValueError(f"indices must be one-dimensional, got shape {self.indices.shape}")
        n = len(dataset)
        if self.indices.size and (self.indices.min() < -n or self.indices.max() >= n):
            raise IndexError(f"Subset indices out of range for a dataset of length {n}")

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, index):
        if isinstance(index, (list, np.ndarray)):
            return [self.dataset[int(i)] for i in self.indices[index]]
        return self.dataset[int(self.indices[index])]

    @property
    def get_batch(self):
        # A property that raises AttributeError when the wrapped dataset has no batched getter,
        # so the DataLoader's `hasattr(dataset, "get_batch")` stays truthful.
        if not hasattr(self.dataset, "get_batch"):
            raise AttributeError(f"{type(self.dataset).__name__} has no get_batch")
        return self._get_batch

    def _get_batch(self, indices: np.ndarray) -> tuple:
        return self.dataset.get_batch(self.indices[indices])


def _resolve_generator(generator) -> np.random.Generator:
    if generator is None:
        return _random.generator("cpu")
    if isinstance(generator, np.random.Generator):
        return generator
    if isinstance(generator, (int, np.integer)):
        return np.random.default_rng(int(generator))
    raise TypeError(f"generator must be None, an int seed or a numpy Generator, got {generator!r}")


def _split_lengths(total: int, lengths: Sequence[float]) -> list[int]:
    """Integer lengths; fractions summing to 1 are rounded down, the rest dealt round-robin."""
    if all(isinstance(n, (int, np.integer)) for n in lengths):
        if sum(lengths) != total or any(n < 0 for n in lengths):
            raise ValueError(
                f"lengths {list(lengths)} must be non-negative and sum to the dataset length "
                f"{total}"
            )
        return [int(n) for n in lengths]
    if not math.isclose(sum(lengths), 1.0, abs_tol=1e-6) or any(f < 0 for f in lengths):
        raise ValueError(f"fractions {list(lengths)} must be non-negative and sum to 1")
    counts = [int(math.floor(total * f)) for f in lengths]
    for i in range(total - sum(counts)):  # as torch: the remainder goes one by one, in order
        counts[i % len(counts)] += 1
    return counts


def random_split(dataset, lengths: Sequence[float], generator=None) -> list[Subset]:
    """Split ``dataset`` into non-overlapping random ``Subset``s.

    Args:
        dataset: any dataset with ``__len__``.
        lengths: integer lengths summing to ``len(dataset)``, or fractions summing to 1.
        generator: ``None`` (the global generator: ``minitorch_cv.manual_seed`` makes it
            repeatable), an int seed, or a ``numpy.random.Generator``.
    """
    counts = _split_lengths(len(dataset), lengths)
    order = _resolve_generator(generator).permutation(len(dataset))
    bounds = np.cumsum([0] + counts)
    return [Subset(dataset, order[lo:hi]) for lo, hi in zip(bounds[:-1], bounds[1:])]
