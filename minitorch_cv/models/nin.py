"""Network in Network (Lin, Chen & Yan, 2013): 1x1 convolutions as per-pixel MLPs.

``nin_block(in, out, k, s, p)`` is one "mlpconv" layer: a kxk convolution followed by two 1x1
convolutions, each with ReLU: a small fully connected network applied at every position. The
last block has ``num_classes`` channels and global average pooling replaces the fully
connected classifier (no large linear layers: far fewer parameters than AlexNet).

Parameter counts: ``nin`` (224x224, 1000 classes, d2l's channel plan) 7,439,608;
``nin_small`` (28x28, 10 classes) 181,158.

Initialisation: NiN has no batch norm, and its last ReLU closes a class's score map for good
when the map's pre-activation is negative everywhere (no gradient reaches that class). With
``Conv2d``'s default initialisation (PyTorch's, uniform with bound ``1/sqrt(fan_in)``) 4 of
``nin_small``'s 10 class maps are zero on every image of a random batch at the start, and
trained on Fashion-MNIST the model never predicts those classes (62.6% test accuracy after 10
epochs). So every convolution starts from He (Kaiming) normal weights (``fan_out``, as
torchvision initialises VGG and ResNet) and zero biases.
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
        pool_last: max-pool after the last of ``arch``'s blocks too (True: d2l's NiN). On
            28x28 inputs a third pooling would leave 2x2 class maps; without it they are 6x6.
    """

    def __init__(self, arch=((96, 11, 4, 0), (256, 5, 1, 2), (384, 3, 1, 1)),
                 num_classes: int = 1000, in_channels: int = 3, dropout: float = 0.5,
                 pool_last: bool = True):
        super().__init__()
        self.arch = tuple(tuple(block) for block in arch)
        layers: list[nn.Module] = []
        channels = in_channels
        for index, (out_channels, kernel, stride, padding) in enumerate(self.arch):
            layers.append(nin_block(channels, out_channels, kernel, stride, padding))
            if pool_last or index < len(self.arch) - 1:
                layers.append(nn.MaxPool2d(kernel_size=3, stride=2))
            channels = out_channels
        layers.append(nn.Dropout(p=dropout))
        layers.append(nin_block(channels, num_classes, 3, 1, 1))
        layers.append(nn.AdaptiveAvgPool2d((1, 1)))
        layers.append(nn.Flatten())
        self.net = nn.Sequential(*layers)
        for module in self.modules():  # He initialisation: see the module's docstring
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
                nn.init.zeros_(module.bias)

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


@register("nin", (3, 224, 224), "nin")
def nin(**kwargs) -> NiN:
    """NiN for 224x224 (d2l's channels: 96, 256, 384, classes)."""
    return NiN(**kwargs)


@register("nin_small", (1, 28, 28), "nin", small=True)
def nin_small(num_classes: int = 10, in_channels: int = 1, **kwargs) -> NiN:
    """NiN for 28x28 / 32x32: 5x5, 5x5, 3x3 blocks with 32, 64, 128 channels, max-pooled after
    the first two only, so that the class maps are 6x6 (7x7 on 32x32) instead of 2x2."""
    kwargs.setdefault("pool_last", False)
    return NiN(((32, 5, 1, 2), (64, 5, 1, 2), (128, 3, 1, 1)), num_classes=num_classes,
               in_channels=in_channels, **kwargs)
