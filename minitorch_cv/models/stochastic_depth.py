"""Stochastic depth (Huang et al., 2016): drop whole residual branches during training.

``drop_path(branch, p, training)`` zeroes the residual branch of each sample with probability
``p`` and scales the survivors by ``1 / (1 - p)``, so that ``eval()`` needs no rescaling (the
"inverted" form, as inverted dropout; the paper scales by the survival probability at test time
instead, which gives the same expectation). With ``p = 0`` or in ``eval()`` it is the identity.
A residual block that drops its branch is the identity map for that sample: the network is,
in expectation, shallower during training.
"""

from __future__ import annotations

import numpy as np

from .. import nn
from ..autograd.tensor import Tensor
from ..random import generator


def drop_path(x: Tensor, p: float = 0.0, training: bool = False) -> Tensor:
    """Per-sample branch dropout (see the module docstring).

    Shapes:
        x (N, ...) -> (N, ...); one Bernoulli draw per sample, broadcast over the rest.
    """
    if not 0.0 <= p < 1.0:
        raise ValueError(f"drop_path probability must be in [0, 1), got {p}")
    if p == 0.0 or not training:
        return x
    keep = 1.0 - p
    shape = (x.shape[0],) + (1,) * (x.ndim - 1)
    mask = (generator(x.device).random(shape) < keep).astype(np.dtype(x.dtype)) / keep
    return x * Tensor(mask.astype(np.dtype(x.dtype)), device=x.device)


def linear_decay(rate: float, num_blocks: int) -> list[float]:
    """The paper's linear rule: block ``i`` (1-based) of ``L`` drops with ``rate * i / L``,
    so early blocks (low-level features) are almost always kept and the last one drops with
    ``rate``."""
    return [rate * (i + 1) / num_blocks for i in range(num_blocks)]


class DropPath(nn.Module):
    """``drop_path`` as a module, for use in ``nn.Sequential``."""

    def __init__(self, p: float = 0.0):
        super().__init__()
        if not 0.0 <= p < 1.0:
            raise ValueError(f"drop_path probability must be in [0, 1), got {p}")
        self.p = p

    def forward(self, x: Tensor) -> Tensor:
        return drop_path(x, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}"
