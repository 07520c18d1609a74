"""Adadelta (Zeiler, 2012): step sizes from running averages of squared gradients and of
squared updates, scaled by ``lr`` as in torch."""

from __future__ import annotations

from ..autograd.function import no_grad
from .optimizer import Optimizer, _state_buffer


class Adadelta(Optimizer):
    """For each parameter p with gradient g::

        g = g + weight_decay * p
        v = rho * v + (1 - rho) * g * g
        delta = sqrt(u + eps) / sqrt(v + eps) * g
        u = rho * u + (1 - rho) * delta * delta
        p = p - lr * delta
    """

    def __init__(self, params, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0.0, *, maximize: bool = False):
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        for name, value in (("learning rate", lr), ("epsilon value", eps),
                            ("weight_decay value", weight_decay)):
            if value < 0.0:
                raise ValueError(f"Invalid {name}: {value}")
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay,
                                      maximize=maximize))

    def step(self, closure=None):
        loss = self._closure_loss(closure)
        with no_grad():
            for group in self.param_groups:
                rho, eps = group["rho"], group["eps"]
                for p, grad in self._gradients(group):
                    state = self.state.setdefault(p, {})
                    if not state:
                        state["step"] = 0.0
                        state["square_avg"] = _state_buffer(p)
                        state["acc_delta"] = _state_buffer(p)
                    state["step"] += 1
                    if group["weight_decay"] != 0:
                        grad = grad + group["weight_decay"] * p.array
                    square_avg, acc_delta = state["square_avg"].array, state["acc_delta"].array
                    square_avg *= rho
                    square_avg += (1 - rho) * grad * grad
                    xp = p.xp
                    delta = xp.sqrt(acc_delta + eps) / xp.sqrt(square_avg + eps) * grad
                    acc_delta *= rho
                    acc_delta += (1 - rho) * delta * delta
                    p.array -= group["lr"] * delta
                    p._version_counter[0] += 1
        return loss
