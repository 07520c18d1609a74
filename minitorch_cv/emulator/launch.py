"""Launch emulated kernels with CuPy's call shape: ``kernel(grid, block, args, shared_mem=0)``.

``RawModule(source).get_function(name)`` mirrors ``cupy.RawModule``; ``RawKernel(source, name)``
mirrors ``cupy.RawKernel``. Arguments are NumPy arrays (passed as raw pointers, so they must be
C-contiguous) and NumPy scalars.

Arguments are checked strictly against the kernel's parameter types, which the C++ compiler
reports (not a parse of the source): CuPy turns a Python ``float`` into a ``double`` and an
``int`` into a ``long long``, and on a GPU a ``float`` or ``int`` parameter then silently reads
the wrong bytes. Here that is a ``TypeError`` naming the parameter.

Thread order (how the threads of a block, and the blocks of a grid, are visited):
``"forward"``, ``"reverse"``, ``"shuffled"`` (seeded), or ``"threads"`` (one OS thread per CUDA
thread, for ThreadSanitizer). Chosen per call, per module, or by the environment variables
``MINITORCH_CV_EMULATOR_ORDER`` and ``MINITORCH_CV_EMULATOR_SEED``. A correct kernel gives the
same answer in every order.
"""

from __future__ import annotations

import ctypes
import os
import re
import threading
from collections.abc import Sequence

import numpy as np

from .build import build, kernel_names

ORDERS = {"forward": 0, "reverse": 1, "shuffled": 2, "threads": 3}
_ALIASES = {"fwd": "forward", "rev": "reverse", "shuffle": "shuffled"}
_STATUS = {1: "invalid launch configuration (block over 1024 threads, or an empty/huge grid)",
           2: "more than 48 KiB of dynamic shared memory (a GPU needs an explicit opt-in)"}
_PARAM_LIST = r"__global__\s+void\s+{}\s*\(([^)]*)\)"
# ctypes releases the GIL during a call, and a launch uses the shim's process-wide state (the
# running kernel, its shared memory): one launch at a time per process.
_LAUNCH_LOCK = threading.Lock()


def resolve_order(order: str | None) -> str:
    """The order to use: the argument, else ``MINITORCH_CV_EMULATOR_ORDER``, else forward."""
    name = order or os.environ.get("MINITORCH_CV_EMULATOR_ORDER") or "forward"
    name = _ALIASES.get(name, name)
    if name not in ORDERS:
        raise ValueError(f"unknown thread order {name!r}; use one of {', '.join(ORDERS)}")
    return name


def resolve_seed(seed: int | None) -> int:
    if seed is None:
        seed = int(os.environ.get("MINITORCH_CV_EMULATOR_SEED", "0"))
    return seed % 2**32


def poisoned_empty(shape, dtype) -> np.ndarray:
    """``np.empty`` made visible: floats are NaN and integers all ones (-1), so an output element
    a kernel forgets to write shows up in the comparison instead of passing by luck."""
    out = np.empty(shape, dtype)
    if out.dtype.kind in "fc":
        out.fill(np.nan)
    else:
        out.view(np.uint8).fill(0xFF)
    return out


def _parameter_names(source: str, name: str, count: int) -> list[str]:
    """Names of the kernel's parameters for error messages (``argN`` where parsing fails)."""
    match = re.search(_PARAM_LIST.format(re.escape(name)), source)
    names = []
    if match:
        for part in match.group(1).split(","):
            words = re.findall(r"\w+", part)
            if words:
                names.append(words[-1])
    return names if len(names) == count else [f"arg{i}" for i in range(count)]


class Parameter:
    """One kernel parameter: a pointer to ``dtype``, or a scalar ``dtype`` passed by value."""

    def __init__(self, code: str, name: str):
        self.name = name
        self.is_pointer = code.startswith("*")
        char = code[1] if self.is_pointer else code.split(":")[0]
        self.size = None if self.is_pointer else int(code.split(":")[1])
        self.dtype = None if char in "vV" else np.dtype(char)

    def __repr__(self) -> str:
        kind = "void" if self.dtype is None else str(self.dtype)
        return f"{self.name}: {kind}{'*' if self.is_pointer else ''}"


