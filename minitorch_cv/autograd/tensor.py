"""``Tensor``: an array (NumPy or CuPy) plus what autograd needs (grad, requires_grad, grad_fn).

Differences from torch, on purpose:

- ``t.data`` is, as in torch, a Tensor that shares memory with ``t`` and has no gradient
  (changes through it are not seen by autograd). The raw ``numpy.ndarray`` / ``cupy.ndarray``
  is ``t.array`` (``t.numpy()`` copies to a host array). ``t.grad`` is a Tensor, as in torch.
- Dtypes are NumPy dtypes (``minitorch_cv.float32 is numpy.dtype('float32')``).
- In-place ops (``add_``, ``relu_``, ``x[i] = v``, ``out += identity``; ``autograd/inplace.py``)
  are recorded as torch records them, with torch's version-counter errors; on a view of a
  tensor in a graph they raise instead of rewriting the base's graph.
- First-order only: ``backward`` does not record a graph of its own.
"""

from __future__ import annotations

import weakref

import numpy as np

from .. import backend

float16 = np.dtype("float16")
float32 = np.dtype("float32")
float64 = np.dtype("float64")
int32 = np.dtype("int32")
int64 = np.dtype("int64")
uint8 = np.dtype("uint8")
bool_ = np.dtype("bool")
_DEFAULT_FLOAT = float32


def _default_dtype_of(data) -> np.dtype | None:
    """torch's rules for Python data: floats -> float32, ints -> int64, bools -> bool."""
    if isinstance(data, bool):
        return bool_
    if isinstance(data, int):
        return int64
    if isinstance(data, float):
        return _DEFAULT_FLOAT
    return None


