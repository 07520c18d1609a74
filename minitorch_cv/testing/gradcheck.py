"""Numerical gradient checking: is ``backward`` the derivative of ``forward``?

For a function ``f`` of tensors and a random upstream gradient ``v`` (never all ones: with ones,
batch norm's input gradient sums to zero and hides bugs), autograd gives ``v^T J`` for every
input. Central differences estimate the same quantity one input element at a time::

    d/dx_i <v, f(x)>  ~=  (<v, f(x + eps e_i)> - <v, f(x - eps e_i)>) / (2 eps)

Everything runs in float64; defaults are PyTorch's (eps 1e-6, atol 1e-5, rtol 1e-3).
"""

from __future__ import annotations

import numpy as np

from .. import backend
from ..autograd.function import no_grad
from ..autograd.tensor import Tensor


class GradcheckError(AssertionError):
    """A gradient that disagrees with finite differences; the message names input and index."""


def _output(fn, inputs) -> Tensor:
    out = fn(*inputs)
    if isinstance(out, (tuple, list)):
        out = out[0]
    if not isinstance(out, Tensor):
        raise TypeError(f"gradcheck: the function must return a Tensor, got {type(out).__name__}")
    return out


def gradcheck(fn, *inputs, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              seed: int = 0, raise_exception: bool = True) -> bool:
    """Compare autograd's gradients of ``fn(*inputs)`` with central differences.

    Args:
        fn: function of the inputs returning a Tensor (or a tuple whose first item is one).
        inputs: Tensors (float64 ones with ``requires_grad=True`` are checked) or other
            arguments passed through unchanged.
        eps, atol, rtol: step and tolerances (|analytic - numeric| <= atol + rtol |numeric|).
        seed: for the random upstream gradient.
        raise_exception: raise ``GradcheckError`` on failure (else return False).

    Returns:
        True when every gradient matches.
    """
    checked = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input has requires_grad=True")
    for i in checked:
        if inputs[i].dtype != np.float64:
            raise TypeError(f"gradcheck: input {i} is {inputs[i].dtype}; finite differences need "
                            "float64 (use .double())")

    out = _output(fn, inputs)
    rng = np.random.default_rng(seed)
    upstream = backend.move_array(rng.standard_normal(out.shape), out.device)
    upstream = upstream.astype(out.dtype)
    for i in checked:
        inputs[i].grad = None
    out.backward(Tensor._wrap(upstream, out.device))
    analytic = {
        i: (backend.to_numpy(inputs[i].grad.array) if inputs[i].grad is not None
            else np.zeros(inputs[i].shape))
        for i in checked
    }

    def objective() -> float:
        with no_grad():
            value = _output(fn, inputs).array
        return float(backend.to_numpy((value * upstream).sum()))

    for i in checked:
        data = inputs[i].array  # perturbed in place (works for non-contiguous data too)
        numeric = np.zeros(inputs[i].shape)
        for index in np.ndindex(*inputs[i].shape):
            original = float(data[index])
            data[index] = original + eps
            plus = objective()
            data[index] = original - eps
            minus = objective()
            data[index] = original
            numeric[index] = (plus - minus) / (2 * eps)
        bad = np.abs(analytic[i] - numeric) > atol + rtol * np.abs(numeric)
        if bad.any():
            where = tuple(int(v) for v in np.argwhere(bad)[0])
            message = (
                f"gradcheck failed for input {i} (shape {inputs[i].shape}) at index {where}: "
                f"analytic {analytic[i][where]:.8g} vs numeric {numeric[where]:.8g} "
                f"({int(bad.sum())} of {bad.size} elements differ; atol={atol}, rtol={rtol})"
            )
            if raise_exception:
                raise GradcheckError(message)
            return False
    return True
