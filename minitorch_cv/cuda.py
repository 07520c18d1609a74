"""``minitorch_cv.cuda``: torch.cuda's questions about the GPU, answered from CuPy.

``is_available()`` is True only where CuPy imports and sees a GPU, so the boilerplate
``device = "cuda" if cuda.is_available() else "cpu"`` picks the CPU on a machine without one, as
torch does. ``"cuda-sim"`` (the GPU kernels run on the CPU) is never reported here: it is always
available and has to be asked for by name.
"""

from __future__ import annotations

from . import backend, random


def is_available() -> bool:
    """True when a CUDA GPU is usable through CuPy."""
    return backend.cuda_available()


def device_count() -> int:
    """How many GPUs CuPy sees (0 without CuPy or without a GPU)."""
    return backend.cuda_device_count()


def _require_gpu(what: str) -> None:
    if not is_available():
        raise RuntimeError(f"cuda.{what}(): no CUDA GPU is available here (cuda.is_available() "
                           "is False); guard the call with `if cuda.is_available():`")


def current_device() -> int:
    """The index of the GPU in use (always 0: one GPU per process)."""
    _require_gpu("current_device")
    return 0


def get_device_name(device=None) -> str:
    _require_gpu("get_device_name")
    props = backend.cupy_module().cuda.runtime.getDeviceProperties(0)
    name = props["name"]
    return name.decode() if isinstance(name, bytes) else str(name)


def synchronize(device=None) -> None:
    """Wait for the GPU to finish its queued work (nothing to wait for without a GPU)."""
    if is_available():
        backend.cupy_module().cuda.runtime.deviceSynchronize()


def empty_cache() -> None:
    """Return CuPy's cached GPU blocks to the driver (a no-op without a GPU, as in torch)."""
    if is_available():
        backend.cupy_module().get_default_memory_pool().free_all_blocks()


def manual_seed(seed: int) -> None:
    """Seed the GPU's generator. minitorch_cv draws GPU random numbers from the one seedable
    source (``minitorch_cv.manual_seed``), so this seeds that source, as ``manual_seed`` would;
    like torch's, it is silently accepted without a GPU."""
    random.manual_seed(seed)


def manual_seed_all(seed: int) -> None:
    manual_seed(seed)
