"""In-place ops (``add_``, ``relu_``, ``x[i] = v``, ``out += identity``), recorded as torch does.

Every in-place op is the out-of-place op plus a copy back into the tensor's own array::

    y.mul_(c)   ~   new = y * c;  copy new's values into y.array;  y.grad_fn = new's node

Torch's rules, in order:

1. A leaf that requires grad cannot change in place while grad mode is on (its ``.grad`` would
   belong to values that no longer exist): RuntimeError, torch's message. Under ``no_grad()``
   it can (that is what optimizers and initialisers do).
2. Nothing needs a gradient (grad mode off, or neither the tensor nor an operand requires grad):
   the values change, the version counter goes up by one, nothing is recorded.
3. Otherwise the op is recorded: its node's parents are the tensor's previous node and the
   operands' nodes, the result is copied into the tensor's array (true in-place: ``detach()``
   and ``.data`` aliases see the change; ``relu_`` on a tensor's own contiguous array writes
   it there directly, without the temporary), the version goes up, and the same Tensor object
   gets the new node as ``grad_fn`` (and ``requires_grad=True``).

Saved arrays, as torch saves them: if the op saved the tensor's *old* values (``mul_`` needs
them for the other operand's gradient), a private copy is kept (torch's "original self"); if
it saved its *output* (``relu_``, ``sigmoid_``, ``exp_``), the saved output is the tensor's
array at its new version, so changing it in place again makes backward raise, as in torch.

Views (basic slices, ``reshape``/``view``, ``permute``/``transpose`` results that share
memory) share their base's version counter and remember their base, as in torch: an in-place
op on a view is written back into the base as a recorded op on the base (torch's
``CopySlices``), and the view becomes a fresh view of the new base. So ``y[:, 0] += v`` and
``y[0:2].mul_(3)`` give torch's gradients.
"""

from __future__ import annotations

import numpy as np

from .. import backend
from ..ops import api
from ..ops import elementwise as E
from ..ops import movement as V
from ..ops.inplace import Overwrite, SetItem
from .function import is_grad_enabled, no_grad
from .tensor import Tensor

