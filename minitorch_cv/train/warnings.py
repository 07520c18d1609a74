"""Warnings for the classic student mistakes, each shown once.

The mistakes caught here do not crash a run; they quietly make its numbers wrong or useless:

- evaluating with batch norm or dropout still in training mode (``model.eval()`` forgotten):
  batch norm normalises with the test batch's statistics and updates its running averages on
  test data, dropout throws away activations, so test accuracy is noisy and too low;
- batch norm fed batches of one sample in training: the batch variance of a single sample is
  zero (for ``BatchNorm1d``) or computed from one image only, so the statistics are garbage
  (usually a last batch of size 1: use ``drop_last=True`` or another batch size);
- a loss that became ``inf`` or ``nan``: every weight touched by its step would become ``nan``
  too, so the run stops before ``backward`` and goes back to the last state whose weights and
  optimizer values were all finite;
- labels outside the model's class range (``label >= number of outputs``, or negative): the
  output layer has the wrong width, or the labels are 1-based.

Every warning is a ``StudentWarning`` (a ``UserWarning``), so a lesson can silence all of them
with ``warnings.simplefilter("ignore", StudentWarning)`` or turn them into errors in a test.
"""

from __future__ import annotations

import warnings

import numpy as np

from .. import backend
from ..autograd.tensor import Tensor


class StudentWarning(UserWarning):
    """A classic mistake that does not crash the run but makes its results wrong."""


class WarnOnce:
    """Remembers which kinds of warning were shown, so each kind is shown once.

    A ``Trainer`` owns one (each run warns afresh); ``evaluate`` shares a module-level one.
    """

    def __init__(self) -> None:
        self.shown: set[str] = set()

    def __call__(self, kind: str, message: str, stacklevel: int = 3) -> bool:
        """Warn with ``message`` unless ``kind`` was shown already; True if it was shown now."""
        if kind in self.shown:
            return False
        self.shown.add(kind)
        warnings.warn(message, StudentWarning, stacklevel=stacklevel)
        return True

    def reset(self) -> None:
        self.shown.clear()


_module_warner = WarnOnce()


def reset_student_warnings() -> None:
    """Forget which warnings ``evaluate`` has shown, so each can be shown again."""
    _module_warner.reset()


def _is_kind(module, names: tuple[str, ...]) -> bool:
    # match by class hierarchy name so that user subclasses count too, without importing nn
    return any(cls.__name__.startswith(names) for cls in type(module).__mro__)


def training_mode_layers(model) -> list[str]:
    """Names of the batch-norm and dropout layers of ``model`` that are in training mode."""
    found = []
    for name, module in model.named_modules():
        if module.training and _is_kind(module, ("_BatchNorm", "BatchNorm", "_DropoutNd",
                                                 "Dropout")):
            found.append(name or type(module).__name__)
    return found


def has_batchnorm(model) -> bool:
    return any(_is_kind(m, ("_BatchNorm", "BatchNorm")) for m in model.modules())


def check_eval_mode(model, warn: WarnOnce) -> None:
    """Warn when evaluating a model whose batch norm or dropout layers still train."""
    layers = training_mode_layers(model)
    if layers:
        shown = ", ".join(layers[:3]) + (", ..." if len(layers) > 3 else "")
        warn("eval-mode",
             f"evaluating with {len(layers)} batch-norm/dropout layer(s) still in training "
             f"mode ({shown}): call model.eval() before evaluating (and model.train() before "
             f"training again). In training mode batch norm uses the test batch's statistics "
             f"and updates its running averages on test data, and dropout drops activations.",
             stacklevel=4)


def check_batch_of_one(model, batch_size: int, warn: WarnOnce, step: int) -> None:
    """Warn when a model with batch norm trains on a batch of a single sample."""
    if batch_size == 1 and model.training and has_batchnorm(model):
        warn("batchnorm-batch-of-one",
             f"batch norm is training on a batch of 1 sample (step {step}): its batch "
             f"statistics are meaningless. Usually the dataset size leaves a last batch of "
             f"one; pass drop_last=True to the DataLoader or pick another batch size.",
             stacklevel=4)


def check_labels(yhat, y, warn: WarnOnce, ignore_index: int | None = None) -> None:
    """Warn when integer class labels do not fit the width of the model's output.

    Only class-index targets are checked: ``y`` of an integer dtype with one dimension fewer
    than ``yhat`` (``(N,)`` against logits ``(N, C)``, ``C >= 2``).
    """
    y_data = y.array if isinstance(y, Tensor) else y
    yhat_shape = getattr(yhat, "shape", None)
    if yhat_shape is None or not hasattr(y_data, "dtype") or y_data.dtype.kind not in "iu":
        return
    if len(yhat_shape) < 2 or y_data.ndim != len(yhat_shape) - 1 or y_data.size == 0:
        return
    if yhat_shape[1] < 2:  # one output column: regression or a binary logit, not classes
        return
    labels = backend.to_numpy(y_data)
    if ignore_index is not None:
        labels = labels[labels != ignore_index]
        if labels.size == 0:
            return
    n_classes = int(yhat_shape[1])
    low, high = int(np.min(labels)), int(np.max(labels))
    if low < 0 or high >= n_classes:
        warn("labels-out-of-range",
             f"labels range from {low} to {high} but the model has {n_classes} outputs, so "
             f"valid class indices are 0..{n_classes - 1}: the output layer is too narrow, or "
             f"the labels are not 0-based.",
             stacklevel=4)


def nonfinite_message(value: float, epoch: int, step: int, global_step: int,
                      restored: str) -> str:
    """The stop message for a loss that became inf or nan (before its backward pass)."""
    return (f"the loss became {value} at epoch {epoch}, step {step} (training step "
            f"{global_step} in total), before its backward pass: training stopped; {restored}. "
            f"Usual causes: a learning rate that is too high, log of 0 in a hand-written loss, "
            f"or inputs that are not normalised.")
