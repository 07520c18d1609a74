"""Thread-pool settings that must be in the environment before the pools start.

Imported (and so applied) first by ``minitorch_cv/__init__.py``, before anything imports NumPy.
Each setting is read once, when its library loads, and a value the user already set is kept:

- ``OMP_WAIT_POLICY=PASSIVE``: idle OpenMP workers (Numba's ``prange`` loops run on libgomp)
  sleep instead of spinning against BLAS's threads (``kernels/cpu/threads.py`` has the numbers).
- ``OPENBLAS_THREAD_TIMEOUT=16``: after a multi-threaded GEMM, OpenBLAS's workers spin for
  2**16 cycles (tens of microseconds) before they sleep, instead of the default 2**28 (about
  0.1 s). Meanwhile they hold cores that our next kernel wants: on 2 cores, a convolution right
  after a NumPy GEMM ran 2x slower (29 ms vs 14 ms), and a LeNet-5 epoch used 2.6x torch's CPU
  time instead of 1.6x.

When NumPy (or torch, which brings its own libgomp) was imported before minitorch_cv, its pools
started without these settings; ``doctor()`` says so (``late_settings()``). Import minitorch_cv
first, or export the variables before starting Python.
"""

from __future__ import annotations

import os
import sys

SETTINGS = {"OMP_WAIT_POLICY": "PASSIVE", "OPENBLAS_THREAD_TIMEOUT": "16"}
"""Variable -> value minitorch_cv sets when the environment has none."""

_READ_BY = {"OMP_WAIT_POLICY": ("torch",), "OPENBLAS_THREAD_TIMEOUT": ("numpy", "torch")}
"""Variable -> modules whose import starts a pool that reads it (torch imports NumPy too)."""

_set_by_us: list[str] = []
_loaded_before: list[str] = []


def apply(environ=None, modules=None) -> list[str]:
    """Set every unset variable of ``SETTINGS``; returns the ones this call set."""
    environ = os.environ if environ is None else environ
    modules = sys.modules if modules is None else modules
    _loaded_before[:] = [name for name in ("numpy", "torch") if name in modules]
    _set_by_us[:] = [name for name in SETTINGS if name not in environ]
    for name in _set_by_us:
        environ[name] = SETTINGS[name]
    return list(_set_by_us)


def late_settings() -> list[str]:
    """Sentences for each setting we set after the library that reads it had loaded."""
    lines = []
    for name in _set_by_us:
        late = [module for module in _READ_BY[name] if module in _loaded_before]
        if late:
            lines.append(f"{name}={SETTINGS[name]} was set after {' and '.join(late)} had been "
                         f"imported, too late for it to take effect (see minitorch_cv/_early.py)"
                         f": import minitorch_cv first, or `export {name}={SETTINGS[name]}`")
    return lines


apply()
