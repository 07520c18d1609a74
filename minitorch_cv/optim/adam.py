"""Adam (Kingma & Ba, 2015) with torch's exact arithmetic, AMSGrad and L2 weight decay."""

from __future__ import annotations

from ..autograd.function import no_grad
from .optimizer import Optimizer, _state_buffer


class Adam(Optimizer):
    """For each parameter p with gradient g, at step t::

        g = g + weight_decay * p                    (L2; AdamW decays p directly instead)
        m = m + (1 - beta1) * (g - m)               (torch's lerp)
        v = beta2 * v + (1 - beta2) * g * g
        v_hat = max(v_hat, v) if amsgrad else v
        denom = sqrt(v_hat) / sqrt(1 - beta2**t) + eps
        p = p - lr / (1 - beta1**t) * m / denom
    """

    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0, amsgrad: bool = False, *,
                 maximize: bool = False, decoupled_weight_decay: bool = False):
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if eps < 0.0:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not (0.0 <= betas[0] < 1.0 and 0.0 <= betas[1] < 1.0):
            raise ValueError(f"Invalid beta parameters: {betas} (each in [0, 1))")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay, amsgrad=amsgrad,
                                      maximize=maximize,
                                      decoupled_weight_decay=decoupled_weight_decay))

    def step(self, closure=None):
        loss = self._closure_loss(closure)
        with no_grad():
            for group in self.param_groups:
                lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
                weight_decay = group["weight_decay"]
                for p, grad in self._gradients(group):
                    state = self.state.setdefault(p, {})
                    if not state:
                        state["step"] = 0.0
                        state["exp_avg"] = _state_buffer(p)
                        state["exp_avg_sq"] = _state_buffer(p)
                        if group["amsgrad"]:
                            state["max_exp_avg_sq"] = _state_buffer(p)
                    state["step"] += 1
                    step = state["step"]
                    if weight_decay != 0:
                        if group["decoupled_weight_decay"]:
                            p.array *= 1 - lr * weight_decay
                        else:
                            grad = grad + weight_decay * p.array
                    exp_avg, exp_avg_sq = state["exp_avg"].array, state["exp_avg_sq"].array
                    exp_avg += (1 - beta1) * (grad - exp_avg)
                    exp_avg_sq *= beta2
                    exp_avg_sq += (1 - beta2) * grad * grad
                    bias_correction1 = 1 - beta1**step
                    bias_correction2_sqrt = (1 - beta2**step) ** 0.5
                    xp = p.xp
                    if group["amsgrad"]:
                        max_sq = state["max_exp_avg_sq"].array
                        xp.maximum(max_sq, exp_avg_sq, out=max_sq)
                        denom = xp.sqrt(max_sq) / bias_correction2_sqrt + eps
                    else:
                        denom = xp.sqrt(exp_avg_sq) / bias_correction2_sqrt + eps
                    p.array -= (lr / bias_correction1) * (exp_avg / denom)
                    p._version_counter[0] += 1
        return loss
