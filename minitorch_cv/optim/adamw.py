"""AdamW (Loshchilov & Hutter, 2019): Adam with weight decay applied to the weights."""

from __future__ import annotations

from .adam import Adam


class AdamW(Adam):
    """Adam whose weight decay shrinks the parameters directly, ``p = p * (1 - lr * wd)``,
    before the Adam step, instead of adding ``wd * p`` to the gradient (where the adaptive
    denominator would scale it). torch's default ``weight_decay=1e-2``."""

    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False, *,
                 maximize: bool = False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize,
                         decoupled_weight_decay=True)
