"""TrainerSettings: the course library's fields and defaults, checked field by field."""

from __future__ import annotations

from pathlib import Path

import pytest

from minitorch_cv.train import ReportTypes, TrainerSettings, metrics


def make(tmp_path, **overrides):
    kwargs = dict(epochs=2, metrics=[metrics.Accuracy()], logdir=tmp_path / "new" / "logs",
                  train_steps=10, valid_steps=5, reporttypes=[ReportTypes.TOML])
    kwargs.update(overrides)
    return TrainerSettings(**kwargs)


def test_defaults_are_the_course_library_s(tmp_path):
    settings = make(tmp_path)
    assert settings.optimizer_kwargs == {"lr": 1e-3, "weight_decay": 1e-5}
    assert settings.scheduler_kwargs == {"factor": 0.1, "patience": 10}
    assert settings.earlystop_kwargs == {"save": False, "verbose": True, "patience": 10}
    assert make(tmp_path).optimizer_kwargs is not settings.optimizer_kwargs  # not shared
    assert isinstance(settings.logdir, Path) and settings.logdir.is_dir()  # created
    assert "epochs: 2" in str(settings)


@pytest.mark.parametrize("field, value, message", [
    ("epochs", "3", r"TrainerSettings.epochs must be an integer, got '3' \(str\)"),
    ("epochs", True, r"TrainerSettings.epochs must be an integer"),
    ("train_steps", 0, r"TrainerSettings.train_steps must be at least 1"),
    ("valid_steps", 2.0, r"TrainerSettings.valid_steps must be an integer"),
    ("metrics", metrics.Accuracy(), r"TrainerSettings.metrics must be a list.*write \[Accuracy\]"),
    ("metrics", ["Accuracy"], r"TrainerSettings.metrics must hold callables"),
    ("logdir", 3, r"TrainerSettings.logdir must be a path"),
    ("reporttypes", ReportTypes.TOML, r"TrainerSettings.reporttypes must be a list"),
    ("reporttypes", ["csv"], r"TrainerSettings.reporttypes must hold ReportTypes.TOML"),
    ("optimizer_kwargs", None, r"TrainerSettings.optimizer_kwargs must be a dict"),
    ("scheduler_kwargs", [0.1], r"TrainerSettings.scheduler_kwargs must be a dict or None"),
    ("earlystop_kwargs", {"patience": 3, "min_delta": 0.1},
     r"TrainerSettings.earlystop_kwargs has unknown keys \['min_delta'\]"),
])
def test_a_wrong_field_is_named(tmp_path, field, value, message):
    with pytest.raises(TypeError, match=message):
        make(tmp_path, **{field: value})


def test_report_types_by_name_and_none_kwargs(tmp_path):
    settings = make(tmp_path, reporttypes=["tensorboard", ReportTypes.TOML],
                    scheduler_kwargs=None, earlystop_kwargs=None)
    assert settings.reporttypes == [ReportTypes.TENSORBOARD, ReportTypes.TOML]
    as_dict = settings.to_dict()
    assert "scheduler_kwargs" not in as_dict and "earlystop_kwargs" not in as_dict
    assert as_dict["reporttypes"] == ["TENSORBOARD", "TOML"]
