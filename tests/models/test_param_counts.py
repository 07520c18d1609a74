"""Parameter counts equal torchvision's (224x224, 1000 classes) and the documented ones."""

from __future__ import annotations

import pytest

from minitorch_cv import models

from .conftest import count_parameters

TORCHVISION_COUNTS = {
    "alexnet": 61_100_840,
    "vgg11": 132_863_336,
    "vgg11_bn": 132_868_840,
    "vgg13": 133_047_848,
    "vgg13_bn": 133_053_736,
    "vgg16": 138_357_544,
    "vgg16_bn": 138_365_992,
    "vgg19": 143_667_240,
    "vgg19_bn": 143_678_248,
    "googlenet": 6_624_904,  # without the auxiliary heads
    "resnet18": 11_689_512,
    "resnet34": 21_797_672,
    "resnet50": 25_557_032,
    "resnet101": 44_549_160,
    "resnet152": 60_192_808,
    "wide_resnet50_2": 68_883_240,
    "resnext50_32x4d": 25_028_904,
    "densenet121": 7_978_856,
    "densenet169": 14_149_480,
    "densenet201": 20_013_928,
    "squeezenet1_0": 1_248_424,
    "squeezenet1_1": 1_235_496,
}

OTHER_COUNTS = {
    "se_resnet50": 28_088_024,  # SE with biased FCs after bn3, reduction 16
    "lenet5": 61_706,  # modern form, 28x28
    "lenet5_1998": 61_706,
    "alexnet_paper": 60_965_224,
    # the CIFAR ResNets of the paper, option-A (parameter-free) shortcuts
    "resnet20": 269_722,
    "resnet32": 464_154,
    "resnet44": 658_586,
    "resnet56": 853_018,
    "resnet110": 1_727_962,
    "resnet18_cifar": 11_173_962,
    # small-image variants, as documented in their docstrings
    "alexnet_small": 448_202,
    "vgg11_small": 383_914,
    "nin": 7_439_608,
    "nin_small": 181_158,
    "googlenet_small": 90_306,
    "resnext_cifar": 247_898,
    "se_resnet_cifar": 242_834,
    "densenet_cifar": 176_170,
    "squeezenet_cifar": 727_626,
    "highway": 432_010,
    "neural_network": 269_322,
    "cnn_blocks": 115_594,
}


@pytest.mark.parametrize("name", sorted(TORCHVISION_COUNTS))
def test_torchvision_parameter_counts(name, cheap_init):
    model = models.get(name)
    assert count_parameters(model) == TORCHVISION_COUNTS[name]
    assert models.entry(name).torchvision == name


@pytest.mark.parametrize("name", sorted(OTHER_COUNTS))
def test_other_parameter_counts(name, cheap_init):
    assert count_parameters(models.get(name)) == OTHER_COUNTS[name]


def test_every_registered_model_has_a_count():
    assert set(models.list()) == set(TORCHVISION_COUNTS) | set(OTHER_COUNTS)


def test_documented_counts_appear_in_the_docstrings():
    import importlib

    for name, count in OTHER_COUNTS.items():
        factory = models.entry(name).factory
        module = importlib.import_module(factory.__module__)
        text = (module.__doc__ or "") + (factory.__doc__ or "")
        assert f"{count:,}" in text, f"{name}: {count:,} is not documented"


def test_variants_with_options(cheap_init):
    assert count_parameters(models.get("googlenet", aux_logits=True)) == 13_004_888
    assert count_parameters(models.get("alexnet_paper", groups=1)) == 62_378_344
    # num_classes only changes the last layer: 512 * (10 - 1000) fewer weights and biases
    assert count_parameters(models.get("resnet18", num_classes=10)) == 11_689_512 - 990 * 513
    # in_channels only changes the first conv: 64 * 7 * 7 * (1 - 3)
    assert count_parameters(models.get("resnet18", in_channels=1)) == 11_689_512 - 2 * 64 * 49


@pytest.mark.parametrize("name", sorted(TORCHVISION_COUNTS) + sorted(OTHER_COUNTS))
def test_every_factory_takes_num_classes_and_in_channels(name, cheap_init):
    from minitorch_cv import nn

    model = models.get(name, num_classes=7, in_channels=2)
    layers = [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    first, last = layers[0], layers[-1]
    if isinstance(first, nn.Conv2d):
        assert first.in_channels == 2
    else:  # fully connected models see the flattened image
        assert first.in_features == 2 * 28 * 28
    assert (last.out_channels if isinstance(last, nn.Conv2d) else last.out_features) == 7
