"""MixUp and CutMix: blend pairs of samples in a batch, and their labels in the same proportion.

Both return soft labels, ``float32`` of shape ``(N, num_classes)`` whose rows sum to 1, which
``CrossEntropyLoss`` takes as class probabilities (as torch does). Inputs may be NumPy arrays
or Tensors; the outputs are of the same kind. The pairing is a random permutation of the batch
and the mixing weight ``lam ~ Beta(alpha, alpha)`` is one draw per batch (as in both papers),
both from ``minitorch_cv.random.generator("cpu")``.

- MixUp (Zhang et al. 2018): ``x = lam * x + (1 - lam) * x[perm]``.
- CutMix (Yun et al. 2019): a box of area ``(1 - lam) * H * W`` is pasted from ``x[perm]``;
  ``lam`` is then recomputed from the box actually pasted (clipped at the image border).
"""

from __future__ import annotations

import numpy as np

from .. import random as _random
from ..autograd.tensor import Tensor


def one_hot(labels, num_classes: int) -> np.ndarray:
    """Integer class indices ``(N,)`` -> ``float32 (N, num_classes)``; soft labels pass through."""
    labels = np.asarray(labels)
    if labels.ndim == 2:
        if labels.shape[1] != num_classes:
            raise ValueError(f"soft labels have {labels.shape[1]} classes, not {num_classes}")
        return labels.astype(np.float32)
    if labels.dtype.kind not in "iu":
        raise TypeError(f"labels must be integer class indices, got {labels.dtype}")
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(
            f"labels must lie in [0, {num_classes}), got {labels.min()}..{labels.max()}"
        )
    out = np.zeros((len(labels), num_classes), dtype=np.float32)
    out[np.arange(len(labels)), labels] = 1.0
    return out


def _unwrap(x, y):
    is_tensor = isinstance(x, Tensor)
    if is_tensor and x.device != "cpu":
        raise ValueError("mixup/cutmix work on host arrays: mix before moving the batch to the GPU")
    x_array = x.array if is_tensor else np.asarray(x)
    y_array = y.array if isinstance(y, Tensor) else np.asarray(y)
    return is_tensor, x_array, y_array


def _wrap(is_tensor: bool, x, y):
    if is_tensor:
        return Tensor(x), Tensor(y)
    return x, y


def _check_alpha(alpha: float) -> None:
    if alpha <= 0:
        raise ValueError(f"alpha must be positive, got {alpha}")


def mixup(x, y, alpha: float = 1.0, num_classes: int | None = None):
    """MixUp a batch ``x (N, ...)`` with labels ``y (N,)`` (or soft ``(N, K)``).

    Returns:
        ``(mixed_x, soft_y)``: ``mixed_x`` has ``x``'s shape and float dtype, ``soft_y`` is
        ``float32 (N, num_classes)`` with rows summing to 1.
    """
    _check_alpha(alpha)
    is_tensor, x, y = _unwrap(x, y)
    num_classes = num_classes if num_classes is not None else y.shape[-1]
    rng = _random.generator("cpu")
    lam = float(rng.beta(alpha, alpha))
    perm = rng.permutation(len(x))
    dtype = x.dtype if x.dtype.kind == "f" else np.float32
    x = x.astype(dtype, copy=False)
    mixed = lam * x + (1.0 - lam) * x[perm]
    soft = one_hot(y, num_classes)
    soft = lam * soft + (1.0 - lam) * soft[perm]
    return _wrap(is_tensor, mixed.astype(dtype, copy=False), soft.astype(np.float32))


def cutmix(x, y, alpha: float = 1.0, num_classes: int | None = None):
    """CutMix a batch ``x (N, C, H, W)`` with labels ``y (N,)`` (or soft ``(N, K)``).

    Returns:
        ``(mixed_x, soft_y)`` as ``mixup``; the label weight of the pasted sample is the
        fraction of the image its box covers.
    """
    _check_alpha(alpha)
    is_tensor, x, y = _unwrap(x, y)
    num_classes = num_classes if num_classes is not None else y.shape[-1]
    rng = _random.generator("cpu")
    lam = float(rng.beta(alpha, alpha))
    perm = rng.permutation(len(x))
    height, width = x.shape[-2:]
    cut = np.sqrt(1.0 - lam)  # the box keeps the image's aspect ratio
    cut_h, cut_w = int(height * cut), int(width * cut)
    cy, cx = int(rng.integers(height)), int(rng.integers(width))
    top, bottom = np.clip([cy - cut_h // 2, cy + cut_h // 2], 0, height)
    left, right = np.clip([cx - cut_w // 2, cx + cut_w // 2], 0, width)
    mixed = np.array(x, copy=True)
    mixed[..., top:bottom, left:right] = x[perm][..., top:bottom, left:right]
    lam = 1.0 - (bottom - top) * (right - left) / (height * width)
    soft = one_hot(y, num_classes)
    soft = lam * soft + (1.0 - lam) * soft[perm]
    return _wrap(is_tensor, mixed, soft.astype(np.float32))