_TORCH_NAMES = {"float16": "Half", "float32": "Float", "float64": "Double", "int64": "Long",
                "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}
_VIEW_OPS = (V.Reshape, V.Permute, V.Expand, V.GetItem)


def _requires_grad(value) -> bool:
    return isinstance(value, Tensor) and value.requires_grad


def _check_leaf(target: Tensor, op: str, view: bool = False) -> None:
    if is_grad_enabled() and target.requires_grad and target.grad_fn is None:
        prefix = "a view of a leaf" if view else "a leaf"
        raise RuntimeError(
            f"{prefix} Variable that requires grad is being used in an in-place operation. "
            f"({op}: use the out-of-place form, x = x + y, or change it inside "
            "`with minitorch_cv.no_grad():` as optimizers and initialisers do)")


def _check_not_a_view(target: Tensor, op: str) -> None:
    """A view whose base is unknown (made by a Function called directly, not through the
    Tensor methods): refuse rather than leave the base's gradient wrong."""
    node = target.grad_fn
    if node is None or node.function not in _VIEW_OPS or target.array.base is None:
        return
    if node.function is V.GetItem and V._is_advanced(node.index):
        return  # advanced indexing copies
    if isinstance(node.parents[0], Tensor):  # a view of a leaf: torch refuses it too
        _check_leaf(node.parents[0], op, view=True)
    raise RuntimeError(
        f"{op}: in-place change of a view ({node.name()[:-8]} result) whose base is unknown "
        "(it was made by calling a Function directly); write into the base instead "
        "(base[idx] = value), or clone() the view before changing it")


def _replay_view(base: Tensor, kind: str, arg) -> Tensor:
    if kind == "getitem":
        return api.getitem(base, arg)
    if kind == "reshape":
        return api.reshape(base, *arg)
    return api.permute(base, *arg)


def _write_back(base: Tensor, kind: str, arg, new: Tensor) -> None:
    """Record ``base``'s change (torch's ``CopySlices``): the view's new values go into the
    base, through the base's own in-place op (so a view of a view writes back twice)."""
    if kind == "getitem":
        base[arg] = new
    elif kind == "reshape":
        base.copy_(api.reshape(new, *base.shape))
    else:
        base.copy_(api.permute(new, *np.argsort(arg)))


def _check_result(target: Tensor, out: Tensor, op: str) -> None:
    if out.shape != target.shape:
        raise RuntimeError(f"output with shape {list(target.shape)} doesn't match the broadcast "
                           f"shape {list(out.shape)} ({op} cannot grow the tensor it changes)")
    if not np.can_cast(out.dtype, target.dtype, casting="same_kind"):
        names = [_TORCH_NAMES.get(d.name, d.name) for d in (out.dtype, target.dtype)]
        raise RuntimeError(f"result type {names[0]} can't be cast to the desired output type "
                           f"{names[1]} ({op}: convert the tensor first, e.g. x = x.float())")
    if not target.array.flags.writeable:
        raise RuntimeError("unsupported operation: more than one element of the written-to "
                           "tensor refers to a single memory location (an expand() result). "
                           "Please clone() the tensor before performing the operation.")


def _rewire_saved(ctx, target: Tensor, old, out: Tensor, save_result: bool) -> None:
    """Before the copy: old values the node saved become a private copy, or its result when
    ``save_result``; a saved result becomes the tensor's own array (version-checked)."""
    if any(saved is old for saved in ctx.saved_tensors):
        original = out.array if save_result else old.copy()
        ctx.saved_tensors = tuple(original if s is old else s for s in ctx.saved_tensors)
    ctx.saved_tensors = tuple(target.array if s is out.array else s for s in ctx.saved_tensors)
    mine = (target._version_counter, out._version_counter)
    ctx._saved_versions = [v for v in ctx._saved_versions if v[0] not in mine]


def inplace(target: Tensor, op: str, compute, *operands, save_result: bool = False,
            direct=None) -> Tensor:
    """Run ``compute(target)`` (the out-of-place op) and make its result ``target``'s new value.

    ``operands`` are the other inputs (only their ``requires_grad`` matters here).
    ``save_result``: the op's backward gives the same answer from its result as from its
    input (``leaky_relu_`` with a slope >= 0): keep the result, as torch does, instead of a
    copy of the old values. ``direct(array)``: when nothing is recorded, change the array
    with it instead (``t[i] = v`` in a loop must not copy the whole tensor every time).
    """
    _check_leaf(target, op, view=op == "__setitem__")
    record = is_grad_enabled() and (target.requires_grad or any(map(_requires_grad, operands)))
    view = getattr(target, "_view_of", None) if record else None
    if view is not None:
        _check_leaf(view[0], op, view=True)
    elif record and not hasattr(target, "_view_of"):
        _check_not_a_view(target, op)
    if record:
        out = compute(target)
    elif direct is not None:
        if not target.array.flags.writeable:
            _check_result(target, target, op)  # raises torch's message for expand() results
        direct(target.array)
        target._version_counter[0] += 1
        return target
    else:
        with no_grad():
            out = compute(target)
    _check_result(target, out, op)
    old = target.array
    ctx = out.grad_fn if record else None
    if ctx is not None:
        _rewire_saved(ctx, target, old, out, save_result)
    if view is not None:  # the base changes (and so this view, which shares its memory)
        _write_back(*view, out)
        ctx = _replay_view(*view).grad_fn
        if any(saved is old for saved in out.grad_fn.saved_tensors):
            out.grad_fn._saved_versions.append(
                (target._version_counter, target._version, target.shape))
        target.grad_fn, target.requires_grad = ctx, True
        return target
    if out.array is not old:
        target.xp.copyto(old, out.array, casting="unsafe")
    target._version_counter[0] += 1
    if ctx is not None:
        if any(saved is old for saved in ctx.saved_tensors):  # the saved output is now `old`
            ctx._saved_versions.append((target._version_counter, target._version, target.shape))
        previous = target.grad_fn
        if previous is not None and previous._retained is not None:
            ctx._retained, previous._retained = previous._retained, None  # grad of the new value
        target.grad_fn = ctx
        target.requires_grad = True
    return target


# ------------------------------------------------------------------------- the methods
def _same_device(target: Tensor, value):
    if isinstance(value, Tensor) and value.device != target.device:
        raise RuntimeError(f"expected both tensors on {target.device}, got {value.device}")
    return value


def add_(self, other, alpha=1):
    return inplace(self, "add_", lambda t: api.add(t, _same_device(t, other), alpha), other)


def sub_(self, other, alpha=1):
    return inplace(self, "sub_", lambda t: api.sub(t, _same_device(t, other), alpha), other)


def mul_(self, other):
    return inplace(self, "mul_", lambda t: api.mul(t, _same_device(t, other)), other)


def div_(self, other):
    return inplace(self, "div_", lambda t: api.div(t, _same_device(t, other)), other)


def pow_(self, exponent):
    return inplace(self, "pow_", lambda t: api.pow(t, _same_device(t, exponent)), exponent)


def clamp_(self, min=None, max=None):  # noqa: A002 (torch's names)
    return inplace(self, "clamp_", lambda t: api.clamp(t, min, max))


def _unary(name: str, fn, direct=None):
    def method(self):
        return inplace(self, name, fn, direct=direct)

    method.__name__ = name
    method.__doc__ = f"In-place ``{name[:-1]}``: changes this tensor and returns it."
    return method


def _overwrite_with(self, op: str, src):
    if isinstance(src, Tensor):
        src = _same_device(self, src).type(self.dtype) if src.dtype != self.dtype else src
    else:
        src = backend.move_array(src, self.device) if hasattr(src, "dtype") else src
    src_shape = tuple(np.shape(src.array if isinstance(src, Tensor) else src))
    try:
        np.broadcast_shapes(src_shape, self.shape)
    except ValueError:
        raise RuntimeError(f"{op}: the source of shape {list(src_shape)} is not "
                           f"broadcastable to the tensor's shape {list(self.shape)}") from None

    def direct(array):
        array[...] = src.array if isinstance(src, Tensor) else src

    return inplace(self, op, lambda t: Overwrite.apply(t, src), src, direct=direct)


def fill_(self, value):
    return _overwrite_with(self, "fill_", value)


def zero_(self):
    return _overwrite_with(self, "zero_", 0)


def copy_(self, src, non_blocking: bool = False):
    if isinstance(src, Tensor) and src.device != self.device:
        src = src.to(self.device)  # differentiable: the gradient goes back to src's device
    return _overwrite_with(self, "copy_", src)


def uniform_(self, a: float = 0.0, b: float = 1.0):
    from ..random import generator  # noqa: PLC0415

    return _overwrite_with(self, "uniform_", generator(self.device).uniform(a, b, self.shape))


def normal_(self, mean: float = 0.0, std: float = 1.0):
    from ..random import generator  # noqa: PLC0415

    return _overwrite_with(self, "normal_", generator(self.device).normal(mean, std, self.shape))


def __setitem__(self, index, value) -> None:  # noqa: N807 (a Tensor method)
    index = api.raw_index(index, self.xp)
    if isinstance(value, Tensor):
        _same_device(self, value)
        value = value.type(self.dtype) if value.dtype != self.dtype else value

    def direct(array):
        array[index] = value.array if isinstance(value, Tensor) else value

    inplace(self, "__setitem__", lambda t: SetItem.apply(t, value, index=index), value,
            direct=direct)


_METHODS = {
    "add_": add_, "sub_": sub_, "mul_": mul_, "div_": div_, "pow_": pow_, "clamp_": clamp_,
    "clip_": clamp_, "fill_": fill_, "zero_": zero_, "copy_": copy_, "uniform_": uniform_,
    "normal_": normal_, "__setitem__": __setitem__,
    "__iadd__": add_, "__isub__": sub_, "__imul__": mul_, "__itruediv__": div_,
    "__ipow__": pow_,
}
for _name, _fn in {"sigmoid_": api.sigmoid, "tanh_": api.tanh, "exp_": api.exp,
                   "log_": api.log, "sqrt_": api.sqrt, "neg_": api.neg, "abs_": api.abs}.items():
    _METHODS[_name] = _unary(_name, _fn)


def relu_(self):
    """In-place ``relu``: changes this tensor and returns it."""

    def compute(t):
        # recorded: ReLU saves its output, so it may write it straight into the tensor's own
        # array (no temporary, no copy back) when that array is its own, writeable and
        # contiguous; a view goes through the general path (written back into its base)
        flags = t.array.flags
        if (getattr(t, "_view_of", None) is None and flags.c_contiguous
                and getattr(flags, "writeable", True)):
            return E.ReLU.apply(t, into_input=True)
        return api.relu(t)

    # inference (no_grad / eval) runs it in one pass too: ``direct``
    return inplace(self, "relu_", compute, save_result=True,
                   direct=lambda array: backend.get_array_module(array).maximum(array, 0,
                                                                                out=array))


_METHODS["relu_"] = relu_

for _name, _method in _METHODS.items():
    setattr(Tensor, _name, _method)

__all__ = ["inplace"]
