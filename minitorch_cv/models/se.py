"""Squeeze-and-Excitation (Hu et al., 2018): a channel gate usable in any network.

``SEBlock(C)`` squeezes each channel to one number (global average pooling), excites through a
bottleneck of two fully connected layers with biases (``C -> C // reduction -> C``, ReLU between,
sigmoid after), and scales every channel of its input by its gate in ``(0, 1)``. It adds
``2 * C * (C // r) + C // r + C`` parameters and almost no multiply-adds. In SE-ResNet it sits
after the last batch norm of each residual branch, before the residual add.
"""

from __future__ import annotations

from .. import nn
from ..autograd.tensor import Tensor


class SEBlock(nn.Module):
    """Channel attention: ``x * sigmoid(fc2(relu(fc1(mean_hw(x)))))``.

    Args:
        channels: C, the channels of the input (and output).
        reduction: r; the hidden layer has ``max(1, C // r)`` units (16 in the paper).

    Shapes:
        input (N, C, H, W) -> output (N, C, H, W); the gate is (N, C, 1, 1).
    """

    def __init__(self, channels: int, reduction: int = 16):
        super().__init__()
        hidden = max(1, channels // reduction)
        self.channels, self.reduction = channels, reduction
        self.fc1 = nn.Linear(channels, hidden)
        self.relu = nn.ReLU(inplace=True)
        self.fc2 = nn.Linear(hidden, channels)
        self.gate = nn.Sigmoid()

    def forward(self, x: Tensor) -> Tensor:
        n, c = x.shape[0], x.shape[1]
        squeezed = x.mean((2, 3))  # (N, C)
        weights = self.gate(self.fc2(self.relu(self.fc1(squeezed))))
        return x * weights.reshape(n, c, 1, 1)

    def extra_repr(self) -> str:
        return f"channels={self.channels}, reduction={self.reduction}"
