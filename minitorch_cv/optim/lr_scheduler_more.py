"""Warm-up and restart schedulers with torch's formulas: ``LinearLR``, ``ConstantLR``,
``SequentialLR`` (warm-up then another schedule) and ``CosineAnnealingWarmRestarts``.

Re-exported by ``lr_scheduler``; kept apart so each file stays readable. As there, each
``get_lr`` is torch's recursive form, so the learning rates agree with torch's to the last bit.
"""

from __future__ import annotations

import math
from bisect import bisect_right

from . import lr_scheduler as S
from .optimizer import Optimizer


class LinearLR(S.LRScheduler):
    """Scale the learning rate linearly from ``start_factor`` to ``end_factor`` over
    ``total_iters`` steps (a warm-up), then keep it."""

    def __init__(self, optimizer: Optimizer, start_factor: float = 1.0 / 3, end_factor: float = 1.0,
                 total_iters: int = 5, last_epoch: int = -1):
        if not 0 < start_factor <= 1:
            raise ValueError("Starting multiplicative factor expected to be greater than 0 and "
                             "less or equal to 1.")
        if not 0 <= end_factor <= 1:
            raise ValueError("Ending multiplicative factor expected to be between 0 and 1.")
        self.start_factor, self.end_factor, self.total_iters = (start_factor, end_factor,
                                                                total_iters)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        lrs = S._group_lrs(self.optimizer)
        if self.last_epoch == 0:
            return [lr * self.start_factor for lr in lrs]
        if self.last_epoch > self.total_iters:
            return lrs
        change = self.end_factor - self.start_factor
        factor = 1.0 + change / (self.total_iters * self.start_factor
                                 + (self.last_epoch - 1) * change)
        return [lr * factor for lr in lrs]

    def _closed_form(self) -> list[float]:
        progress = min(self.total_iters, self.last_epoch) / self.total_iters
        return [base * (self.start_factor + (self.end_factor - self.start_factor) * progress)
                for base in self.base_lrs]


class ConstantLR(S.LRScheduler):
    """Multiply the learning rate by ``factor`` for the first ``total_iters`` steps."""

    def __init__(self, optimizer: Optimizer, factor: float = 1.0 / 3, total_iters: int = 5,
                 last_epoch: int = -1):
        if not 0 <= factor <= 1:
            raise ValueError("Constant multiplicative factor expected to be between 0 and 1.")
        self.factor, self.total_iters = factor, total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        lrs = S._group_lrs(self.optimizer)
        if self.last_epoch == 0:
            return [lr * self.factor for lr in lrs]
        if self.last_epoch != self.total_iters:
            return lrs
        return [lr * (1.0 / self.factor) for lr in lrs]

    def _closed_form(self) -> list[float]:
        scale = self.factor if self.last_epoch < self.total_iters else 1.0
        return [base * scale for base in self.base_lrs]


