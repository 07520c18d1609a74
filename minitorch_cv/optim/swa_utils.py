"""Weight averaging (SWA, EMA) for the ensembling lecture: ``AveragedModel`` and ``update_bn``.

Stochastic Weight Averaging (Izmailov et al., 2018) averages the weights visited late in
training; the average sits in a flatter region and generalises better than the last point.
Batch-norm statistics of the averaged weights are not the average of the statistics, so
``update_bn`` recomputes them with one pass over the training data.
"""

from __future__ import annotations

import copy
import itertools
import math
from collections.abc import Callable, Iterable

import numpy as np

from .. import backend
from ..autograd.function import no_grad
from ..autograd.tensor import Tensor
from ..nn.module import Module
from ..nn.normalization import _BatchNorm
from .lr_scheduler import LRScheduler, _per_group
from .optimizer import Optimizer


def get_swa_avg_fn() -> Callable:
    """The running mean: ``avg + (current - avg) / (n + 1)`` (torch's formula)."""

    def swa_update(averaged: Tensor, current: Tensor, num_averaged) -> Tensor:
        return averaged + (current - averaged) / (int(num_averaged) + 1)

    return swa_update


def get_ema_avg_fn(decay: float = 0.999) -> Callable:
    """An exponential moving average: ``decay * avg + (1 - decay) * current``."""
    if not 0.0 <= decay <= 1.0:
        raise ValueError(f"Invalid decay value {decay} provided. Please provide a value in "
                         "[0,1] range.")

    def ema_update(averaged: Tensor, current: Tensor, num_averaged) -> Tensor:
        return decay * averaged + (1 - decay) * current

    return ema_update


class AveragedModel(Module):
    """A deep copy of ``model`` whose parameters are the running average of ``model``'s,
    updated by ``update_parameters(model)`` (the first call copies them).

    Args:
        model: the model being trained.
        device: where to keep the average (default: where the model is).
        avg_fn: ``avg_fn(averaged, current, n_averaged) -> Tensor``; default the SWA mean
            (``get_swa_avg_fn``), ``get_ema_avg_fn(decay)`` for an EMA.
        use_buffers: average the buffers too (else they are copied from ``model``).

    The number of averaged models is the buffer ``n_averaged`` (int64, in ``state_dict``).
    """

    def __init__(self, model: Module, device: str | None = None,
                 avg_fn: Callable | None = None, use_buffers: bool = False):
        super().__init__()
        self.module = copy.deepcopy(model)
        if device is not None:
            self.module.to(device)
        first = next(iter(model.parameters()), None)
        target = device or (first.device if first is not None else "cpu")
        array = backend.move_array(np.zeros((), dtype=np.int64), target)
        self.register_buffer("n_averaged", Tensor(array, device=target))
        self.avg_fn = avg_fn if avg_fn is not None else get_swa_avg_fn()
        self.use_buffers = use_buffers

    def forward(self, *args, **kwargs):
        return self.module(*args, **kwargs)

    def update_parameters(self, model: Module) -> None:
        if self.use_buffers:
            mine = itertools.chain(self.module.parameters(), self.module.buffers())
            theirs = itertools.chain(model.parameters(), model.buffers())
        else:
            mine, theirs = self.module.parameters(), model.parameters()
        n_averaged = int(self.n_averaged.item())
        with no_grad():
            for averaged, current in zip(mine, theirs):
                current = current.detach().to(averaged.device)
                if n_averaged == 0 or averaged.dtype.kind != "f":
                    averaged.copy_(current if n_averaged == 0 else
                                   self._int_average(averaged, current, n_averaged))
                else:
                    averaged.copy_(self.avg_fn(averaged.detach(), current, n_averaged))
            if not self.use_buffers:
                # buffers (batch-norm statistics) follow the source model
                for mine_buffer, their_buffer in zip(self.module.buffers(), model.buffers()):
                    mine_buffer.copy_(their_buffer.detach().to(mine_buffer.device))
            self.n_averaged.add_(1)

    @staticmethod
    def _int_average(averaged: Tensor, current: Tensor, n_averaged: int):
        # integer buffers (num_batches_tracked) with use_buffers: torch computes the float
        # mean and copies it back, truncating
        return averaged.array + (current.array - averaged.array) / (n_averaged + 1)


def update_bn(loader: Iterable, model: Module, device: str | None = None) -> None:
    """Recompute every batch norm's running statistics with one pass over ``loader``.

    Running statistics are reset and accumulated as a cumulative average (``momentum=None``)
    over all batches; each batch may be a tensor or a (input, target, ...) tuple/list.
    The model's training mode and each layer's momentum are restored afterwards.
    """
    momenta = {}
    for module in model.modules():
        if isinstance(module, _BatchNorm):
            module.reset_running_stats()
            momenta[module] = module.momentum
    if not momenta:
        return
    was_training = model.training
    model.train()
    for module in momenta:
        module.momentum = None
    with no_grad():
        for batch in loader:
            if isinstance(batch, (list, tuple)):
                batch = batch[0]
            if device is not None:
                batch = batch.to(device)
            model(batch)
    for module, momentum in momenta.items():
        module.momentum = momentum
    model.train(was_training)


class SWALR(LRScheduler):
    """Anneals each group's lr to ``swa_lr`` over ``anneal_epochs`` epochs (cos or linear),
    then holds it: the constant learning rate of the SWA phase. torch's formula: the lr at
    step t is ``swa_lr * alpha(t) + lr_0 * (1 - alpha(t))`` where ``lr_0`` is recovered from
    the current lr, so a manually changed lr is respected."""

    def __init__(self, optimizer: Optimizer, swa_lr, anneal_epochs: int = 10,
                 anneal_strategy: str = "cos", last_epoch: int = -1):
        for value, group in zip(_per_group("swa_lr", optimizer, swa_lr), optimizer.param_groups):
            group["swa_lr"] = value
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"anneal_strategy must be one of 'cos' or 'linear', instead got "
                             f"{anneal_strategy}")
        if not isinstance(anneal_epochs, int) or anneal_epochs < 0:
            raise ValueError(f"anneal_epochs must be equal or greater than 0, got "
                             f"{anneal_epochs}")
        self.anneal_strategy, self.anneal_epochs = anneal_strategy, anneal_epochs
        super().__init__(optimizer, last_epoch)

    def _alpha(self, t: float) -> float:
        return (1 - math.cos(math.pi * t)) / 2 if self.anneal_strategy == "cos" else t

    def get_lr(self) -> list[float]:
        step = self._step_count - 1
        if self.anneal_epochs == 0:
            step = max(1, step)
        prev_alpha = self._alpha(max(0, min(1, (step - 1) / max(1, self.anneal_epochs))))
        alpha = self._alpha(max(0, min(1, step / max(1, self.anneal_epochs))))
        out = []
        for group in self.optimizer.param_groups:
            if prev_alpha == 1:
                start = group["swa_lr"]
            else:
                start = (group["lr"] - prev_alpha * group["swa_lr"]) / (1 - prev_alpha)
            out.append(group["swa_lr"] * alpha + start * (1 - alpha))
        return out
