"""RMSprop (Hinton's lecture 6e) with torch's momentum and centered variants."""

from __future__ import annotations

from ..autograd.function import no_grad
from .optimizer import Optimizer, _state_buffer


class RMSprop(Optimizer):
    """For each parameter p with gradient g::

        g = g + weight_decay * p
        s = alpha * s + (1 - alpha) * g * g
        m = m + (1 - alpha) * (g - m)                   (centered only: mean gradient)
        avg = sqrt(s - m * m) if centered else sqrt(s);  avg = avg + eps
        b = momentum * b + g / avg;  p = p - lr * b     (momentum > 0)
        p = p - lr * g / avg                            (otherwise)
    """

    def __init__(self, params, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False, *,
                 maximize: bool = False):
        for name, value in (("learning rate", lr), ("epsilon value", eps),
                            ("momentum value", momentum), ("weight_decay value", weight_decay),
                            ("alpha value", alpha)):
            if value < 0.0:
                raise ValueError(f"Invalid {name}: {value}")
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered, maximize=maximize))

    def step(self, closure=None):
        loss = self._closure_loss(closure)
        with no_grad():
            for group in self.param_groups:
                lr, alpha, eps, momentum = group["lr"], group["alpha"], group["eps"], \
                    group["momentum"]
                for p, grad in self._gradients(group):
                    state = self.state.setdefault(p, {})
                    if not state:
                        state["step"] = 0.0
                        state["square_avg"] = _state_buffer(p)
                        if momentum > 0:
                            state["momentum_buffer"] = _state_buffer(p)
                        if group["centered"]:
                            state["grad_avg"] = _state_buffer(p)
                    state["step"] += 1
                    if group["weight_decay"] != 0:
                        grad = grad + group["weight_decay"] * p.array
                    square_avg = state["square_avg"].array
                    square_avg *= alpha
                    square_avg += (1 - alpha) * grad * grad
                    if group["centered"]:
                        grad_avg = state["grad_avg"].array
                        grad_avg += (1 - alpha) * (grad - grad_avg)
                        avg = p.xp.sqrt(square_avg - grad_avg * grad_avg)
                    else:
                        avg = p.xp.sqrt(square_avg)
                    avg += eps
                    if momentum > 0:
                        buf = state["momentum_buffer"].array
                        buf *= momentum
                        buf += grad / avg
                        p.array -= lr * buf
                    else:
                        p.array -= lr * (grad / avg)
                    p._version_counter[0] += 1
        return loss
