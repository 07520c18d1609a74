"""AlexNet (Krizhevsky, Sutskever & Hinton, 2012): the network that started the deep era.

Five convolutions (the first 11x11 with stride 4), overlapping 3x3/2 max pooling, ReLU, dropout
in the two 4096-unit hidden layers. The spec is data: one ``ConvSpec`` per convolution.

- ``alexnet``: torchvision's form (64-192-384-256-256 filters, padding 2 in the first conv,
  no LRN, an adaptive 6x6 average pool): 61,100,840 parameters (224x224, 1000 classes).
- ``alexnet_paper``: the paper's (96-256-384-384-256 filters, local response normalisation
  after the first two ReLUs, conv2/4/5 split in two groups as the two GPUs were, 227x227
  input): 60,965,224 parameters; with ``groups=1`` (one GPU) 62,378,344.
- ``alexnet_small``: the same layer pattern for 28x28 / 32x32 (3x3 kernels, stride 1,
  32-64-128-128-64 filters, 256 hidden units): 448,202 parameters (1x28x28, 10 classes).
"""

from __future__ import annotations

from typing import NamedTuple

from .. import nn
from ..autograd.tensor import Tensor
from .registry import register


class ConvSpec(NamedTuple):
    """One convolution of AlexNet's feature extractor (followed by ReLU)."""

    out_channels: int
    kernel_size: int
    stride: int = 1
    padding: int = 0
    groups: int = 1
    lrn: bool = False  # LocalResponseNorm(5, 1e-4, 0.75, 2) after the ReLU
    pool: bool = False  # MaxPool2d(3, 2) at the end


TORCHVISION = (
    ConvSpec(64, 11, 4, 2, pool=True),
    ConvSpec(192, 5, 1, 2, pool=True),
    ConvSpec(384, 3, 1, 1),
    ConvSpec(256, 3, 1, 1),
    ConvSpec(256, 3, 1, 1, pool=True),
)
PAPER = (
    ConvSpec(96, 11, 4, 0, lrn=True, pool=True),
    ConvSpec(256, 5, 1, 2, groups=2, lrn=True, pool=True),
    ConvSpec(384, 3, 1, 1),
    ConvSpec(384, 3, 1, 1, groups=2),
    ConvSpec(256, 3, 1, 1, groups=2, pool=True),
)
SMALL = (
    ConvSpec(32, 3, 1, 1, pool=True),
    ConvSpec(64, 3, 1, 1, pool=True),
    ConvSpec(128, 3, 1, 1),
    ConvSpec(128, 3, 1, 1),
    ConvSpec(64, 3, 1, 1, pool=True),
)


class AlexNet(nn.Module):
    """``features`` -> ``avgpool`` (adaptive, ``pool_size``) -> ``classifier``.

    The classifier is torchvision's: Dropout, Linear, ReLU, Dropout, Linear, ReLU, Linear.

    Args:
        arch: the ``ConvSpec`` of each convolution.
        hidden: units of the two hidden layers (4096).
        pool_size: side of the adaptive average pool (6 for 224x224).
        groups: if given, overrides the groups of every conv that has more than one
            (``groups=1`` is the one-GPU paper model).
    """

    def __init__(self, arch=TORCHVISION, num_classes: int = 1000, in_channels: int = 3,
                 hidden: int = 4096, pool_size: int = 6, dropout: float = 0.5,
                 groups: int | None = None):
        super().__init__()
        self.arch = tuple(ConvSpec(*spec) for spec in arch)
        layers: list[nn.Module] = []
        channels = in_channels
        for spec in self.arch:
            conv_groups = spec.groups if groups is None or spec.groups == 1 else groups
            layers.append(nn.Conv2d(channels, spec.out_channels, spec.kernel_size, spec.stride,
                                    spec.padding, groups=conv_groups))
            layers.append(nn.ReLU(inplace=True))
            if spec.lrn:
                layers.append(nn.LocalResponseNorm(size=5, alpha=1e-4, beta=0.75, k=2.0))
            if spec.pool:
                layers.append(nn.MaxPool2d(kernel_size=3, stride=2))
            channels = spec.out_channels
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d((pool_size, pool_size))
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout),
            nn.Linear(channels * pool_size * pool_size, hidden),
            nn.ReLU(inplace=True),
            nn.Dropout(p=dropout),
            nn.Linear(hidden, hidden),
            nn.ReLU(inplace=True),
            nn.Linear(hidden, num_classes),
        )

    def forward(self, x: Tensor) -> Tensor:
        x = self.avgpool(self.features(x))
        return self.classifier(x.flatten(1))


@register("alexnet", (3, 224, 224), "alexnet", torchvision="alexnet")
def alexnet(**kwargs) -> AlexNet:
    """AlexNet as in torchvision; 61,100,840 parameters."""
    return AlexNet(TORCHVISION, **kwargs)


@register("alexnet_paper", (3, 227, 227), "alexnet")
def alexnet_paper(**kwargs) -> AlexNet:
    """AlexNet as in the paper: LRN, two groups, 227x227 input; 60,965,224 parameters."""
    return AlexNet(PAPER, **kwargs)


@register("alexnet_small", (1, 28, 28), "alexnet", small=True)
def alexnet_small(num_classes: int = 10, in_channels: int = 1, **kwargs) -> AlexNet:
    """AlexNet's pattern for 28x28 / 32x32 input (3x3 kernels, 256 hidden units)."""
    kwargs.setdefault("hidden", 256)
    kwargs.setdefault("pool_size", 2)
    return AlexNet(SMALL, num_classes=num_classes, in_channels=in_channels, **kwargs)