class RawKernel:
    """One emulated kernel; call it as ``kernel(grid, block, args, shared_mem=0)``."""

    def __init__(self, source: str, name: str, *, order: str | None = None,
                 seed: int | None = None, sanitize: str | None = None, _module=None):
        self.module = _module or RawModule(source, order=order, seed=seed, sanitize=sanitize)
        self.name = name
        self.order, self.seed = order, seed
        lib = self.module.library
        try:
            self._launch = getattr(lib, f"emu_launch_{name}")
        except AttributeError:
            raise ValueError(f"no kernel named {name!r} in the module") from None
        self._launch.restype = ctypes.c_int
        signature = getattr(lib, f"emu_signature_{name}")
        signature.restype = ctypes.c_char_p
        codes = [c for c in signature().decode().split(",") if c]
        names = _parameter_names(self.module.source, name, len(codes))
        self.parameters = [Parameter(code, pname) for code, pname in zip(codes, names)]

    def __call__(self, grid, block, args: Sequence, shared_mem: int = 0, *,
                 order: str | None = None, seed: int | None = None) -> None:
        grid, block = _dim3(grid, "grid"), _dim3(block, "block")
        if len(args) != len(self.parameters):
            raise TypeError(
                f"kernel {self.name} takes {len(self.parameters)} arguments "
                f"({', '.join(p.name for p in self.parameters)}), got {len(args)}"
            )
        holders = [self._hold(arg, param) for arg, param in zip(args, self.parameters)]
        argv = (ctypes.c_void_p * max(1, len(holders)))(*[ctypes.addressof(h) for h in holders])
        order_name = resolve_order(order or self.order or self.module.order)
        if seed is None:
            seed = self.seed if self.seed is not None else self.module.seed
        with _LAUNCH_LOCK:
            status = self._launch(
                *(ctypes.c_uint(v) for v in (*grid, *block)), ctypes.c_size_t(shared_mem),
                ctypes.c_int(ORDERS[order_name]), ctypes.c_uint(resolve_seed(seed)), argv,
            )
        if status:
            raise RuntimeError(f"kernel {self.name} grid={grid} block={block}: {_STATUS[status]}")

    def _hold(self, arg, param: Parameter):
        """A ctypes object whose address is what cuLaunchKernel would receive for ``arg``."""
        where = f"kernel {self.name}, parameter {param.name!r}"
        if isinstance(arg, np.ndarray):
            if not param.is_pointer:
                raise TypeError(f"{where}: an array was passed for a {param.dtype} scalar")
            if not arg.flags.c_contiguous:
                # the kernel gets a bare pointer: strides would be silently ignored
                raise TypeError(f"{where}: the array is not C-contiguous")
            if param.dtype is not None and arg.dtype != param.dtype:
                raise TypeError(f"{where}: a {arg.dtype} array was passed for {param.dtype}*")
            return ctypes.c_void_p(arg.ctypes.data)
        if param.is_pointer:
            if arg is None:
                return ctypes.c_void_p(0)
            raise TypeError(f"{where}: expected an array for {param.dtype}*, got {type(arg)}")
        # CuPy's rule for scalars: Python bool/int/float become bool/int64/float64.
        if isinstance(arg, (bool, np.bool_)):
            value = np.asarray(arg, np.bool_)
        elif isinstance(arg, int):
            value = np.asarray(arg, np.int64)
        elif isinstance(arg, float):
            value = np.asarray(arg, np.float64)
        elif isinstance(arg, np.generic):
            value = np.asarray(arg)
        else:
            raise TypeError(f"{where}: unsupported argument of type {type(arg).__name__}")
        if param.dtype is not None and value.dtype != param.dtype:
            raise TypeError(
                f"{where} is {param.dtype} but got {value.dtype} "
                f"({type(arg).__name__} {arg!r}); on a GPU this silently reinterprets the bytes: "
                f"pass np.{param.dtype}(...)"
            )
        if param.dtype is None and value.nbytes != param.size:
            raise TypeError(f"{where}: {value.nbytes} bytes passed for a {param.size}-byte value")
        return ctypes.create_string_buffer(value.tobytes(), max(value.nbytes, 8))


class RawModule:
    """A source with one or more kernels, built for the CPU (mirrors ``cupy.RawModule``)."""

    def __init__(self, source: str, *, order: str | None = None, seed: int | None = None,
                 sanitize: str | None = None, debug: bool | None = None):
        if sanitize is None:
            sanitize = os.environ.get("MINITORCH_CV_EMULATOR_SANITIZE") or None
        if sanitize:
            from .sanitizers import require_runtime  # noqa: PLC0415

            require_runtime(sanitize)
        self.source = source
        self.order, self.seed, self.sanitize = order, seed, sanitize
        self.names = kernel_names(source)
        self.path = build(source, sanitize=sanitize, debug=debug)
        self.library = ctypes.CDLL(str(self.path))
        self._kernels: dict[str, RawKernel] = {}

    def get_function(self, name: str) -> RawKernel:
        if name not in self._kernels:
            self._kernels[name] = RawKernel(self.source, name, _module=self)
        return self._kernels[name]

    @property
    def divergent_barriers(self) -> int:
        """Barrier rounds so far where some threads of a block had already returned."""
        counter = self.library.emu_divergent_barriers
        counter.restype = ctypes.c_longlong
        return int(counter())


def _dim3(value, what: str) -> tuple[int, int, int]:
    dims = (value,) if isinstance(value, (int, np.integer)) else tuple(value)
    if not 1 <= len(dims) <= 3 or any(int(d) < 1 for d in dims):
        raise ValueError(f"{what} must be 1 to 3 positive sizes, got {value!r}")
    return tuple(int(d) for d in dims) + (1,) * (3 - len(dims))
