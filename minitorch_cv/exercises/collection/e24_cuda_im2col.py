"""Exercise 24: a CUDA C kernel (im2col) on the simulated GPU, through the NVRTC gate."""

from __future__ import annotations

import re

import numpy as np

from ...kernels import reference
from ...kernels.gpu.sources import HERE as GPU_SOURCES
from ..core import Example, Exercise, StageFailure
from . import _data

PARAMETERS = ("x", "col", "N", "C", "H", "W", "kh", "kw", "sh", "sw", "ph", "pw", "dh", "dw",
              "out_h", "out_w")
ORDERS = ("forward", "reverse", "shuffled")
GUARD = 64          # guard elements before and after every buffer
SENTINEL = 1234.5   # what the guard after `col` holds; a kernel that changes it wrote outside

DOC = '''// A CUDA C kernel: im2col, one thread per element of col, in a grid-stride loop.
//
// Lecture 03 ("How convolution is computed: im2col") and docs/gpu.md. This file is real CUDA
// C: the checker compiles it with g++ for the simulated GPU ("cuda-sim", no GPU needed), runs
// it in three thread orders (forward, reverse, shuffled) with small blocks so the grid-stride
// loop loops, and compiles it with NVRTC for every GPU architecture (the compile gate).
//
// Shapes (C-contiguous): x (N, C, H, W); col (N, C, kh, kw, out_h, out_w).
// scalar_t is float or double (the checker defines it); every integer is long long.
//
// For the col element at flat index `index` (row-major over (n, c, i, j, oh, ow)):
//     ow = index % out_w;  oh = (index / out_w) % out_h;  j = (index / (out_w*out_h)) % kw;
//     i = ... % kh;  c = ... % C;  n = the rest
//     h = oh*sh - ph + i*dh;   w = ow*sw - pw + j*dw
//     col[index] = (0 <= h < H && 0 <= w < W) ? x[((n*C + c)*H + h)*W + w] : 0
//
// Grid-stride loop (any grid size covers every element exactly once):
//     for (long long index = (long long)blockIdx.x * blockDim.x + threadIdx.x; index < total;
//          index += (long long)blockDim.x * gridDim.x) { ... }
//
// Rules the checker enforces: write every element of col (outputs start as NaN), never
// outside it (guard zones around the buffers), give the same result in every thread order,
// no host headers or macros (<stdio.h>, INFINITY): NVRTC has none.
//
// Worked example: x = 1..9 as one 3x3 image, a 2x2 window, stride 1: col[0,0,0,0] is
// [[1, 2], [4, 5]] and col[0,0,1,1] is [[5, 6], [8, 9]].
//
// Debugging: MINITORCH_CV_EMULATOR_DEBUG=1 gdb --args python -m minitorch_cv exercise check
// cuda_im2col cuda_im2col.cu --in-process, then `break cuda_im2col.cu:LINE` (docs/gpu.md).'''

HINTS = (
    "One thread per col element: compute total = N*C*kh*kw*out_h*out_w and loop over index "
    "with the grid-stride loop from the comment; never assume the grid is big enough.",
    "Unravel index from the last axis: ow = index % out_w, then divide by out_w, oh = rest % "
    "out_h, and so on for j, i, c; n is what is left.",
    "Test 0 <= h < H and 0 <= w < W before reading x (h can be negative: padding); write 0 "
    "otherwise. Use `index < total`, not `<=`: one past the end writes outside col.",
)

