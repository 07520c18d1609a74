"""The user-facing form of the basic ops: Python scalars, dtype promotion, torch's signatures.

These functions are what ``Tensor`` methods and ``minitorch_cv.functional`` call; each is a
thin wrapper that prepares arguments and calls one ``Function.apply``.
"""

from __future__ import annotations

import functools
import numbers
from collections import namedtuple

import numpy as np

from ..autograd.tensor import Tensor, float32
from ..errors import DTypeError, SizeError, UnsupportedError
from . import elementwise as E
from . import matmul as M
from . import movement as V
from . import reduce as R


def numpy_names(fn):
    """Accept NumPy's ``axis=`` for ``dim=`` and ``keepdims=`` for ``keepdim=`` (torch does)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if "axis" in kwargs:
            kwargs["dim"] = kwargs.pop("axis")
        if "keepdims" in kwargs:
            kwargs["keepdim"] = kwargs.pop("keepdims")
        return fn(*args, **kwargs)

    return wrapper


def _floating(a: Tensor) -> Tensor:
    """Integer and bool tensors become the default float dtype, as torch's float functions do."""
    if a.dtype.kind == "f":
        return a
    from ..creation import get_default_dtype  # noqa: PLC0415

    return a.type(get_default_dtype())


max_type = namedtuple("max", ["values", "indices"])  # torch.return_types.max
min_type = namedtuple("min", ["values", "indices"])


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


def _broadcasting(function, *operands):
    """``function.apply(*operands)``, with NumPy's broadcast ValueError reported as torch's
    RuntimeError (``SizeError`` is both)."""
    try:
        return function.apply(*operands)
    except ValueError as error:
        if "broadcast" not in str(error):
            raise
        shapes = " and ".join(str(tuple(np.shape(getattr(o, "array", o)))) for o in operands)
        raise SizeError(f"{function.__name__.lower()}: the shapes {shapes} cannot be broadcast "
                        "together (sizes must be equal or 1 in each trailing dimension); "
                        "reshape or unsqueeze one operand") from None


def add(a, b, alpha=1):
    a, b = _promote(a, b)
    return _broadcasting(E.Add, a, b if alpha == 1 else b * alpha)


def sub(a, b, alpha=1):
    a, b = _promote(a, b)
    return _broadcasting(E.Sub, a, b if alpha == 1 else b * alpha)


def mul(a, b):
    return _broadcasting(E.Mul, *_promote(a, b))


def div(a, b):
    a, b = _promote(a, b)
    if not (isinstance(a, Tensor) and a.dtype.kind == "f") and not (
            isinstance(b, Tensor) and b.dtype.kind == "f"):
        a = a.float() if isinstance(a, Tensor) else float(a)  # true division, as torch
    return _broadcasting(E.Div, *_promote(a, b))


def pow(a, b):  # noqa: A001 (torch's name)
    return _broadcasting(E.Pow, *_promote(a, b))


def maximum(a, b):
    return _broadcasting(E.Maximum, *_promote(a, b))


def minimum(a, b):
    return _broadcasting(E.Minimum, *_promote(a, b))


def where(condition, a, b):
    cond = condition.array if isinstance(condition, Tensor) else condition
    a, b = _promote(a, b)
    return _broadcasting(E.Where, cond, a, b)


def neg(a):
    return E.Neg.apply(a)


def exp(a):
    return E.Exp.apply(_floating(a))


def log(a):
    return E.Log.apply(_floating(a))


def sqrt(a):
    return E.Sqrt.apply(_floating(a))


def abs(a):  # noqa: A001
    return E.Abs.apply(a)


def clamp(a, min=None, max=None):  # noqa: A002
    if a.dtype.kind in "iub" and any(isinstance(v, float) for v in (min, max)):
        a = _floating(a)  # torch: an int tensor clamped to float bounds becomes float
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
    return E.Sigmoid.apply(_floating(a))


def tanh(a):
    return E.Tanh.apply(_floating(a))


# ----------------------------------------------------------------------------- reductions
@numpy_names
def sum(a, dim=None, keepdim=False, dtype=None):  # noqa: A001
    if dtype is not None:
        a = a.type(dtype)
    elif a.dtype.kind in "biu" and a.dtype != np.int64:
        a = a.long()  # torch sums bool and integer tensors in int64 (NumPy: uint8 -> uint64)
    return R.Sum.apply(a, dim=dim, keepdim=keepdim)


@numpy_names
def mean(a, dim=None, keepdim=False):
    if a.dtype.kind != "f":
        raise DTypeError(f"mean(): could not infer output dtype. Input dtype must be either a "
                         f"floating point or complex dtype. Got: {a.dtype}; call .float() first")
    return R.Mean.apply(a, dim=dim, keepdim=keepdim)


