"""Idle Numba threads sleep instead of spinning, so that BLAS threads get the cores.

Numba runs ``prange`` loops on OpenMP (its default threading layer here). After each parallel
loop, libgomp's worker threads spin for a while waiting for the next one. A training step
alternates Numba kernels with BLAS calls (the convolution GEMMs, ``Linear``), and OpenBLAS has
its own worker threads: while Numba's workers spin, OpenBLAS's wait for a core, and vice versa.
Measured on 2 cores shared with other jobs (LeNet-5 training step, batch 128, Numba and BLAS
both on 2 threads): 40 ms spinning vs 17 ms with ``OMP_WAIT_POLICY=PASSIVE`` at load average 5,
170-280 ms vs 36-48 ms at load 7 (19 ms single-threaded). Not yet measured on an idle machine.

``sleep_when_idle()`` sets ``OMP_WAIT_POLICY=PASSIVE`` unless it is already set. libgomp reads
the variable when it is loaded, which Numba does at its first parallel loop, so this runs when
``kernels.cpu`` is imported. Caveat: torch loads its own libgomp with global symbols, and when
torch is imported first Numba's parallel loops run on that copy, initialised before this
setting (measured: no effect then). Import minitorch_cv before torch, or export
``OMP_WAIT_POLICY=PASSIVE`` before starting Python. Set it to ``ACTIVE`` to opt out.
"""

from __future__ import annotations

import os


def sleep_when_idle() -> bool:
    """Set ``OMP_WAIT_POLICY=PASSIVE`` if unset; True if this call set it."""
    if "OMP_WAIT_POLICY" in os.environ:
        return False
    os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
    return True
