"""ResNet (He et al., 2015), and what grew from it: Wide ResNet, ResNeXt, SE-ResNet.

A residual block computes ``relu(F(x) + shortcut(x))``: the layers learn the residual ``F``, and
the identity path lets gradients reach early layers unchanged. Two block factories, with
torchvision's module names so that ``state_dict()`` keys map one to one:

- ``BasicBlock``: two 3x3 convolutions (ResNet-18/34; the CIFAR ResNets).
- ``Bottleneck``: 1x1 reduce, 3x3 (optionally grouped: ResNeXt), 1x1 expand by 4
  (ResNet-50/101/152). The stride sits on the 3x3 conv (torchvision's "ResNet v1.5").

Both take ``se_reduction`` (an ``SEBlock`` named ``se`` after the last batch norm) and
``drop_path`` (stochastic depth on the residual branch). The model's spec is data:
``arch = ((blocks, planes), ...)`` one pair per stage. Wide ResNet, ResNeXt and SE-ResNet are
the same class with other options (``resnet_variants.py``).

Parameter counts (224x224, 1000 classes): resnet18 11,689,512; resnet34 21,797,672;
resnet50 25,557,032; resnet101 44,549,160; resnet152 60,192,808. Small-image variant:
``resnet18_cifar`` (3x3 stem, no max pool, 32x32 input) 11,173,962 parameters with 10 classes.
"""

from __future__ import annotations

from .. import nn
from ..autograd.tensor import Tensor
from .registry import register
from .se import SEBlock
from .stochastic_depth import drop_path, linear_decay


def conv3x3(in_channels: int, out_channels: int, stride: int = 1, groups: int = 1) -> nn.Conv2d:
    return nn.Conv2d(in_channels, out_channels, 3, stride, padding=1, groups=groups, bias=False)


def conv1x1(in_channels: int, out_channels: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(in_channels, out_channels, 1, stride, bias=False)


class BasicBlock(nn.Module):
    """``relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x))``, two 3x3 convolutions.

    Shapes:
        input (N, in_channels, H, W) -> output (N, planes, H / stride, W / stride).
    """

    expansion = 1

    def __init__(self, in_channels: int, planes: int, stride: int = 1,
                 downsample: nn.Module | None = None, groups: int = 1, base_width: int = 64,
                 se_reduction: int | None = None, drop_path: float = 0.0):
        super().__init__()
        if groups != 1 or base_width != 64:
            raise ValueError("BasicBlock only supports groups=1 and base_width=64")
        self.conv1 = conv3x3(in_channels, planes, stride)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        if se_reduction:
            self.se = SEBlock(planes, se_reduction)
        self.downsample = downsample
        self.stride = stride
        self.drop_path = drop_path

    def forward(self, x: Tensor) -> Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if "se" in self._modules:
            out = self.se(out)
        out = drop_path(out, self.drop_path, self.training)
        return self.relu(out + identity)


class Bottleneck(nn.Module):
    """1x1 reduce to ``width``, 3x3 (stride, ``groups``), 1x1 expand to ``planes * 4``.

    ``width = planes * base_width / 64 * groups``: ResNet-50 (64, 1), Wide ResNet-50-2
    (128, 1), ResNeXt-50 32x4d (4, 32).

    Shapes:
        input (N, in_channels, H, W) -> output (N, 4 * planes, H / stride, W / stride).
    """

    expansion = 4

    def __init__(self, in_channels: int, planes: int, stride: int = 1,
                 downsample: nn.Module | None = None, groups: int = 1, base_width: int = 64,
                 se_reduction: int | None = None, drop_path: float = 0.0):
        super().__init__()
        width = int(planes * (base_width / 64.0)) * groups
        self.conv1 = conv1x1(in_channels, width)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = conv3x3(width, width, stride, groups)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = conv1x1(width, planes * self.expansion)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion)
        if se_reduction:
            self.se = SEBlock(planes * self.expansion, se_reduction)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.stride = stride
        self.drop_path = drop_path

    def forward(self, x: Tensor) -> Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        if "se" in self._modules:
            out = self.se(out)
        out = drop_path(out, self.drop_path, self.training)
        return self.relu(out + identity)


def projection_shortcut(in_channels: int, out_channels: int, stride: int) -> nn.Sequential:
    """Option B of the paper: a strided 1x1 conv and batch norm where the shape changes."""
    return nn.Sequential(conv1x1(in_channels, out_channels, stride), nn.BatchNorm2d(out_channels))


