"""DenseNet (Huang et al., 2017): every layer sees the concatenated maps of all layers before.

Inside a dense block, layer ``i`` gets ``in + i * growth_rate`` channels and adds
``growth_rate`` new ones (``_DenseLayer``: BN-ReLU-1x1 conv to ``bn_size * growth_rate``, then
BN-ReLU-3x3 conv to ``growth_rate``: the "BC" bottleneck form). A ``_Transition`` (BN, ReLU,
1x1 conv halving the channels, 2x2 average pool) sits between blocks. Names are torchvision's
(``features.denseblock1.denselayer1.conv1.weight``), so state dicts map one to one.

Parameter counts (224x224, 1000 classes): densenet121 7,978,856; densenet169 14,149,480;
densenet201 20,013,928. Small-image variant ``densenet_cifar`` (DenseNet-BC, growth 12, three
blocks of 6 layers, 3x3 stem, 32x32): 176,170 parameters (10 classes).
"""

from __future__ import annotations

from collections import OrderedDict

from .. import functional as F
from .. import nn
from ..autograd.tensor import Tensor
from ..ops import api
from .registry import register


class _DenseLayer(nn.Module):
    """BN-ReLU-conv1x1 (bottleneck) then BN-ReLU-conv3x3; returns only the new features.

    Shapes:
        input: a list of (N, C_i, H, W) maps (concatenated first) -> (N, growth_rate, H, W).
    """

    def __init__(self, num_input_features: int, growth_rate: int, bn_size: int,
                 drop_rate: float = 0.0):
        super().__init__()
        self.norm1 = nn.BatchNorm2d(num_input_features)
        self.relu1 = nn.ReLU(inplace=True)
        self.conv1 = nn.Conv2d(num_input_features, bn_size * growth_rate, kernel_size=1,
                               stride=1, bias=False)
        self.norm2 = nn.BatchNorm2d(bn_size * growth_rate)
        self.relu2 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(bn_size * growth_rate, growth_rate, kernel_size=3, stride=1,
                               padding=1, bias=False)
        self.drop_rate = float(drop_rate)

    def forward(self, inputs) -> Tensor:
        features = api.cat(inputs, 1) if isinstance(inputs, (list, tuple)) else inputs
        bottleneck = self.conv1(self.relu1(self.norm1(features)))
        new_features = self.conv2(self.relu2(self.norm2(bottleneck)))
        if self.drop_rate > 0:
            new_features = F.dropout(new_features, p=self.drop_rate, training=self.training)
        return new_features


class _DenseBlock(nn.ModuleDict):
    """``num_layers`` dense layers (``denselayer1`` ...); output = input and every new map,
    concatenated: ``num_input_features + num_layers * growth_rate`` channels."""

    def __init__(self, num_layers: int, num_input_features: int, bn_size: int,
                 growth_rate: int, drop_rate: float = 0.0):
        super().__init__()
        for i in range(num_layers):
            layer = _DenseLayer(num_input_features + i * growth_rate, growth_rate, bn_size,
                                drop_rate)
            self.add_module(f"denselayer{i + 1}", layer)

    def forward(self, init_features: Tensor) -> Tensor:
        features = [init_features]
        for layer in self.values():
            features.append(layer(features))
        return api.cat(features, 1)


class _Transition(nn.Sequential):
    """BN, ReLU, 1x1 conv (compression), 2x2/2 average pool."""

    def __init__(self, num_input_features: int, num_output_features: int):
        super().__init__()
        self.add_module("norm", nn.BatchNorm2d(num_input_features))
        self.add_module("relu", nn.ReLU(inplace=True))
        self.add_module("conv", nn.Conv2d(num_input_features, num_output_features,
                                          kernel_size=1, stride=1, bias=False))
        self.add_module("pool", nn.AvgPool2d(kernel_size=2, stride=2))


