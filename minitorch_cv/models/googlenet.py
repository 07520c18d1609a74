"""GoogLeNet / Inception v1 (Szegedy et al., 2014), in torchvision's form.

An ``Inception`` block runs four branches on the same input and concatenates their channels:
a 1x1 conv; 1x1 reduce then 3x3; 1x1 reduce then "5x5"; 3x3 max pool then 1x1 projection. The
1x1 reductions keep the wide branches cheap. torchvision's model (whose names and shapes this
follows, so state dicts map one to one) uses batch norm in every conv (``BasicConv2d``) and a
3x3 kernel in the "5x5" branch (a known deviation kept for weight compatibility).

Parameter counts (224x224, 1000 classes): 6,624,904 without the auxiliary heads (the default
here), 13,004,888 with them (``aux_logits=True``). Small-image variant ``googlenet_small``
(3x3 stem without pooling, channels / 8, 28x28 or 32x32): 90,306 parameters (1x28x28, 10
classes).
"""

from __future__ import annotations

from typing import NamedTuple

from .. import functional as F
from .. import nn
from ..autograd.tensor import Tensor
from ..ops import api
from .registry import register


class GoogLeNetOutputs(NamedTuple):
    logits: Tensor
    aux_logits2: Tensor | None
    aux_logits1: Tensor | None


class BasicConv2d(nn.Module):
    """conv (no bias) -> BN (eps 0.001) -> ReLU."""

    def __init__(self, in_channels: int, out_channels: int, **kwargs):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, bias=False, **kwargs)
        self.bn = nn.BatchNorm2d(out_channels, eps=0.001)

    def forward(self, x: Tensor) -> Tensor:
        return F.relu(self.bn(self.conv(x)))


class Inception(nn.Module):
    """Four parallel branches, concatenated along channels.

    Shapes:
        input (N, in_channels, H, W) -> (N, ch1x1 + ch3x3 + ch5x5 + pool_proj, H, W).
    """

    def __init__(self, in_channels: int, ch1x1: int, ch3x3red: int, ch3x3: int, ch5x5red: int,
                 ch5x5: int, pool_proj: int):
        super().__init__()
        self.branch1 = BasicConv2d(in_channels, ch1x1, kernel_size=1)
        self.branch2 = nn.Sequential(
            BasicConv2d(in_channels, ch3x3red, kernel_size=1),
            BasicConv2d(ch3x3red, ch3x3, kernel_size=3, padding=1),
        )
        self.branch3 = nn.Sequential(
            BasicConv2d(in_channels, ch5x5red, kernel_size=1),
            # 3x3, not 5x5: torchvision's (and so the pretrained weights') choice
            BasicConv2d(ch5x5red, ch5x5, kernel_size=3, padding=1),
        )
        self.branch4 = nn.Sequential(
            nn.MaxPool2d(kernel_size=3, stride=1, padding=1, ceil_mode=True),
            BasicConv2d(in_channels, pool_proj, kernel_size=1),
        )

    def forward(self, x: Tensor) -> Tensor:
        branches = [self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)]
        return api.cat(branches, 1)


class InceptionAux(nn.Module):
    """Auxiliary classifier on an intermediate map: 4x4 average pool, 1x1 conv, two FCs."""

    def __init__(self, in_channels: int, num_classes: int, dropout: float = 0.7,
                 conv_channels: int = 128, hidden: int = 1024):
        super().__init__()
        self.conv = BasicConv2d(in_channels, conv_channels, kernel_size=1)
        self.fc1 = nn.Linear(conv_channels * 4 * 4, hidden)
        self.fc2 = nn.Linear(hidden, num_classes)
        self.dropout = nn.Dropout(p=dropout)

    def forward(self, x: Tensor) -> Tensor:
        x = self.conv(F.adaptive_avg_pool2d(x, (4, 4)))
        x = F.relu(self.fc1(x.flatten(1)))
        return self.fc2(self.dropout(x))


# name: (in, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj), from the paper's table 1
INCEPTION_V1 = {
    "inception3a": (192, 64, 96, 128, 16, 32, 32),
    "inception3b": (256, 128, 128, 192, 32, 96, 64),
    "inception4a": (480, 192, 96, 208, 16, 48, 64),
    "inception4b": (512, 160, 112, 224, 24, 64, 64),
    "inception4c": (512, 128, 128, 256, 24, 64, 64),
    "inception4d": (512, 112, 144, 288, 32, 64, 64),
    "inception4e": (528, 256, 160, 320, 32, 128, 128),
    "inception5a": (832, 256, 160, 320, 32, 128, 128),
    "inception5b": (832, 384, 192, 384, 48, 128, 128),
}


