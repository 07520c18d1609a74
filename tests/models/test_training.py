"""Every small-image variant trains: a few Adam steps on one fixed batch lower the loss.

The seed is reset before every forward pass, so dropout draws the same masks each time and
the loss is one fixed function of the weights; it must fall. The deep CIFAR ResNets, the
11M-parameter ResNet-18 and DenseNet are in the ``slow`` group (``pytest -m slow``).
"""

from __future__ import annotations

import numpy as np
import pytest

import minitorch_cv as mt
import minitorch_cv.functional as F
from minitorch_cv import models, optim

from .conftest import SLOW_SMALL, small_variants_with_slow_marks

SMALL = models.list(small=True)


def losses_on_a_fixed_batch(name: str, steps: int = 2, batch: int = 2) -> list[float]:
    mt.manual_seed(0)
    model = models.get(name)
    channels, height, width = models.input_size(name)
    rng = np.random.default_rng(0)
    x = mt.tensor(rng.standard_normal((batch, channels, height, width)).astype(np.float32))
    y = mt.tensor(np.arange(batch) % 10)
    optimizer = optim.Adam(model.parameters(), lr=1e-3)
    model.train()
    losses = []
    for step in range(steps + 1):
        mt.manual_seed(1)  # the same dropout masks in every pass
        loss = F.cross_entropy(model(x), y)
        losses.append(loss.item())
        if step < steps:
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return losses


@pytest.mark.parametrize("name", small_variants_with_slow_marks(SMALL))
def test_small_variant_trains(name):
    losses = losses_on_a_fixed_batch(name)
    assert all(np.isfinite(losses)), losses
    assert losses[-1] < losses[0], f"{name}: loss did not fall: {losses}"


def test_every_family_has_a_small_variant():
    families = {models.entry(name).family for name in models.list()}
    assert families == {models.entry(name).family for name in SMALL}
    assert SLOW_SMALL <= set(SMALL)
