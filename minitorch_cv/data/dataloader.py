"""``DataLoader``: batches of a dataset as Tensors, optionally shuffled, reproducibly.

Collation rules (``default_collate``):

- floating-point values become ``float32`` Tensors (the engine's default dtype; images after
  ``ToTensor`` are already float32);
- integer scalars (class labels) become ``int64`` Tensors, as ``CrossEntropyLoss`` expects;
- integer or boolean arrays keep their dtype (a ``uint8`` image stays ``uint8``);
- tuples, lists and dicts are collated field by field.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

import numpy as np

from .. import backend
from .. import random as _random
from ..autograd.tensor import Tensor


def _to_tensor(batch, per_sample_ndim: int) -> Tensor:
    xp = backend.get_array_module(batch) if hasattr(batch, "dtype") else np
    batch = xp.asarray(batch)
    if batch.dtype.kind == "f":
        batch = batch.astype(np.float32, copy=False)
    elif batch.dtype.kind in "iu" and per_sample_ndim == 0:
        batch = batch.astype(np.int64, copy=False)
    return Tensor(batch)


def collate_arrays(batch):
    """Turn an already-stacked batch (array, or tuple/list/dict of arrays) into Tensors."""
    if isinstance(batch, Tensor):
        return batch
    if isinstance(batch, Mapping):
        return {key: collate_arrays(value) for key, value in batch.items()}
    if isinstance(batch, (tuple, list)):
        return type(batch)(collate_arrays(field) for field in batch)
    ndim = getattr(batch, "ndim", 1)
    return _to_tensor(batch, per_sample_ndim=max(ndim - 1, 0))


def default_collate(samples: list):
    """Stack a list of samples into a batch of Tensors (see the module docstring for dtypes)."""
    first = samples[0]
    if isinstance(first, Mapping):
        return {key: default_collate([s[key] for s in samples]) for key in first}
    if isinstance(first, (tuple, list)):
        if any(len(s) != len(first) for s in samples):
            raise ValueError("every sample in a batch must have the same number of fields")
        return type(first)(default_collate(list(field)) for field in zip(*samples))
    if isinstance(first, Tensor):
        return Tensor(first.xp.stack([s.array for s in samples]))
    if isinstance(first, (bool, int, float, np.generic)) or getattr(first, "ndim", None) == 0:
        return _to_tensor(np.asarray(samples), per_sample_ndim=0)
    if hasattr(first, "shape"):
        xp = backend.get_array_module(first)
        return _to_tensor(xp.stack(samples), per_sample_ndim=first.ndim)
    raise TypeError(f"default_collate does not know how to batch {type(first).__name__}")


class DataLoader:
    """Iterate over ``dataset`` in batches of Tensors.

    Args:
        dataset: a ``Dataset`` (anything with ``__len__`` and ``__getitem__``).
        batch_size: samples per batch.
        shuffle: a new random order every epoch (every call to ``iter``).
        drop_last: drop the last batch when it is smaller than ``batch_size``.
        collate_fn: ``list of samples -> batch``; default ``default_collate``.
        seed: with ``shuffle``, the loader owns a generator seeded with ``seed``: the sequence
            of epoch orders is the same in every run, and each epoch differs from the last.
            Without it, orders come from the global generator (``minitorch_cv.manual_seed``).

    ``len(loader)`` is the number of batches per epoch. When the dataset has a
    ``get_batch(indices)`` method (``TensorDataset``, ``Subset`` of one, the image datasets) and
    no ``collate_fn`` is given, a batch is one fancy-index and one batched transform instead of
    a Python loop over ``__getitem__``.
    """

    def __init__(
        self,
        dataset,
        batch_size: int = 1,
        shuffle: bool = False,
        drop_last: bool = False,
        collate_fn: Callable | None = None,
        seed: int | None = None,
    ):
        if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.collate_fn = collate_fn
        self.seed = seed
        self._generator = np.random.default_rng(seed) if seed is not None else None

    def __len__(self) -> int:
        n = len(self.dataset)
        if self.drop_last:
            return n // self.batch_size
        return math.ceil(n / self.batch_size)

    def _order(self) -> np.ndarray:
        n = len(self.dataset)
        if not self.shuffle:
            return np.arange(n)
        gen = self._generator if self._generator is not None else _random.generator("cpu")
        return gen.permutation(n)

    def _fetch(self, indices: np.ndarray):
        if self.collate_fn is None and hasattr(self.dataset, "get_batch"):
            return collate_arrays(self.dataset.get_batch(indices))
        samples = [self.dataset[int(i)] for i in indices]
        return (self.collate_fn or default_collate)(samples)

    def __iter__(self):
        order = self._order()  # drawn when iteration starts, not in a generator's first next()
        return self._batches(order)

    def _batches(self, order: np.ndarray):
        for b in range(len(self)):
            yield self._fetch(order[b * self.batch_size : (b + 1) * self.batch_size])
