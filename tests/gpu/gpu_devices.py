"""Shared by tests/gpu: the devices a GPU kernel test runs on, and array helpers.

Every kernel test is parametrised over ``DEVICES``: the simulated GPU in three thread orders
(with 32-thread blocks and at most 3 blocks, so the grid-stride loops really loop) and the real
GPU, marked ``gpu`` and skipped with the reason where CuPy sees no GPU.
"""

from __future__ import annotations

import numpy as np
import pytest

from minitorch_cv import backend
from minitorch_cv.kernels import gpu

SIM_ORDERS = ("forward", "reverse", "shuffled")


def _gpu_skip_reason() -> str:
    if backend.cuda_available():
        return ""
    cp = backend._load_cupy()
    if cp is None:
        return f"no real GPU test: {backend._cupy_error}"
    return "no real GPU test: cupy.is_available() is False (no CUDA GPU on this machine)"


GPU_MARKS = [pytest.mark.gpu, pytest.mark.skipif(not backend.cuda_available(),
                                                 reason=_gpu_skip_reason())]
DEVICES = [*(f"cuda-sim:{order}" for order in SIM_ORDERS), pytest.param("cuda", marks=GPU_MARKS)]

_namespaces: dict[str, gpu.GpuKernels] = {}


def kernels_for(device: str) -> gpu.GpuKernels:
    """The GPU kernel namespace behind a ``DEVICES`` entry."""
    if device not in _namespaces:
        if device == "cuda":
            _namespaces[device] = gpu.for_device("cuda")
        else:
            order = device.split(":")[1]
            _namespaces[device] = gpu.simulated(order, seed=11, block=32, max_blocks=3)
    return _namespaces[device]


def on(device: str, array):
    """``array`` moved to the device's array module."""
    return backend.move_array(np.asarray(array), "cuda" if device == "cuda" else "cpu")


def host(array) -> np.ndarray:
    return backend.to_numpy(array)


def tolerance(dtype) -> dict:
    """rtol 1e-5 for every arithmetic kernel; atol for sums that cancel to near zero."""
    return {"rtol": 1e-5, "atol": 1e-5 if np.dtype(dtype) == np.float32 else 1e-10}