SOLUTION_SOURCE = (GPU_SOURCES / "common.h").read_text() + r'''
extern "C" __global__ void im2col(const scalar_t* __restrict__ x, scalar_t* __restrict__ col,
                                  long long N, long long C, long long H, long long W,
                                  long long kh, long long kw, long long sh, long long sw,
                                  long long ph, long long pw, long long dh, long long dw,
                                  long long out_h, long long out_w) {
    const index_t total = N * C * kh * kw * out_h * out_w;
    for (index_t index = first_index(); index < total; index += grid_stride()) {
        const index_t ow = index % out_w;
        const index_t oh = (index / out_w) % out_h;
        const index_t rest = index / (out_w * out_h);
        const index_t j = rest % kw, i = (rest / kw) % kh, c = (rest / (kw * kh)) % C;
        const index_t n = rest / (kw * kh * C);
        const index_t h = oh * sh - ph + i * dh, w = ow * sw - pw + j * dw;
        scalar_t value = 0;
        if (h >= 0 && h < H && w >= 0 && w < W) value = x[((n * C + c) * H + h) * W + w];
        col[index] = value;
    }
}
'''


def _text(student, dtype="double"):
    source = student["SOURCE"]
    name = student.get("__file__", "cuda_im2col.cu")
    return f'typedef {dtype} scalar_t;\n#line 1 "{name}"\n{source}'


_modules: dict = {}


def _kernel(student):
    from ... import emulator  # noqa: PLC0415

    text = _text(student)
    if text not in _modules:
        try:
            _modules[text] = emulator.RawModule(text).get_function("im2col")
        except emulator.BuildError as exc:
            message = str(exc)
            if "not implemented yet" in message:
                raise StageFailure("cuda_im2col: not implemented yet (the template's #error): "
                                   "write the kernel body") from None
            raise StageFailure(f"g++ could not compile your kernel for the simulated GPU:\n"
                               f"{message[-3000:]}") from None
        except ValueError as exc:
            raise StageFailure(f"{exc}: the kernel must be `extern \"C\" __global__ void "
                               f"im2col(...)`") from None
    return _modules[text]


def signature_check(student, options):
    if not isinstance(student.get("SOURCE"), str):
        raise StageFailure("no kernel source: check a .cu file, or pass the source text")
    kernel = _kernel(student)
    names = [p.name for p in kernel.parameters]
    if tuple(names) != PARAMETERS:
        raise StageFailure(f"im2col has parameters ({', '.join(names)}); it needs "
                           f"({', '.join(PARAMETERS)})")
    kinds = [str(p) for p in kernel.parameters]
    want = ["x: float64*", "col: float64*"] + [f"{n}: int64" for n in PARAMETERS[2:]]
    if kinds != want:
        raise StageFailure(f"parameter types {kinds}; expected {want} (scalar_t pointers, "
                           "long long integers)")
    return "im2col(const scalar_t* x, scalar_t* col, long long N, ... out_w) builds for cuda-sim"


