"""Calls a student can paste, and comparisons that say where two results differ.

``format_call("im2col", {"x": array, "kh": 2, ...})`` gives::

    import numpy as np
    x = np.array([[[[0.25, -1.0], [2.0, 0.5]]]])
    im2col(x, kh=2, ...)

Arrays are written out in full (the checker's configurations are small, and their values are
multiples of 1/4, so they print exactly); a non-contiguous array is written as the same values
in a Fortran-ordered copy, which has the strides the test used.
"""

from __future__ import annotations

import numpy as np

from .core import StageFailure


def literal(value) -> str:
    """Python source that rebuilds ``value`` (arrays, numbers, tuples, None)."""
    if isinstance(value, np.ndarray):
        text = f"np.array({value.tolist()!r}, dtype=np.{value.dtype})"
        if value.ndim > 1 and not value.flags.c_contiguous:
            text = f"np.asfortranarray({text})  # non-contiguous, as in the test"
        return text
    if isinstance(value, np.generic):
        return repr(value.item())
    if isinstance(value, tuple):
        inner = ", ".join(literal(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, list):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    return repr(value)


def format_call(function: str, args: dict) -> str:
    """Assignments for array arguments, then the call with the rest written inline."""
    lines, parts = ["import numpy as np"], []
    for name, value in args.items():
        if isinstance(value, np.ndarray):
            lines.append(f"{name} = {literal(value)}")
            parts.append(f"{name}={name}")
        else:
            parts.append(f"{name}={literal(value)}")
    lines.append(f"{function}({', '.join(parts)})")
    return "\n".join(lines)


def indent(text: str, prefix: str = "    ") -> str:
    return "\n".join(prefix + line for line in text.splitlines())


def _as_tuple(value):
    return value if isinstance(value, (tuple, list)) else (value,)


def describe_difference(got, want, rtol: float, atol: float, what: str = "output") -> str | None:
    """None when ``got`` matches ``want``; otherwise a sentence saying where and by how much."""
    if isinstance(want, (tuple, list)):
        got_items = _as_tuple(got)
        if len(got_items) != len(want):
            return (f"{what}: expected a tuple of {len(want)} results, got "
                    f"{len(got_items) if isinstance(got, (tuple, list)) else 'one value'}")
        for k, (g, w) in enumerate(zip(got_items, want)):
            problem = describe_difference(g, w, rtol, atol, f"{what} {k}")
            if problem:
                return problem
        return None
    if want is None:
        return None if got is None else f"{what}: expected None, got {type(got).__name__}"
    if isinstance(want, (list, dict, str)) and not isinstance(want, np.ndarray):
        return None if got == want else f"{what}: expected {want!r}, got {got!r}"
    want_array = np.asarray(want)
    try:
        got_array = np.asarray(got.numpy() if hasattr(got, "numpy") else got)
    except Exception:  # noqa: BLE001 (anything unconvertible is a wrong result)
        return f"{what}: expected an array, got {type(got).__name__}"
    if got_array.shape != want_array.shape:
        return f"{what}: shape {got_array.shape}, expected {want_array.shape}"
    if want_array.dtype.kind in "iub" and got_array.dtype.kind not in "iub":
        return f"{what}: dtype {got_array.dtype}, expected integers ({want_array.dtype})"
    if got_array.dtype.kind not in "fiub":
        return f"{what}: dtype {got_array.dtype} is not numeric"
    close = np.isclose(got_array.astype(np.float64), want_array.astype(np.float64), rtol=rtol,
                       atol=atol, equal_nan=True)
    if close.all():
        return None
    index = tuple(int(i) for i in np.argwhere(~close)[0])
    shown = index if got_array.ndim else "()"
    return (f"{what}: {int((~close).sum())} of {close.size} values differ; first at index "
            f"{shown}: got {got_array[index].item()!r}, expected {want_array[index].item()!r}")


def compare(got, want, rtol: float, atol: float, call: str | None = None,
            what: str = "output") -> None:
    """Raise StageFailure (with the call to paste) when ``got`` differs from ``want``."""
    problem = describe_difference(got, want, rtol, atol, what)
    if problem:
        message = problem
        if call:
            message += "\n  the call (paste it to reproduce):\n" + indent(call)
        raise StageFailure(message)
