"""The Trainer when things go wrong: a loss that becomes inf or nan, a run that is resumed
from its last-epoch checkpoint (bit for bit equal to an uninterrupted run), Ctrl-C."""

from __future__ import annotations

import math

import numpy as np
import pytest

import minitorch_cv as mt
from minitorch_cv import nn, optim
from minitorch_cv.data import DataLoader, TensorDataset
from minitorch_cv.train import StudentWarning, Trainer, TrainerSettings, metrics


def _settings(tmp_path, train, test, epochs, steps=None, **overrides):
    kwargs = dict(epochs=epochs, metrics=[metrics.Accuracy()], logdir=tmp_path / "logs",
                  train_steps=steps or len(train), valid_steps=len(test), reporttypes=[],
                  optimizer_kwargs={"lr": 1e-2}, scheduler_kwargs={"step_size": 1, "gamma": 0.7},
                  earlystop_kwargs={"patience": 10})
    kwargs.update(overrides)
    return TrainerSettings(**kwargs)


class LossBecomes:
    """Cross-entropy that returns ``value`` on call number ``at`` (counting from 1)."""

    def __init__(self, at: int, value: float):
        self.calls, self.at, self.value, self.inner = 0, at, value, nn.CrossEntropyLoss()

    def __call__(self, yhat, y):
        self.calls += 1
        loss = self.inner(yhat, y)
        return loss * self.value if self.calls == self.at else loss


def _snapshot(trainer):
    return ({k: v.numpy().copy() for k, v in trainer.model.state_dict().items()},
            {i: {k: np.array(v.numpy() if isinstance(v, mt.Tensor) else v) for k, v in s.items()}
             for i, s in trainer.optimizer.state_dict()["state"].items()})


def _assert_state_equal(a, b):
    assert a[0].keys() == b[0].keys()
    for key in a[0]:
        np.testing.assert_array_equal(a[0][key], b[0][key], err_msg=key)
    assert a[1].keys() == b[1].keys()
    for index in a[1]:
        for key in a[1][index]:
            np.testing.assert_array_equal(a[1][index][key], b[1][index][key])


@pytest.mark.parametrize("value", [float("inf"), float("-inf"), float("nan")])
def test_a_non_finite_loss_stops_before_backward_and_restores_model_and_optimizer(
        tmp_path, loaders, MLP, value):
    train, test = loaders
    # epoch 0: 6 train + 2 test calls; then 3 good steps of epoch 1; the 4th (step 3) is bad
    loss_fn = LossBecomes(at=6 + 2 + 4, value=value)
    trainer = Trainer(MLP(), _settings(tmp_path, train, test, 4), loss_fn, optim.Adam, train,
                      test, optim.lr_scheduler.StepLR, quiet=True)
    after_epoch_0 = {}
    original = trainer.report

    def report(*args):
        original(*args)
        after_epoch_0["state"] = _snapshot(trainer)

    trainer.report = report
    word = "nan" if math.isnan(value) else repr(value)
    with pytest.warns(StudentWarning, match=rf"became {word} at epoch 1, step 3 \(training step"
                                            rf" 9 in total\), before its backward pass.*"
                                            r"restored to the start of epoch 1"):
        trainer.loop()
    assert trainer.diverged and trainer.last_epoch == 1
    _assert_state_equal(_snapshot(trainer), after_epoch_0["state"])  # optimizer state too


def test_a_state_with_non_finite_weights_is_never_kept_as_the_good_one(tmp_path, loaders, MLP):
    train, test = loaders
    trainer = Trainer(MLP(), _settings(tmp_path, train, test, 4), nn.CrossEntropyLoss(),
                      optim.SGD, train, test, None, quiet=True)
    start = _snapshot(trainer)
    original = trainer.report

    def report(*args):  # after epoch 0 a weight becomes inf (as a too-large step would do)
        original(*args)
        trainer.model.layers[0].weight.array[0, 0] = np.inf

    trainer.report = report
    with pytest.warns(StudentWarning, match=r"epoch 1, step 0 .*restored to the start of "
                                            r"epoch 0, the last state whose values were all"):
        trainer.loop()
    np.testing.assert_array_equal(trainer.model.layers[0].weight.detach().numpy(),
                                  start[0]["layers.0.weight"])


