"""The NVRTC gate: every kernel source compiles with CuPy's compiler for every target GPU.

No GPU is needed, only the NVRTC library (``pip install 'minitorch_cv[gpu]'``).
"""

from __future__ import annotations

import numpy as np
import pytest

from minitorch_cv import emulator
from minitorch_cv.kernels.gpu import nvrtc_gate, source
from minitorch_cv.kernels.gpu.sources import KERNEL_FILES, kernel_names


def _nvrtc_missing() -> str:
    try:
        nvrtc_gate.nvrtc()
    except RuntimeError as exc:
        return str(exc)
    return ""


pytestmark = pytest.mark.skipif(bool(_nvrtc_missing()), reason=f"NVRTC gate: {_nvrtc_missing()}")


def test_every_gate_architecture_is_supported():
    assert set(nvrtc_gate.ARCHS) <= set(nvrtc_gate.supported_archs())
    assert {75, 80, 86, 89, 90} <= set(nvrtc_gate.ARCHS)


@pytest.mark.parametrize("arch", nvrtc_gate.ARCHS)
@pytest.mark.parametrize("file", KERNEL_FILES)
def test_kernel_source_passes_gate(file, arch):
    for dtype in (np.float32, np.float64):
        usage = nvrtc_gate.check_source(file, dtype, arch)
        assert {u.kernel for u in usage} == set(kernel_names(file))
        for kernel in usage:
            assert kernel.arch == f"sm_{arch}"
            assert 0 < kernel.registers <= nvrtc_gate.MAX_REGISTERS
            assert kernel.spill_stores == kernel.spill_loads == 0


def test_reductions_use_static_shared_memory_and_report_it():
    usage = {u.kernel: u for u in nvrtc_gate.check_source("batch_norm", np.float64, 75)}
    assert usage["batch_norm_stats"].shared_bytes == 256 * 8  # __shared__ double partial[256]
    assert usage["batch_norm_forward"].shared_bytes == 0


def test_gate_rejects_infinity_macro_that_nvcc_and_plain_gxx_accept():
    """nvcc (and g++ with <cmath>) accept -INFINITY; NVRTC has no <math.h>: the gate fails it,
    and so does the emulator, whose shim hides the macro for that reason."""
    good = source("pool", np.float32)
    bad = good.replace("(scalar_t)__int_as_float(0xff800000)", "-INFINITY")
    assert bad != good
    with pytest.raises(nvrtc_gate.GateError, match="INFINITY"):
        nvrtc_gate.compile_source(bad, "pool.cu", 90)
    with pytest.raises(emulator.BuildError, match="INFINITY"):
        emulator.build(bad)


def test_gate_detects_register_spills():
    """Squeeze the pooling kernels into 24 registers: ptxas spills, and the parser sees it."""
    log = nvrtc_gate.compile_source(source("pool", np.float64), "pool.cu", 80,
                                    options=("--std=c++17", "--maxrregcount=24"))
    usage = nvrtc_gate.parse_ptxas_log(log)["avg_pool2d_backward"]
    assert usage.registers <= 24
    assert usage.spill_stores > 0 and usage.spill_loads > 0


def test_gate_reports_kernels_missing_from_the_compiled_module():
    # a kernel without extern "C" is compiled under a mangled name CuPy cannot look up
    text = 'typedef float scalar_t;\n__global__ void lost(float* x) { x[threadIdx.x] = 1.f; }\n'
    usage = nvrtc_gate.parse_ptxas_log(nvrtc_gate.compile_source(text, "lost.cu", 75))
    assert "lost" not in usage and any("lost" in name for name in usage)
