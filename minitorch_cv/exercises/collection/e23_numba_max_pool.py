"""Exercise 23: a Numba kernel: max-pool forward with @njit(parallel=True) and prange."""

from __future__ import annotations

import os

from ...kernels import reference
from ...kernels.cpu.pool import _max_pool2d_forward
from ..core import Example, Exercise, StageFailure
from . import _data
from .e16_max_pool import examples as _pool_examples

DOC = '''A CPU kernel: max pooling forward compiled by Numba, parallel over the batch and channels.

Lecture 04 (pooling) and the kernels of the engine (docs/design.md, "Kernel contract"): a
kernel is a plain function of arrays and integers. `@njit(parallel=True)` compiles it to
machine code; `prange` splits a loop over the CPU's threads. Each (n, c) plane is
independent, so the outer loop can be a prange: no two threads write the same output.

Contract (kernels/reference.py: max_pool2d_forward, the same name and signature):
    x (N, C, H, W) -> out (N, C, out_h, out_w) (x's dtype), argmax (N, C, out_h, out_w) int64
    output pixel (oh, ow)'s tap (i, j) reads h = oh*sh - ph + i*dh, w = ow*sw - pw + j*dw
    padding counts as -infinity; the FIRST maximum in row-major window order wins ties;
    argmax is the flat index h*W + w (-1 if the window saw only padding)

Decorate it as
    from numba import njit, prange
    @njit(parallel=True, cache=False)
    def max_pool2d_forward(x, kh, kw, sh, sw, ph, pw, dh, dw, out_h, out_w): ...

Debugging: NUMBA_DISABLE_JIT=1 makes @njit a no-op, so the function runs as plain Python and
a debugger (breakpoint(), pdb, an IDE) steps through it line by line.

Worked example: x = [[1, 3], [3, 2]] with a 2x2 window: out = [[3]], argmax = [[1]].
'''

HINTS = (
    "Write it first as plain Python loops (n, c, oh, ow, then i, j), exactly as the "
    "reference does; check it with NUMBA_DISABLE_JIT=1.",
    "Allocate out with np.empty((N, C, out_h, out_w), x.dtype) and argmax with np.empty(..., "
    "np.int64) BEFORE the loops; inside a window start with best = -np.inf and index -1.",
    "Make the outer loop `for plane in prange(N * C):` with n, c = plane // C, plane % C: "
    "every thread then owns whole planes. Keep `value > best` (strict) for the ties.",
)


# the engine's own Numba kernel (kernels/cpu/pool.py), a dispatcher compiled with parallel=True
max_pool2d_forward = _max_pool2d_forward


def signature_check(student, options):
    fn = student["max_pool2d_forward"]
    if os.environ.get("NUMBA_DISABLE_JIT") == "1":
        return "NUMBA_DISABLE_JIT=1: running as plain Python (the parallel check is skipped)"
    options_of = getattr(fn, "targetoptions", None)
    if options_of is None:
        raise StageFailure("max_pool2d_forward is a plain Python function: decorate it with "
                           "@njit(parallel=True) (from numba import njit, prange)")
    if not options_of.get("parallel"):
        raise StageFailure("max_pool2d_forward is compiled without parallel=True: use "
                           "@njit(parallel=True) and a prange loop")
    return "a Numba kernel compiled with parallel=True"


def examples():
    first = _pool_examples()[0]
    x = first.args["x"]
    return [Example("max_pool2d_forward", dict(x=x, kh=2, kw=2, sh=2, sw=2, ph=0, pw=0, dh=1,
                                               dw=1, out_h=1, out_w=1), first.expected,
                    first.what)]


def cases(g):
    x = _data.layout(_data.values(g["seed"], (g["N"], g["C"], g["H"], g["W"]), g["ties"]),
                     True)
    return [("max_pool2d_forward", dict(x=x, **{k: g[k] for k in (
        "kh", "kw", "sh", "sw", "ph", "pw", "dh", "dw", "out_h", "out_w")}))]


EXERCISE = Exercise(
    name="numba_max_pool", order=23, lecture="04 Stride, padding, pooling (kernels)",
    lesson="04_stride_padding_pooling",
    title="a Numba kernel: parallel max-pool forward with prange",
    functions={"max_pool2d_forward": "x, kh, kw, sh, sw, ph, pw, dh, dw, out_h, out_w"},
    doc=DOC, hints=HINTS, solution={"max_pool2d_forward": max_pool2d_forward},
    examples=examples, imports="import numpy as np\nfrom numba import njit, prange",
    strategy=lambda: _data.pool_geometry(), cases=cases, signature_check=signature_check,
    max_examples=25,
)
REFERENCE = reference.max_pool2d_forward  # the oracle the engine's kernel is tested against