def scaled(arch: dict, divisor: int) -> dict:
    """Every channel count of ``arch`` divided by ``divisor`` (at least 1)."""
    return {name: tuple(max(1, c // divisor) for c in spec) for name, spec in arch.items()}


class GoogLeNet(nn.Module):
    """Stem, nine Inception blocks in three groups separated by max pools, global average
    pool, dropout, ``fc``. In training with ``aux_logits`` the output is
    ``GoogLeNetOutputs(logits, aux_logits2, aux_logits1)``, else the logits.

    Args:
        arch: ``{name: (in, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj)}``.
        stem: "imagenet" (7x7/2 conv, 3x3/2 pool, 1x1, 3x3) or "small" (3x3/1 conv, no pool).
        transform_input: rescale ImageNet-normalised input to the [-1, 1] normalisation the
            original weights were trained with (as torchvision).
    """

    def __init__(self, num_classes: int = 1000, in_channels: int = 3, aux_logits: bool = False,
                 transform_input: bool = False, dropout: float = 0.2, dropout_aux: float = 0.7,
                 arch: dict = INCEPTION_V1, stem: str = "imagenet", init_weights: bool = True):
        super().__init__()
        self.arch, self.aux_logits, self.transform_input = dict(arch), aux_logits, transform_input
        first = self.arch["inception3a"][0]
        divisor = max(1, 192 // first)  # how much narrower than the paper's table
        width = 64 // divisor
        if stem == "imagenet":
            self.conv1 = BasicConv2d(in_channels, width, kernel_size=7, stride=2, padding=3)
            self.maxpool1 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        elif stem == "small":
            self.conv1 = BasicConv2d(in_channels, width, kernel_size=3, padding=1)
            self.maxpool1 = nn.Identity()
        else:
            raise ValueError(f"stem must be 'imagenet' or 'small', got {stem!r}")
        self.conv2 = BasicConv2d(width, width, kernel_size=1)
        self.conv3 = BasicConv2d(width, first, kernel_size=3, padding=1)
        self.maxpool2 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        for name in ("inception3a", "inception3b"):
            self.add_module(name, Inception(*self.arch[name]))
        self.maxpool3 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        for name in ("inception4a", "inception4b", "inception4c", "inception4d", "inception4e"):
            self.add_module(name, Inception(*self.arch[name]))
        self.maxpool4 = nn.MaxPool2d(2, stride=2, ceil_mode=True)
        for name in ("inception5a", "inception5b"):
            self.add_module(name, Inception(*self.arch[name]))
        if aux_logits:
            self.aux1 = InceptionAux(self.arch["inception4b"][0], num_classes, dropout_aux,
                                     128 // divisor, 1024 // divisor)
            self.aux2 = InceptionAux(self.arch["inception4e"][0], num_classes, dropout_aux,
                                     128 // divisor, 1024 // divisor)
        out_channels = sum(self.arch["inception5b"][i] for i in (1, 3, 5, 6))
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.dropout = nn.Dropout(p=dropout)
        self.fc = nn.Linear(out_channels, num_classes)
        if init_weights:
            for module in self.modules():
                if isinstance(module, (nn.Conv2d, nn.Linear)):
                    nn.init.trunc_normal_(module.weight, mean=0.0, std=0.01, a=-2, b=2)
                elif isinstance(module, nn.BatchNorm2d):
                    nn.init.constant_(module.weight, 1)
                    nn.init.constant_(module.bias, 0)

    def _transform_input(self, x: Tensor) -> Tensor:
        channels = [x[:, i : i + 1] * (std / 0.5) + (mean - 0.5) / 0.5 for i, (mean, std) in
                    enumerate(((0.485, 0.229), (0.456, 0.224), (0.406, 0.225)))]
        return api.cat(channels, 1)

    def forward(self, x: Tensor):
        if self.transform_input:
            x = self._transform_input(x)
        x = self.maxpool2(self.conv3(self.conv2(self.maxpool1(self.conv1(x)))))
        x = self.maxpool3(self.inception3b(self.inception3a(x)))
        x = self.inception4a(x)
        aux1 = self.aux1(x) if self.aux_logits and self.training else None
        x = self.inception4d(self.inception4c(self.inception4b(x)))
        aux2 = self.aux2(x) if self.aux_logits and self.training else None
        x = self.maxpool4(self.inception4e(x))
        x = self.inception5b(self.inception5a(x))
        x = self.fc(self.dropout(self.avgpool(x).flatten(1)))
        if self.aux_logits and self.training:
            return GoogLeNetOutputs(x, aux2, aux1)
        return x


@register("googlenet", (3, 224, 224), "googlenet", torchvision="googlenet")
def googlenet(**kwargs) -> GoogLeNet:
    """GoogLeNet (Inception v1) as in torchvision, without auxiliary heads by default."""
    return GoogLeNet(**kwargs)


@register("googlenet_small", (1, 28, 28), "googlenet", small=True)
def googlenet_small(num_classes: int = 10, in_channels: int = 1, **kwargs) -> GoogLeNet:
    """GoogLeNet for 28x28 / 32x32: 3x3 stem without pooling, all channels / 8."""
    return GoogLeNet(num_classes, in_channels, arch=scaled(INCEPTION_V1, 8), stem="small",
                     **kwargs)
