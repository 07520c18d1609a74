"""The user-facing form of the basic ops: Python scalars, dtype promotion, torch's signatures.

These functions are what ``Tensor`` methods and ``minitorch_cv.functional`` call; each is a
thin wrapper that prepares arguments and calls one ``Function.apply``.
"""

from __future__ import annotations

import numbers

import numpy as np

from ..autograd.tensor import Tensor, float32
from . import elementwise as E
from . import matmul as M
from . import movement as V
from . import reduce as R


def _promote(a, b):
    """torch's promotion: Python scalars keep a float tensor's dtype; int op float -> float32."""
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        if a.dtype != b.dtype:
            target = np.result_type(a.dtype, b.dtype)
            if a.dtype.kind in "iub" and b.dtype.kind == "f":
                target = b.dtype
            elif b.dtype.kind in "iub" and a.dtype.kind == "f":
                target = a.dtype
            a, b = a.type(target), b.type(target)
        return a, b
    tensor, scalar, swap = (a, b, False) if isinstance(a, Tensor) else (b, a, True)
    if isinstance(scalar, np.ndarray) or not isinstance(scalar, (numbers.Number, np.generic)):
        scalar = Tensor(scalar, device=tensor.device)
        return _promote(scalar, tensor) if swap else _promote(tensor, scalar)
    if isinstance(scalar, (float, np.floating)) and tensor.dtype.kind in "iub":
        tensor = tensor.type(float32)
    scalar = tensor.dtype.type(scalar) if tensor.dtype.kind == "f" else scalar
    return (scalar, tensor) if swap else (tensor, scalar)


def add(a, b, alpha=1):
    a, b = _promote(a, b)
    return E.Add.apply(a, b if alpha == 1 else b * alpha)


def sub(a, b, alpha=1):
    a, b = _promote(a, b)
    return E.Sub.apply(a, b if alpha == 1 else b * alpha)


def mul(a, b):
    return E.Mul.apply(*_promote(a, b))


def div(a, b):
    a, b = _promote(a, b)
    if not (isinstance(a, Tensor) and a.dtype.kind == "f") and not (
            isinstance(b, Tensor) and b.dtype.kind == "f"):
        a = a.float() if isinstance(a, Tensor) else float(a)  # true division, as torch
    return E.Div.apply(*_promote(a, b))


def pow(a, b):  # noqa: A001 (torch's name)
    return E.Pow.apply(*_promote(a, b))


def maximum(a, b):
    return E.Maximum.apply(*_promote(a, b))


def minimum(a, b):
    return E.Minimum.apply(*_promote(a, b))


def where(condition, a, b):
    cond = condition.array if isinstance(condition, Tensor) else condition
    a, b = _promote(a, b)
    return E.Where.apply(cond, a, b)


def neg(a):
    return E.Neg.apply(a)


def exp(a):
    return E.Exp.apply(a)


def log(a):
    return E.Log.apply(a)


def sqrt(a):
    return E.Sqrt.apply(a)


def abs(a):  # noqa: A001
    return E.Abs.apply(a)


def clamp(a, min=None, max=None):  # noqa: A002
    return E.Clamp.apply(a, min=min, max=max)


def relu(a, inplace=False):
    """max(a, 0); ``inplace=True`` changes ``a`` and returns it (recorded, as torch)."""
    return a.relu_() if inplace else E.ReLU.apply(a)


def leaky_relu(a, negative_slope=0.01, inplace=False):
    if inplace:
        from ..autograd.inplace import inplace as run_inplace  # noqa: PLC0415

        return run_inplace(a, "leaky_relu_", lambda t: leaky_relu(t, negative_slope),
                           save_result=negative_slope >= 0)  # torch saves the result
    return E.LeakyReLU.apply(a, negative_slope=negative_slope)


def sigmoid(a):
    return E.Sigmoid.apply(a)


def tanh(a):
    return E.Tanh.apply(a)


# ----------------------------------------------------------------------------- reductions
def sum(a, dim=None, keepdim=False):  # noqa: A001
    return R.Sum.apply(a, dim=dim, keepdim=keepdim)


def mean(a, dim=None, keepdim=False):
    if a.dtype.kind != "f":
        raise TypeError(f"mean() needs a floating point tensor, got {a.dtype}; call .float()")
    return R.Mean.apply(a, dim=dim, keepdim=keepdim)


def var(a, dim=None, unbiased=True, keepdim=False, correction=None):
    correction = (1 if unbiased else 0) if correction is None else correction
    return R.Var.apply(a, dim=dim, keepdim=keepdim, correction=correction)


def std(a, dim=None, unbiased=True, keepdim=False, correction=None):
    return sqrt(var(a, dim=dim, unbiased=unbiased, keepdim=keepdim, correction=correction))


def max(a, dim=None, keepdim=False):  # noqa: A001
    """``max(a)`` is a 0-d tensor; ``max(a, dim)`` returns ``(values, indices)`` as torch."""
    return R.MaxMin.apply(a, dim=dim, keepdim=keepdim, largest=True)


def min(a, dim=None, keepdim=False):  # noqa: A001
    return R.MaxMin.apply(a, dim=dim, keepdim=keepdim, largest=False)


