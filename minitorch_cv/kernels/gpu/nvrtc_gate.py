"""The NVRTC compile gate: every kernel source must compile with the compiler CuPy uses.

Runs without a GPU: ``cupy.cuda.nvrtc`` only needs the NVRTC library (the
``nvidia-cuda-nvrtc`` wheel). ``cupy.RawKernel(...).compile()`` cannot be used here because CuPy
first asks the driver which architecture the (absent) GPU has. nvcc is not a valid gate either:
it accepts sources that NVRTC rejects (``-INFINITY``: NVRTC has no <math.h> macros).

For every source, dtype and target architecture, the gate compiles the exact text the ``cuda``
device compiles (``sources.source``) with the same options, asks ptxas for its resource report
(``--ptxas-options=-v``) and checks that

- every ``extern "C"`` kernel of the file was compiled under its own name;
- no kernel spills registers to local memory (stores or loads);
- no kernel uses more than ``MAX_REGISTERS`` registers per thread.

Run it as ``python -m minitorch_cv.kernels.gpu.nvrtc_gate`` for a table of register use.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass

import numpy as np

from ... import backend
from .seam import NVRTC_OPTIONS
from .sources import KERNEL_FILES, SCALAR_TYPES, kernel_names, source

ARCHS = (75, 80, 86, 89, 90)
# 80 registers x 768 threads fit a 64K register file: every kernel keeps three 256-thread
# blocks resident per SM. 64-bit index arithmetic costs registers (the pooling gathers need
# about 74 in double); a kernel over budget needs a reason, not a silent occupancy drop.
MAX_REGISTERS = 80

_ENTRY = re.compile(r"Compiling entry function '(\w+)' for '(sm_\d+)'")
_SPILLS = re.compile(r"(\d+) bytes stack frame, (\d+) bytes spill stores, (\d+) bytes spill loads")
_REGISTERS = re.compile(r"Used (\d+) registers")
_SHARED = re.compile(r"(\d+) bytes smem")


class GateError(AssertionError):
    """A source failed the gate; the message holds the NVRTC/ptxas log."""


@dataclass(frozen=True)
class KernelUsage:
    """What ptxas reported for one kernel on one architecture."""

    kernel: str
    arch: str
    registers: int
    spill_stores: int
    spill_loads: int
    stack_bytes: int
    shared_bytes: int


def nvrtc():
    """``cupy.cuda.nvrtc``, or a RuntimeError that says what to install."""
    nvrtc_module = backend.cupy_module().cuda.nvrtc
    try:
        nvrtc_module.getVersion()
    except Exception as exc:  # the wheel with libnvrtc is missing
        raise RuntimeError(f"NVRTC is not loadable ({exc}): pip install "
                           f"'nvidia-cuda-nvrtc==13.*'") from exc
    return nvrtc_module


def supported_archs() -> tuple[int, ...]:
    return tuple(nvrtc().getSupportedArchs())


def compile_source(text: str, filename: str, arch: int, options=NVRTC_OPTIONS) -> str:
    """Compile ``text`` to a cubin for ``sm_<arch>``; return the log. GateError on failure."""
    lib = nvrtc()
    program = lib.createProgram(text, filename, (), ())
    try:
        try:
            lib.compileProgram(program, (f"-arch=sm_{arch}", *options, "--ptxas-options=-v"))
        except lib.NVRTCError as exc:
            raise GateError(f"NVRTC rejected {filename} for sm_{arch}: {exc}\n"
                            f"{lib.getProgramLog(program)}") from None
        log = lib.getProgramLog(program)
        if not lib.getCUBIN(program):
            raise GateError(f"NVRTC produced no cubin for {filename} sm_{arch}:\n{log}")
        return log
    finally:
        lib.destroyProgram(program)


def parse_ptxas_log(log: str) -> dict[str, KernelUsage]:
    """Per-kernel resource use from a ``--ptxas-options=-v`` log."""
    usage = {}
    for block in re.split(r"(?=ptxas info\s+: Compiling entry function)", log):
        entry = _ENTRY.search(block)
        if not entry:
            continue
        spills, registers = _SPILLS.search(block), _REGISTERS.search(block)
        if not (spills and registers):
            raise GateError(f"unexpected ptxas report:\n{block}")
        shared = _SHARED.search(block)
        usage[entry.group(1)] = KernelUsage(
            entry.group(1), entry.group(2), int(registers.group(1)), int(spills.group(2)),
            int(spills.group(3)), int(spills.group(1)), int(shared.group(1)) if shared else 0)
    return usage


def check_source(file: str, dtype, arch: int) -> list[KernelUsage]:
    """Run the gate on ``file``.cu for one dtype and architecture; GateError if it fails."""
    text = source(file, dtype)
    where = f"{file}.cu ({SCALAR_TYPES[np.dtype(dtype)]}, sm_{arch})"
    usage = parse_ptxas_log(compile_source(text, f"{file}.cu", arch))
    missing = set(kernel_names(file)) - set(usage)
    if missing:
        raise GateError(f"{where}: kernels not compiled under their names: {sorted(missing)}")
    for kernel in usage.values():
        if kernel.spill_stores or kernel.spill_loads:
            raise GateError(f"{where}: {kernel.kernel} spills registers: {kernel}")
        if kernel.registers > MAX_REGISTERS:
            raise GateError(f"{where}: {kernel.kernel} uses {kernel.registers} registers "
                            f"(budget {MAX_REGISTERS})")
    return list(usage.values())


def check_all(archs=ARCHS, dtypes=(np.float32, np.float64)) -> list[KernelUsage]:
    """The whole gate: every file, dtype and architecture."""
    available = set(supported_archs())
    absent = [a for a in archs if a not in available]
    if absent:
        raise GateError(f"this NVRTC cannot target sm_{absent}; supported: {sorted(available)}")
    return [usage for file in KERNEL_FILES for dtype in dtypes for arch in archs
            for usage in check_source(file, dtype, arch)]


def main() -> int:
    try:
        version = nvrtc().getVersion()
        print(f"NVRTC {version[0]}.{version[1]}; options {' '.join(NVRTC_OPTIONS)}; "
              f"budget {MAX_REGISTERS} registers, no spills")
        for file in KERNEL_FILES:
            for dtype in (np.float32, np.float64):
                rows = {arch: {u.kernel: u for u in check_source(file, dtype, arch)}
                        for arch in ARCHS}
                print(f"\n{file}.cu, scalar_t = {SCALAR_TYPES[np.dtype(dtype)]}: registers per "
                      f"thread on sm_{', sm_'.join(map(str, ARCHS))}")
                for kernel in kernel_names(file):
                    counts = "  ".join(f"{rows[a][kernel].registers:3d}" for a in ARCHS)
                    print(f"  {kernel:28s} {counts}")
    except (GateError, RuntimeError) as exc:
        print(f"FAILED: {exc}")
        return 1
    print("\nall kernels pass the NVRTC gate")
    return 0


if __name__ == "__main__":
    sys.exit(main())