class DenseNet(nn.Module):
    """``features`` (stem, dense blocks, transitions, ``norm5``), ReLU, global average pool,
    ``classifier``.

    Args:
        growth_rate: k, new channels per layer (32).
        block_config: layers per dense block ((6, 12, 24, 16) for DenseNet-121).
        num_init_features: channels of the stem conv (64).
        bn_size: bottleneck width factor (the 1x1 conv gives ``bn_size * k`` channels).
        stem: "imagenet" (7x7/2 conv, BN, ReLU, 3x3/2 max pool) or "cifar" (3x3 conv, BN,
            ReLU: no downsampling).
    """

    def __init__(self, growth_rate: int = 32, block_config=(6, 12, 24, 16),
                 num_init_features: int = 64, bn_size: int = 4, drop_rate: float = 0.0,
                 num_classes: int = 1000, in_channels: int = 3, stem: str = "imagenet"):
        super().__init__()
        self.block_config = tuple(block_config)
        if stem == "imagenet":
            layers = [("conv0", nn.Conv2d(in_channels, num_init_features, kernel_size=7,
                                          stride=2, padding=3, bias=False)),
                      ("norm0", nn.BatchNorm2d(num_init_features)),
                      ("relu0", nn.ReLU(inplace=True)),
                      ("pool0", nn.MaxPool2d(kernel_size=3, stride=2, padding=1))]
        elif stem == "cifar":
            layers = [("conv0", nn.Conv2d(in_channels, num_init_features, kernel_size=3,
                                          padding=1, bias=False)),
                      ("norm0", nn.BatchNorm2d(num_init_features)),
                      ("relu0", nn.ReLU(inplace=True))]
        else:
            raise ValueError(f"stem must be 'imagenet' or 'cifar', got {stem!r}")
        self.features = nn.Sequential(OrderedDict(layers))
        channels = num_init_features
        for i, num_layers in enumerate(self.block_config):
            block = _DenseBlock(num_layers, channels, bn_size, growth_rate, drop_rate)
            self.features.add_module(f"denseblock{i + 1}", block)
            channels += num_layers * growth_rate
            if i != len(self.block_config) - 1:
                self.features.add_module(f"transition{i + 1}", _Transition(channels,
                                                                          channels // 2))
                channels //= 2
        self.features.add_module("norm5", nn.BatchNorm2d(channels))
        self.classifier = nn.Linear(channels, num_classes)
        for module in self.modules():  # torchvision's init
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight)
            elif isinstance(module, nn.BatchNorm2d):
                nn.init.constant_(module.weight, 1)
                nn.init.constant_(module.bias, 0)
            elif isinstance(module, nn.Linear):
                nn.init.constant_(module.bias, 0)

    def forward(self, x: Tensor) -> Tensor:
        out = F.relu(self.features(x))
        out = F.adaptive_avg_pool2d(out, (1, 1)).flatten(1)
        return self.classifier(out)


def _densenet(name: str, block_config: tuple[int, ...]):
    @register(name, (3, 224, 224), "densenet", torchvision=name)
    def factory(**kwargs) -> DenseNet:
        return DenseNet(32, block_config, 64, **kwargs)

    factory.__doc__ = f"DenseNet-{name[8:]}: growth 32, blocks {block_config}."
    factory.__name__ = factory.__qualname__ = name
    return factory


densenet121 = _densenet("densenet121", (6, 12, 24, 16))
densenet169 = _densenet("densenet169", (6, 12, 32, 32))
densenet201 = _densenet("densenet201", (6, 12, 48, 32))


@register("densenet_cifar", (3, 32, 32), "densenet", small=True)
def densenet_cifar(num_classes: int = 10, **kwargs) -> DenseNet:
    """DenseNet-BC for 32x32: growth 12, blocks (6, 6, 6), 3x3 stem with 24 channels."""
    kwargs.setdefault("growth_rate", 12)
    kwargs.setdefault("block_config", (6, 6, 6))
    kwargs.setdefault("num_init_features", 24)
    return DenseNet(num_classes=num_classes, stem="cifar", **kwargs)
