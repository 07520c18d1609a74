"""Autograd: ``Tensor``, ``Function``/``Context`` and the backward engine."""

from .function import Context, Function, enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .tensor import Tensor

# isort: split
from . import inplace  # noqa: F401  (after Tensor: attaches the in-place methods)

__all__ = ["Context", "Function", "Tensor", "enable_grad", "is_grad_enabled", "no_grad",
           "set_grad_enabled"]
