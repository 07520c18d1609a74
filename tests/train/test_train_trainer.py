"""The Trainer with the course library's surface, on tiny problems."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import minitorch_cv as mt
from minitorch_cv import nn, optim
from minitorch_cv.data import DataLoader, TensorDataset
from minitorch_cv.train import (
    ReportTypes,
    StudentWarning,
    Trainer,
    TrainerSettings,
    evaluate,
    metrics,
    reset_student_warnings,
)


def settings_for(tmp_path, train, test, **overrides):
    kwargs = dict(epochs=3, metrics=[metrics.Accuracy()], logdir=tmp_path / "logs",
                  train_steps=len(train), valid_steps=len(test), reporttypes=[],
                  optimizer_kwargs={"lr": 1e-2, "weight_decay": 1e-5}, earlystop_kwargs=None)
    kwargs.update(overrides)
    return TrainerSettings(**kwargs)


def test_course_style_script_trains_a_cnn(tmp_path, image_loaders, SmallCNN):
    """The course's script, imports changed: settings, Trainer(..., optim.Adam, ...,
    ReduceLROnPlateau), loop(); the train loss falls and the test accuracy is high."""
    trainloader, testloader = image_loaders
    settings = TrainerSettings(
        epochs=4, metrics=[metrics.Accuracy()], logdir=tmp_path / "modellogs",
        train_steps=len(trainloader), valid_steps=len(testloader),
        reporttypes=[ReportTypes.TOML], optimizer_kwargs={"lr": 1e-2, "weight_decay": 1e-5},
        scheduler_kwargs={"factor": 0.1, "patience": 10})
    model = SmallCNN()
    trainer = Trainer(model=model, settings=settings, loss_fn=nn.CrossEntropyLoss(),
                      optimizer=optim.Adam, traindataloader=trainloader,
                      validdataloader=testloader,
                      scheduler=optim.lr_scheduler.ReduceLROnPlateau, quiet=True)
    trainer.loop()
    losses = [h["train_loss"] for h in trainer.history]
    assert len(losses) == 4 and losses[-1] < 0.5 * losses[0]
    assert trainer.history[-1]["Accuracy"] >= 0.9
    assert trainer.test_loss == trainer.history[-1]["test_loss"]
    assert trainer.last_epoch == 4
    assert trainer.log_dir.parent == tmp_path / "modellogs"
    assert isinstance(trainer.optimizer, optim.Adam)
    assert isinstance(trainer.scheduler, optim.lr_scheduler.ReduceLROnPlateau)
    assert trainer.early_stopping is not None  # the default earlystop_kwargs


def test_loop_carries_epochs_and_test_loss_across_calls(tmp_path, loaders, MLP):
    train, test = loaders
    trainer = Trainer(MLP(), settings_for(tmp_path, train, test, epochs=2),
                      nn.CrossEntropyLoss(), optim.SGD, train, test, None, quiet=True)
    trainer.loop()
    first_loss = trainer.test_loss
    trainer.loop()
    assert trainer.last_epoch == 4
    assert [h["epoch"] for h in trainer.history] == [0, 1, 2, 3]
    assert trainer.test_loss < first_loss


def test_run_directories_are_timestamped_and_distinct(tmp_path, loaders, MLP):
    train, test = loaders
    settings = settings_for(tmp_path, train, test)
    dirs = {Trainer(MLP(), settings, nn.CrossEntropyLoss(), optim.SGD, train, test, None,
                    quiet=True).log_dir for _ in range(3)}
    assert len(dirs) == 3
    for path in dirs:
        assert path.is_dir() and path.parent == tmp_path / "logs"
        assert path.name[:8].isdigit() and path.name[8] == "-"


def test_plateau_scheduler_steps_with_the_test_loss(tmp_path, loaders, MLP):
    train, test = loaders
    # lr 0 keeps the test loss constant: a plateau from the first epoch on
    settings = settings_for(tmp_path, train, test, epochs=3, optimizer_kwargs={"lr": 0.0},
                            scheduler_kwargs={"factor": 0.5, "patience": 0})
    trainer = Trainer(MLP(), settings, nn.CrossEntropyLoss(), optim.SGD, train, test,
                      optim.lr_scheduler.ReduceLROnPlateau, quiet=True)
    seen = []
    step = trainer.scheduler.step
    trainer.scheduler.step = lambda *args: (seen.append(args), step(*args))
    trainer.loop()
    assert [args for args in seen] == [(h["test_loss"],) for h in trainer.history]


def test_other_schedulers_step_once_per_epoch(tmp_path, loaders, MLP):
    train, test = loaders
    settings = settings_for(tmp_path, train, test, epochs=3, optimizer_kwargs={"lr": 0.1},
                            scheduler_kwargs={"step_size": 1, "gamma": 0.5})
    trainer = Trainer(MLP(), settings, nn.CrossEntropyLoss(), optim.SGD, train, test,
                      optim.lr_scheduler.StepLR, quiet=True)
    trainer.loop()
    assert [h["learning_rate"] for h in trainer.history] == pytest.approx([0.05, 0.025, 0.0125])


def test_infinite_generators_work_as_loaders(tmp_path, MLP, blobs):
    x, y = blobs()
    served = {"train": 0, "valid": 0}

    def endless(kind, batch_size=20):
        rng = np.random.default_rng(0)
        while True:
            idx = rng.integers(0, len(x), batch_size)
            served[kind] += 1
            yield mt.tensor(x[idx]), mt.tensor(y[idx])

    settings = settings_for(tmp_path, range(7), range(3), epochs=2)
    trainer = Trainer(MLP(), settings, nn.CrossEntropyLoss(), optim.Adam, endless("train"),
                      endless("valid"), None, quiet=True)
    trainer.loop()
    assert served == {"train": 14, "valid": 6}
    assert trainer.history[-1]["Accuracy"] > 0.8


def test_dataloader_restarts_when_it_runs_out(tmp_path, loaders, MLP):
    train, test = loaders  # 6 batches per pass
    settings = settings_for(tmp_path, train, test, epochs=2, train_steps=4)
    trainer = Trainer(MLP(), settings, nn.CrossEntropyLoss(), optim.SGD, train, test, None,
                      quiet=True)
    trainer.loop()  # 8 steps: one pass and two batches of the next
    assert trainer._train_source.drawn == 2


def test_a_finite_generator_that_runs_out_says_so(tmp_path, MLP, blobs):
    x, y = blobs(40)
    batches = ((mt.tensor(x[i:i + 10]), mt.tensor(y[i:i + 10])) for i in range(0, 40, 10))
    test = DataLoader(TensorDataset(x, y), batch_size=20)
    settings = settings_for(tmp_path, range(6), test)
    trainer = Trainer(MLP(), settings, nn.CrossEntropyLoss(), optim.SGD, batches, test, None,
                      quiet=True)
    with pytest.raises(ValueError, match="ran out after 4 batches and cannot start over"):
        trainer.loop()


def test_optimizer_instance_instead_of_class_is_explained(tmp_path, loaders, MLP):
    train, test = loaders
    model = MLP()
    with pytest.raises(TypeError, match="optimizer CLASS"):
        Trainer(model, settings_for(tmp_path, train, test), nn.CrossEntropyLoss(),
                optim.SGD(model.parameters(), lr=0.1), train, test, None)
    bad = settings_for(tmp_path, train, test, optimizer_kwargs={"learning_rate": 0.1})
    with pytest.raises(TypeError, match="optimizer_kwargs"):
        Trainer(model, bad, nn.CrossEntropyLoss(), optim.SGD, train, test, None)


def test_nan_loss_warns_once_stops_and_keeps_the_last_good_weights(tmp_path, loaders, MLP):
    train, test = loaders

    class NanAfter:
        """Cross-entropy that becomes nan from call `start` on."""

        def __init__(self, start):
            self.calls, self.start, self.inner = 0, start, nn.CrossEntropyLoss()

        def __call__(self, yhat, y):
            self.calls += 1
            loss = self.inner(yhat, y)
            return loss * float("nan") if self.calls > self.start else loss

    loss_fn = NanAfter(start=6 + 2 + 3)  # epoch 0 (6 train + 2 test), then 3 good steps
    model = MLP()
    trainer = Trainer(model, settings_for(tmp_path, train, test, epochs=5), loss_fn, optim.SGD,
                      train, test, None, quiet=True)
    after_epoch_0 = {}
    original_report = trainer.report

    def report(*args):
        original_report(*args)
        after_epoch_0.update({k: v.numpy().copy() for k, v in model.state_dict().items()})

    trainer.report = report
    with pytest.warns(StudentWarning, match="nan at epoch 1, step 3") as record:
        trainer.loop()
    assert len([w for w in record if issubclass(w.category, StudentWarning)]) == 1
    assert trainer.last_epoch == 1 and len(trainer.history) == 1
    assert "nan" in trainer.stopped
    for name, value in model.state_dict().items():
        assert np.isfinite(value.numpy()).all()
        np.testing.assert_array_equal(value.numpy(), after_epoch_0[name])
    with warnings.catch_warnings(record=True) as again:  # a second nan: no second warning
        warnings.simplefilter("always")
        trainer.loop()
    assert not [w for w in again if issubclass(w.category, StudentWarning)]
    assert trainer.last_epoch == 1


def test_labels_outside_the_class_range_warn_once(tmp_path, MLP, blobs):
    x, y = blobs(60, n_classes=3)
    y = y + 1  # 1-based labels 1..3 for a 3-output model
    train = DataLoader(TensorDataset(x, y), batch_size=20)

    def loss_fn(yhat, target):  # a loss that does not index with the labels
        return ((yhat.sum(dim=1) - target.float()) ** 2).mean()

    trainer = Trainer(MLP(), settings_for(tmp_path, train, train, epochs=2, metrics=[]),
                      loss_fn, optim.SGD, train, train, None, quiet=True)
    with pytest.warns(StudentWarning, match=r"labels range from 1 to 3 but the model has 3 "
                                            r"outputs") as record:
        trainer.loop()
    assert len([w for w in record if issubclass(w.category, StudentWarning)]) == 1


def test_ignore_index_labels_do_not_warn(tmp_path, loaders, MLP, blobs):
    x, y = blobs(60)
    y[::7] = -100
    train = DataLoader(TensorDataset(x, y), batch_size=20)
    trainer = Trainer(MLP(), settings_for(tmp_path, train, train, epochs=1, metrics=[]),
                      nn.CrossEntropyLoss(), optim.SGD, train, train, None, quiet=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error", StudentWarning)
        trainer.loop()


def test_batch_norm_fed_a_batch_of_one_warns_once(tmp_path, image_loaders, SmallCNN):
    train, test = image_loaders
    x = np.concatenate([b[0].numpy() for b in train])[:41]  # 41 = 2 * 20 + 1
    y = np.concatenate([b[1].numpy() for b in train])[:41]
    ragged = DataLoader(TensorDataset(x, y), batch_size=20)
    trainer = Trainer(SmallCNN(), settings_for(tmp_path, ragged, test, epochs=2),
                      nn.CrossEntropyLoss(), optim.SGD, ragged, test, None, quiet=True)
    with pytest.warns(StudentWarning, match="batch of 1 sample") as record:
        trainer.loop()
    assert len([w for w in record if issubclass(w.category, StudentWarning)]) == 1


def test_evaluate_warns_when_batch_norm_or_dropout_still_train(image_loaders, SmallCNN):
    reset_student_warnings()
    _, test = image_loaders
    model = SmallCNN()
    with pytest.warns(StudentWarning, match=r"still in training mode \(features.1\)"):
        evaluate(model, test, nn.CrossEntropyLoss(), [metrics.Accuracy()])
    model.eval()
    with warnings.catch_warnings():
        warnings.simplefilter("error", StudentWarning)
        reset_student_warnings()
        result = evaluate(model, test, nn.CrossEntropyLoss(), [metrics.Accuracy()])
    assert set(result) == {"loss", "Accuracy"}
    assert 0.0 <= result["Accuracy"] <= 1.0 and math.isfinite(result["loss"])


def test_evaluate_means_are_over_samples(loaders, MLP, blobs):
    _, test = loaders
    model = MLP().eval()
    x, y = blobs()
    whole = evaluate(model, DataLoader(TensorDataset(x[180:], y[180:]), batch_size=60),
                     nn.CrossEntropyLoss(), [metrics.Accuracy()])
    ragged = evaluate(model, DataLoader(TensorDataset(x[180:], y[180:]), batch_size=25),
                      nn.CrossEntropyLoss(), [metrics.Accuracy()])
    assert ragged["loss"] == pytest.approx(whole["loss"], rel=1e-5)
    assert ragged["Accuracy"] == pytest.approx(whole["Accuracy"])


def test_device_moves_the_model_and_every_batch(tmp_path, loaders, MLP):
    train, test = loaders  # batches arrive on the CPU
    model = MLP()
    trainer = Trainer(model, settings_for(tmp_path, train, test, epochs=2), nn.CrossEntropyLoss(),
                      optim.Adam, train, test, None, device="cuda-sim", quiet=True)
    trainer.loop()
    assert {p.device for p in model.parameters()} == {"cuda-sim"}
    assert trainer.history[-1]["train_loss"] < trainer.history[0]["train_loss"]


def test_label_check_catches_negative_labels_and_skips_regression_outputs():
    from minitorch_cv.train.warnings import WarnOnce, check_labels

    warn = WarnOnce()
    with warnings.catch_warnings():
        warnings.simplefilter("error", StudentWarning)
        check_labels(mt.zeros(4, 1), mt.tensor([0, 5, 7, 9]), warn)  # (N, 1): regression
        check_labels(mt.zeros(4, 3), mt.tensor([0.0, 5.0, 1.0, 2.0]), warn)  # float targets
        check_labels(mt.zeros(4, 3), mt.tensor([0, 2, 1, 2]), warn)
    with pytest.warns(StudentWarning, match="labels range from -1 to 2"):
        check_labels(mt.zeros(4, 3), mt.tensor([0, -1, 2, 1]), warn)
