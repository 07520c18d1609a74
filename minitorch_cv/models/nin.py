"""Network in Network (Lin, Chen & Yan, 2013): 1x1 convolutions as per-pixel MLPs.

``nin_block(in, out, k, s, p)`` is one "mlpconv" layer: a kxk convolution followed by two 1x1
convolutions, each with ReLU: a small fully connected network applied at every position. The
last block has ``num_classes`` channels and global average pooling replaces the fully
connected classifier (no large linear layers: far fewer parameters than AlexNet).

Parameter counts: ``nin`` (224x224, 1000 classes, d2l's channel plan) 7,439,608;
``nin_small`` (28x28, 10 classes) 181,158.
"""

from __future__ import annotations

from .. import nn
from ..autograd.tensor import Tensor
from .registry import register


def nin_block(in_channels: int, out_channels: int, kernel_size: int, stride: int = 1,
              padding: int = 0) -> nn.Sequential:
    """kxk conv, ReLU, then two (1x1 conv, ReLU): one mlpconv layer."""
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding), nn.ReLU(inplace=True),
        nn.Conv2d(out_channels, out_channels, kernel_size=1), nn.ReLU(inplace=True),
        nn.Conv2d(out_channels, out_channels, kernel_size=1), nn.ReLU(inplace=True),
    )


class NiN(nn.Module):
    """mlpconv blocks each followed by 3x3/2 max pooling, dropout, a final mlpconv block to
    ``num_classes`` channels and global average pooling.

    Args:
        arch: ``((out_channels, kernel, stride, padding), ...)`` of the blocks before the last;
            the last block is ``(num_classes, 3, 1, 1)``.
    """

    def __init__(self, arch=((96, 11, 4, 0), (256, 5, 1, 2), (384, 3, 1, 1)),
                 num_classes: int = 1000, in_channels: int = 3, dropout: float = 0.5):
        super().__init__()
        self.arch = tuple(tuple(block) for block in arch)
        layers: list[nn.Module] = []
        channels = in_channels
        for out_channels, kernel, stride, padding in self.arch:
            layers.append(nin_block(channels, out_channels, kernel, stride, padding))
            layers.append(nn.MaxPool2d(kernel_size=3, stride=2))
            channels = out_channels
        layers.append(nn.Dropout(p=dropout))
        layers.append(nin_block(channels, num_classes, 3, 1, 1))
        layers.append(nn.AdaptiveAvgPool2d((1, 1)))
        layers.append(nn.Flatten())
        self.net = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


@register("nin", (3, 224, 224), "nin")
def nin(**kwargs) -> NiN:
    """NiN for 224x224 (d2l's channels: 96, 256, 384, classes)."""
    return NiN(**kwargs)


@register("nin_small", (1, 28, 28), "nin", small=True)
def nin_small(num_classes: int = 10, in_channels: int = 1, **kwargs) -> NiN:
    """NiN for 28x28 / 32x32: 5x5, 5x5, 3x3 blocks with 32, 64, 128 channels."""
    return NiN(((32, 5, 1, 2), (64, 5, 1, 2), (128, 3, 1, 1)), num_classes=num_classes,
               in_channels=in_channels, **kwargs)
