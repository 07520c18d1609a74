"""Reporters: TOML files parse back, TensorBoard event files hold the course's tags, MLflow
and Ray get the same numbers, and missing optional packages name their pip extra."""

from __future__ import annotations

import sys
import types

import pytest

from minitorch_cv import nn, optim
from minitorch_cv.train import (
    ReportTypes,
    Trainer,
    TrainerSettings,
    metrics,
    read_scalars,
    read_toml,
    tune_search,
)

TAGS = {"Loss/train", "Loss/test", "metric/Accuracy", "metric/Top2Accuracy", "learning_rate"}


def run(tmp_path, loaders, model, reporttypes, epochs=2):
    train, test = loaders
    settings = TrainerSettings(epochs=epochs, metrics=[metrics.Accuracy(),
                                                       metrics.TopKAccuracy(2)],
                               logdir=tmp_path / "logs", train_steps=len(train),
                               valid_steps=len(test), reporttypes=reporttypes,
                               optimizer_kwargs={"lr": 0.05})
    trainer = Trainer(model, settings, nn.CrossEntropyLoss(), optim.SGD, train, test,
                      None, quiet=True)
    trainer.loop()
    trainer.close()
    return trainer


def test_toml_files_parse_back(tmp_path, loaders, MLP):
    trainer = run(tmp_path, loaders, MLP(hidden=12, dropout=0.25), [ReportTypes.TOML], epochs=1)
    model_toml = read_toml(trainer.log_dir / "model.toml")
    assert model_toml["model"]["class"] == "MLPModel"
    assert model_toml["model"]["parameters"] == (8 * 12 + 12) + (12 * 3 + 3)
    assert model_toml["hyperparameters"] == {"n_features": 8, "hidden": 12, "n_classes": 3,
                                             "dropout_p": 0.25}
    assert model_toml["layers"]["layers.0"].startswith("Linear(in_features=8, out_features=12")
    settings_toml = read_toml(trainer.log_dir / "settings.toml")
    assert settings_toml["epochs"] == 1
    assert settings_toml["metrics"] == ["Accuracy", "Top2Accuracy"]
    assert settings_toml["reporttypes"] == ["TOML"]
    assert settings_toml["optimizer_kwargs"] == {"lr": 0.05}
    assert settings_toml["earlystop_kwargs"] == {"save": False, "verbose": True, "patience": 10}


def test_toml_holds_a_config_dataclass(tmp_path, loaders, MLP):
    import dataclasses

    @dataclasses.dataclass
    class Config:
        hidden: int = 12
        sizes: tuple = (3, 4)

    model = MLP(hidden=12)
    model.config = Config()
    trainer = run(tmp_path, loaders, model, [ReportTypes.TOML], epochs=1)
    hyper = read_toml(trainer.log_dir / "model.toml")["hyperparameters"]
    assert hyper["config"] == {"hidden": 12, "sizes": [3, 4]}


def test_tensorboard_event_files_hold_the_tags(tmp_path, loaders, MLP):
    trainer = run(tmp_path, loaders, MLP(), [ReportTypes.TENSORBOARD], epochs=3)
    scalars = read_scalars(trainer.log_dir)
    assert set(scalars) == TAGS
    for tag, entries in scalars.items():
        assert [step for step, _ in entries] == [0, 1, 2], tag
    for key, tag in (("train_loss", "Loss/train"), ("test_loss", "Loss/test"),
                     ("Accuracy", "metric/Accuracy"), ("learning_rate", "learning_rate")):
        logged = [value for _, value in scalars[tag]]
        assert logged == pytest.approx([h[key] for h in trainer.history], rel=1e-6), tag


def test_damaged_event_file_is_rejected(tmp_path, loaders, MLP):
    trainer = run(tmp_path, loaders, MLP(), [ReportTypes.TENSORBOARD], epochs=1)
    (path,) = trainer.log_dir.glob("events.out.tfevents.*")
    raw = bytearray(path.read_bytes())
    raw[-10] ^= 0xFF
    path.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match="checksum|corrupted"):
        read_scalars(trainer.log_dir)


