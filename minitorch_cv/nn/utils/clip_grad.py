"""Gradient clipping (``clip_grad_norm_``, ``clip_grad_value_``) and parameter vectors.

torch's arithmetic: the total norm is the ``norm_type``-norm of the per-parameter norms, and
every gradient is multiplied by ``min(max_norm / (total_norm + 1e-6), 1)`` (also when it is 1).
"""

from __future__ import annotations

import math

from ...autograd.function import no_grad
from ...autograd.tensor import Tensor
from ...errors import SizeError
from ...ops import api, api_math


def _with_grads(parameters) -> list[Tensor]:
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p for p in parameters if p.grad is not None]


def clip_grad_norm_(parameters, max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False, foreach=None) -> Tensor:
    """Scale all gradients together so that their joint norm is at most ``max_norm``;
    returns the joint norm before clipping (a 0-d tensor)."""
    params = _with_grads(parameters)
    if not params:
        from ...creation import tensor  # noqa: PLC0415

        return tensor(0.0)
    norm_type = float(norm_type)
    with no_grad():
        norms = [api_math.norm(p.grad, p=norm_type) for p in params]
        if math.isinf(norm_type):
            total = api.max(api.stack(norms))
        else:
            total = api_math.norm(api.stack(norms), p=norm_type)
        if error_if_nonfinite and not bool(api_math.isfinite(total).array):
            raise SizeError(f"The total norm of order {norm_type} for gradients from "
                            "`parameters` is non-finite, so it cannot be clipped. To disable "
                            "this error and scale the gradients by the non-finite norm anyway, "
                            "set `error_if_nonfinite=False`")
        coef = api.clamp(api.div(max_norm, api.add(total, 1e-6)), max=1.0)
        for p in params:
            p.grad.mul_(coef.type(p.grad.dtype))
    return total


def clip_grad_value_(parameters, clip_value: float, foreach=None) -> None:
    """Clamp every gradient element to ``[-clip_value, clip_value]``."""
    with no_grad():
        for p in _with_grads(parameters):
            p.grad.clamp_(min=-clip_value, max=clip_value)


def parameters_to_vector(parameters) -> Tensor:
    """All parameters flattened and joined into one 1-D tensor."""
    return api.cat([api.reshape(p, -1) for p in parameters])


def vector_to_parameters(vec: Tensor, parameters) -> None:
    """Copy consecutive slices of ``vec`` into the parameters (in place)."""
    start = 0
    with no_grad():
        for p in parameters:
            n = p.numel()
            p.copy_(api.reshape(vec[start:start + n], *p.shape))
            start += n
