"""Batches for the Trainer: drawing them from a loader or a generator, and ``evaluate``."""

from __future__ import annotations

import math  # noqa: F401
from collections.abc import Callable, Iterable, Iterator

from .. import random as _random
from ..autograd.function import no_grad
from ..autograd.tensor import Tensor
from . import checkpoint as ckpt
from . import warnings as student


def _to_device(value, device: str | None):
    """A batch field as a Tensor on ``device`` (generators may yield NumPy arrays)."""
    if not isinstance(value, Tensor) and hasattr(value, "shape"):
        value = Tensor(value)
    if device is not None and isinstance(value, Tensor) and value.device != device:
        value = value.to(device)
    return value


def unpack(batch, device: str | None, which: str):
    if not isinstance(batch, (tuple, list)) or len(batch) != 2:
        raise TypeError(f"the {which} loader must yield (x, y) pairs, got "
                        f"{type(batch).__name__}" + (f" of length {len(batch)}"
                                                     if isinstance(batch, (tuple, list)) else ""))
    return _to_device(batch[0], device), _to_device(batch[1], device)


def batch_size(x) -> int:
    return int(x.shape[0]) if getattr(x, "shape", None) else 1


class BatchSource:
    """``next(source)`` draws a batch: one iterator kept across steps and epochs, restarted
    when it runs out (a ``DataLoader``), or an endless generator used as it is."""

    def __init__(self, loader: Iterable, which: str) -> None:
        self.loader, self.which = loader, which
        self.iterator = None
        self.drawn = 0  # batches drawn from the current iterator
        self.start_state = None

    @property
    def restartable(self) -> bool:
        # a generator (any iterator) cannot start over; a DataLoader makes a new iterator
        return not isinstance(self.loader, Iterator)

    def restart(self) -> None:
        # the random state the new iterator starts from, so a resumed run can re-create it
        self.start_state = (ckpt.generator_state(self.loader), _random.get_state())
        self.iterator, self.drawn = iter(self.loader), 0

    def __next__(self):
        if self.iterator is None:
            self.restart()
        try:
            batch = next(self.iterator)
        except StopIteration:
            if self.drawn == 0:
                raise ValueError(f"the {self.which} loader yields no batches") from None
            if not self.restartable:
                raise ValueError(
                    f"the {self.which} loader ran out after {self.drawn} batches and cannot "
                    f"start over (it is a generator): make it endless, pass a DataLoader, or "
                    f"lower the number of steps in TrainerSettings") from None
            self.restart()
            batch = next(self.iterator)
        self.drawn += 1
        return batch


def run_eval(model, source, steps: int, loss_fn, metrics, device, warn, ignore_index):
    """Loss and metrics over ``steps`` batches, each averaged over samples."""
    totals: dict[str, float] = {}
    loss_sum, seen = 0.0, 0
    with no_grad():
        for _ in range(steps):
            x, y = unpack(next(source), device, "validation")
            yhat = model(x)
            student.check_labels(yhat, y, warn, ignore_index)
            n = batch_size(x)
            if loss_fn is not None:
                loss_sum += float(loss_fn(yhat, y).item()) * n
            for metric in metrics:
                name = repr(metric)
                totals[name] = totals.get(name, 0.0) + float(metric(y, yhat)) * n
            seen += n
    return {name: value / seen for name, value in totals.items()}, loss_sum / max(seen, 1)


def evaluate(model, loader: Iterable, loss_fn: Callable | None = None, metrics=(),
             steps: int | None = None, device: str | None = None) -> dict[str, float]:
    """Loss (if ``loss_fn`` is given) and metrics of ``model`` over ``loader``, under no_grad.

    ``evaluate`` does not switch the model to ``eval()`` for you: like a hand-written
    evaluation loop it uses the model as it is, and warns (once) when batch-norm or dropout
    layers are still in training mode. ``steps`` limits the number of batches (default: one
    pass over the loader; required for an endless generator).

    Returns ``{"loss": ..., repr(metric): ...}``, each a mean over samples.
    """
    student.check_eval_mode(model, student._module_warner)
    if steps is None:
        if not hasattr(loader, "__len__"):
            raise ValueError("evaluate needs steps= for a loader without len() (a generator)")
        steps = len(loader)
    source = BatchSource(loader, "evaluation")
    values, loss = run_eval(model, source, steps, loss_fn, metrics, device,
                             student._module_warner, getattr(loss_fn, "ignore_index", None))
    return ({"loss": loss} if loss_fn is not None else {}) | values
