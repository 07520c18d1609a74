"""The dtypes the hand-written kernels are compiled for, and the check that keeps others out.

Numba and the CUDA C kernels (conv, pooling, batch norm) are built for float32 and float64. A
float16 array (after ``Module.half()``) reached them and failed deep inside Numba's type system
with ``NotImplementedError: float16``; the ops now refuse it first, naming the op and the fix.
Ops written with ``xp`` (elementwise, matmul, losses) accept float16 as NumPy does.
"""

from __future__ import annotations

KERNEL_DTYPES = ("float32", "float64")


class UnsupportedDtypeError(RuntimeError, TypeError):
    """An array dtype the kernels are not built for (torch raises ``RuntimeError`` for an op
    without a kernel for a dtype; a ``TypeError`` is what it is)."""


def check_kernel_dtype(array, op: str) -> None:
    """Raise ``UnsupportedDtypeError`` unless ``array`` is float32 or float64."""
    name = array.dtype.name
    if name not in KERNEL_DTYPES:
        raise UnsupportedDtypeError(
            f"{op}: the {op} kernels are built for float32 and float64, got {name}"
            + (" (from Module.half()?)" if name == "float16" else "")
            + ". Fix: keep the model and its input in float32 (model.float(), x.float()); "
            "half precision saves memory on a GPU, but this engine computes convolution, "
            "pooling and batch norm in float32 or float64"
        )
