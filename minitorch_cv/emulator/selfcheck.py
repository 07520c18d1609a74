"""Can this machine run the simulated GPU? Used by ``minitorch-cv doctor``."""

from __future__ import annotations

import subprocess
import time

import numpy as np

from .build import BuildError, cache_dir, compiler
from .launch import RawKernel

_PROBE = r"""
extern "C" __global__ void doctor_probe(float* out, long long n) {
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n;
         i += (long long)blockDim.x * gridDim.x) {
        out[i] = 2.0f * i;
    }
    __syncthreads();  // every thread reaches it: exercises the fiber scheduler too
}
"""


def doctor_line() -> str:
    """One line: whether the emulator builds and runs a kernel here, and with what."""
    cxx = compiler()
    if cxx is None:
        return "simulated GPU ('cuda-sim'): not usable, no g++ found (apt-get install g++)"
    version = subprocess.run([cxx, "--version"], capture_output=True, text=True).stdout
    version = version.splitlines()[0] if version else cxx
    start = time.perf_counter()
    try:
        out = np.full(100, np.nan, np.float32)
        RawKernel(_PROBE, "doctor_probe")((2,), (32,), [out, np.int64(100)], order="shuffled")
    except (BuildError, OSError, RuntimeError) as exc:
        first = str(exc).strip().splitlines()[:3]
        return f"simulated GPU ('cuda-sim'): NOT usable, {version} failed: {' / '.join(first)}"
    if not np.array_equal(out, 2 * np.arange(100, dtype=np.float32)):
        return "simulated GPU ('cuda-sim'): NOT usable, the probe kernel computed wrong values"
    return (f"simulated GPU ('cuda-sim'): usable ({version}; probe kernel built and run in "
            f"{time.perf_counter() - start:.1f} s; cache {cache_dir()})")
