"""Array backends and devices.

Three devices hold tensor data:

- ``"cpu"``: NumPy arrays; kernels from ``kernels/cpu`` (Numba).
- ``"cuda"``: CuPy arrays on a real NVIDIA GPU; kernels from ``kernels/gpu`` (CUDA C).
- ``"cuda-sim"``: NumPy arrays, but the *GPU* kernels: the same CUDA C sources compiled with
  g++ and run on the CPU by ``minitorch_cv.emulator``. Slow, but a student without a GPU can
  run and step through the real GPU kernels.

This module imports nothing from the rest of the package, and it is (with ``kernels/gpu``) the
only place that imports ``cupy``, always behind a guard so that a CPU-only install works.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from types import ModuleType

import numpy as np

DEVICES = ("cpu", "cuda", "cuda-sim")

_cupy: ModuleType | None = None
_cupy_error: str | None = None


def _load_cupy() -> ModuleType | None:
    """Import cupy once; remember why it failed so ``doctor()`` can say so."""
    global _cupy, _cupy_error
    if _cupy is not None or _cupy_error is not None:
        return _cupy
    if importlib.util.find_spec("cupy") is None:
        _cupy_error = "cupy is not installed (pip install 'minitorch_cv[gpu]')"
        return None
    try:
        import cupy  # noqa: PLC0415  (guarded optional import)

        _cupy = cupy
    except Exception as exc:  # a broken CUDA install raises all sorts of errors
        _cupy_error = f"cupy is installed but failed to import: {exc}"
    return _cupy


def cupy_module() -> ModuleType:
    """Return the cupy module or raise an error that says how to get it."""
    cp = _load_cupy()
    if cp is None:
        raise RuntimeError(f"device 'cuda' needs CuPy: {_cupy_error}")
    return cp


def cuda_available() -> bool:
    """True when cupy imports and sees at least one GPU."""
    cp = _load_cupy()
    if cp is None:
        return False
    try:
        return bool(cp.is_available())
    except Exception:
        return False


class DeviceError(RuntimeError, ValueError):
    """An unknown or malformed device: torch raises ``RuntimeError``; earlier versions of this
    library raised ``ValueError``. Both ``except`` clauses catch it (see ``errors.py``)."""


# device types torch knows but we cannot hold data on: accepted by ``device(...)`` (so that
# ``device("mps" if backends.mps.is_available() else "cpu")`` parses), refused when used
_FOREIGN_TYPES = ("mps", "xpu", "meta", "hip", "xla", "ipu", "hpu", "mtia")


class device(str):  # noqa: N801  (torch's name)
    """A device, as ``torch.device``: ``device("cuda:0")``, ``device("cuda", 1)``.

    It has torch's ``type``, ``index``, ``str()`` (``"cuda:0"``) and ``repr()``
    (``device(type='cuda', index=0)``). Unlike torch's it is also a ``str`` holding its type
    (``"cpu"``, ``"cuda"``, ``"cuda-sim"``), equal to that string and hashing like it, so code that
    compares ``t.device == "cpu"`` or uses devices as dict keys sees one value. Two devices are
    equal when the types match and the indices match or one has none (torch:
    ``device("cuda") != device("cuda:0")``; there is one GPU per process here).
    """

    type: str
    index: int | None

    def __new__(cls, type_or_name, index: int | None = None):  # noqa: A002 (torch's name)
        if isinstance(type_or_name, device):
            if index is None:
                return type_or_name
            type_or_name = type_or_name.type
        if not isinstance(type_or_name, str):
            raise TypeError(f"device() expects a string such as 'cpu' or 'cuda:0', got "
                            f"{type(type_or_name).__name__}")
        name, _, number = type_or_name.partition(":")
        if number:
            if index is not None:
                raise DeviceError(f"device {type_or_name!r} already has an index; do not pass "
                                   f"index={index} as well")
            if not number.isdigit():
                raise DeviceError(f"Invalid device string: {type_or_name!r}")
            index = int(number)
        if name not in DEVICES and name not in _FOREIGN_TYPES:
            raise DeviceError(f"unknown device type {name!r} in {type_or_name!r}; expected one "
                               f"of {', '.join(DEVICES + _FOREIGN_TYPES)}")
        if index is not None and int(index) < 0:
            raise DeviceError("Device index must not be negative")
        obj = str.__new__(cls, name)
        obj.type = name
        obj.index = None if index is None else int(index)
        return obj

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)

    def __repr__(self) -> str:
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __eq__(self, other) -> bool:
        if not isinstance(other, str):
            return NotImplemented
        if not isinstance(other, device):
            try:
                other = device(other)
            except (RuntimeError, TypeError):
                return False
        return self.type == other.type and (
            self.index is None or other.index is None or self.index == other.index)

    def __ne__(self, other) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    def __hash__(self) -> int:
        return str.__hash__(self.type)

    def __reduce__(self):
        return (device, (self.type, self.index))


_CANONICAL: dict[str, device] = {}


def as_device(name) -> device:
    """The shared ``device`` object for an internal device name (no checks, no copies)."""
    found = _CANONICAL.get(name) if type(name) is str else None
    if found is None:
        found = name if type(name) is device else device(name)
        if type(name) is str and found.index is None:
            _CANONICAL[name] = found
    return found


def check_device(name) -> device:
    """A usable device (``"cuda:0"`` -> ``device("cuda")``), or an error that says why not."""
    if not isinstance(name, str):
        raise TypeError(f"expected a device such as 'cpu' or device('cuda'), got "
                        f"{type(name).__name__}")
    dev = device(name)
    if dev.type in _FOREIGN_TYPES:
        raise RuntimeError(f"device {str(dev)!r} is not supported by minitorch_cv; use one of "
                           f"{', '.join(DEVICES)}")
    if dev.type == "cuda" and not cuda_available():
        raise RuntimeError(
            "device 'cuda' is not usable here: "
            + (_cupy_error or "cupy found no GPU")
            + ". Use 'cpu', or 'cuda-sim' to run the GPU kernels on the CPU "
              "(minitorch_cv.cuda.is_available() says whether a GPU is there)."
        )
    if dev.type == "cuda" and dev.index is not None and dev.index >= max(cuda_device_count(), 1):
        raise RuntimeError(f"device {str(dev)!r}: invalid device ordinal (this process sees "
                           f"{cuda_device_count()} GPU(s))")
    return as_device(dev.type)


def cuda_device_count() -> int:
    """The number of GPUs CuPy sees (0 without cupy or without a GPU)."""
    if not cuda_available():
        return 0
    try:
        return int(cupy_module().cuda.runtime.getDeviceCount())
    except Exception:
        return 0


def array_module_for(device: str) -> ModuleType:
    """The array module (numpy or cupy) that holds data for ``device``."""
    return cupy_module() if device == "cuda" else np


def get_array_module(*arrays) -> ModuleType:
    """Return ``cupy`` if any argument is a CuPy array, else ``numpy`` (as Chainer does)."""
    cp = _cupy
    if cp is not None:
        for a in arrays:
            if isinstance(a, cp.ndarray):
                return cp
    return np


def device_of_array(array) -> device:
    """``device("cuda")`` for a CuPy array, ``device("cpu")`` for anything else."""
    return as_device("cuda" if get_array_module(array) is not np else "cpu")


def to_numpy(array) -> np.ndarray:
    """Copy a CuPy array to the host; NumPy arrays pass through."""
    if get_array_module(array) is np:
        return np.asarray(array)
    return array.get()


def move_array(array, device: str):
    """Return ``array`` as held by ``device`` (a copy only when it must cross to/from a GPU)."""
    if device == "cuda":
        return cupy_module().asarray(array)
    return to_numpy(array)


# ----------------------------------------------------------------------------- doctor
def _blas_report() -> list[str]:
    lines = []
    try:
        from threadpoolctl import threadpool_info  # noqa: PLC0415

        for info in threadpool_info():
            lines.append(
                f"  {info.get('user_api')}: {info.get('internal_api')} "
                f"{info.get('version')} ({info.get('architecture', '?')} kernel, "
                f"{info.get('num_threads')} threads)"
            )
    except ImportError:
        lines.append("  threadpoolctl not installed: cannot name the BLAS in use")
    for var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OMP_NUM_THREADS", "NUMBA_NUM_THREADS",
                "OMP_WAIT_POLICY", "OPENBLAS_THREAD_TIMEOUT"):
        if os.environ.get(var):
            lines.append(f"  {var}={os.environ[var]}")
    from . import _early  # noqa: PLC0415

    lines.extend(f"  warning: {line}" for line in _early.late_settings())
    return lines


def doctor_lines() -> list[str]:
    """What is installed and usable, and why not, in plain words."""
    lines = [f"numpy {np.__version__}", f"CPU cores: {os.cpu_count()}"]
    try:
        import numba  # noqa: PLC0415

        lines.append(
            f"numba {numba.__version__}: CPU kernels compiled with {numba.config.NUMBA_NUM_THREADS}"
            f" threads (NUMBA_DISABLE_JIT={os.environ.get('NUMBA_DISABLE_JIT', '0')})"
        )
    except ImportError:
        lines.append("numba is not installed: the CPU kernels cannot run (pip install numba)")
    lines.append("BLAS:")
    lines.extend(_blas_report())
    cp = _load_cupy()
    if cp is None:
        lines.append(f"cupy: not usable: {_cupy_error}")
    else:
        lines.append(f"cupy {cp.__version__}")
        try:
            ver = cp.cuda.nvrtc.getVersion()
            lines.append(f"  NVRTC {ver[0]}.{ver[1]} found: GPU kernels can be compiled")
            archs = set(cp.cuda.nvrtc.getSupportedArchs())
            missing = sorted({75, 80, 86, 89, 90} - archs)
            lines.append(
                "  NVRTC targets sm_75, sm_80, sm_86, sm_89, sm_90 (the compile gate's): "
                + ("all supported" if not missing else f"missing sm_{missing}")
            )
        except Exception as exc:
            lines.append(f"  NVRTC not found ({exc}); pip install 'nvidia-cuda-nvrtc==13.*'")
        try:
            drv = cp.cuda.runtime.driverGetVersion()
            lines.append(f"  CUDA driver {drv}")
        except Exception as exc:
            lines.append(f"  no CUDA driver: {type(exc).__name__}: {exc}")
        lines.append(
            "  GPU present: yes" if cuda_available() else "  GPU present: no (device 'cuda' off)"
        )
    lines.append(_simulated_gpu_line())
    return lines


def _simulated_gpu_line() -> str:
    """Whether the emulator behind 'cuda-sim' can build and run a kernel (imported lazily:
    at import time this module still imports nothing from the package)."""
    try:
        from .emulator.selfcheck import doctor_line  # noqa: PLC0415

        return doctor_line()
    except Exception as exc:  # doctor must report, never crash
        cxx = shutil.which(os.environ.get("CXX", "g++"))
        return f"simulated GPU ('cuda-sim'): not usable ({type(exc).__name__}: {exc}; g++: {cxx})"


def doctor() -> None:
    """Print what is installed and usable (numba, cupy, CUDA, BLAS, threads) and why not."""
    print("\n".join(doctor_lines()))
