"""What grew from ResNet, as options of the same ``ResNet`` class (spec as data):

- Wide ResNet-50-2 (Zagoruyko & Komodakis, 2016): the bottleneck's inner width doubled
  (``width_per_group=128``): 68,883,240 parameters.
- ResNeXt-50 32x4d (Xie et al., 2017): the 3x3 conv split into 32 groups of width 4
  ("cardinality"): 25,028,904 parameters, fewer than ResNet-50 for better accuracy.
- SE-ResNet-50 (Hu et al., 2018): an ``SEBlock`` (reduction 16, biased FCs) after the last
  batch norm of every bottleneck: 28,088,024 parameters.

Small-image variants (32x32, 10 classes, three stages of two bottlenecks with 16, 32, 64
planes): ``resnext_cifar`` 247,898 and ``se_resnet_cifar`` 242,834 parameters.
"""

from __future__ import annotations

from .registry import register
from .resnet import RESNET50, Bottleneck, ResNet


def _imagenet(name: str):
    return register(name, (3, 224, 224), "resnet", torchvision=name)


@_imagenet("wide_resnet50_2")
def wide_resnet50_2(**kwargs) -> ResNet:
    """Wide ResNet-50-2 (Zagoruyko & Komodakis): bottlenecks twice as wide; 68,883,240."""
    return ResNet(Bottleneck, RESNET50, width_per_group=128, **kwargs)


@_imagenet("resnext50_32x4d")
def resnext50_32x4d(**kwargs) -> ResNet:
    """ResNeXt-50 32x4d (Xie et al.): 32 groups of width 4 in the 3x3 conv; 25,028,904."""
    return ResNet(Bottleneck, RESNET50, groups=32, width_per_group=4, **kwargs)


@register("se_resnet50", (3, 224, 224), "resnet")
def se_resnet50(**kwargs) -> ResNet:
    """SE-ResNet-50 (Hu et al.): an SEBlock (r = 16) in every bottleneck; 28,088,024."""
    return ResNet(Bottleneck, RESNET50, se_reduction=16, **kwargs)


@register("resnext_cifar", (3, 32, 32), "resnet", small=True)
def resnext_cifar(num_classes: int = 10, **kwargs) -> ResNet:
    """A small ResNeXt for 32x32: 3 stages of 2 bottlenecks, 8 groups x 4 wide; 247,898
    parameters (10 classes)."""
    return ResNet(Bottleneck, ((2, 16), (2, 32), (2, 64)), num_classes=num_classes,
                  stem="cifar", groups=8, width_per_group=4 * 64 // 16, **kwargs)


@register("se_resnet_cifar", (3, 32, 32), "resnet", small=True)
def se_resnet_cifar(num_classes: int = 10, **kwargs) -> ResNet:
    """A small SE-ResNet for 32x32: 3 stages of 2 bottlenecks, SE (r = 16) in each; 242,834
    parameters (10 classes)."""
    return ResNet(Bottleneck, ((2, 16), (2, 32), (2, 64)), num_classes=num_classes,
                  stem="cifar", se_reduction=16, **kwargs)
