"""Matrix product: 2-D and batched (leading dims broadcast), one GEMM each way.

Shapes: a (*, n, k) @ b (*, k, m) -> (*, n, m). Backward: grad_a = g @ b^T, grad_b = a^T @ g,
each summed back over broadcast batch dims. 1-D operands are promoted by ``F.matmul``.
"""

from __future__ import annotations

from ..autograd.function import Function
from .elementwise import unbroadcast


class MatMul(Function):
    @staticmethod
    def forward(ctx, a, b):
        if a.dtype != b.dtype:
            raise TypeError(f"matmul: both operands must have the same dtype, got {a.dtype} and "
                            f"{b.dtype}; convert one with .float() or .double()")
        if a.ndim < 2 or b.ndim < 2 or a.shape[-1] != b.shape[-2]:
            raise RuntimeError(f"matmul: shapes {tuple(a.shape)} and {tuple(b.shape)} cannot be "
                               f"multiplied (inner sizes {a.shape[-1]} and {b.shape[-2]} differ)")
        need_a, need_b = ctx.needs_input_grad
        ctx.shapes = (a.shape, b.shape)
        ctx.save_for_backward(a if need_b else None, b if need_a else None)  # what torch saves
        return a @ b

    @staticmethod
    def backward(ctx, grad_output):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        shape_a, shape_b = ctx.shapes
        grad_a = unbroadcast(grad_output @ b.swapaxes(-1, -2), shape_a) if need_a else None
        grad_b = unbroadcast(a.swapaxes(-1, -2) @ grad_output, shape_b) if need_b else None
        return grad_a, grad_b
