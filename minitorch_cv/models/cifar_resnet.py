"""The CIFAR-10 ResNets of the paper (He et al., 2015, section 4.2): ResNet-20/32/44/56/110.

``6n + 2`` layers: a 3x3 conv with 16 filters, three stages of ``n`` BasicBlocks with 16, 32
and 64 filters on 32x32, 16x16 and 8x8 maps, global average pooling and a 10-way ``fc``. The
shortcuts are the paper's option A: where the shape changes, the identity is subsampled with
stride 2 and the new channels are zeros, so every shortcut is parameter-free.

Parameter counts (10 classes): resnet20 269,722; resnet32 464,154; resnet44 658,586;
resnet56 853,018; resnet110 1,727,962.
"""

from __future__ import annotations

from .. import functional as F
from .. import nn
from ..autograd.tensor import Tensor
from .registry import register
from .resnet import BasicBlock, ResNet


class ShortcutA(nn.Module):
    """Option A: ``x[:, :, ::stride, ::stride]`` and zero channels to reach ``out_channels``.

    The zeros are split evenly before and after the existing channels (as the reference
    implementations of the paper do). No parameters.

    Shapes:
        input (N, C_in, H, W) -> output (N, C_out, ceil(H / stride), ceil(W / stride)).
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int):
        super().__init__()
        if out_channels < in_channels:
            raise ValueError("option A can only add channels")
        self.in_channels, self.out_channels, self.stride = in_channels, out_channels, stride

    def forward(self, x: Tensor) -> Tensor:
        x = x[:, :, :: self.stride, :: self.stride]
        extra = self.out_channels - self.in_channels
        # torch's pad order: (W left, W right, H top, H bottom, C front, C back)
        return F.pad(x, (0, 0, 0, 0, extra // 2, extra - extra // 2))

    def extra_repr(self) -> str:
        return f"{self.in_channels} -> {self.out_channels}, stride={self.stride}"


def cifar_resnet(depth: int, num_classes: int = 10, in_channels: int = 3, **kwargs) -> ResNet:
    """ResNet-``depth`` of the paper's CIFAR experiments (``depth = 6n + 2``)."""
    if (depth - 2) % 6:
        raise ValueError(f"CIFAR ResNet depth must be 6n + 2, got {depth}")
    n = (depth - 2) // 6
    return ResNet(BasicBlock, ((n, 16), (n, 32), (n, 64)), num_classes=num_classes,
                  in_channels=in_channels, stem="cifar", shortcut=ShortcutA, **kwargs)


def _cifar(depth: int):
    @register(f"resnet{depth}", (3, 32, 32), "resnet", small=True)
    def factory(**kwargs) -> ResNet:
        return cifar_resnet(depth, **kwargs)

    factory.__doc__ = (f"ResNet-{depth} for CIFAR-10 (n = {(depth - 2) // 6}, option-A "
                       "shortcuts).")
    factory.__name__ = factory.__qualname__ = f"resnet{depth}"
    return factory


resnet20 = _cifar(20)
resnet32 = _cifar(32)
resnet44 = _cifar(44)
resnet56 = _cifar(56)
resnet110 = _cifar(110)
