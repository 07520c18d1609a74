"""Which convolution algorithm runs: the chooser, as ``torch.backends.cudnn`` has one.

A convolution can be computed in several ways that give the same result up to rounding, and
each is fastest for some shapes::

    import minitorch_cv
    minitorch_cv.backends.conv.algorithm = "winograd"   # "auto" | "im2col" | "winograd" | "direct"
    minitorch_cv.backends.conv.benchmark = True         # time the candidates once per shape

- ``"im2col"``: columns + one GEMM (``ops/conv.py``), any geometry. Fast when the GEMM is large
  (many channels), its cost is the ``kh*kw``-fold column buffer.
- ``"winograd"``: F(2x2, 3x3), 3x3 filters with stride 1, dilation 1 and one group only: 2.25x
  fewer multiplications (16 instead of 36 per 2x2 output tile), at the price of transforms
  (additions) and a little more float32 rounding.
- ``"direct"``: the definition's loops, any geometry, CPU only. No column buffer, no GEMM:
  meant for thin GEMMs (few input channels and few filters).

``algorithm = "auto"`` (the default) picks by this rule on the shape, never by timing, so a run
is repeatable (``default_rule``):

1. ``"winograd"`` if it applies (3x3, stride 1, dilation 1, groups 1), both the input and
   the output have at least ``WINOGRAD_MIN_CHANNELS`` (16) channels, the output is at least
   ``WINOGRAD_MIN_WIDTH`` (8) pixels wide, ``min(C, C_out) * out_w`` is at least
   ``WINOGRAD_MIN_WORK`` (512), and the call has at least ``WINOGRAD_MIN_BATCH_WORK`` (65536)
   tile-channels, ``N * tiles_h * tiles_w * min(C, C_out)`` (64 channels at 8x8: batch 64).
   Why: the transforms cost per row of tiles what the GEMMs save in proportion to the
   channels; with few channels, or short rows (the transform loops run along a row of tiles),
   they cost more than the 2.25x fewer multiplications save; and a small call is cut into few
   groups, which the threads share out unevenly. Idle, 2 threads, 2026-12-08, with the fused
   CPU kernels of both algorithms (``ops/conv_schedule.py``; interleaved medians of 24
   forward + backward runs, Winograd / im2col; C channels in and out, N the batch): winning,
   16 at 32x32 0.86 (N 128) and 0.92 (16); 32 at 16x16 0.84 (128); 64 at 8x8 0.84 (128);
   128 at 8x8 0.93 (32); 256 at 14x14 0.86 (32); 64 at 56x56 0.74 (32 and 8). Losing, and
   left to im2col by the rule: 16 at 16x16 1.10 (128) and 1.21 (32); 16 at 8x8 1.22 (128);
   32 at 8x8 1.05 (128); 32 at 16x16 1.10 (8); 64 at 8x8 1.05 (32) and 1.12 (16); 64 at 4x4
   1.20 (128); 8 at 32x32 1.47; 3 -> 16 and 3 -> 64 at 32x32 2.2 and 2.0;
2. ``"im2col"`` otherwise.

``"direct"`` is never the rule's choice: on the CPU, im2col's fused kernels ran the layers
direct loops are made for 2-3x faster (one input channel, few filters: LeNet-5's 1 -> 6 5x5
2.39 ms against 4.80, 1 -> 16 3x3 3.02 against 6.36, 1 -> 8 3x3 at 32x32 1.72 against 4.08;
3 -> 16 3x3 4.98 against 13.58; same runs as above). Until those kernels (2026-12-07, the
block pipeline), the rule picked direct for one input channel and at most 8 filters (LeNet-5's
first layer: 0.59-0.73x im2col's time). It stays a forced algorithm and a candidate of
``benchmark = True``. Without SciPy, which the fused kernels need, im2col and Winograd run
the block pipeline and the thresholds above are off in the other direction (Winograd won from
``min(C, C_out) * out_w >= 256`` and 16384 tile-channels then). The thresholds come from one
machine (an Intel AVX-512 host, 2 cores); ``benchmarks/bench_kernels.py`` prints the time of
every algorithm per shape to revise them on another, and ``benchmark = True`` times them on
the student's own.

A forced algorithm (``algorithm = "winograd"``) runs where it applies; a layer it cannot
compute (a stride-2 layer under ``"winograd"``, any layer on the GPU under ``"direct"``) uses
im2col, and ``summary()`` shows which one each layer got.

``benchmark = True`` (like ``torch.backends.cudnn.benchmark``): the first call of each shape
(device, dtype, input shape, filter shape, stride, padding, dilation, groups) runs every
applicable algorithm once as a warm-up and once timed, forward and backward, and that shape
uses the fastest from then on (``benchmark_results()``; ``clear_benchmark_results()`` forgets).
The choice then depends on the machine and its load: results may differ between runs in the
last bits. ``algorithm`` other than ``"auto"`` takes precedence over ``benchmark``.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import types
from collections.abc import Callable
from typing import NamedTuple

ALGORITHMS = ("im2col", "winograd", "direct")
CHOICES = ("auto", *ALGORITHMS)

WINOGRAD_MIN_CHANNELS = 16
WINOGRAD_MIN_WIDTH = 8
WINOGRAD_MIN_WORK = 512
WINOGRAD_MIN_BATCH_WORK = 65536


class ConvShape(NamedTuple):
    """What the choice depends on; the key of the benchmark results."""

    device: str
    dtype: str
    N: int
    C: int
    H: int
    W: int
    C_out: int
    kh: int
    kw: int
    sh: int
    sw: int
    ph: int
    pw: int
    dh: int
    dw: int
    groups: int


def applies(name: str, shape: ConvShape) -> bool:
    """Whether algorithm ``name`` can compute ``shape`` (given its kernels exist)."""
    if name == "winograd":
        return (shape.kh, shape.kw, shape.sh, shape.sw, shape.dh, shape.dw, shape.groups) == (
            3, 3, 1, 1, 1, 1, 1)
    return name in ALGORITHMS


def default_rule(shape: ConvShape, available: tuple[str, ...] = ALGORITHMS) -> str:
    """The ``"auto"`` choice: the documented rule above, a function of the shape alone."""
    channels, out_w = min(shape.C, shape.C_out), shape.W + 2 * shape.pw - 2
    out_h = shape.H + 2 * shape.ph - 2
    tiles = -(-out_h // 2) * -(-out_w // 2)
    if ("winograd" in available and applies("winograd", shape)
            and channels >= WINOGRAD_MIN_CHANNELS and out_w >= WINOGRAD_MIN_WIDTH
            and channels * out_w >= WINOGRAD_MIN_WORK
            and shape.N * tiles * channels >= WINOGRAD_MIN_BATCH_WORK):
        return "winograd"
    return "im2col"


_results: dict[ConvShape, str] = {}
_last = threading.local()


def choose(shape: ConvShape, available: tuple[str, ...] = ALGORITHMS,
           timer: Callable[[str], float] | None = None) -> str:
    """The algorithm a convolution of ``shape`` runs, from the current settings.

    Args:
        shape: the call's shape.
        available: the algorithms whose kernels the device has.
        timer: ``name -> seconds`` of one forward + backward; used in benchmark mode, once per
            shape (without one, benchmark mode falls back to the rule).
    """
    module = sys.modules[__name__]
    candidates = [name for name in ALGORITHMS if name in available and applies(name, shape)]
    if module.algorithm != "auto":
        name = module.algorithm if module.algorithm in candidates else "im2col"
    elif module.benchmark and (timer is not None or shape in _results):
        if shape not in _results:
            times = {name: timer(name) for name in candidates}
            _results[shape] = min(candidates, key=times.__getitem__)
        name = _results[shape]
    else:
        name = default_rule(shape, available)
    _last.choice = (shape, name)
    return name


def last_choice() -> tuple[ConvShape, str] | None:
    """The shape and algorithm of this thread's most recent ``choose`` (what ``summary()``
    reports per layer), or None before the first."""
    return getattr(_last, "choice", None)


def benchmark_results() -> dict[ConvShape, str]:
    """A copy of the winners benchmark mode has found so far, by shape."""
    return dict(_results)


def clear_benchmark_results() -> None:
    """Forget every benchmark winner (each shape is timed again on its next call)."""
    _results.clear()


@contextlib.contextmanager
def flags(algorithm: str | None = None, benchmark: bool | None = None):
    """Set ``algorithm`` and/or ``benchmark`` inside a ``with`` block (torch's
    ``torch.backends.cudnn.flags``), restored after it."""
    module = sys.modules[__name__]
    before = module.algorithm, module.benchmark
    try:
        if algorithm is not None:
            module.algorithm = algorithm
        if benchmark is not None:
            module.benchmark = benchmark
        yield
    finally:
        module.algorithm, module.benchmark = before


class _ConvModule(types.ModuleType):
    """Checks ``algorithm`` and ``benchmark`` when they are set, not at the next convolution."""

    _algorithm = "auto"
    _benchmark = False

    @property
    def algorithm(self) -> str:
        return self._algorithm

    @algorithm.setter
    def algorithm(self, value: str) -> None:
        if value not in CHOICES:
            raise ValueError(f"minitorch_cv.backends.conv.algorithm must be one of {CHOICES}, "
                             f"got {value!r}")
        self._algorithm = value

    @property
    def benchmark(self) -> bool:
        return self._benchmark

    @benchmark.setter
    def benchmark(self, value: bool) -> None:
        if not isinstance(value, bool):
            raise TypeError(f"minitorch_cv.backends.conv.benchmark must be True or False, got "
                            f"{value!r}")
        self._benchmark = value


sys.modules[__name__].__class__ = _ConvModule