def argmax(a, dim=None, keepdim=False):
    data = a.array
    if dim is None:
        return Tensor._wrap(a.xp.asarray(data.argmax(), dtype="int64"), a.device)
    idx = data.argmax(axis=dim)
    return Tensor._wrap((a.xp.expand_dims(idx, dim) if keepdim else idx).astype("int64"),
                        a.device)


def argmin(a, dim=None, keepdim=False):
    return argmax(neg(a.detach()) if a.dtype.kind == "f" else -a.detach(), dim, keepdim)


def logsumexp(a, dim=None, keepdim=False):
    return R.LogSumExp.apply(a, dim=dim, keepdim=keepdim)


def softmax(a, dim=-1):
    return R.Softmax.apply(a, dim=dim)


def log_softmax(a, dim=-1):
    return R.LogSoftmax.apply(a, dim=dim)


# ----------------------------------------------------------------------------- movement
def _shape_arg(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(shape)


def _as_view(out, base, kind: str, arg):
    """A result that shares memory with ``base`` is a view, as in torch: it shares the base's
    version counter and remembers how it was made, so that an in-place change of the view is
    written back into the base's graph (``autograd/inplace.py``). ``_view_of`` is None for a
    result that is a copy (a reshape of a non-contiguous array)."""
    if isinstance(base, Tensor) and base.xp.may_share_memory(out.array, base.array):
        out._version_counter = base._version_counter
        out._view_of = (base, kind, arg)
    else:
        out._view_of = None
    return out


def reshape(a, *shape):
    shape = _shape_arg(shape)
    return _as_view(V.Reshape.apply(a, shape=shape), a, "reshape", shape)


def permute(a, *dims):
    dims = _shape_arg(dims)
    return _as_view(V.Permute.apply(a, dims=dims), a, "permute", dims)


def transpose(a, dim0, dim1):
    order = list(range(a.ndim))
    order[dim0], order[dim1] = order[dim1], order[dim0]
    return permute(a, *order)


def flatten(a, start_dim=0, end_dim=-1):
    if a.ndim == 0:
        return reshape(a, 1)
    start, end = start_dim % a.ndim, end_dim % a.ndim
    shape = a.shape
    flat = 1
    for n in shape[start:end + 1]:
        flat *= n
    return reshape(a, *shape[:start], flat, *shape[end + 1:])


def squeeze(a, dim=None):
    if dim is None:
        return reshape(a, *[n for n in a.shape if n != 1])
    dims = {d % a.ndim for d in ((dim,) if isinstance(dim, int) else dim)}
    return reshape(a, *[n for i, n in enumerate(a.shape) if not (i in dims and n == 1)])


def unsqueeze(a, dim):
    dim = dim % (a.ndim + 1)
    return reshape(a, *a.shape[:dim], 1, *a.shape[dim:])


def expand(a, *shape):
    return V.Expand.apply(a, shape=_shape_arg(shape))


def getitem(a, index):
    if isinstance(index, Tensor):
        index = index.array
    elif isinstance(index, tuple):
        index = tuple(i.array if isinstance(i, Tensor) else i for i in index)
    elif isinstance(index, list):
        index = a.xp.asarray(index)
    if V._is_advanced(index):
        return V.GetItem.apply(a, index=index)  # a copy, as in torch
    parts = index if isinstance(index, tuple) else (index,)
    if not any(p is Ellipsis for p in parts):
        index = (*parts, Ellipsis)  # so that x[i, j] is a 0-d view, not a NumPy scalar copy
    return _as_view(V.GetItem.apply(a, index=index), a, "getitem", index)


def cat(tensors, dim=0):
    tensors = list(tensors)
    if not tensors:
        raise ValueError("cat() needs a non-empty list of tensors")
    return V.Cat.apply(*tensors, dim=dim)


def stack(tensors, dim=0):
    tensors = list(tensors)
    if not tensors:
        raise ValueError("stack() needs a non-empty list of tensors")
    shape = tensors[0].shape
    for t in tensors[1:]:
        if t.shape != shape:
            raise RuntimeError(f"stack expects tensors of equal shape, got {shape} and {t.shape}")
    return cat([unsqueeze(t, dim) for t in tensors], dim=dim)


def pad(a, pad, mode="constant", value=0.0):
    if mode != "constant":
        raise ValueError(f"pad mode {mode!r} is not supported; use mode='constant' (reflect and "
                         "replicate padding are not implemented in minitorch_cv)")
    return V.Pad.apply(a, pad=tuple(pad), value=value)


def matmul(a, b):
    """``a @ b`` with NumPy's rules for 1-D operands (promoted, then the dim removed)."""
    if not isinstance(a, Tensor) or not isinstance(b, Tensor):
        raise TypeError("matmul needs two tensors")
    if a.ndim == 0 or b.ndim == 0:
        raise RuntimeError("matmul: both arguments need at least 1 dimension")
    if a.ndim == 1 and b.ndim == 1:
        return sum(mul(a, b)) if a.dtype == b.dtype else M.MatMul.apply(a, b)
    if a.ndim == 1:
        return squeeze(M.MatMul.apply(unsqueeze(a, 0), b), -2)
    if b.ndim == 1:
        return squeeze(M.MatMul.apply(a, unsqueeze(b, 1)), -1)
    return M.MatMul.apply(a, b)
