"""Adagrad (Duchi et al., 2011) with torch's learning-rate decay and initial accumulator."""

from __future__ import annotations

from ..autograd.function import no_grad
from .optimizer import Optimizer, _state_buffer


class Adagrad(Optimizer):
    """For each parameter p with gradient g, at step t::

        g = g + weight_decay * p
        clr = lr / (1 + (t - 1) * lr_decay)
        s = s + g * g                      (s starts at initial_accumulator_value)
        p = p - clr * g / (sqrt(s) + eps)
    """

    def __init__(self, params, lr: float = 1e-2, lr_decay: float = 0.0,
                 weight_decay: float = 0.0, initial_accumulator_value: float = 0.0,
                 eps: float = 1e-10, *, maximize: bool = False):
        for name, value in (("learning rate", lr), ("lr_decay value", lr_decay),
                            ("weight_decay value", weight_decay), ("epsilon value", eps),
                            ("initial_accumulator_value", initial_accumulator_value)):
            if value < 0.0:
                raise ValueError(f"Invalid {name}: {value}")
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value,
                                      eps=eps, maximize=maximize))

    def step(self, closure=None):
        loss = self._closure_loss(closure)
        with no_grad():
            for group in self.param_groups:
                for p, grad in self._gradients(group):
                    state = self.state.setdefault(p, {})
                    if not state:
                        state["step"] = 0.0
                        state["sum"] = _state_buffer(p)
                        state["sum"].array += group["initial_accumulator_value"]
                    state["step"] += 1
                    if group["weight_decay"] != 0:
                        grad = grad + group["weight_decay"] * p.array
                    clr = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
                    total = state["sum"].array
                    total += grad * grad
                    std = p.xp.sqrt(total) + group["eps"]
                    p.array -= clr * (grad / std)
                    p._version_counter[0] += 1
        return loss
