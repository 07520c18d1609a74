"""Initialisation statistics match torch's (mean, std and range over large layers, within
sampling error), fans are torch's, and manual_seed makes initialisation repeatable."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import minitorch_cv as mt
import minitorch_cv.nn as nn
from minitorch_cv.nn import init


def _assert_same_distribution(ours: np.ndarray, theirs: np.ndarray, what: str,
                              bounded: bool = True) -> None:
    """Means and stds agree within 6 standard errors (a false alarm is ~1e-9 likely; a wrong
    bound or gain is off by far more); bounded distributions also share their range."""
    ours, theirs = ours.astype(np.float64).ravel(), theirs.astype(np.float64).ravel()
    n = ours.size
    sigma = theirs.std()
    assert abs(ours.mean() - theirs.mean()) <= 6 * sigma * math.sqrt(2 / n), what
    assert abs(ours.std() - sigma) <= 6 * sigma * math.sqrt(1 / n), what
    if bounded and np.ptp(theirs) > 0:
        # the sample minimum sits about ptp/n above the bound: allow several such gaps
        tolerance = np.ptp(theirs) * (0.01 + 8 / n)
        assert abs(ours.min() - theirs.min()) < tolerance, what
        assert abs(ours.max() - theirs.max()) < tolerance, what


LAYERS = [
    ("linear", lambda: nn.Linear(400, 300), lambda: torch.nn.Linear(400, 300)),
    ("conv", lambda: nn.Conv2d(64, 128, 3), lambda: torch.nn.Conv2d(64, 128, 3)),
    ("conv_groups", lambda: nn.Conv2d(64, 128, 5, groups=4),
     lambda: torch.nn.Conv2d(64, 128, 5, groups=4)),
    ("batchnorm", lambda: nn.BatchNorm2d(512), lambda: torch.nn.BatchNorm2d(512)),
]


@pytest.mark.parametrize("name,ours,theirs", LAYERS, ids=[c[0] for c in LAYERS])
def test_default_init_statistics_match_torch(name, ours, theirs):
    mt.manual_seed(0)
    torch.manual_seed(0)
    mine, ref = ours(), theirs()
    for (key, p), (key_ref, q) in zip(mine.named_parameters(), ref.named_parameters()):
        assert key == key_ref and p.shape == tuple(q.shape) and p.dtype == np.float32
        _assert_same_distribution(p.detach().numpy(), q.detach().numpy(), f"{name}.{key}")


def _big():
    return mt.empty(256, 128, 3, 3)


INITS = [
    ("uniform", lambda t: init.uniform_(t, -0.3, 0.7), lambda t: torch.nn.init.uniform_(
        t, -0.3, 0.7)),
    ("normal", lambda t: init.normal_(t, 0.5, 2.0), lambda t: torch.nn.init.normal_(t, 0.5, 2)),
    ("trunc_normal", lambda t: init.trunc_normal_(t, 0.1, 1.0, -1.0, 1.5),
     lambda t: torch.nn.init.trunc_normal_(t, 0.1, 1.0, -1.0, 1.5)),
    ("xavier_uniform", lambda t: init.xavier_uniform_(t, gain=2.0),
     lambda t: torch.nn.init.xavier_uniform_(t, gain=2.0)),
    ("xavier_normal", init.xavier_normal_, torch.nn.init.xavier_normal_),
    ("kaiming_uniform", init.kaiming_uniform_, torch.nn.init.kaiming_uniform_),
    ("kaiming_uniform_relu_fan_out",
     lambda t: init.kaiming_uniform_(t, mode="fan_out", nonlinearity="relu"),
     lambda t: torch.nn.init.kaiming_uniform_(t, mode="fan_out", nonlinearity="relu")),
    ("kaiming_normal_a", lambda t: init.kaiming_normal_(t, a=0.2),
     lambda t: torch.nn.init.kaiming_normal_(t, a=0.2)),
    ("kaiming_normal_relu", lambda t: init.kaiming_normal_(t, nonlinearity="relu"),
     lambda t: torch.nn.init.kaiming_normal_(t, nonlinearity="relu")),
]


@pytest.mark.parametrize("name,ours,theirs", INITS, ids=[c[0] for c in INITS])
def test_init_functions_match_torch_statistics(name, ours, theirs):
    mt.manual_seed(1)
    torch.manual_seed(1)
    mine = ours(_big())
    ref = theirs(torch.empty(256, 128, 3, 3))
    assert isinstance(mine, mt.Tensor) and mine.shape == tuple(ref.shape)
    bounded = "normal" not in name or name == "trunc_normal"
    _assert_same_distribution(mine.numpy(), ref.numpy(), name, bounded)


def test_constant_inits_and_fans_and_gains():
    t = mt.empty(3, 4)
    assert np.all(init.zeros_(t).numpy() == 0)
    assert np.all(init.ones_(t).numpy() == 1)
    assert np.all(init.constant_(t, 0.25).numpy() == 0.25)
    for shape in [(5, 3), (8, 4, 3, 2), (2, 6, 5)]:
        assert init._calculate_fan_in_and_fan_out(mt.empty(*shape)) == \
            torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(*shape))
    with pytest.raises(ValueError, match="fewer than 2"):
        init.kaiming_uniform_(mt.empty(5))
    for args in [("linear",), ("relu",), ("tanh",), ("leaky_relu",), ("leaky_relu", 0.2),
                 ("selu",), ("conv2d",), ("sigmoid",)]:
        assert init.calculate_gain(*args) == pytest.approx(torch.nn.init.calculate_gain(*args))
    with pytest.raises(ValueError, match="unsupported nonlinearity"):
        init.calculate_gain("swish")


def test_inits_work_on_parameters_that_require_grad_and_are_seeded():
    mt.manual_seed(7)
    first = nn.Conv2d(3, 4, 3).weight.detach().numpy().copy()
    mt.manual_seed(7)
    second = nn.Conv2d(3, 4, 3).weight.detach().numpy().copy()
    np.testing.assert_array_equal(first, second)
    p = nn.Linear(4, 4).weight
    init.kaiming_normal_(p)
    assert p.requires_grad and p.grad_fn is None
    bound = 1 / math.sqrt(4)
    assert np.abs(nn.Linear(4, 4).bias.detach().numpy()).max() <= bound
