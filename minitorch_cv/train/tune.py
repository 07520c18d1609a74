"""``tune_search``: a hyperparameter search on Ray Tune over a function that trains a model.

The function gets one configuration (a dict drawn from ``search_space``), builds and trains a
model, and reports its numbers: a ``Trainer`` whose settings include ``ReportTypes.RAY`` does
that every epoch. Ray runs on this machine by default; with ``address=`` (or ``RAY_ADDRESS``
set) the same search runs on a cluster, unchanged::

    from ray import tune

    def train_fn(config):
        model = make_model(hidden=config["hidden"])
        settings = TrainerSettings(..., reporttypes=[ReportTypes.RAY],
                                   optimizer_kwargs={"lr": config["lr"]})
        Trainer(model, settings, ...).loop()

    results = tune_search(train_fn, {"lr": tune.loguniform(1e-4, 1e-2),
                                     "hidden": tune.choice([32, 64])}, num_samples=8)
    print(results.get_best_result().config)

``ray`` is imported only when ``tune_search`` is called (``pip install 'minitorch_cv[ray]'``).
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .reporters import require

_PACKAGE_PARENT = str(Path(__file__).resolve().parents[2])


def _run_config_class(ray_module):
    tune = importlib.import_module("ray.tune")
    if hasattr(tune, "RunConfig"):  # Ray 2.41 and later
        return tune.RunConfig
    return importlib.import_module("ray.train").RunConfig


def tune_search(train_fn: Callable[[dict], Any], search_space: dict[str, Any],
                num_samples: int = 1, metric: str = "test_loss", mode: str = "min", *,
                resources_per_trial: dict[str, float] | None = None, scheduler=None,
                search_alg=None, max_concurrent_trials: int | None = None,
                storage_path: str | Path | None = None, name: str | None = None,
                address: str | None = None, verbose: int = 1):
    """Run ``num_samples`` trials of ``train_fn`` over ``search_space`` and return the
    ``ResultGrid`` (``results.get_best_result().config`` is the best configuration).

    Args:
        train_fn: ``train_fn(config)``; reports with a ``Trainer`` using ``ReportTypes.RAY``
            (or with ``ray.tune.report`` itself).
        search_space: a dict of ``ray.tune`` distributions (``tune.loguniform``,
            ``tune.choice``, ``tune.grid_search``...) and fixed values.
        num_samples: how many configurations to draw (each grid point this many times).
        metric, mode: the reported number that ranks trials and whether lower or higher is
            better (``"test_loss"``/``"min"``, or ``"Accuracy"``/``"max"``).
        resources_per_trial: e.g. ``{"cpu": 1}`` (two trials at once on two cores) or
            ``{"cpu": 1, "gpu": 1}``.
        scheduler, search_alg: a Tune trial scheduler (``ASHAScheduler``) and search algorithm.
        max_concurrent_trials: at most this many trials at once.
        storage_path: where Ray writes results (default ``~/ray_results``); made absolute.
        name: the experiment's directory name under ``storage_path``.
        address: a running Ray cluster to use; ``None`` starts (or joins, when ``RAY_ADDRESS``
            is set) one on this machine.
        verbose: Ray's console verbosity (0 silent, 1 a status table, 2 more).
    """
    ray = require("ray", "tune_search")
    tune = importlib.import_module("ray.tune")
    if not ray.is_initialized():
        # workers are new processes: give them this package's location, so a checkout that
        # is not pip-installed works the same
        pythonpath = os.pathsep.join(p for p in (_PACKAGE_PARENT, os.environ.get("PYTHONPATH"))
                                     if p)
        ray.init(address=address, include_dashboard=False, log_to_driver=verbose > 0,
                 runtime_env={"env_vars": {"PYTHONPATH": pythonpath}})
    trainable = train_fn
    if resources_per_trial is not None:
        trainable = tune.with_resources(train_fn, resources_per_trial)
    tune_config = tune.TuneConfig(num_samples=num_samples, metric=metric, mode=mode,
                                  scheduler=scheduler, search_alg=search_alg,
                                  max_concurrent_trials=max_concurrent_trials)
    run_kwargs: dict[str, Any] = {"name": name, "verbose": verbose}
    if storage_path is not None:
        run_kwargs["storage_path"] = str(Path(storage_path).resolve())
    run_config = _run_config_class(ray)(**run_kwargs)
    tuner = tune.Tuner(trainable, param_space=search_space, tune_config=tune_config,
                       run_config=run_config)
    results = tuner.fit()
    if results.errors and len(results.errors) == len(results):
        raise RuntimeError(f"every one of the {len(results)} trials failed; the first error: "
                           f"{results.errors[0]}")
    return results
