"""The ``Transform`` base class and the helpers every transform module shares."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .. import random as _random


def augmentation_rng() -> np.random.Generator:
    return _random.generator("cpu")


def size_pair(size, name: str) -> tuple[int, int]:
    if isinstance(size, (int, np.integer)):
        size = (int(size), int(size))
    if len(size) != 2 or any(int(s) < 1 for s in size):
        raise ValueError(f"{name} must be a positive int or an (h, w) pair, got {size!r}")
    return int(size[0]), int(size[1])


class Transform:
    """Base class: implement ``batch(x)`` for a batch; one sample is a batch of one."""

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.batch(np.asarray(x)[None])[0]

    def batch(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError(f"{type(self).__name__} must define batch()")

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({args})"


def apply_batch(transform: Callable, x: np.ndarray) -> np.ndarray:
    """``transform.batch(x)`` if the transform has one, else a loop over samples (any callable)."""
    if hasattr(transform, "batch"):
        return transform.batch(x)
    return np.stack([np.asarray(transform(sample)) for sample in x])
