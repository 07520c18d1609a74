"""``summary()`` runs on every registered model at its natural input size and agrees with
the models' own parameter counts and with ``models.analyze``'s multiply-adds (two separate
implementations). The 224x224 models take seconds each: they are in the ``slow`` group."""

from __future__ import annotations

import pytest

import minitorch_cv as mt
from minitorch_cv import models

from .conftest import count_parameters, small_variants_with_slow_marks


def check_summary(name):
    model = models.get(name)
    result = mt.summary(model, (1, *models.input_size(name)))
    assert result.total_params == count_parameters(model)
    assert result.layers, "no layer rows"
    text = str(result)
    assert f"{result.total_params:,}" in text
    return result


@pytest.mark.parametrize("name", small_variants_with_slow_marks(models.list(small=True)))
def test_summary_small_variants(name):
    check_summary(name)


@pytest.mark.parametrize("name", ["lenet5", "alexnet_small", "resnet20", "squeezenet_cifar"])
def test_summary_and_analyze_count_the_same_multiply_adds(name):
    result = mt.summary(models.get(name), (1, *models.input_size(name)))
    assert result.total_mult_adds == models.analyze(name).macs


@pytest.mark.slow
@pytest.mark.parametrize("name", models.list(small=False))
def test_summary_full_size(name, cheap_init):
    check_summary(name)
