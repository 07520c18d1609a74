"""EarlyStopping: the rule ``val_loss + delta >= best`` is no improvement; the best weights are
saved as safetensors and restored when the Trainer stops."""

from __future__ import annotations

import math

import numpy as np
import pytest
from safetensors.numpy import load_file

import minitorch_cv as mt
from minitorch_cv import nn, optim
from minitorch_cv.train import EarlyStopping, Trainer, TrainerSettings, metrics


def counters(stopper, losses, model):
    out = []
    for loss in losses:
        stopper(loss, model)
        out.append((stopper.counter, stopper.early_stop))
    return out


def test_rule_without_delta(tmp_path, MLP):
    stopper = EarlyStopping(tmp_path, patience=2)
    # 0.9 improves; an equal loss does not (>=); 0.8 improves and resets; two worse stop
    assert counters(stopper, [1.0, 0.9, 0.9, 0.8, 0.85, 0.81], MLP()) == [
        (0, False), (0, False), (1, False), (0, False), (1, False), (2, True)]
    assert stopper.best_loss == 0.8


def test_rule_with_delta(tmp_path, MLP):
    stopper = EarlyStopping(tmp_path, patience=3, delta=0.05)
    # 0.96 + 0.05 >= 1.0: too small a gain; 0.94 + 0.05 < 1.0: an improvement
    assert counters(stopper, [1.0, 0.96, 0.94, 0.90, 0.88], MLP()) == [
        (0, False), (1, False), (0, False), (1, False), (0, False)]
    assert stopper.best_loss == 0.88


def test_nan_is_never_an_improvement(tmp_path, MLP):
    stopper = EarlyStopping(tmp_path, patience=2)
    assert counters(stopper, [1.0, math.nan, math.nan], MLP()) == [
        (0, False), (1, False), (2, True)]
    assert stopper.best_loss == 1.0


def test_save_writes_safetensors_at_improvements_and_get_best_restores(tmp_path, MLP):
    model = MLP()
    stopper = EarlyStopping(tmp_path, patience=5, save=True)
    stopper(1.0, model)
    best = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    assert stopper.path.name == "checkpoint.safetensors"
    on_disk = load_file(str(stopper.path))  # plain safetensors: no pickle involved
    for name, value in best.items():
        np.testing.assert_array_equal(on_disk[name], value)
    with mt.no_grad():
        for p in model.parameters():
            p.add_(1.0)
    stopper(1.5, model)  # worse: the checkpoint keeps the best weights
    np.testing.assert_array_equal(load_file(str(stopper.path))["layers.0.weight"],
                                  best["layers.0.weight"])
    assert stopper.get_best() is model
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), best[name])


def test_without_save_nothing_is_written(tmp_path, MLP):
    stopper = EarlyStopping(tmp_path, patience=1)
    stopper(1.0, MLP())
    assert not stopper.path.exists()
    with pytest.raises(FileNotFoundError, match="save=True"):
        stopper.get_best()


class RisingTestLoss:
    """Cross-entropy, plus 10 * (evaluation number) during evaluation: the test loss is best
    after epoch 0 and worse every epoch after it, while training is unaffected."""

    def __init__(self):
        self.inner, self.evaluations, self.grad_was_on = nn.CrossEntropyLoss(), -1, True

    def __call__(self, yhat, y):
        loss = self.inner(yhat, y)
        if mt.is_grad_enabled():
            self.grad_was_on = True
            return loss
        if self.grad_was_on:  # first evaluation batch of a new epoch
            self.evaluations += 1
            self.grad_was_on = False
        return loss + 10.0 * self.evaluations


def test_trainer_stops_and_restores_the_best_weights(tmp_path, loaders, MLP):
    train, test = loaders
    model = MLP()
    settings = TrainerSettings(epochs=10, metrics=[metrics.Accuracy()], logdir=tmp_path,
                               train_steps=len(train), valid_steps=len(test), reporttypes=[],
                               optimizer_kwargs={"lr": 0.05},
                               earlystop_kwargs={"save": True, "verbose": False,
                                                 "patience": 2})
    trainer = Trainer(model, settings, RisingTestLoss(), optim.SGD, train, test, None,
                      quiet=True)
    weights = []
    original_report = trainer.report

    def report(*args):
        original_report(*args)
        weights.append({k: v.numpy().copy() for k, v in model.state_dict().items()})

    trainer.report = report
    trainer.loop()
    assert trainer.last_epoch == 3  # epoch 0 best, epochs 1 and 2 without improvement
    assert "early stopping after epoch 2" in trainer.stopped
    assert trainer.early_stopping.path.parent == trainer.log_dir
    assert not np.array_equal(weights[0]["layers.0.weight"], weights[2]["layers.0.weight"])
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), weights[0][name])
