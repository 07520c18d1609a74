"""``minitorch_cv.train``: the course library's Trainer, on minitorch_cv.

A course script switches by changing its imports::

    from minitorch_cv.train import ReportTypes, Trainer, TrainerSettings, metrics

``metrics`` holds ``Accuracy``, ``TopKAccuracy`` and ``MAE``; ``EarlyStopping`` is built by the
Trainer from ``settings.earlystop_kwargs``; ``evaluate`` is an evaluation loop that warns about
the classic mistakes; ``tune_search`` runs a hyperparameter search on Ray Tune.
"""

from . import metrics
from .batches import evaluate
from .early_stopping import EarlyStopping
from .metrics import MAE, Accuracy, Metric, TopKAccuracy
from .reporters import model_hyperparameters, read_scalars, read_toml
from .settings import ReportTypes, TrainerSettings
from .trainer import Trainer, dir_add_timestamp
from .tune import tune_search
from .warnings import StudentWarning, reset_student_warnings

__all__ = [
    "MAE",
    "Accuracy",
    "EarlyStopping",
    "Metric",
    "ReportTypes",
    "StudentWarning",
    "TopKAccuracy",
    "Trainer",
    "TrainerSettings",
    "dir_add_timestamp",
    "evaluate",
    "metrics",
    "model_hyperparameters",
    "read_scalars",
    "read_toml",
    "reset_student_warnings",
    "tune_search",
]
