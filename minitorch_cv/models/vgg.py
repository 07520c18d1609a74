"""VGG (Simonyan & Zisserman, 2014): only 3x3 convolutions, stacked.

Two 3x3 convs see a 5x5 window and three see 7x7, with fewer parameters and more
non-linearities than one big kernel. ``vgg_block(num_convs, in, out)`` is the paper's unit: a
stack of 3x3 convs (padding 1, size kept), each followed by ReLU (and batch norm in the ``_bn``
variants), then a 2x2 max pool that halves the size. The spec is data: ``arch = ((num_convs,
channels), ...)``; ``features`` is one flat ``Sequential``, so the layer indices (and the
``state_dict`` keys) are torchvision's.

Parameter counts (224x224, 1000 classes): vgg11 132,863,336; vgg11_bn 132,868,840; vgg13
133,047,848; vgg13_bn 133,053,736; vgg16 138,357,544; vgg16_bn 138,365,992; vgg19 143,667,240;
vgg19_bn 143,678,248. About 124M of them are in the first fully connected layer. Small-image
variant ``vgg11_small`` (4 blocks, 28x28 or 32x32, channels / 4, 256 hidden units): 383,914
parameters for 1x28x28 input and 10 classes.
"""

from __future__ import annotations

from .. import nn
from ..autograd.tensor import Tensor
from .registry import register


def vgg_block(num_convs: int, in_channels: int, out_channels: int,
              batch_norm: bool = False) -> list[nn.Module]:
    """``num_convs`` x (3x3 conv, [BN], ReLU), then a 2x2/2 max pool (a list of layers)."""
    layers: list[nn.Module] = []
    for _ in range(num_convs):
        layers.append(nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1))
        if batch_norm:
            layers.append(nn.BatchNorm2d(out_channels))
        layers.append(nn.ReLU(inplace=True))
        in_channels = out_channels
    layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
    return layers


class VGG(nn.Module):
    """``features`` (the VGG blocks) -> ``avgpool`` to ``pool_size`` -> ``classifier``.

    Args:
        arch: ``((num_convs, channels), ...)``, one pair per block.
        batch_norm: BN after every conv (the ``_bn`` variants).
        hidden: units of the two hidden fully connected layers (4096).
        pool_size: side of the adaptive average pool before the classifier (7 for 224x224).
        init_weights: torchvision's init (He normal for convs, N(0, 0.01) for linears).
    """

    def __init__(self, arch=((1, 64), (1, 128), (2, 256), (2, 512), (2, 512)),
                 batch_norm: bool = False, num_classes: int = 1000, in_channels: int = 3,
                 hidden: int = 4096, pool_size: int = 7, dropout: float = 0.5,
                 init_weights: bool = True):
        super().__init__()
        self.arch = tuple(tuple(block) for block in arch)
        layers: list[nn.Module] = []
        channels = in_channels
        for num_convs, out_channels in self.arch:
            layers.extend(vgg_block(num_convs, channels, out_channels, batch_norm))
            channels = out_channels
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d((pool_size, pool_size))
        self.classifier = nn.Sequential(
            nn.Linear(channels * pool_size * pool_size, hidden),
            nn.ReLU(inplace=True),
            nn.Dropout(p=dropout),
            nn.Linear(hidden, hidden),
            nn.ReLU(inplace=True),
            nn.Dropout(p=dropout),
            nn.Linear(hidden, num_classes),
        )
        if init_weights:
            for module in self.modules():
                if isinstance(module, nn.Conv2d):
                    nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
                    nn.init.constant_(module.bias, 0)
                elif isinstance(module, nn.BatchNorm2d):
                    nn.init.constant_(module.weight, 1)
                    nn.init.constant_(module.bias, 0)
                elif isinstance(module, nn.Linear):
                    nn.init.normal_(module.weight, 0, 0.01)
                    nn.init.constant_(module.bias, 0)

    def forward(self, x: Tensor) -> Tensor:
        x = self.avgpool(self.features(x))
        return self.classifier(x.flatten(1))


ARCHS = {
    11: ((1, 64), (1, 128), (2, 256), (2, 512), (2, 512)),
    13: ((2, 64), (2, 128), (2, 256), (2, 512), (2, 512)),
    16: ((2, 64), (2, 128), (3, 256), (3, 512), (3, 512)),
    19: ((2, 64), (2, 128), (4, 256), (4, 512), (4, 512)),
}


def _vgg(depth: int, batch_norm: bool):
    name = f"vgg{depth}" + ("_bn" if batch_norm else "")

    @register(name, (3, 224, 224), "vgg", torchvision=name)
    def factory(**kwargs) -> VGG:
        return VGG(ARCHS[depth], batch_norm, **kwargs)

    factory.__doc__ = f"VGG-{depth}" + (" with batch norm" if batch_norm else "") + "."
    factory.__name__ = factory.__qualname__ = name
    return factory


vgg11, vgg11_bn = _vgg(11, False), _vgg(11, True)
vgg13, vgg13_bn = _vgg(13, False), _vgg(13, True)
vgg16, vgg16_bn = _vgg(16, False), _vgg(16, True)
vgg19, vgg19_bn = _vgg(19, False), _vgg(19, True)

VGG_SMALL = ((1, 16), (1, 32), (2, 64), (2, 128))


@register("vgg11_small", (1, 28, 28), "vgg", small=True)
def vgg11_small(num_classes: int = 10, in_channels: int = 1, batch_norm: bool = True,
                **kwargs) -> VGG:
    """VGG-11 for 28x28 / 32x32: 4 blocks (28 -> 1), a quarter of the channels, 256 hidden."""
    kwargs.setdefault("hidden", 256)
    kwargs.setdefault("pool_size", 1)
    return VGG(VGG_SMALL, batch_norm, num_classes=num_classes, in_channels=in_channels,
               **kwargs)
