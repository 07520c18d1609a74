"""The course's own models, as its ``mltrainer`` library defines them: ``NeuralNetwork`` (an
MLP) and ``CNNblocks`` (a configurable CNN of two-convolution blocks).

``CNNblocks`` has the course's layers under the course's names (``convolutions``, a ModuleList
of ``ConvBlock`` = Conv-ReLU-Conv-ReLU plus ReLU and MaxPool2d; ``dense``), so parameter counts
and state dicts are the same and weights load both ways. One difference, where the course's
network cannot run: the course computes the flatten size as ``(H // pool**n) * (W // pool**n)``,
which holds only for kernel size 3 (padding 1 keeps the size); we run one dummy image through
the convolutions instead. That gives the same number wherever the course's formula is right,
makes other kernel sizes work, and reports an input that becomes too small with the layer where
it happens (a ``SizeError``, catchable as torch's ``RuntimeError``). The course's two debug
prints ("Calculated matrix size") are not repeated.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from .. import nn
from ..autograd.function import no_grad
from ..autograd.tensor import Tensor
from ..creation import zeros
from ..errors import SizeError
from .registry import register


class NeuralNetwork(nn.Module):
    """Flatten -> Linear(features, units1) -> ReLU -> Linear(units2) -> ReLU -> Linear.

    Shapes:
        input (N, *) with ``features`` elements per sample -> (N, num_classes).
    """

    def __init__(self, features: int = 784, num_classes: int = 10, units1: int = 256,
                 units2: int = 256):
        super().__init__()
        self.num_classes, self.units1, self.units2 = num_classes, units1, units2
        self.flatten = nn.Flatten()
        self.linear_relu_stack = nn.Sequential(
            nn.Linear(features, units1), nn.ReLU(),
            nn.Linear(units1, units2), nn.ReLU(),
            nn.Linear(units2, num_classes),
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.linear_relu_stack(self.flatten(x))


@dataclass
class CNNConfig:
    """The course's configuration of ``CNNblocks``; ``matrixshape`` is the image (H, W)."""

    matrixshape: tuple = (28, 28)
    batchsize: int = 64
    input_channels: int = 1
    hidden: int = 32
    kernel_size: int = 3
    maxpool: int = 2
    num_layers: int = 3
    num_classes: int = 10


class ConvBlock(nn.Module):
    """The course's block, in ``conv``: Conv2d -> ReLU -> Conv2d -> ReLU (stride 1, padding 1).

    Shapes:
        (N, in_channels, H, W) -> (N, out_channels, H + 4 - 2 * (kernel_size - 1), ...).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int):
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv2d(in_channels, out_channels, kernel_size=kernel_size, stride=1, padding=1),
            nn.ReLU(),
            nn.Conv2d(out_channels, out_channels, kernel_size=kernel_size, stride=1, padding=1),
            nn.ReLU(),
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.conv(x)


class CNNblocks(nn.Module):
    """``convolutions`` (a ModuleList) then ``dense`` (Flatten, Linear, ReLU, Linear).

    ``convolutions`` is ``ConvBlock(input_channels, hidden)``, then per layer
    ``ConvBlock(hidden, hidden), ReLU`` and a ``MaxPool2d(maxpool, maxpool)`` after layers
    0, 2, 4, ...; ``self.config`` is the config as a dict, as in the course.

    Shapes:
        (N, input_channels, *matrixshape) -> (N, num_classes).
    """

    def __init__(self, config: CNNConfig):
        super().__init__()
        self.config = asdict(config)
        self._matrixshape, self._input_channels = tuple(config.matrixshape), config.input_channels
        hidden, kernel = config.hidden, config.kernel_size
        self.convolutions = nn.ModuleList([ConvBlock(config.input_channels, hidden, kernel)])
        for i in range(config.num_layers):
            self.convolutions.extend([ConvBlock(hidden, hidden, kernel), nn.ReLU()])
            if i % 2 == 0:
                self.convolutions.append(nn.MaxPool2d(config.maxpool, config.maxpool))
        flat = self._flatten_size()
        self.dense = nn.Sequential(
            nn.Flatten(), nn.Linear(flat, hidden), nn.ReLU(),
            nn.Linear(hidden, config.num_classes),
        )

    def _flatten_size(self) -> int:
        """Run one zero image through ``convolutions`` (eval mode, no graph) and count."""
        height, width = self._matrixshape
        x = zeros(1, self._input_channels, height, width)
        self.convolutions.eval()
        try:
            with no_grad():
                for index, layer in enumerate(self.convolutions):
                    x = _checked(layer, x, f"convolutions.{index}")
        finally:
            self.convolutions.train()
        return x.shape[1] * x.shape[2] * x.shape[3]

    def forward(self, x: Tensor) -> Tensor:
        for layer in self.convolutions:
            x = layer(x)
        return self.dense(x)


def _checked(layer: nn.Module, x: Tensor, name: str) -> Tensor:
    h, w = x.shape[2], x.shape[3]
    try:
        out = layer(x)
    except Exception as error:  # re-raised with the layer that failed
        raise SizeError(f"input too small: layer {name} ({layer!r}) cannot process a "
                        f"{h}x{w} map ({error})") from error
    if out.ndim != 4 or out.shape[2] < 1 or out.shape[3] < 1:
        raise SizeError(f"input too small: layer {name} ({layer!r}) turns a {h}x{w} map "
                        f"into {tuple(out.shape[2:])}; use a larger matrixshape, fewer "
                        "layers, a smaller kernel or a smaller maxpool")
    return out


@register("neural_network", (1, 28, 28), "course", small=True)
def neural_network(num_classes: int = 10, in_channels: int = 1, units1: int = 256,
                   units2: int = 256) -> NeuralNetwork:
    """The course's MLP for 28x28 images (784 -> 256 -> 256 -> 10): 269,322 parameters."""
    return NeuralNetwork(in_channels * 28 * 28, num_classes, units1, units2)


@register("cnn_blocks", (1, 28, 28), "course", small=True)
def cnn_blocks(num_classes: int = 10, in_channels: int = 1, **kwargs) -> CNNblocks:
    """The course's CNNblocks with its default CNNConfig (28x28, hidden 32, 3 layers): 115,594
    parameters."""
    return CNNblocks(CNNConfig(input_channels=in_channels, num_classes=num_classes, **kwargs))
