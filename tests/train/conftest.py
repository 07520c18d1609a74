"""Tiny datasets and models for the train package's tests (seconds, not minutes)."""

from __future__ import annotations

import numpy as np
import pytest

import minitorch_cv as mt
from minitorch_cv import nn
from minitorch_cv.data import DataLoader, TensorDataset


def make_blobs(n: int = 240, n_features: int = 8, n_classes: int = 3, seed: int = 0):
    """Gaussian blobs around well separated centres: an easy, learnable problem."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 3, (n_classes, n_features))
    labels = np.arange(n) % n_classes
    points = centres[labels] + rng.normal(0, 1, (n, n_features))
    return points.astype(np.float32), labels.astype(np.int64)


class MLPModel(nn.Module):
    """A two-layer perceptron with public hyperparameters (for model.toml)."""

    def __init__(self, n_features: int = 8, hidden: int = 16, n_classes: int = 3,
                 dropout: float = 0.0):
        super().__init__()
        self.n_features, self.hidden, self.n_classes = n_features, hidden, n_classes
        self.dropout_p = dropout
        self.layers = nn.Sequential(nn.Linear(n_features, hidden), nn.ReLU(),
                                    nn.Dropout(dropout), nn.Linear(hidden, n_classes))

    def forward(self, x):
        return self.layers(x)


class SmallCNNModel(nn.Module):
    """Conv, batch norm, pooling and a linear head for 1x8x8 images."""

    def __init__(self, n_classes: int = 3, channels: int = 4):
        super().__init__()
        self.n_classes, self.channels = n_classes, channels
        self.features = nn.Sequential(nn.Conv2d(1, channels, 3, padding=1),
                                      nn.BatchNorm2d(channels), nn.ReLU(), nn.MaxPool2d(2))
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(channels * 16, n_classes))

    def forward(self, x):
        return self.head(self.features(x))


@pytest.fixture
def loaders():
    mt.manual_seed(0)
    x, y = make_blobs()
    train = DataLoader(TensorDataset(x[:180], y[:180]), batch_size=30, shuffle=True, seed=0)
    test = DataLoader(TensorDataset(x[180:], y[180:]), batch_size=30)
    return train, test


@pytest.fixture
def image_loaders():
    """1x8x8 images whose class is which quadrant is bright."""
    mt.manual_seed(0)
    rng = np.random.default_rng(1)
    n = 160
    labels = np.arange(n) % 3
    images = rng.normal(0, 0.3, (n, 1, 8, 8)).astype(np.float32)
    for i, label in enumerate(labels):
        r, c = divmod(int(label), 2)
        images[i, 0, r * 4:(r + 1) * 4, c * 4:(c + 1) * 4] += 1.5
    train = DataLoader(TensorDataset(images[:120], labels[:120]), batch_size=20, shuffle=True,
                       seed=0)
    test = DataLoader(TensorDataset(images[120:], labels[120:]), batch_size=20)
    return train, test


# the test modules are imported with --import-mode=importlib, so they cannot import this file:
# its helpers are handed over as fixtures
@pytest.fixture
def blobs():
    return make_blobs


@pytest.fixture
def MLP():  # noqa: N802 (the fixture stands for a class)
    return MLPModel


@pytest.fixture
def SmallCNN():  # noqa: N802
    return SmallCNNModel