def _closed_form(scheduler) -> list[float]:
    """The learning rates of ``scheduler`` at its ``last_epoch`` computed directly (what
    torch's ``step(epoch)`` uses when ``SequentialLR`` restarts a scheduler at 0)."""
    if hasattr(scheduler, "_closed_form"):
        return scheduler._closed_form()
    t, bases = scheduler.last_epoch, scheduler.base_lrs
    if isinstance(scheduler, S.CosineAnnealingLR):
        eta = scheduler.eta_min
        return [eta + (b - eta) * (1 + math.cos(math.pi * t / scheduler.T_max)) / 2
                for b in bases]
    if isinstance(scheduler, S.StepLR):
        return [b * scheduler.gamma ** (t // scheduler.step_size) for b in bases]
    if isinstance(scheduler, S.ExponentialLR):
        return [b * scheduler.gamma ** t for b in bases]
    if isinstance(scheduler, S.MultiStepLR):
        passed = sum(n for m, n in scheduler.milestones.items() if m <= t)
        return [b * scheduler.gamma ** passed for b in bases]
    raise NotImplementedError(f"SequentialLR cannot restart a {type(scheduler).__name__} after "
                              "a milestone; use LinearLR, ConstantLR, CosineAnnealingLR, "
                              "StepLR, MultiStepLR or ExponentialLR")


class SequentialLR(S.LRScheduler):
    """Run ``schedulers[0]`` until ``milestones[0]``, then ``schedulers[1]`` (restarted at
    epoch 0), and so on: warm-up followed by a decay."""

    def __init__(self, optimizer: Optimizer, schedulers, milestones, last_epoch: int = -1):
        if len(milestones) != len(schedulers) - 1:
            raise ValueError(f"Sequential Schedulers expects number of schedulers provided to "
                             f"be one more than the number of milestone points, but got "
                             f"number of schedulers {len(schedulers)} and the number of "
                             f"milestones to be equal to {len(milestones)}")
        for scheduler in schedulers:
            if scheduler.optimizer is not optimizer:
                raise ValueError("Sequential Schedulers expects all schedulers to belong to the "
                                 "same optimizer")
        self.optimizer, self._schedulers = optimizer, list(schedulers)
        self._milestones, self.last_epoch = list(milestones), last_epoch + 1
        for group in optimizer.param_groups:
            group["lr"] = group["initial_lr"]
        for scheduler in self._schedulers:  # undo the step each made when it was built
            scheduler.last_epoch -= 1
        first = self._schedulers[0]
        first._step_count, first._is_initial = 0, True
        try:
            first.step()
        finally:
            first._is_initial = False
        self._last_lr = first.get_last_lr()

    def get_lr(self) -> list[float]:
        return self._schedulers[bisect_right(self._milestones, self.last_epoch)].get_last_lr()

    def step(self) -> None:
        self.last_epoch += 1
        index = bisect_right(self._milestones, self.last_epoch)
        scheduler = self._schedulers[index]
        if index > 0 and self._milestones[index - 1] == self.last_epoch:
            scheduler.last_epoch = 0  # torch's scheduler.step(0): the closed form at 0
            for group, lr in zip(self.optimizer.param_groups, _closed_form(scheduler)):
                group["lr"] = lr
            scheduler._last_lr = S._group_lrs(self.optimizer)
        else:
            scheduler.step()
        self._last_lr = scheduler.get_last_lr()


class CosineAnnealingWarmRestarts(S.LRScheduler):
    """Cosine annealing from ``base_lr`` to ``eta_min`` over ``T_i`` steps, restarting with
    ``T_i = T_0``, then ``T_0 * T_mult``, ... (SGDR)."""

    def __init__(self, optimizer: Optimizer, T_0: int, T_mult: int = 1,  # noqa: N803
                 eta_min: float = 0.0, last_epoch: int = -1):
        if T_0 <= 0 or not isinstance(T_0, int):
            raise ValueError(f"Expected positive integer T_0, but got {T_0}")
        if T_mult < 1 or not isinstance(T_mult, int):
            raise ValueError(f"Expected integer T_mult >= 1, but got {T_mult}")
        self.T_0, self.T_i, self.T_mult, self.eta_min = T_0, T_0, T_mult, eta_min
        self.T_cur = last_epoch
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        return [self.eta_min + (base - self.eta_min)
                * (1 + math.cos(math.pi * self.T_cur / self.T_i)) / 2 for base in self.base_lrs]

    def step(self) -> None:
        self._step_count += 1
        if self.last_epoch < 0:  # the first step (torch's step(0)): the start of a cycle
            epoch, self.T_cur, self.T_i = 0, 0, self.T_0
        else:
            epoch = self.last_epoch + 1
            self.T_cur += 1
            if self.T_cur >= self.T_i:
                self.T_cur -= self.T_i
                self.T_i *= self.T_mult
        self.last_epoch = epoch
        for group, lr in zip(self.optimizer.param_groups, self.get_lr()):
            group["lr"] = lr
        self._last_lr = S._group_lrs(self.optimizer)