@numpy_names
def var(a, dim=None, unbiased=True, keepdim=False, correction=None):
    correction = (1 if unbiased else 0) if correction is None else correction
    return R.Var.apply(a, dim=dim, keepdim=keepdim, correction=correction)


@numpy_names
def std(a, dim=None, unbiased=True, keepdim=False, correction=None):
    return sqrt(var(a, dim=dim, unbiased=unbiased, keepdim=keepdim, correction=correction))


@numpy_names
def max(a, dim=None, keepdim=False):  # noqa: A001
    """``max(a)`` is a 0-d tensor; ``max(a, dim)`` returns ``(values, indices)`` (also as
    ``.values``/``.indices``); ``max(a, other_tensor)`` is ``maximum``, as torch."""
    if isinstance(dim, Tensor):
        return maximum(a, dim)
    if dim is None:
        return R.MaxMin.apply(a, dim=None, keepdim=keepdim, largest=True)
    return max_type(*R.MaxMin.apply(a, dim=dim, keepdim=keepdim, largest=True))


@numpy_names
def min(a, dim=None, keepdim=False):  # noqa: A001
    if isinstance(dim, Tensor):
        return minimum(a, dim)
    if dim is None:
        return R.MaxMin.apply(a, dim=None, keepdim=keepdim, largest=False)
    return min_type(*R.MaxMin.apply(a, dim=dim, keepdim=keepdim, largest=False))


@numpy_names
def argmax(a, dim=None, keepdim=False):
    data = a.array
    if dim is None:
        return Tensor._wrap(a.xp.asarray(data.argmax(), dtype="int64"), a.device)
    idx = data.argmax(axis=dim)
    return Tensor._wrap((a.xp.expand_dims(idx, dim) if keepdim else idx).astype("int64"),
                        a.device)


@numpy_names
def argmin(a, dim=None, keepdim=False):
    return argmax(neg(a.detach()) if a.dtype.kind == "f" else -a.detach(), dim, keepdim)


@numpy_names
def logsumexp(a, dim=None, keepdim=False):
    return R.LogSumExp.apply(a, dim=dim, keepdim=keepdim)


@numpy_names
def softmax(a, dim=-1):
    return R.Softmax.apply(a, dim=dim)


@numpy_names
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


@numpy_names
def flatten(a, start_dim=0, end_dim=-1):
    if a.ndim == 0:
        return reshape(a, 1)
    start, end = start_dim % a.ndim, end_dim % a.ndim
    shape = a.shape
    flat = 1
    for n in shape[start:end + 1]:
        flat *= n
    return reshape(a, *shape[:start], flat, *shape[end + 1:])


@numpy_names
def squeeze(a, dim=None):
    if dim is None:
        return reshape(a, *[n for n in a.shape if n != 1])
    dims = {d % a.ndim for d in ((dim,) if isinstance(dim, int) else dim)}
    return reshape(a, *[n for i, n in enumerate(a.shape) if not (i in dims and n == 1)])


@numpy_names
def unsqueeze(a, dim):
    dim = dim % (a.ndim + 1)
    return reshape(a, *a.shape[:dim], 1, *a.shape[dim:])


def expand(a, *shape):
    return V.Expand.apply(a, shape=_shape_arg(shape))


def raw_index(index, xp):
    """An index as NumPy/CuPy take it: Tensors become their arrays, a list an index array."""
    if isinstance(index, Tensor):
        return index.array
    if isinstance(index, tuple):
        return tuple(i.array if isinstance(i, Tensor) else i for i in index)
    if isinstance(index, list):
        return xp.asarray(index)
    return index


def getitem(a, index):
    index = raw_index(index, a.xp)
    if V._is_advanced(index):
        return V.GetItem.apply(a, index=index)  # a copy, as in torch
    parts = index if isinstance(index, tuple) else (index,)
    if not any(p is Ellipsis for p in parts):
        index = (*parts, Ellipsis)  # so that x[i, j] is a 0-d view, not a NumPy scalar copy
    return _as_view(V.GetItem.apply(a, index=index), a, "getitem", index)


@numpy_names
def cat(tensors, dim=0):
    tensors = list(tensors)
    if not tensors:
        raise ValueError("cat() needs a non-empty list of tensors")
    return V.Cat.apply(*tensors, dim=dim)


@numpy_names
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
        raise UnsupportedError(f"pad mode {mode!r} is not supported; use mode='constant' "
                               "(reflect and replicate padding are not implemented here)")
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
