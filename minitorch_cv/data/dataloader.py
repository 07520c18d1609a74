"""``DataLoader``: batches of a dataset as Tensors, with ``torch.utils.data.DataLoader``'s
arguments, defaults and argument errors.

How a batch is made: the ``batch_sampler`` (by default a ``BatchSampler`` over a
``SequentialSampler``, or a ``RandomSampler`` with ``shuffle=True``) yields lists of indices;
the samples at those indices go through ``collate_fn`` (``default_collate``). With
``batch_size=None`` there is no batching: each sample goes through ``default_convert``.

Fast path (ours): a dataset with ``get_batch(indices)`` (``TensorDataset``, the image
datasets, a ``Subset`` of one) and no ``collate_fn`` given returns the stacked batch at once,
the same values and dtypes that ``default_collate`` would make from the samples.

Workers: ``num_workers > 0`` is accepted with torch's checks, and loading stays in this
process, so results are identical to ``num_workers=0`` for a given seed. What a worker would
see is emulated: batch ``k`` of an epoch is "loaded by" worker ``k % num_workers``;
``worker_init_fn(worker_id)`` is called once per worker at the start of each epoch (once in
all with ``persistent_workers=True``) in this process, and ``get_worker_info()`` answers
inside it and while that worker's batches load. An ``IterableDataset`` is iterated once per
worker, batches taken round-robin, as torch's workers do (so shard it with
``get_worker_info()``, as in torch, or every sample comes ``num_workers`` times).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import random as _random
from .collate import collate_arrays, default_collate, default_convert
from .dataset import IterableDataset
from .sampler import BatchSampler, RandomSampler, SequentialSampler

_FROZEN = ("batch_size", "batch_sampler", "sampler", "drop_last", "dataset", "persistent_workers")


@dataclass(frozen=True)
class WorkerInfo:
    """What ``get_worker_info()`` returns inside a worker (torch's fields)."""

    id: int
    num_workers: int
    seed: int
    dataset: Any


_current_worker: WorkerInfo | None = None


def get_worker_info() -> WorkerInfo | None:
    """The current worker's ``WorkerInfo``; ``None`` outside of any worker (as torch)."""
    return _current_worker


class _InfiniteConstantSampler:
    """An ``IterableDataset`` has no indices: a stream of ``None`` drives its batching."""

    def __iter__(self):
        while True:
            yield None


class DataLoader:
    """Iterate over ``dataset`` in batches (``torch.utils.data.DataLoader``).

    Args:
        dataset: map-style (``__len__``, ``__getitem__``) or an ``IterableDataset``.
        batch_size: samples per batch; ``None`` turns batching off.
        shuffle: a new random order every epoch (a ``RandomSampler``).
        sampler: an iterable of indices (mutually exclusive with ``shuffle``).
        batch_sampler: an iterable of index lists (excludes batch_size, shuffle, sampler,
            drop_last).
        num_workers: accepted; loading stays in this process (see the module docstring).
        collate_fn: ``list of samples -> batch``; default ``default_collate``.
        pin_memory: accepted; there is no pinned memory here (torch warns the same way on a
            machine without an accelerator).
        drop_last: drop the last batch when it is smaller than ``batch_size``.
        timeout, worker_init_fn, multiprocessing_context, prefetch_factor, persistent_workers,
        pin_memory_device, in_order: torch's, checked as torch checks them.
        generator: a ``minitorch_cv.Generator`` for the shuffle order; ``None`` uses the
            global generator (``minitorch_cv.manual_seed``).
        seed: ours: shuffle with a generator seeded with ``seed`` (kept for older code).

    ``len(loader)`` is the number of batches per epoch.
    """

    def __init__(self, dataset, batch_size: int | None = 1, shuffle: bool | None = None,
                 sampler=None, batch_sampler=None, num_workers: int = 0,
                 collate_fn: Callable | None = None, pin_memory: bool = False,
                 drop_last: bool = False, timeout: float = 0,
                 worker_init_fn: Callable | None = None, multiprocessing_context=None,
                 generator=None, *, prefetch_factor: int | None = None,
                 persistent_workers: bool = False, pin_memory_device: str = "",
                 in_order: bool = True, seed: int | None = None):
        _check_worker_options(num_workers, timeout, prefetch_factor, persistent_workers)
        _check_context(multiprocessing_context, num_workers)
        if seed is not None and generator is None:
            from ..generator import Generator  # noqa: PLC0415

            generator = Generator().manual_seed(seed)
        self._is_iterable = isinstance(dataset, IterableDataset)
        if self._is_iterable:
            for name, value in (("shuffle", shuffle), ("sampler", sampler),
                                ("batch_sampler", batch_sampler)):
                if value not in (None, False):
                    raise ValueError(f"DataLoader with IterableDataset: expected unspecified "
                                     f"{name} option, but got {name}={value}")
            sampler = _InfiniteConstantSampler()
        elif sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, "
                                 "shuffle, sampler, and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually "
                             "exclusive with drop_last")
        if sampler is None:
            sampler = (RandomSampler(dataset, generator=generator) if shuffle
                       else SequentialSampler(dataset))
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        if pin_memory:
            warnings.warn("'pin_memory' argument is set as true but no accelerator is found, "
                          "then device pinned memory won't be used.", UserWarning, stacklevel=2)
        self._fast = collate_fn is None  # get_batch may stand in for default_collate
        if collate_fn is None:
            collate_fn = default_collate if batch_sampler is not None else default_convert
        values = dict(dataset=dataset, batch_size=batch_size, sampler=sampler,
                      batch_sampler=batch_sampler, drop_last=drop_last,
                      num_workers=num_workers, collate_fn=collate_fn, pin_memory=pin_memory,
                      timeout=timeout, worker_init_fn=worker_init_fn,
                      multiprocessing_context=multiprocessing_context, generator=generator,
                      prefetch_factor=2 if num_workers and prefetch_factor is None
                      else prefetch_factor, persistent_workers=persistent_workers,
                      pin_memory_device=pin_memory_device, in_order=in_order)
        for name, value in values.items():
            object.__setattr__(self, name, value)
        self._epoch = 0
        self._workers_started = False

    def __setattr__(self, name, value):
        if name in _FROZEN:
            raise ValueError(f"{name} attribute should not be set after DataLoader is initialized")
        object.__setattr__(self, name, value)

    @property
    def _auto_collation(self) -> bool:
        return self.batch_sampler is not None

    @property
    def _index_sampler(self):
        return self.batch_sampler if self._auto_collation else self.sampler

    def __len__(self) -> int:
        if not self._is_iterable:
            return len(self._index_sampler)
        length = len(self.dataset)  # TypeError if the stream has no length, as torch
        if self.batch_size is None:
            return length
        full, rest = divmod(length, self.batch_size)
        return full if self.drop_last or not rest else full + 1

    def _fetch(self, indices):
        dataset = self.dataset
        if not self._auto_collation:
            return self.collate_fn(dataset[indices])
        if self._fast and hasattr(dataset, "get_batch"):
            return collate_arrays(dataset.get_batch(np.asarray(indices, dtype=np.int64)))
        if callable(getattr(dataset, "__getitems__", None)):
            return self.collate_fn(dataset.__getitems__(list(indices)))
        return self.collate_fn([dataset[i] for i in indices])

    def __iter__(self):
        # The order is drawn here, when iteration starts, not at a generator's first next().
        indices = iter(self._index_sampler) if not self._is_iterable else None
        infos = self._start_workers()
        if self._is_iterable:
            return self._stream(infos)
        return self._map_batches(indices, infos)

    def _start_workers(self) -> list[WorkerInfo | None]:
        """The workers' ``WorkerInfo`` for this epoch, after running ``worker_init_fn``."""
        if self.num_workers == 0:
            return [None]
        # Derived, not drawn: drawing would shift the random streams, and num_workers must
        # change no result.
        base_seed = (_random.initial_seed() * 1_000_003 + self._epoch) % 2**63
        self._epoch += 1
        infos = [WorkerInfo(i, self.num_workers, base_seed + i, self.dataset)
                 for i in range(self.num_workers)]
        if self.worker_init_fn is not None and not (self.persistent_workers
                                                    and self._workers_started):
            for info in infos:
                with _as_worker(info):
                    self.worker_init_fn(info.id)
        self._workers_started = True
        return infos

    def _map_batches(self, indices, infos):
        for k, batch_indices in enumerate(indices):
            with _as_worker(infos[k % len(infos)]):
                batch = self._fetch(batch_indices)
            yield batch

    def _stream(self, infos):
        """Each worker iterates the dataset; batches are taken from the workers in turn."""
        streams = []
        for info in infos:
            with _as_worker(info):
                streams.append(iter(self.dataset))
        active = list(range(len(streams)))
        while active:
            for worker in list(active):
                with _as_worker(infos[worker]):
                    batch = self._next_batch(streams[worker])
                if batch is None:
                    active.remove(worker)
                else:
                    yield batch[0]

    def _next_batch(self, stream):
        """``(batch,)`` of up to ``batch_size`` samples from ``stream``, or ``None`` at its end."""
        if not self._auto_collation:
            for sample in stream:
                return (self.collate_fn(sample),)
            return None
        samples = []
        for sample in stream:
            samples.append(sample)
            if len(samples) == self.batch_size:
                break
        if not samples or (self.drop_last and len(samples) < self.batch_size):
            return None
        return (self.collate_fn(samples),)


