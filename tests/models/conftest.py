"""Shared helpers of the model tests.

``cheap_init`` turns every ``nn.init`` fill into a no-op for one test, so that a 138M-parameter
VGG is built in milliseconds (zero-filled, lazily allocated pages) and its parameters can be
counted from the real layer shapes without drawing 138M random numbers.
"""

from __future__ import annotations

import numpy as np
import pytest

import minitorch_cv.nn.init as init

_FILLS = ("uniform_", "normal_", "trunc_normal_", "constant_", "zeros_", "ones_",
          "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_")


@pytest.fixture
def cheap_init(monkeypatch):
    for name in _FILLS:
        monkeypatch.setattr(init, name, lambda tensor, *args, **kwargs: tensor)


def count_parameters(model) -> int:
    return sum(p.numel() for p in model.parameters())


def torch_state_dict_from(model) -> dict:
    """Our model's state dict as torch tensors (for loading into a torch reference)."""
    import torch

    return {key: torch.from_numpy(np.array(value.numpy())) for key, value in
            model.state_dict().items()}


# small-image variants whose forward/backward passes take seconds: in the ``slow`` group
SLOW_SMALL = {"resnet32", "resnet44", "resnet56", "resnet110", "resnet18_cifar",
              "densenet_cifar"}


def small_variants_with_slow_marks(names):
    return [pytest.param(name, marks=pytest.mark.slow) if name in SLOW_SMALL else name
            for name in names]