def test_weights_that_were_never_finite_are_not_claimed_restored(tmp_path, loaders, MLP):
    train, test = loaders
    model = MLP()
    model.layers[0].weight.array[:] = np.nan
    trainer = Trainer(model, _settings(tmp_path, train, test, 2), nn.CrossEntropyLoss(),
                      optim.SGD, train, test, None, quiet=True)
    with pytest.warns(StudentWarning, match="epoch 0, step 0 .*NOT restored"):
        trainer.loop()
    assert trainer.diverged


def _run(tmp_path, name, epochs, steps, resume=None, loader_seed=0, total=None):
    mt.manual_seed(7)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((150, 8)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64) + (x[:, 1] > 0)
    # dropout and a shuffling loader: both random streams must continue exactly
    model = nn.Sequential(nn.Linear(8, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout(0.3),
                          nn.Linear(16, 3))
    train = DataLoader(TensorDataset(x[:120], y[:120]), batch_size=16, shuffle=True,
                       seed=loader_seed)
    test = DataLoader(TensorDataset(x[120:], y[120:]), batch_size=15)
    settings = _settings(tmp_path / name, train, test, epochs, steps)
    trainer = Trainer(model, settings, nn.CrossEntropyLoss(), optim.AdamW, train, test,
                      optim.lr_scheduler.StepLR, quiet=True, resume=resume)
    trainer.loop()
    return trainer


@pytest.mark.parametrize("steps, loader_seed", [(None, 0), (5, 0), (5, None)])
def test_resumed_training_equals_uninterrupted_training_bit_for_bit(tmp_path, steps,
                                                                    loader_seed):
    """4 epochs in one go == 2 epochs, then a new process-like start from the checkpoint.
    steps=5 of 8 batches: the batch iterator is resumed in the middle of a pass; seed None:
    the loader shuffles with the global generator."""
    straight = _run(tmp_path, "straight", 4, steps, loader_seed=loader_seed)
    first = _run(tmp_path, "first", 2, steps, loader_seed=loader_seed)
    assert first.checkpoint_path.exists()
    mt.manual_seed(12345)  # whatever happened in between
    mt.randn(10)
    resumed = _run(tmp_path, "resumed", 4, steps, resume=first.log_dir, loader_seed=loader_seed)
    assert resumed.log_dir == first.log_dir and resumed.last_epoch == 4
    assert [h["train_loss"] for h in resumed.history] == [h["train_loss"] for h in
                                                          straight.history]
    _assert_state_equal(_snapshot(resumed), _snapshot(straight))
    assert resumed.scheduler.state_dict() == straight.scheduler.state_dict()
    assert resumed.early_stopping.best_loss == straight.early_stopping.best_loss
    np.testing.assert_array_equal(mt.randn(4).numpy(), (_run(tmp_path, "again", 4, steps,
                                                             loader_seed=loader_seed),
                                                        mt.randn(4).numpy())[1])


def test_load_checkpoint_and_bad_resume_paths(tmp_path):
    first = _run(tmp_path, "a", 1, None)
    other = _run(tmp_path, "b", 3, None)
    other.load_checkpoint(first.checkpoint_path)
    assert other.last_epoch == 1
    with pytest.raises(FileNotFoundError, match="last_epoch.safetensors"):
        _run(tmp_path, "c", 1, None, resume=tmp_path / "nowhere")
    weights = tmp_path / "weights.safetensors"
    mt.save(first.model.state_dict(), weights)
    with pytest.raises(ValueError, match="not a Trainer checkpoint"):
        other.load_checkpoint(weights)
