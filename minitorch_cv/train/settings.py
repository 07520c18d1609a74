"""``TrainerSettings`` and ``ReportTypes``, with the course library's names and defaults.

``TrainerSettings`` is a dataclass that checks its fields when it is made and names the field
that is wrong (``TrainerSettings.epochs must be an integer, got '3' (str)``), as the pydantic
model of the course library does. ``logdir`` is created if it does not exist.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

import numpy as np


class ReportTypes(Enum):
    """Where a ``Trainer`` reports: pass a list of these as ``TrainerSettings.reporttypes``.

    - ``TOML``: ``model.toml`` (the model's hyperparameters) and ``settings.toml`` in the run
      directory, written once when the Trainer is made.
    - ``TENSORBOARD``: event files in the run directory
      (``pip install 'minitorch_cv[tensorboard]'``).
    - ``MLFLOW``: ``mlflow.log_metric`` into the run the user started
      (``pip install 'minitorch_cv[mlflow]'``).
    - ``RAY``: one report per epoch to Ray Tune (``pip install 'minitorch_cv[ray]'``).
    """

    TOML = 1
    TENSORBOARD = 2
    MLFLOW = 3
    RAY = 4


def _default_optimizer_kwargs() -> dict[str, Any]:
    return {"lr": 1e-3, "weight_decay": 1e-5}


def _default_scheduler_kwargs() -> dict[str, Any]:
    return {"factor": 0.1, "patience": 10}


def _default_earlystop_kwargs() -> dict[str, Any]:
    return {"save": False, "verbose": True, "patience": 10}


def _is_int(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _describe(value) -> str:
    return f"{value!r} ({type(value).__name__})"


@dataclass
class TrainerSettings:
    """What a ``Trainer`` needs besides the model, the data and the optimizer.

    Args:
        epochs: how many epochs ``Trainer.loop()`` runs.
        metrics: callables ``metric(y, yhat) -> float``, logged under ``repr(metric)``.
        logdir: the directory under which every run gets a timestamped subdirectory.
        train_steps: batches per training epoch (``len(trainloader)`` for one pass).
        valid_steps: batches per evaluation (``len(testloader)`` for one pass).
        reporttypes: a list of ``ReportTypes``.
        optimizer_kwargs: passed to the optimizer class: ``optimizer(params, **kwargs)``.
        scheduler_kwargs: passed to the scheduler class; ``None`` if no scheduler is used.
        earlystop_kwargs: passed to ``EarlyStopping``; ``None`` turns early stopping off.
    """

    epochs: int
    metrics: list[Callable]
    logdir: Path
    train_steps: int
    valid_steps: int
    reporttypes: list[ReportTypes]
    optimizer_kwargs: dict[str, Any] = field(default_factory=_default_optimizer_kwargs)
    scheduler_kwargs: dict[str, Any] | None = field(default_factory=_default_scheduler_kwargs)
    earlystop_kwargs: dict[str, Any] | None = field(default_factory=_default_earlystop_kwargs)

    def __post_init__(self) -> None:
        for name in ("epochs", "train_steps", "valid_steps"):
            value = getattr(self, name)
            if not _is_int(value):
                self._fail(name, f"must be an integer, got {_describe(value)}")
            smallest = 0 if name == "epochs" else 1
            if value < smallest:
                self._fail(name, f"must be at least {smallest}, got {value}")
            setattr(self, name, int(value))
        self.metrics = self._list_of("metrics", self.metrics)
        for metric in self.metrics:
            if not callable(metric):
                self._fail("metrics", f"must hold callables metric(y, yhat), got "
                                      f"{_describe(metric)}")
        if not isinstance(self.logdir, (str, Path)):
            self._fail("logdir", f"must be a path (str or pathlib.Path), got "
                                 f"{_describe(self.logdir)}")
        self.logdir = Path(self.logdir)
        self.logdir.mkdir(parents=True, exist_ok=True)
        self.reporttypes = [self._report_type(r) for r in self._list_of("reporttypes",
                                                                         self.reporttypes)]
        if not isinstance(self.optimizer_kwargs, dict):
            self._fail("optimizer_kwargs",
                       f"must be a dict, got {_describe(self.optimizer_kwargs)}")
        for name in ("scheduler_kwargs", "earlystop_kwargs"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, dict):
                self._fail(name, f"must be a dict or None, got {_describe(value)}")
        if self.earlystop_kwargs is not None:
            from .early_stopping import EarlyStopping  # noqa: PLC0415 (avoids an import cycle)

            allowed = set(inspect.signature(EarlyStopping).parameters) - {"log_dir"}
            unknown = sorted(set(self.earlystop_kwargs) - allowed)
            if unknown:
                self._fail("earlystop_kwargs", f"has unknown keys {unknown}; EarlyStopping "
                                               f"accepts {sorted(allowed)}")

    @staticmethod
    def _fail(name: str, problem: str):
        raise TypeError(f"TrainerSettings.{name} {problem}")

    def _list_of(self, name: str, value) -> list:
        if isinstance(value, (str, bytes, dict)) or not hasattr(value, "__iter__"):
            if isinstance(value, ReportTypes) or callable(value):
                self._fail(name, f"must be a list, got a single {_describe(value)}: "
                                 f"write [{value!r}]")
            self._fail(name, f"must be a list, got {_describe(value)}")
        return list(value)

    def _report_type(self, value) -> ReportTypes:
        if isinstance(value, ReportTypes):
            return value
        if isinstance(value, str) and value.upper() in ReportTypes.__members__:
            return ReportTypes[value.upper()]
        names = ", ".join(f"ReportTypes.{m}" for m in ReportTypes.__members__)
        self._fail("reporttypes", f"must hold {names}; got {_describe(value)}")

    def __str__(self) -> str:
        return "\n".join(f"{f.name}: {getattr(self, f.name)}" for f in dataclasses.fields(self))

    def to_dict(self) -> dict[str, Any]:
        """The settings as plain values (TOML has no ``None``: missing keys mean ``None``)."""
        out: dict[str, Any] = {
            "epochs": self.epochs,
            "metrics": [repr(m) for m in self.metrics],
            "logdir": str(self.logdir),
            "train_steps": self.train_steps,
            "valid_steps": self.valid_steps,
            "reporttypes": [r.name for r in self.reporttypes],
        }
        for name in ("optimizer_kwargs", "scheduler_kwargs", "earlystop_kwargs"):
            value = getattr(self, name)
            if value is not None:
                out[name] = {k: _plain(v) for k, v in value.items() if v is not None}
        return out


def _plain(value):
    """A value TOML can hold: numbers, strings, booleans, lists and tables of those."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if _is_int(value):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value)
    if isinstance(value, str):
        return value
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, Enum):
        return value.name
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return repr(value)
