"""Loss functions with torch's signatures, composed from differentiable ops.

No loss has a backward of its own: each is a short expression of ``log_softmax``, indexing,
``logsumexp``, ``abs``, ... so autograd provides the gradient. ``reduction`` is ``"mean"``,
``"sum"`` or ``"none"`` as in torch; for class-index losses with ``weight``, ``"mean"`` divides
by the sum of the weights of the non-ignored targets (torch's weighted mean).
"""

from __future__ import annotations

import warnings

import numpy as np

from ..autograd.tensor import Tensor
from ..ops import api

_REDUCTIONS = ("mean", "sum", "none")


def _check_reduction(reduction: str) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"reduction={reduction!r} is not valid; use 'mean', 'sum' or 'none'")


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    _check_reduction(reduction)
    if reduction == "mean":
        return api.mean(loss)
    if reduction == "sum":
        return api.sum(loss)
    return loss


def _as_tensor_like(value, like: Tensor) -> Tensor:
    if isinstance(value, Tensor):
        return value
    return Tensor(like.xp.asarray(value, dtype=like.dtype), device=like.device)


def _classes_last(input: Tensor) -> Tensor:
    """(N, C, d1, ..., dk) -> (N*d1*...*dk, C): one row of class scores per target."""
    if input.ndim == 2:
        return input
    order = (0, *range(2, input.ndim), 1)
    return api.reshape(api.permute(input, *order), -1, input.shape[1])


def _class_targets(input: Tensor, target: Tensor, ignore_index: int, name: str):
    """Validate integer targets; return (flat targets with ignored set to 0, keep mask)."""
    num_classes = input.shape[1]
    expected = (input.shape[0], *input.shape[2:])
    if target.shape != expected:
        raise ValueError(f"{name}: class-index target must have shape {expected} for input of "
                         f"shape {input.shape}, got {target.shape}")
    flat = target.array.reshape(-1).astype(np.int64)
    keep = flat != ignore_index
    bad = keep & ((flat < 0) | (flat >= num_classes))
    if bad.any():
        value = int(flat[bad][0])
        raise IndexError(f"{name}: target {value} is out of bounds: class indices must be in "
                         f"[0, {num_classes - 1}] (C={num_classes}) or equal ignore_index="
                         f"{ignore_index}")
    return input.xp.where(keep, flat, 0), keep


def _batched(input: Tensor, target: Tensor, probabilities: bool):
    """torch accepts an unbatched input (C,) with a scalar target (or a (C,) target)."""
    if input.ndim == 1:
        input = api.unsqueeze(input, 0)
        target = api.unsqueeze(target, 0) if probabilities else target.reshape(1)
        return input, target, True
    return input, target, False


def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None,
             ignore_index: int = -100, reduction: str = "mean") -> Tensor:
    """Negative log likelihood of class indices, given log-probabilities.

    Shapes:
        input (N, C) or (N, C, d1, ...) or (C,); target (N,) or (N, d1, ...) or () of any
        integer dtype; output () or, with ``reduction="none"``, the target's shape.
    """
    _check_reduction(reduction)
    if target.dtype.kind not in "iu":
        raise TypeError(f"nll_loss: target must hold class indices of an integer dtype, got "
                        f"{target.dtype}")
    input, target, unbatched = _batched(input, target, probabilities=False)
    flat_target, keep = _class_targets(input, target, ignore_index, "nll_loss")
    rows = _classes_last(input)
    picked = rows[rows.xp.arange(rows.shape[0]), flat_target]  # (M,) log p of the target
    weights = rows.xp.asarray(keep, dtype=input.dtype)
    if weight is not None:
        weight = _as_tensor_like(weight, input)
        if weight.shape != (input.shape[1],):
            raise ValueError(f"nll_loss: weight must have shape ({input.shape[1]},), got "
                             f"{weight.shape}")
        weights = weights * weight.array[flat_target]
    weights = Tensor._wrap(weights, input.device)
    losses = -(picked * weights)
    if reduction == "none":
        return losses.reshape(()) if unbatched else losses.reshape(target.shape)
    total = api.sum(losses)
    if reduction == "sum":
        return total
    return total / api.sum(weights)


def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                  ignore_index: int = -100, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """Cross entropy of logits against class indices (any integer dtype, uint8 included) or
    class probabilities (a float target of the input's shape), torch's exact semantics.

    With ``label_smoothing = e`` the loss is ``(1 - e) * nll + e/C * smooth`` where ``smooth``
    is ``-sum_c w_c log p_c`` (mean-reduced over the same weighted count as ``nll``).

    Shapes:
        input (N, C) or (N, C, d1, ...) or (C,); target (N, d1, ...) of ints or the input's
        shape of floats.
    """
    _check_reduction(reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"label_smoothing must be in [0, 1], got {label_smoothing}")
    if target.dtype.kind == "f":
        return _cross_entropy_probabilities(input, target, weight, reduction, label_smoothing)
    if target.dtype.kind not in "iu":
        raise TypeError(f"cross_entropy: target must be class indices (an integer dtype) or "
                        f"probabilities (a float dtype), got {target.dtype}")
    class_dim = 0 if input.ndim == 1 else 1
    log_probs = api.log_softmax(input, class_dim)
    nll = nll_loss(log_probs, target, weight, ignore_index, reduction)
    if label_smoothing == 0.0:
        return nll
    log_probs, target, unbatched = _batched(log_probs, target, probabilities=False)
    num_classes = log_probs.shape[1]
    flat_target, keep = _class_targets(log_probs, target, ignore_index, "cross_entropy")
    rows = _classes_last(log_probs)
    if weight is not None:
        weight = _as_tensor_like(weight, input)
        smooth = -api.sum(rows * weight, dim=1)
    else:
        smooth = -api.sum(rows, dim=1)
    smooth = smooth * Tensor._wrap(rows.xp.asarray(keep, dtype=input.dtype), input.device)
    if reduction == "none":
        smooth = smooth.reshape(()) if unbatched else smooth.reshape(target.shape)
    elif reduction == "sum":
        smooth = api.sum(smooth)
    elif weight is not None:
        smooth = api.sum(smooth) / float(weight.array[flat_target[keep]].sum())
    else:
        smooth = api.sum(smooth) / float(keep.sum())
    return nll * (1 - label_smoothing) + smooth * (label_smoothing / num_classes)