class ResNet(nn.Module):
    """A stem, one stage per ``arch`` entry ``(blocks, planes)``, global pooling, ``fc``.

    Args:
        block: ``BasicBlock`` or ``Bottleneck``.
        arch: ``((blocks, planes), ...)``; stage ``i`` is ``layer{i+1}``, the first block of
            every stage but the first has stride 2.
        stem: ``"imagenet"`` (7x7/2 conv + 3x3/2 max pool, for 224x224) or ``"cifar"`` (one 3x3
            conv, no pooling, for 32x32; ``maxpool`` is then an ``Identity``).
        shortcut: ``shortcut(in_channels, out_channels, stride)`` builds the shortcut where
            the shape changes (default: projection, option B).
        groups, width_per_group: ResNeXt cardinality and width (Bottleneck only).
        se_reduction: put an ``SEBlock`` in every block (16 in SE-ResNet).
        drop_path_rate: stochastic depth; block ``i`` of ``L`` drops with ``rate * i / L``.
        zero_init_residual: start every block's last BN at gamma = 0 (block = identity).
    """

    def __init__(self, block=BasicBlock, arch=((2, 64), (2, 128), (2, 256), (2, 512)),
                 num_classes: int = 1000, in_channels: int = 3, stem: str = "imagenet",
                 shortcut=projection_shortcut, groups: int = 1, width_per_group: int = 64,
                 se_reduction: int | None = None, drop_path_rate: float = 0.0,
                 zero_init_residual: bool = False):
        super().__init__()
        self.arch = tuple(tuple(stage) for stage in arch)
        stem_width = self.arch[0][1]
        if stem == "imagenet":
            self.conv1 = nn.Conv2d(in_channels, stem_width, 7, 2, 3, bias=False)
            self.bn1 = nn.BatchNorm2d(stem_width)
            self.relu = nn.ReLU(inplace=True)
            self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        elif stem == "cifar":
            self.conv1 = nn.Conv2d(in_channels, stem_width, 3, 1, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(stem_width)
            self.relu = nn.ReLU(inplace=True)
            self.maxpool = nn.Identity()
        else:
            raise ValueError(f"stem must be 'imagenet' or 'cifar', got {stem!r}")
        rates = iter(linear_decay(drop_path_rate, sum(blocks for blocks, _ in self.arch)))
        channels = stem_width
        for index, (blocks, planes) in enumerate(self.arch):
            stride = 1 if index == 0 else 2
            layers = []
            for i in range(blocks):
                out_channels = planes * block.expansion
                downsample = None
                if i == 0 and (stride != 1 or channels != out_channels):
                    downsample = shortcut(channels, out_channels, stride)
                layers.append(block(channels, planes, stride if i == 0 else 1, downsample,
                                    groups, width_per_group, se_reduction, next(rates)))
                channels = out_channels
            self.add_module(f"layer{index + 1}", nn.Sequential(*layers))
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(channels, num_classes)
        self._init_weights(zero_init_residual)

    def _init_weights(self, zero_init_residual: bool) -> None:
        # torchvision's: He normal (fan_out) for convs, BN gamma 1 and beta 0
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(module, nn.BatchNorm2d):
                nn.init.constant_(module.weight, 1)
                nn.init.constant_(module.bias, 0)
        if zero_init_residual:
            for module in self.modules():
                last_bn = getattr(module, "bn3" if isinstance(module, Bottleneck) else "bn2", None)
                if isinstance(module, (BasicBlock, Bottleneck)) and last_bn is not None:
                    nn.init.constant_(last_bn.weight, 0)

    def forward(self, x: Tensor) -> Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        for index in range(len(self.arch)):
            x = self._modules[f"layer{index + 1}"](x)
        return self.fc(self.avgpool(x).flatten(1))


RESNET18 = ((2, 64), (2, 128), (2, 256), (2, 512))
RESNET34 = ((3, 64), (4, 128), (6, 256), (3, 512))
RESNET50 = ((3, 64), (4, 128), (6, 256), (3, 512))
RESNET101 = ((3, 64), (4, 128), (23, 256), (3, 512))
RESNET152 = ((3, 64), (8, 128), (36, 256), (3, 512))


def _imagenet(name: str):
    return register(name, (3, 224, 224), "resnet", torchvision=name)


@_imagenet("resnet18")
def resnet18(**kwargs) -> ResNet:
    """ResNet-18: BasicBlock, (2, 2, 2, 2); 11,689,512 parameters."""
    return ResNet(BasicBlock, RESNET18, **kwargs)


@_imagenet("resnet34")
def resnet34(**kwargs) -> ResNet:
    """ResNet-34: BasicBlock, (3, 4, 6, 3); 21,797,672 parameters."""
    return ResNet(BasicBlock, RESNET34, **kwargs)


@_imagenet("resnet50")
def resnet50(**kwargs) -> ResNet:
    """ResNet-50: Bottleneck, (3, 4, 6, 3); 25,557,032 parameters."""
    return ResNet(Bottleneck, RESNET50, **kwargs)


@_imagenet("resnet101")
def resnet101(**kwargs) -> ResNet:
    """ResNet-101: Bottleneck, (3, 4, 23, 3); 44,549,160 parameters."""
    return ResNet(Bottleneck, RESNET101, **kwargs)


@_imagenet("resnet152")
def resnet152(**kwargs) -> ResNet:
    """ResNet-152: Bottleneck, (3, 8, 36, 3); 60,192,808 parameters."""
    return ResNet(Bottleneck, RESNET152, **kwargs)


@register("resnet18_cifar", (3, 32, 32), "resnet", small=True)
def resnet18_cifar(num_classes: int = 10, **kwargs) -> ResNet:
    """ResNet-18 for 32x32 images: 3x3 stem, no max pool; 11,173,962 parameters (10 classes)."""
    return ResNet(BasicBlock, RESNET18, num_classes=num_classes, stem="cifar", **kwargs)


__all__ = ["BasicBlock", "Bottleneck", "ResNet", "conv1x1", "conv3x3", "projection_shortcut"]
