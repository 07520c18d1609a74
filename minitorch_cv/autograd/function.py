"""``Function`` and ``Context``: one op = one class, forward and backward side by side.

A Function works on raw arrays (NumPy or CuPy), never on Tensors::

    class Mul(Function):
        @staticmethod
        def forward(ctx, a, b):
            ctx.save_for_backward(a, b)
            return a * b

        @staticmethod
        def backward(ctx, grad_output):
            a, b = ctx.saved_tensors
            return grad_output * b, grad_output * a   # one gradient per input (or None)

``Mul.apply(x, y)`` unwraps the Tensors, runs ``forward``, wraps the result and, when a
gradient is needed, records the Context as the output's ``grad_fn``: the node of the graph.

Rules of the engine (first-order only: ``backward`` does not build a graph of its own):

- ``forward`` may return one array or a tuple; only the first output is differentiable,
  the rest (argmax indices, masks) come back as Tensors without gradient.
- ``backward`` returns one gradient per positional input, ``None`` where none is needed
  (``ctx.needs_input_grad[i]`` is False) or where the input is not a Tensor.
- In-place changes are caught with version counters, as torch does: every array passed to
  ``save_for_backward`` that is an input's (or the output's) own data remembers that
  tensor's ``_version``; if it changed before ``backward`` runs, backward raises. So save
  only what backward needs (``Mul`` saves ``b`` only when ``a`` needs a gradient): a saved
  array that is not needed would raise where torch does not. In-place ops themselves are
  recorded by ``autograd/inplace.py``.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any

_grad_state = threading.local()


def is_grad_enabled() -> bool:
    return getattr(_grad_state, "enabled", True)


def set_grad_enabled(mode: bool) -> None:
    _grad_state.enabled = bool(mode)


@contextlib.contextmanager
def no_grad():
    """Inside this block no graph is recorded (evaluation, optimizer steps)."""
    previous = is_grad_enabled()
    set_grad_enabled(False)
    try:
        yield
    finally:
        set_grad_enabled(previous)


@contextlib.contextmanager
def enable_grad():
    previous = is_grad_enabled()
    set_grad_enabled(True)
    try:
        yield
    finally:
        set_grad_enabled(previous)


class Context:
    """What a Function keeps between forward and backward; also the node of the graph.

    Attributes:
        needs_input_grad: one bool per positional input of ``forward``.
        saved_tensors: the arrays given to ``save_for_backward``.
        device: the device name (``"cpu"``, ``"cuda"``, ``"cuda-sim"``) of the inputs; ops
            use it to pick kernels (``kernels.for_device(ctx.device)``) and ``ctx.xp`` for
            the array module.
        parents: for each input, the node its gradient flows to: a Context (non-leaf input),
            a leaf Tensor that requires grad, or None.
    """

    __slots__ = (
        "function", "needs_input_grad", "saved_tensors", "device", "xp", "parents",
        "_saved_versions", "_retained", "_released", "__dict__",
    )

    def __init__(self, function: type[Function], device: str, xp: Any):
        self.function = function
        self.device = device
        self.xp = xp
        self.needs_input_grad: tuple[bool, ...] = ()
        self.saved_tensors: tuple = ()
        self.parents: tuple = ()
        self._saved_versions: list = []
        self._retained = None  # weakref to the output Tensor when retain_grad() was called
        self._released = False

    def save_for_backward(self, *arrays) -> None:
        self.saved_tensors = arrays

    def name(self) -> str:
        return f"{self.function.__name__}Backward"

    def __repr__(self) -> str:
        return f"<{self.name()}>"


class Function:
    """Base class of every differentiable op (see the module docstring)."""

    @staticmethod
    def forward(ctx: Context, *args, **kwargs):  # pragma: no cover - abstract
        raise NotImplementedError("abstract: subclasses define forward")

    @staticmethod
    def backward(ctx: Context, grad_output):  # pragma: no cover - abstract
        raise NotImplementedError("abstract: subclasses define backward")

    @classmethod
    def apply(cls, *inputs, **params):
        from .tensor import Tensor  # noqa: PLC0415  (tensor.py imports the ops)

        tensors = [t for t in inputs if isinstance(t, Tensor)]
        if not tensors:
            raise TypeError(f"{cls.__name__}.apply needs at least one Tensor input")
        device = tensors[0].device
        for t in tensors[1:]:
            if t.device != device:
                raise RuntimeError(
                    f"{cls.__name__}: expected all tensors on the same device, got {device} and "
                    f"{t.device}; move one with .to({device!r})"
                )
        ctx = Context(cls, device, tensors[0].xp)
        needs = tuple(isinstance(t, Tensor) and t.requires_grad for t in inputs)
        ctx.needs_input_grad = needs
        arrays = [t.array if isinstance(t, Tensor) else t for t in inputs]
        raw = cls.forward(ctx, *arrays, **params)
        extra = ()
        if isinstance(raw, tuple):
            raw, extra = raw[0], raw[1:]
        requires_grad = is_grad_enabled() and any(needs)
        device = ctx.__dict__.get("out_device", device)  # set by ops that change device
        out = Tensor._wrap(raw, device, requires_grad)
        if requires_grad:
            ctx.parents = tuple(
                (t.grad_fn if t.grad_fn is not None else t)
                if isinstance(t, Tensor) and t.requires_grad
                else None
                for t in inputs
            )
            _remember_versions(ctx, inputs, out)
            out.grad_fn = ctx
        if extra:
            return (out, *(Tensor._wrap(e, device, False) for e in extra))
        return out


def _remember_versions(ctx: Context, inputs, out) -> None:
    from .tensor import Tensor  # noqa: PLC0415

    # keep the shared version counter, not the tensor: no reference cycle through the output
    candidates = [t for t in inputs if isinstance(t, Tensor)] + [out]
    for saved in ctx.saved_tensors:
        for t in candidates:
            if saved is t.array:
                ctx._saved_versions.append((t._version_counter, t._version_counter[0], t.shape))
                break