class Tensor:
    """A multi-dimensional array that can record the operations applied to it.

    Args:
        data: array-like (list, scalar, NumPy or CuPy array, Tensor).
        requires_grad: record operations for ``backward``.
        device: ``"cpu"``, ``"cuda"`` or ``"cuda-sim"``; default: where ``data`` lives.
        dtype: NumPy dtype or name; default float32 for Python floats, int64 for ints, the
            array's own dtype for arrays (float64 arrays stay float64).
    """

    __array_ufunc__ = None  # make `ndarray * Tensor` call Tensor.__rmul__

    def __init__(self, data, requires_grad: bool = False, device: str | None = None, dtype=None):
        if isinstance(data, Tensor):
            data = data.array
        if device is None:
            device = backend.device_of_array(data)
        device = backend.check_device(device)
        xp = backend.array_module_for(device)
        if dtype is None:
            dtype = _default_dtype_of(data)
            if dtype is None and not hasattr(data, "dtype"):
                probe = np.asarray(data)
                dtype = _DEFAULT_FLOAT if probe.dtype.kind == "f" else probe.dtype
        array = backend.move_array(data, device) if hasattr(data, "dtype") else xp.asarray(data)
        if dtype is not None:
            array = array.astype(np.dtype(dtype), copy=False)
        self._init(array, device, requires_grad)

    def _init(self, array, device: str, requires_grad: bool) -> None:
        self.array = array
        self.device = device
        self.grad: Tensor | None = None
        self.grad_fn = None
        self._version_counter = [0]
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _wrap(cls, array, device: str, requires_grad: bool = False) -> Tensor:
        """Wrap an array produced by an op without copying or checking."""
        t = cls.__new__(cls)
        t._init(array, device, False)
        t.requires_grad = requires_grad
        return t

    # ------------------------------------------------------------------ properties
    @property
    def data(self) -> Tensor:
        """This tensor's values as a Tensor that shares memory and has no gradient (as torch).

        Changes made through it (``p.data.mul_(0.9)``, ``moving_mean.data = ...``) are not
        recorded by autograd and do not bump this tensor's version counter: it is torch's
        "unsafe" escape hatch. Prefer ``detach()`` (version-checked) or ``no_grad()``. The raw
        NumPy/CuPy array is ``.array``.
        """
        return Tensor._wrap(self.array, self.device)

    @data.setter
    def data(self, value) -> None:
        if not isinstance(value, Tensor):
            raise TypeError(f"assigned data must be a Tensor (as in torch), got "
                            f"{type(value).__name__}; wrap it with minitorch_cv.tensor(...)")
        if value.device != self.device:
            raise RuntimeError(f"assigned data is on {value.device} but the tensor is on "
                               f"{self.device}; move it first with .to({self.device!r})")
        if self.requires_grad and value.dtype.kind != "f":
            raise RuntimeError(f"data of dtype {value.dtype} cannot be assigned to a tensor "
                               f"that requires grad; convert it first with .float()")
        self.array = value.array

    @property
    def xp(self):
        return backend.array_module_for(self.device)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.array.shape)

    @property
    def ndim(self) -> int:
        return self.array.ndim

    @property
    def dtype(self) -> np.dtype:
        return self.array.dtype

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def _version(self) -> int:
        return self._version_counter[0]

    @property
    def T(self) -> Tensor:
        return self.permute(*reversed(range(self.ndim)))

    def size(self, dim: int | None = None):
        return self.shape if dim is None else self.shape[dim]

    def dim(self) -> int:
        return self.ndim

    def numel(self) -> int:
        return int(self.array.size)

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __repr__(self) -> str:
        body = np.array2string(backend.to_numpy(self.array), separator=", ", precision=4)
        extras = []
        if self.device != "cpu":
            extras.append(f"device='{self.device}'")
        if self.dtype not in (float32, int64, bool_):
            extras.append(f"dtype={self.dtype}")
        if self.grad_fn is not None:
            extras.append(f"grad_fn={self.grad_fn!r}")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + body + "".join(", " + e for e in extras) + ")"

    # ------------------------------------------------------------------ conversion
    def numpy(self) -> np.ndarray:
        if self.requires_grad:
            raise RuntimeError("can't call numpy() on a tensor that requires grad; use "
                               "tensor.detach().numpy()")
        return backend.to_numpy(self.array)

    def tolist(self):
        return backend.to_numpy(self.array).tolist()

    def item(self):
        if self.array.size != 1:
            raise ValueError(f"item() needs a tensor with one element, this one has shape "
                             f"{self.shape}")
        return backend.to_numpy(self.array).reshape(()).item()

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __bool__(self) -> bool:
        if self.array.size != 1:
            raise RuntimeError("the truth value of a tensor with more than one element is "
                               "ambiguous; use .any() or .all()")
        return bool(self.item())

    def __array__(self, dtype=None, copy=None):
        array = self.detach().numpy()
        return array if dtype is None else array.astype(dtype)

    def __hash__(self) -> int:
        return id(self)

    def detach(self) -> Tensor:
        """The same data, cut from the graph (shares memory, as in torch)."""
        t = Tensor._wrap(self.array, self.device)
        t._version_counter = self._version_counter
        return t

    def clone(self) -> Tensor:
        from ..ops.elementwise import Clone  # noqa: PLC0415

        return Clone.apply(self)

    def to(self, device_or_dtype=None, dtype=None) -> Tensor:
        """``to("cuda-sim")``, ``to(float64)``, or ``to("cpu", float64)``; differentiable."""
        device = self.device
        if isinstance(device_or_dtype, str):  # strings are devices, dtypes are dtype objects
            device = backend.check_device(device_or_dtype)
        elif device_or_dtype is not None:
            dtype = device_or_dtype
        out = self
        if dtype is not None and np.dtype(dtype) != self.dtype:
            out = out.type(dtype)
        if device != self.device:
            from ..ops.movement import ToDevice  # noqa: PLC0415

            out = ToDevice.apply(out, device=device)
        return out

    def cpu(self) -> Tensor:
        return self.to("cpu")

    def cuda(self) -> Tensor:
        return self.to("cuda")

    def type(self, dtype) -> Tensor:
        from ..ops.elementwise import Cast  # noqa: PLC0415

        return self if np.dtype(dtype) == self.dtype else Cast.apply(self, dtype=np.dtype(dtype))

    def float(self) -> Tensor:
        return self.type(float32)

    def double(self) -> Tensor:
        return self.type(float64)

    def long(self) -> Tensor:
        return self.type(int64)

    def int(self) -> Tensor:
        return self.type(int32)

    def bool(self) -> Tensor:
        return self.type(bool_)

    def is_floating_point(self) -> bool:
        return self.dtype.kind == "f"

    # ------------------------------------------------------------------ autograd
    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        if requires_grad and self.dtype.kind != "f":
            raise RuntimeError(f"only floating point tensors can require gradients, this one is "
                               f"{self.dtype}; convert it first with .float()")
        if not requires_grad and self.grad_fn is not None:
            raise RuntimeError("requires_grad_(False) is only allowed on leaf tensors; use "
                               "detach() to cut a result from the graph")
        self.requires_grad = bool(requires_grad)
        return self

    def retain_grad(self) -> None:
        """Keep ``.grad`` on a non-leaf tensor after backward (leaves always keep theirs)."""
        if not self.requires_grad:
            raise RuntimeError("retain_grad() on a tensor that doesn't require grad")
        if self.grad_fn is not None:
            self.grad_fn._retained = weakref.ref(self)

    def _accumulate(self, grad_array) -> None:
        if tuple(grad_array.shape) != self.shape:
            raise RuntimeError(f"internal error: gradient of shape {tuple(grad_array.shape)} for "
                               f"a tensor of shape {self.shape}")
        if grad_array.dtype != self.dtype:
            grad_array = grad_array.astype(self.dtype)
        if self.grad is None:
            # copy: an op may hand the same array to several inputs
            self.grad = Tensor._wrap(grad_array.copy(), self.device)
        else:
            self.grad = Tensor._wrap(self.grad.array + grad_array, self.device)

    def backward(self, gradient=None, retain_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad`` (as ``torch.Tensor.backward``).

        Args:
            gradient: the upstream gradient, shaped like ``self``; may be omitted only for a
                tensor with a single element (a loss).
            retain_graph: keep saved arrays so that backward can run through this graph again.
        """
        from .engine import run_backward  # noqa: PLC0415

        if not self.requires_grad:
            raise RuntimeError("this tensor does not require grad and has no grad_fn: nothing to "
                               "differentiate. Set requires_grad=True on the inputs (leaves) "
                               "before computing it, outside no_grad()")
        if gradient is None:
            if self.array.size != 1:
                raise RuntimeError(f"backward() without a gradient needs a scalar output, this "
                                   f"one has shape {self.shape}; reduce it first (loss.sum() or "
                                   f"loss.mean()) or pass gradient=<tensor of shape {self.shape}>")
            grad = self.xp.ones_like(self.array)
        else:
            grad = gradient.array if isinstance(gradient, Tensor) else self.xp.asarray(gradient)
            if tuple(grad.shape) != self.shape:
                raise RuntimeError(f"gradient has shape {tuple(grad.shape)} but the tensor has "
                                   f"shape {self.shape}; they must match")
            grad = grad.astype(self.dtype, copy=False)
        run_backward(self, grad, retain_graph=retain_graph)

    # in-place ops (add_, mul_, relu_, __setitem__, __iadd__, ...): autograd/inplace.py


from . import tensor_methods  # noqa: E402,F401  (attaches the differentiable ops as methods)
