"""``Parameter``: a Tensor that a Module registers as trainable (``requires_grad=True``)."""

from __future__ import annotations

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

