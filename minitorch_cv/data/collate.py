"""``default_collate`` and ``default_convert``: samples -> batch, with torch's rules.

``default_collate(samples)`` looks at the first sample and recurses:

- Tensors are stacked (dtype kept); NumPy arrays become Tensors and are stacked (dtype kept:
  a ``float64`` array gives a ``float64`` batch, as torch);
- NumPy scalars give a Tensor of their dtype; Python ``int`` -> ``int64``, ``float`` ->
  ``float64``, ``bool`` -> ``bool``; strings stay a sequence of strings;
- a dict gives a dict of batches, a namedtuple a namedtuple of batches, and a tuple or list a
  **list** of batches (torch turns tuples into lists too);
- anything else is a ``TypeError`` naming the type (for example a PIL image: add
  ``transform=ToTensor()`` to the dataset).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from .. import backend
from ..autograd.tensor import Tensor

_ERROR = (
    "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"
)


def _collate_error(what) -> TypeError:
    hint = ""
    if str(getattr(what, "__module__", "")).startswith("PIL"):
        hint = " (a PIL image: give the dataset transform=ToTensor() to get Tensors)"
    return TypeError(_ERROR.format(what) + hint)


def _stack(arrays) -> Tensor:
    xp = backend.get_array_module(arrays[0])
    return Tensor(xp.stack(arrays))


def _is_array(value) -> bool:
    return isinstance(value, np.ndarray) or type(value).__module__.startswith("cupy")


def default_collate(batch: list):
    """Stack a list of samples into a batch of Tensors (rules in the module docstring)."""
    first = batch[0]
    if isinstance(first, Tensor):
        return _stack([sample.array for sample in batch])
    if _is_array(first):
        if first.dtype.kind in "USO":
            raise _collate_error(first.dtype)
        return _stack(list(batch))
    if isinstance(first, np.generic):
        if first.dtype.kind in "USO":
            raise _collate_error(first.dtype)
        return Tensor(np.asarray(batch))
    if isinstance(first, (bool, int, float)):
        dtype = np.float64 if isinstance(first, float) else None
        return Tensor(np.asarray(batch, dtype=dtype))
    if isinstance(first, (str, bytes)):
        return batch
    if isinstance(first, Mapping):
        collated = {key: default_collate([sample[key] for sample in batch]) for key in first}
        try:
            return type(first)(collated)
        except TypeError:  # a mapping type that cannot be built from a dict
            return collated
    if isinstance(first, tuple) and hasattr(first, "_fields"):  # namedtuple
        return type(first)(*(default_collate(field) for field in zip(*batch)))
    if isinstance(first, Sequence):
        if any(len(sample) != len(first) for sample in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        collated = [default_collate(field) for field in zip(*batch)]
        if isinstance(first, tuple):
            return collated  # torch: tuples come back as lists
        try:
            return type(first)(collated)
        except TypeError:
            return collated
    raise _collate_error(type(first))


def default_convert(data):
    """``batch_size=None``: NumPy arrays and scalars to Tensors, containers recursed, the rest
    kept as it is (torch's ``default_convert``)."""
    if _is_array(data) and data.dtype.kind not in "USO":
        return Tensor(data)
    if isinstance(data, np.generic) and data.dtype.kind not in "USO":
        return Tensor(np.asarray(data))
    if isinstance(data, Mapping):
        return type(data)({key: default_convert(value) for key, value in data.items()})
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(value) for value in data))
    if isinstance(data, tuple):
        return [default_convert(value) for value in data]
    if isinstance(data, list):
        return [default_convert(value) for value in data]
    return data


def collate_arrays(batch):
    """A batch stacked by ``get_batch`` (arrays, tuples of arrays) as Tensors, dtypes kept.

    Tuples become lists, as ``default_collate`` makes them, so both paths give one structure.
    """
    if isinstance(batch, Tensor):
        return batch
    if isinstance(batch, Mapping):
        return {key: collate_arrays(value) for key, value in batch.items()}
    if isinstance(batch, (tuple, list)):
        return [collate_arrays(field) for field in batch]
    return Tensor(np.asarray(batch) if not _is_array(batch) else batch)