def run(student, x, g, order, block=32, max_blocks=2):
    """Launch on the emulator with guard zones; return col (or raise StageFailure)."""
    kernel = _kernel(student)
    N, C, H, W = x.shape
    shape = (N, C, g["kh"], g["kw"], g["out_h"], g["out_w"])
    size = int(np.prod(shape))
    xbuf = np.full(x.size + 2 * GUARD, np.nan)   # reading outside x gives NaN
    xbuf[GUARD:GUARD + x.size] = x.ravel()
    cbuf = np.full(size + 2 * GUARD, SENTINEL)
    cbuf[GUARD:GUARD + size] = np.nan            # an unwritten element stays NaN
    xs, col = xbuf[GUARD:GUARD + x.size], cbuf[GUARD:GUARD + size]
    blocks = max(1, min(max_blocks, -(-size // block)))
    ints = [np.int64(v) for v in (N, C, H, W, g["kh"], g["kw"], g["sh"], g["sw"], g["ph"],
                                  g["pw"], g["dh"], g["dw"], g["out_h"], g["out_w"])]
    kernel((blocks,), (block,), (xs, col, *ints), order=order, seed=3)
    outside = np.flatnonzero(np.r_[cbuf[:GUARD], cbuf[GUARD + size:]] != SENTINEL)
    if outside.size:
        raise StageFailure(f"thread order {order!r}: your kernel wrote outside col "
                           f"({outside.size} guard elements changed): an index past the end "
                           "(`<=` instead of `<`?)")
    return col.reshape(shape).copy()


def _geometry_args(g):
    return {k: g[k] for k in ("kh", "kw", "sh", "sw", "ph", "pw", "dh", "dw", "out_h", "out_w")}


def run_example(student, example):
    return run(student, example.args["x"], example.args, "forward")


def examples():
    x = np.arange(1.0, 10.0).reshape(1, 1, 3, 3)
    g = dict(kh=2, kw=2, sh=1, sw=1, ph=0, pw=0, dh=1, dw=1, out_h=2, out_w=2)
    want = np.array([[[[[[1, 2], [4, 5]], [[2, 3], [5, 6]]],
                       [[[4, 5], [7, 8]], [[5, 6], [8, 9]]]]]], dtype=np.float64)
    return [Example("im2col", dict(x=x, **g), want,
                    "x = 1..9 as 3x3, 2x2 windows: col[0,0,0,0] = [[1, 2], [4, 5]]")]


def property_body(exercise, student, g):
    from ..calls import compare  # noqa: PLC0415

    x = _data.values(g["seed"], (g["N"], g["C"], g["H"], g["W"]))
    want = reference.im2col(x, **_geometry_args(g))
    for order in ORDERS:
        got = run(student, x, g, order)
        compare(got, want, 1e-12, 0, what=f"col in thread order {order!r} (32-thread blocks, at "
                f"most 2 blocks; NaN = never written or read outside x)")


def gate(student):
    from ...kernels.gpu import nvrtc_gate  # noqa: PLC0415

    try:
        nvrtc_gate.nvrtc()
    except RuntimeError as exc:
        return f"skipped: {exc}"
    for dtype in ("float", "double"):
        text = _text(student, dtype)
        for arch in nvrtc_gate.ARCHS:
            try:
                usage = nvrtc_gate.parse_ptxas_log(nvrtc_gate.compile_source(
                    text, "cuda_im2col.cu", arch))
            except nvrtc_gate.GateError as exc:
                raise StageFailure(f"NVRTC rejects your kernel ({dtype}, sm_{arch}); it would "
                                   f"not compile on a real GPU:\n{str(exc)[-2000:]}") from None
            kernel = usage.get("im2col")
            if kernel is None:
                raise StageFailure("NVRTC compiled no kernel named im2col (extern \"C\"?)")
            if kernel.spill_stores or kernel.spill_loads:
                raise StageFailure(f"im2col spills registers on sm_{arch}: {kernel}")
            if kernel.registers > nvrtc_gate.MAX_REGISTERS:
                raise StageFailure(f"im2col uses {kernel.registers} registers on sm_{arch} "
                                   f"(budget {nvrtc_gate.MAX_REGISTERS})")
    archs = ", ".join(f"sm_{a}" for a in nvrtc_gate.ARCHS)
    return f"NVRTC compiles it for {archs} in float and double, no spills"


def template_source() -> str:
    signature = re.search(r'extern "C" __global__.*?\{', SOLUTION_SOURCE, re.S).group(0)
    return (f"{DOC}\n\n{signature}\n    // write the body here, then run\n"
            "    //   minitorch-cv exercise check cuda_im2col cuda_im2col.cu\n"
            '#error "cuda_im2col: not implemented yet"\n}\n')


EXERCISE = Exercise(
    name="cuda_im2col", order=24, lecture="03 Convolution (GPU kernels)",
    lesson="03_convolution", title="a CUDA C kernel: im2col on the simulated GPU",
    functions={"SOURCE": "the CUDA C source of `im2col`"}, kind="cuda", doc=DOC, hints=HINTS,
    solution={"SOURCE": SOLUTION_SOURCE}, examples=examples, imports="",
    strategy=lambda: _data.geometry(max_size=6), property_body=property_body,
    signature_check=signature_check, gate=gate, max_examples=15,
    extra={"run_example": run_example, "template": template_source},
)
