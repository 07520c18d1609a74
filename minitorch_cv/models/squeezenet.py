"""SqueezeNet (Iandola et al., 2016): AlexNet's accuracy with 50x fewer parameters.

A ``Fire`` module squeezes with 1x1 convs to few channels, then expands with 1x1 and 3x3
convs side by side and concatenates them. There is no fully connected layer: a final 1x1 conv
gives one map per class, averaged globally. The spec is data (``SQUEEZENET1_0`` ...): a
``("conv", out, kernel, stride, padding)`` stem, ``"pool"`` for 3x3/2 max pooling (ceil mode)
and ``(squeeze, expand1x1, expand3x3)`` for a Fire module; ``features`` is one flat
``Sequential`` with torchvision's indices.

Parameter counts (224x224, 1000 classes): squeezenet1_0 1,248,424; squeezenet1_1 1,235,496.
Small-image variant ``squeezenet_cifar`` (1.1's plan with a 3x3/1 stem, 32x32): 727,626
parameters (10 classes).
"""

from __future__ import annotations

from .. import nn
from ..autograd.tensor import Tensor
from ..ops import api
from .registry import register


class Fire(nn.Module):
    """squeeze (1x1) -> ReLU -> [expand1x1 -> ReLU, expand3x3 -> ReLU] concatenated.

    Shapes:
        input (N, inplanes, H, W) -> (N, expand1x1_planes + expand3x3_planes, H, W).
    """

    def __init__(self, inplanes: int, squeeze_planes: int, expand1x1_planes: int,
                 expand3x3_planes: int):
        super().__init__()
        self.inplanes = inplanes
        self.squeeze = nn.Conv2d(inplanes, squeeze_planes, kernel_size=1)
        self.squeeze_activation = nn.ReLU(inplace=True)
        self.expand1x1 = nn.Conv2d(squeeze_planes, expand1x1_planes, kernel_size=1)
        self.expand1x1_activation = nn.ReLU(inplace=True)
        self.expand3x3 = nn.Conv2d(squeeze_planes, expand3x3_planes, kernel_size=3, padding=1)
        self.expand3x3_activation = nn.ReLU(inplace=True)

    def forward(self, x: Tensor) -> Tensor:
        x = self.squeeze_activation(self.squeeze(x))
        return api.cat([self.expand1x1_activation(self.expand1x1(x)),
                        self.expand3x3_activation(self.expand3x3(x))], 1)


SQUEEZENET1_0 = (("conv", 96, 7, 2, 0), "pool", (16, 64, 64), (16, 64, 64), (32, 128, 128),
                 "pool", (32, 128, 128), (48, 192, 192), (48, 192, 192), (64, 256, 256), "pool",
                 (64, 256, 256))
SQUEEZENET1_1 = (("conv", 64, 3, 2, 0), "pool", (16, 64, 64), (16, 64, 64), "pool",
                 (32, 128, 128), (32, 128, 128), "pool", (48, 192, 192), (48, 192, 192),
                 (64, 256, 256), (64, 256, 256))
SQUEEZENET_CIFAR = (("conv", 64, 3, 1, 1),) + SQUEEZENET1_1[1:]


class SqueezeNet(nn.Module):
    """``features`` (stem, pools, Fire modules) -> ``classifier`` (dropout, 1x1 conv to
    classes, ReLU, global average pool) -> flatten."""

    def __init__(self, arch=SQUEEZENET1_0, num_classes: int = 1000, in_channels: int = 3,
                 dropout: float = 0.5):
        super().__init__()
        self.arch = tuple(arch)
        layers: list[nn.Module] = []
        channels = in_channels
        for item in self.arch:
            if item == "pool":
                layers.append(nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True))
            elif item[0] == "conv":
                _, out_channels, kernel, stride, padding = item
                layers += [nn.Conv2d(channels, out_channels, kernel, stride, padding),
                           nn.ReLU(inplace=True)]
                channels = out_channels
            else:
                squeeze, expand1x1, expand3x3 = item
                layers.append(Fire(channels, squeeze, expand1x1, expand3x3))
                channels = expand1x1 + expand3x3
        self.features = nn.Sequential(*layers)
        final_conv = nn.Conv2d(channels, num_classes, kernel_size=1)
        self.classifier = nn.Sequential(nn.Dropout(p=dropout), final_conv, nn.ReLU(inplace=True),
                                        nn.AdaptiveAvgPool2d((1, 1)))
        for module in self.modules():  # torchvision's init
            if isinstance(module, nn.Conv2d):
                if module is final_conv:
                    nn.init.normal_(module.weight, mean=0.0, std=0.01)
                else:
                    nn.init.kaiming_uniform_(module.weight)
                nn.init.constant_(module.bias, 0)

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(self.features(x)).flatten(1)


@register("squeezenet1_0", (3, 224, 224), "squeezenet", torchvision="squeezenet1_0")
def squeezenet1_0(**kwargs) -> SqueezeNet:
    """SqueezeNet 1.0; 1,248,424 parameters."""
    return SqueezeNet(SQUEEZENET1_0, **kwargs)


@register("squeezenet1_1", (3, 224, 224), "squeezenet", torchvision="squeezenet1_1")
def squeezenet1_1(**kwargs) -> SqueezeNet:
    """SqueezeNet 1.1 (2.4x cheaper than 1.0, same accuracy); 1,235,496 parameters."""
    return SqueezeNet(SQUEEZENET1_1, **kwargs)


@register("squeezenet_cifar", (3, 32, 32), "squeezenet", small=True)
def squeezenet_cifar(num_classes: int = 10, **kwargs) -> SqueezeNet:
    """SqueezeNet 1.1 for 32x32: a 3x3 stride-1 stem, the rest unchanged."""
    return SqueezeNet(SQUEEZENET_CIFAR, num_classes=num_classes, **kwargs)
