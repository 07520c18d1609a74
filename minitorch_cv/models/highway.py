"""Highway networks (Srivastava, Greff & Schmidhuber, 2015), fully connected as in the lecture.

A highway layer mixes a transformation ``H(x)`` with the unchanged input through a learned
gate ``T(x)`` in (0, 1):  ``y = H(x) * T(x) + x * (1 - T(x))``. With the gate's bias started
negative the layer begins close to the identity, so very deep stacks still train: the
precursor of the residual connection (a ResNet is a highway network whose gate is always open).

``highway`` (28x28 input flattened to 784, 10 layers of 128 units, 10 classes): 432,010
parameters.
"""

from __future__ import annotations

from .. import nn
from ..autograd.tensor import Tensor
from .registry import register


class HighwayLayer(nn.Module):
    """``y = relu(transform(x)) * T + x * (1 - T)`` with ``T = sigmoid(gate(x))``.

    Args:
        features: width of input and output (must be equal for the carry path).
        gate_bias: initial bias of the gate (negative: start by carrying the input; the paper
            uses -1 to -3 depending on depth).

    Shapes:
        input (N, features) -> output (N, features).
    """

    def __init__(self, features: int, gate_bias: float = -2.0):
        super().__init__()
        self.transform = nn.Linear(features, features)
        self.gate = nn.Linear(features, features)
        nn.init.constant_(self.gate.bias, gate_bias)

    def forward(self, x: Tensor) -> Tensor:
        h = self.transform(x).relu()
        t = self.gate(x).sigmoid()
        return h * t + x * (1 - t)


class HighwayNetwork(nn.Module):
    """Flatten, a linear layer to ``hidden`` units, ``num_layers`` highway layers, output.

    Shapes:
        input (N, *) with ``in_features`` elements per sample -> (N, num_classes).
    """

    def __init__(self, in_features: int = 784, hidden: int = 128, num_layers: int = 10,
                 num_classes: int = 10, gate_bias: float = -2.0):
        super().__init__()
        self.flatten = nn.Flatten()
        self.input = nn.Linear(in_features, hidden)
        self.layers = nn.Sequential(*[HighwayLayer(hidden, gate_bias) for _ in range(num_layers)])
        self.output = nn.Linear(hidden, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        x = self.input(self.flatten(x)).relu()
        return self.output(self.layers(x))


@register("highway", (1, 28, 28), "highway", small=True)
def highway(num_classes: int = 10, in_channels: int = 1, **kwargs) -> HighwayNetwork:
    """Highway network for 28x28 images: 10 fully connected highway layers of 128 units."""
    return HighwayNetwork(in_channels * 28 * 28, num_classes=num_classes, **kwargs)