def test_mlflow_gets_the_same_tags(tmp_path, loaders, MLP, monkeypatch):
    logged = []
    fake = types.ModuleType("mlflow")
    fake.log_metric = lambda key, value, step=None: logged.append((key, value, step))
    monkeypatch.setitem(sys.modules, "mlflow", fake)
    trainer = run(tmp_path, loaders, MLP(), [ReportTypes.MLFLOW], epochs=2)
    assert {key for key, _, _ in logged} == TAGS
    assert [(v, s) for k, v, s in logged if k == "Loss/test"] == [
        (h["test_loss"], h["epoch"]) for h in trainer.history]


def test_ray_gets_one_report_per_epoch(tmp_path, loaders, MLP, monkeypatch):
    reports = []
    ray = types.ModuleType("ray")
    tune = types.ModuleType("ray.tune")
    tune.report = reports.append
    ray.tune = tune
    monkeypatch.setitem(sys.modules, "ray", ray)
    monkeypatch.setitem(sys.modules, "ray.tune", tune)
    trainer = run(tmp_path, loaders, MLP(), [ReportTypes.RAY], epochs=2)
    assert [r["iterations"] for r in reports] == [0, 1]
    assert set(reports[0]) == {"iterations", "train_loss", "test_loss", "Accuracy",
                               "Top2Accuracy", "learning_rate"}
    assert reports[-1]["test_loss"] == trainer.test_loss


@pytest.mark.parametrize("kind, module, extra", [
    (ReportTypes.MLFLOW, "mlflow", "mlflow"),
    (ReportTypes.RAY, "ray", "ray"),
    (ReportTypes.TENSORBOARD, "tensorboardX", "tensorboard"),
])
def test_missing_optional_package_names_the_extra(tmp_path, loaders, MLP, monkeypatch, kind,
                                                  module, extra):
    monkeypatch.setitem(sys.modules, module, None)  # makes `import module` fail
    with pytest.raises(ImportError, match=rf"pip install 'minitorch_cv\[{extra}\]'"):
        run(tmp_path, loaders, MLP(), [kind], epochs=1)


def test_optional_packages_are_not_imported_unless_asked(tmp_path, loaders, MLP, monkeypatch):
    for module in ("mlflow", "ray"):
        monkeypatch.setitem(sys.modules, module, None)
    run(tmp_path, loaders, MLP(), [ReportTypes.TOML], epochs=1)


def test_tune_search_without_ray_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(ImportError, match=r"pip install 'minitorch_cv\[ray\]'"):
        tune_search(lambda config: None, {}, num_samples=1)


def _event_file(folder, values):
    from tensorboardX import SummaryWriter

    writer = SummaryWriter(str(folder))
    for step, value in enumerate(values):
        writer.add_scalar("loss", value, step)
    writer.close()
    (path,) = folder.glob("events.out.tfevents.*")
    return path


def test_cut_event_file_ends_at_its_last_complete_record(tmp_path):
    """A run killed while writing leaves a cut last record: it ends that file (as TensorBoard),
    and neither it nor the other runs in the folder are lost."""
    whole = _event_file(tmp_path / "run_a", [1.0, 2.0, 3.0])
    cut = _event_file(tmp_path / "run_b", [4.0, 5.0, 6.0])
    raw = cut.read_bytes()
    # record boundaries: each record is 16 bytes of framing plus its data
    ends, offset = [], 0
    while offset < len(raw):
        offset += 16 + int.from_bytes(raw[offset:offset + 8], "little")
        ends.append(offset)
    for size in range(len(raw) + 1):
        cut.write_bytes(raw[:size])
        complete = sum(end <= size for end in ends)  # the first record is the file version
        scalars = read_scalars(tmp_path)
        assert [v for _, v in scalars["loss"]][3:] == [4.0, 5.0, 6.0][:max(complete - 1, 0)]
        assert [v for _, v in scalars["loss"]][:3] == [1.0, 2.0, 3.0]
    cut.write_bytes(raw[:8] + bytes([raw[8] ^ 1]) + raw[9:])  # a damaged length checksum
    with pytest.raises(ValueError, match=r"run_b.*corrupted record length"):
        read_scalars(tmp_path)
    assert whole.exists()
