"""LeNet-5 (LeCun et al., 1998): two conv/pool stages and three fully connected layers.

- The 1998 form (``lenet5_1998``): 32x32 input, tanh, 2x2 average pooling, C5 a 5x5 conv with
  120 maps (on 5x5 inputs: 1x1 outputs, the same weights as a linear layer). Simplified as
  every textbook does: C3 connects to all six S2 maps (the paper's partial table saves ~900
  weights), pooling has no trainable coefficient and the output is a linear layer, not RBF units.
- The modern form (``lenet5``): 28x28 input (MNIST / Fashion-MNIST) padded by 2 in the first
  conv, ReLU and max pooling.

Both have 61,706 parameters with 10 classes and one input channel.
"""

from __future__ import annotations

from .. import nn
from ..autograd.tensor import Tensor
from .registry import register

_ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}
_POOLS = {"max": nn.MaxPool2d, "avg": nn.AvgPool2d}


class LeNet5(nn.Module):
    """``features`` (conv 5x5 x6, pool, conv 5x5 x16, pool) and ``classifier`` (120, 84, classes).

    Args:
        activation: "relu", "tanh" or "sigmoid" (d2l's choice).
        pooling: "max" or "avg" (2x2, stride 2).
        padding: of the first conv (2 keeps 28x28; 0 for the 1998 32x32 input).

    Shapes:
        input (N, in_channels, 28, 28) with padding 2 or (N, in_channels, 32, 32) with padding 0
        -> (N, num_classes); both reach (N, 16, 5, 5) before the classifier.
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 1, activation: str = "relu",
                 pooling: str = "max", padding: int = 2):
        super().__init__()
        act, pool = _ACTIVATIONS[activation], _POOLS[pooling]
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 6, kernel_size=5, padding=padding), act(), pool(2, 2),
            nn.Conv2d(6, 16, kernel_size=5), act(), pool(2, 2),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(16 * 5 * 5, 120), act(),
            nn.Linear(120, 84), act(),
            nn.Linear(84, num_classes),
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(self.features(x))


@register("lenet5", (1, 28, 28), "lenet", small=True)
def lenet5(**kwargs) -> LeNet5:
    """Modern LeNet-5 for 28x28: ReLU, max pooling, padding 2; 61,706 parameters."""
    return LeNet5(**kwargs)


@register("lenet5_1998", (1, 32, 32), "lenet", small=True)
def lenet5_1998(**kwargs) -> LeNet5:
    """LeNet-5 as in 1998 (simplified): 32x32, tanh, average pooling; 61,706 parameters."""
    kwargs.setdefault("activation", "tanh")
    kwargs.setdefault("pooling", "avg")
    kwargs.setdefault("padding", 0)
    return LeNet5(**kwargs)
