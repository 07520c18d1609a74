"""Stochastic gradient descent with momentum, dampening, Nesterov and weight decay (torch's)."""

from __future__ import annotations

from ..autograd.function import no_grad
from ..autograd.tensor import Tensor
from .optimizer import Optimizer, required


class SGD(Optimizer):
    """For each parameter p with gradient g (torch's formulation, Sutskever et al.)::

        g = g + weight_decay * p
        b = g                                    (first step)
        b = momentum * b + (1 - dampening) * g   (later steps)
        g = g + momentum * b  if nesterov else b
        p = p - lr * g
    """

    def __init__(self, params, lr: float = 1e-3, momentum: float = 0.0,
                 dampening: float = 0.0, weight_decay: float = 0.0, nesterov: bool = False,
                 *, maximize: bool = False):
        if lr is not required and lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov,
                                      maximize=maximize))

    def step(self, closure=None):
        loss = self._closure_loss(closure)
        with no_grad():
            for group in self.param_groups:
                lr, momentum = group["lr"], group["momentum"]
                for p, grad in self._gradients(group):
                    if group["weight_decay"] != 0:
                        grad = grad + group["weight_decay"] * p.array
                    if momentum != 0:
                        state = self.state.setdefault(p, {})
                        buf = state.get("momentum_buffer")
                        if buf is None:
                            buf = state["momentum_buffer"] = Tensor._wrap(grad.copy(), p.device)
                        else:
                            buf.array *= momentum
                            buf.array += (1 - group["dampening"]) * grad
                        grad = grad + momentum * buf.array if group["nesterov"] else buf.array
                    p.array -= lr * grad
                    p._version_counter[0] += 1
        return loss
