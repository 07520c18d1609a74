"""A Ray Tune search of two trials, run locally (optional group: ``pytest -m ray``)."""

from __future__ import annotations

import importlib.util

import pytest

from minitorch_cv.train import tune_search

pytestmark = [
    pytest.mark.ray,
    pytest.mark.skipif(importlib.util.find_spec("ray") is None,
                       reason="ray is not installed (pip install 'minitorch_cv[ray]')"),
]


@pytest.fixture
def ray_session():
    import ray

    yield
    ray.shutdown()


def test_two_trials_run_locally_and_report_every_epoch(tmp_path, ray_session):
    from ray import tune

    logdir = str(tmp_path / "trial_logs")

    def train_fn(config):
        # everything the trial needs is built inside it: it runs in a Ray worker process
        import numpy as np

        import minitorch_cv as mt
        from minitorch_cv import nn, optim
        from minitorch_cv.data import DataLoader, TensorDataset
        from minitorch_cv.train import ReportTypes, Trainer, TrainerSettings, metrics

        mt.manual_seed(0)
        rng = np.random.default_rng(0)
        labels = np.arange(120) % 3
        points = (rng.normal(0, 3, (3, 4))[labels] + rng.normal(0, 1, (120, 4))).astype(
            np.float32)
        train = DataLoader(TensorDataset(points[:90], labels[:90]), batch_size=30, shuffle=True)
        test = DataLoader(TensorDataset(points[90:], labels[90:]), batch_size=30)
        model = nn.Sequential(nn.Linear(4, config["hidden"]), nn.ReLU(),
                              nn.Linear(config["hidden"], 3))
        settings = TrainerSettings(epochs=2, metrics=[metrics.Accuracy()], logdir=logdir,
                                   train_steps=len(train), valid_steps=len(test),
                                   reporttypes=[ReportTypes.RAY],
                                   optimizer_kwargs={"lr": config["lr"]}, earlystop_kwargs=None)
        Trainer(model, settings, nn.CrossEntropyLoss(), optim.Adam, train, test, None,
                quiet=True).loop()

    results = tune_search(train_fn, {"lr": tune.grid_search([1e-3, 3e-2]), "hidden": 8},
                          num_samples=1, metric="test_loss", mode="min",
                          resources_per_trial={"cpu": 1}, storage_path=tmp_path / "ray",
                          name="two_trials", verbose=0)
    assert len(results) == 2 and not results.errors
    frames = [r.metrics_dataframe for r in results]
    for frame in frames:
        assert list(frame["iterations"]) == [0, 1]
        assert {"train_loss", "test_loss", "Accuracy", "learning_rate"} <= set(frame.columns)
    best = results.get_best_result()
    assert best.config["lr"] == 3e-2  # the larger step learns more in two epochs
    assert best.metrics["test_loss"] == min(f["test_loss"].iloc[-1] for f in frames)