def _cross_entropy_probabilities(input, target, weight, reduction, label_smoothing) -> Tensor:
    if target.shape != input.shape:
        raise ValueError(f"cross_entropy: a probability target (float dtype) must have the "
                         f"input's shape {input.shape}, got {target.shape}; class indices "
                         "need an integer dtype")
    class_dim = 0 if input.ndim == 1 else 1
    num_classes = input.shape[class_dim]
    log_probs = api.log_softmax(input, class_dim)
    if label_smoothing > 0:
        target = target * (1 - label_smoothing) + label_smoothing / num_classes
    terms = log_probs * target
    if weight is not None:
        weight = _as_tensor_like(weight, input)
        shape = [1] * input.ndim
        shape[class_dim] = num_classes
        terms = terms * weight.reshape(*shape)
    if reduction == "none":
        return -api.sum(terms, dim=class_dim)
    if reduction == "sum":
        return -api.sum(terms)
    return -api.sum(terms) / (input.numel() // num_classes)


def _check_same_shape(input: Tensor, target: Tensor, name: str) -> None:
    if input.shape != target.shape:
        warnings.warn(f"{name}: using a target size {target.shape} that is different to the "
                      f"input size {input.shape}. This will likely lead to incorrect results "
                      "due to broadcasting. Please ensure they have the same size.",
                      stacklevel=3)


def mse_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """Mean squared error ``(input - target)^2``, reduced."""
    _check_same_shape(input, target, "mse_loss")
    diff = input - target
    return _reduce(diff * diff, reduction)


def l1_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """Mean absolute error ``|input - target|`` (gradient 0 where they are equal, as torch)."""
    _check_same_shape(input, target, "l1_loss")
    return _reduce(api.abs(input - target), reduction)


def _clamped_log(x: Tensor) -> Tensor:
    # torch clamps log at -100 so that p = 0 or 1 gives a finite loss; clamping x first at a
    # tiny positive value keeps log(0) (and its warning) out of the computation.
    tiny = float(max(np.exp(-100.0), np.finfo(x.dtype).smallest_subnormal))
    return api.clamp(api.log(api.clamp(x, min=tiny)), min=-100.0)


def _check_unit_interval(array, name: str, fix: str) -> None:
    """torch's rule for BCE: every element in [0, 1]; NaN is outside too."""
    inside = (array >= 0) & (array <= 1)
    if not bool(inside.all()):
        bad = array[~inside]
        raise RuntimeError(f"binary_cross_entropy: all elements of {name} should be between 0 "
                           f"and 1, found {bad.size} outside (e.g. {bad.ravel()[0].item()}); "
                           f"{fix}")


def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                         reduction: str = "mean") -> Tensor:
    """``-w (t log p + (1 - t) log(1 - p))`` for probabilities p, logs clamped at -100."""
    if input.shape != target.shape:
        raise ValueError(f"binary_cross_entropy: target shape {target.shape} must equal the "
                         f"input shape {input.shape}")
    if target.dtype != input.dtype:
        raise RuntimeError(f"binary_cross_entropy: target is {target.dtype} but input is "
                           f"{input.dtype}; they must match (as torch): pass "
                           f"target.to({input.dtype.name!r}) (0/1 class labels become 0.0/1.0)")
    _check_unit_interval(input.array, "input", "pass logits to "
                         "binary_cross_entropy_with_logits instead, or apply sigmoid first")
    _check_unit_interval(target.array, "target", "targets are probabilities of the positive "
                         "class: 0/1 labels for two classes; for class indices 0..C-1 use "
                         "cross_entropy")
    loss = -(target * _clamped_log(input) + (1 - target) * _clamped_log(1 - input))
    if weight is not None:
        loss = loss * _as_tensor_like(weight, input)
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor,
                                     weight: Tensor | None = None, reduction: str = "mean",
                                     pos_weight: Tensor | None = None) -> Tensor:
    """BCE on logits x, stable for any x:
    ``(1 - t) x + (1 + (pos_weight - 1) t) * softplus(-x)`` with
    ``softplus(-x) = logsumexp([0, x]) - x`` (never exponentiates a large number).
    """
    if input.shape != target.shape:
        raise ValueError(f"binary_cross_entropy_with_logits: target shape {target.shape} must "
                         f"equal the input shape {input.shape}")
    zeros = Tensor._wrap(input.xp.zeros(input.shape, dtype=input.dtype), input.device)
    softplus_neg = api.logsumexp(api.stack([zeros, input]), dim=0) - input  # -log sigmoid(x)
    if pos_weight is not None:
        log_weight = (_as_tensor_like(pos_weight, input) - 1) * target + 1
        loss = (1 - target) * input + log_weight * softplus_neg
    else:
        loss = (1 - target) * input + softplus_neg
    if weight is not None:
        loss = loss * _as_tensor_like(weight, input)
    return _reduce(loss, reduction)