class _as_worker:  # noqa: N801  (a context manager used like a function)
    """Make ``get_worker_info()`` return ``info`` inside the ``with`` block."""

    def __init__(self, info: WorkerInfo | None):
        self.info = info

    def __enter__(self):
        global _current_worker
        self.saved, _current_worker = _current_worker, self.info

    def __exit__(self, *exc):
        global _current_worker
        _current_worker = self.saved


def _check_context(context, num_workers: int) -> None:
    if context is None:
        return
    if num_workers == 0:
        raise ValueError("multiprocessing_context can only be used with multi-process loading "
                         f"(num_workers > 0), but got num_workers={num_workers}")
    methods = ("fork", "spawn", "forkserver")
    if isinstance(context, str) and context not in methods:
        raise ValueError(f"multiprocessing_context option should specify a valid start method in "
                         f"{list(methods)}, but got multiprocessing_context={context!r}")


def _check_worker_options(num_workers, timeout, prefetch_factor, persistent_workers) -> None:
    if num_workers < 0:
        raise ValueError("num_workers option should be non-negative; use num_workers=0 to "
                         "disable multiprocessing.")
    if timeout < 0:
        raise ValueError("timeout option should be non-negative")
    if num_workers == 0 and prefetch_factor is not None:
        raise ValueError("prefetch_factor option could only be specified in multiprocessing."
                         "let num_workers > 0 to enable multiprocessing, otherwise set "
                         "prefetch_factor to None.")
    if prefetch_factor is not None and prefetch_factor < 0:
        raise ValueError(f"prefetch_factor must be non-negative, got {prefetch_factor}")
    if persistent_workers and num_workers == 0:
        raise ValueError("persistent_workers option needs num_workers > 0")
