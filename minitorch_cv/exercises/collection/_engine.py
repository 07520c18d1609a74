"""The engine's own code, called on arrays: how the solutions wrap it to an exercise's signature.

``value(fn, *arrays)`` runs ``fn`` on Tensors and returns the array; ``grads(fn, upstream,
*arrays)`` back-propagates ``upstream`` through it and returns one gradient per array.
"""

from __future__ import annotations

import numpy as np

from ...autograd.tensor import Tensor


def value(fn, *arrays, **params):
    wrapped = [Tensor(np.array(a)) if isinstance(a, np.ndarray) else a for a in arrays]
    return fn(*wrapped, **params).numpy()


def grads(fn, upstream, *arrays, **params):
    wrapped = [Tensor(np.array(a), requires_grad=True) if isinstance(a, np.ndarray)
               and a.dtype.kind == "f" else (Tensor(a) if isinstance(a, np.ndarray) else a)
               for a in arrays]
    out = fn(*wrapped, **params)
    out.backward(Tensor(np.asarray(upstream, dtype=out.dtype).reshape(out.shape)))
    return tuple(t.grad.numpy() if t.requires_grad else None for t in wrapped
                 if isinstance(t, Tensor))
