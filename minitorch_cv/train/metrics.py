"""Metrics called as ``metric(y, yhat)`` that return a plain float.

The argument order is the course library's: targets first, model output second. A metric is
logged under ``repr(metric)`` (``"Accuracy"``, ``"Top5Accuracy"``, ``"MAE"``), so ``repr`` is a
short name that TensorBoard, MLflow and Ray all accept as a key.

All metrics accept ``Tensor`` or NumPy/CuPy arrays and never touch the autograd graph.
"""

from __future__ import annotations

import numpy as np

from .. import backend
from ..autograd.tensor import Tensor


def _as_numpy(value) -> np.ndarray:
    """A Tensor (detached), a NumPy or CuPy array, or a list as a NumPy array."""
    if isinstance(value, Tensor):
        value = value.array
    if hasattr(value, "shape") and not isinstance(value, np.ndarray):
        return backend.to_numpy(value)  # a CuPy array
    return np.asarray(value)


def _class_indices(y: np.ndarray, yhat: np.ndarray) -> np.ndarray:
    """Integer labels; soft labels (one row of probabilities per sample) become their argmax."""
    if y.ndim == yhat.ndim and y.shape == yhat.shape:
        return y.argmax(axis=1)
    return y


class Metric:
    """Base class: ``__call__(y, yhat) -> float`` and a short ``__repr__``."""

    def __repr__(self) -> str:
        return type(self).__name__

    def __call__(self, y, yhat) -> float:
        raise NotImplementedError(f"{type(self).__name__} must define __call__(y, yhat)")


class Accuracy(Metric):
    """Fraction of samples whose highest-scoring class is the target class.

    Shapes:
        y: ``(N,)`` class indices, or ``(N, C)`` soft labels (MixUp/CutMix; argmax taken).
        yhat: ``(N, C)`` scores (logits or probabilities).
    """

    def __call__(self, y, yhat) -> float:
        y, yhat = _as_numpy(y), _as_numpy(yhat)
        if len(yhat) == 0:
            raise ValueError("Accuracy of an empty batch is undefined")
        return float((yhat.argmax(axis=1) == _class_indices(y, yhat)).mean())


class TopKAccuracy(Metric):
    """Fraction of samples whose target class is among the ``k`` highest scores.

    ``repr`` is ``"Top{k}Accuracy"`` (MLflow rejects parentheses in metric names).

    Shapes:
        y: ``(N,)`` class indices, or ``(N, C)`` soft labels.
        yhat: ``(N, C)`` scores, ``C >= k``.
    """

    def __init__(self, k: int = 5) -> None:
        if not isinstance(k, (int, np.integer)) or k < 1:
            raise ValueError(f"TopKAccuracy needs a positive integer k, got {k!r}")
        self.k = int(k)

    def __repr__(self) -> str:
        return f"Top{self.k}Accuracy"

    def __call__(self, y, yhat) -> float:
        y, yhat = _as_numpy(y), _as_numpy(yhat)
        if yhat.shape[1] < self.k:
            raise ValueError(f"{self!r}: the model has only {yhat.shape[1]} outputs, fewer "
                             f"than k={self.k}")
        labels = _class_indices(y, yhat)
        # argpartition puts the k largest scores (in any order) in the last k columns
        top_k = np.argpartition(yhat, -self.k, axis=1)[:, -self.k:]
        return float((top_k == labels[:, None]).any(axis=1).mean())


class MAE(Metric):
    """Mean absolute error ``mean(|y - yhat|)``.

    A ``(N, 1)`` prediction against ``(N,)`` targets is compared element by element (PyTorch
    would broadcast to ``(N, N)`` and return a meaningless number).
    """

    def __call__(self, y, yhat) -> float:
        y, yhat = _as_numpy(y).astype(np.float64), _as_numpy(yhat).astype(np.float64)
        if y.shape != yhat.shape and y.size == yhat.size:
            yhat = yhat.reshape(y.shape)
        return float(np.mean(np.abs(y - yhat)))
