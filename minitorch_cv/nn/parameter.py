"""``Parameter``: a Tensor that a Module registers as trainable (``requires_grad=True``)."""

from __future__ import annotations

import numpy as np

from ..autograd.tensor import Tensor


class Parameter(Tensor):
    """A leaf Tensor that ``Module.__setattr__`` registers as a parameter.

    ``Parameter(tensor)`` shares the tensor's memory, as torch does. Results of ops on a
    Parameter are plain Tensors.

    Args:
        data: a Tensor or array-like; default an empty float32 tensor.
        requires_grad: default True (set False for frozen weights).
    """

    def __init__(self, data=None, requires_grad: bool = True):
        if data is None:
            data = Tensor([]).array
        super().__init__(data, requires_grad=requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        copied = Parameter(self.array.copy(), requires_grad=self.requires_grad)
        if self.grad is not None:
            copied.grad = Tensor._wrap(self.grad.array.copy(), self.device)
        copied.device = self.device
        memo[id(self)] = copied
        return copied



class UninitializedTensorMixin:
    """A placeholder with a dtype and a device but no shape yet (torch's, for lazy modules).

    Any use of its values raises ``ValueError`` (torch's class); asking its ``shape`` raises
    ``RuntimeError``. ``materialize(shape)`` turns the same object into an ordinary
    ``Parameter`` (or Tensor) of zeros, so optimizers built before the first forward pass
    keep working: they hold this very object.
    """

    cls_to_become: type = Tensor

    def _init_uninitialized(self, requires_grad: bool, device, dtype) -> None:
        from .. import backend  # noqa: PLC0415

        self.device = backend.check_device(device or "cpu")
        self._lazy_dtype = np.dtype(dtype or np.float32)
        self.grad = self.grad_fn = None
        self._version_counter = [0]
        self.requires_grad = bool(requires_grad)

    def _fail(self, what: str):
        raise ValueError(
            f"Attempted to use an uninitialized parameter in {what}. This error happens when "
            "you are using a `LazyModule` (nn.LazyLinear, nn.LazyConv2d, ...) or explicitly "
            "manipulating an UninitializedParameter before its shape is known: run one "
            "forward pass first (a dry run such as model(X) on one batch) to infer the shapes")

    @property
    def array(self):
        return self._fail("its values")

    @property
    def shape(self):
        raise RuntimeError(
            "Can't access the shape of an uninitialized parameter or buffer. This error "
            "usually happens in `load_state_dict` when trying to load an uninitialized "
            "parameter into an initialized one. Call `forward` to initialize the parameters "
            "before accessing their attributes.")

    @property
    def dtype(self) -> np.dtype:
        return self._lazy_dtype

    def numel(self) -> int:
        return self._fail("numel()")

    def detach(self):
        return self  # state_dict() before the first forward: the placeholder itself, as torch

    def materialize(self, shape, device=None, dtype=None) -> None:
        """Become an ordinary tensor of ``shape`` (zeros; the lazy module initialises it)."""
        from .. import backend  # noqa: PLC0415

        device = backend.check_device(device or self.device)
        array = np.zeros(tuple(shape), dtype=np.dtype(dtype or self._lazy_dtype))
        del self._lazy_dtype
        self.__class__ = self.cls_to_become
        self.array = backend.move_array(array, device)
        self.device = device

    def _lazy_to(self, device=None, dtype=None) -> None:
        """``Module.to()`` before the first forward: remember where and in what to create it."""
        if device is not None:
            self.device = device
        if dtype is not None and np.dtype(dtype).kind == "f":
            self._lazy_dtype = np.dtype(dtype)

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"

    def __deepcopy__(self, memo):
        copied = type(self)(self.requires_grad, self.device, self._lazy_dtype)
        memo[id(self)] = copied
        return copied


class UninitializedParameter(UninitializedTensorMixin, Parameter):
    """A Parameter whose shape is not known yet (torch's ``nn.UninitializedParameter``)."""

    cls_to_become = Parameter

    def __init__(self, requires_grad: bool = True, device=None, dtype=None):
        self._init_uninitialized(requires_grad, device, dtype)


class UninitializedBuffer(UninitializedTensorMixin, Tensor):
    """A buffer whose shape is not known yet (torch's ``nn.UninitializedBuffer``)."""

    cls_to_become = Tensor

    def __init__(self, requires_grad: bool = False, device=None, dtype=None):
        self._init_uninitialized(requires_grad, device, dtype)
