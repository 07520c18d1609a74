"""Run emulated kernels under AddressSanitizer or ThreadSanitizer.

A sanitizer's runtime must be the first library of the process, so a sanitized kernel cannot be
loaded into an ordinary Python: the process has to start with the runtime preloaded. This module
builds that environment and starts Python in it::

    python -m minitorch_cv.emulator.sanitizers thread my_script.py [args...]
    python -m minitorch_cv.emulator.sanitizers address -m pytest tests/gpu -k col2im

- ``address``: AddressSanitizer + UndefinedBehaviorSanitizer. Out-of-bounds reads and writes of
  NumPy buffers (an off-by-one in a kernel's bounds check), use of freed memory, signed overflow.
  The first error stops the process with a report that names the ``.cu`` file and line.
- ``thread``: ThreadSanitizer. Use it with thread order ``"threads"`` (one OS thread per CUDA
  thread): two threads of a block writing the same element without an atomic, or reading shared
  memory another thread writes without a ``__syncthreads()`` in between, are reported as data
  races even when the serial orders happen to give the right answer.

Races between different blocks are not seen (blocks run one after another).
"""

from __future__ import annotations

import os
import subprocess
import sys
from functools import cache
from pathlib import Path

from .build import SANITIZERS, compiler

_RUNTIME = {"address": "libasan.so", "thread": "libtsan.so"}
_REPORT_MARKERS = {
    "address": ("ERROR: AddressSanitizer", "runtime error:"),
    "thread": ("WARNING: ThreadSanitizer",),
}


@cache
def runtime_library(kind: str) -> str | None:
    """Path of the sanitizer runtime that g++ links against, or None if it is not installed."""
    if kind not in SANITIZERS:
        raise ValueError(f"sanitizer must be one of {sorted(SANITIZERS)}, got {kind!r}")
    cxx = compiler()
    if cxx is None:
        return None
    result = subprocess.run([cxx, f"-print-file-name={_RUNTIME[kind]}"], capture_output=True,
                            text=True)
    path = result.stdout.strip()
    # g++ echoes the bare name back when it does not know the file
    return str(Path(path).resolve()) if os.path.isabs(path) and os.path.exists(path) else None


def runtime_loaded(kind: str) -> bool:
    """True when this process started with the sanitizer runtime preloaded."""
    try:
        maps = Path("/proc/self/maps").read_text()
    except OSError:
        return False
    return _RUNTIME[kind].split(".")[0] + ".so" in maps


def require_runtime(kind: str) -> None:
    """Raise a helpful error instead of letting the sanitizer abort the process."""
    if not runtime_loaded(kind):
        raise RuntimeError(
            f"a {kind}-sanitized kernel can only be loaded by a process started with the "
            f"sanitizer runtime preloaded: run `python -m minitorch_cv.emulator.sanitizers {kind}"
            f" your_script.py`"
        )


def environment(kind: str, base: dict | None = None) -> dict:
    """Environment variables for a Python process whose emulated kernels use ``kind``."""
    library = runtime_library(kind)
    if library is None:
        raise RuntimeError(f"the {kind} sanitizer runtime ({_RUNTIME[kind]}) is not installed")
    env = dict(os.environ if base is None else base)
    env["LD_PRELOAD"] = library
    env["MINITORCH_CV_EMULATOR_SANITIZE"] = kind
    # Python itself is not instrumented: its allocations are not leaks we can fix.
    env.setdefault("ASAN_OPTIONS", "detect_leaks=0")
    env.setdefault("TSAN_OPTIONS", "report_signal_unsafe=0")
    # the child imports this same minitorch_cv, installed or not
    package_root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
    return env


def run_python(kind: str, args: list[str], *, timeout: float | None = None,
               cwd: str | None = None) -> subprocess.CompletedProcess:
    """Run ``python ARGS`` with the sanitizer preloaded; output is captured as text.

    ``sys.executable`` is started directly, never through a shell or a wrapper script: an
    uninstrumented bash with ThreadSanitizer preloaded crashes before Python starts.
    """
    return subprocess.run([sys.executable, *args], env=environment(kind), capture_output=True,
                          text=True, timeout=timeout, cwd=cwd)


def reports(kind: str, output: str) -> list[str]:
    """The sanitizer report lines found in a process's output."""
    return [line for line in output.splitlines()
            if any(marker in line for marker in _REPORT_MARKERS[kind])]


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) < 2 or argv[0] not in SANITIZERS:
        print(__doc__)
        return 2
    env = environment(argv[0])
    return subprocess.call([sys.executable, *argv[1:]], env=env)


if __name__ == "__main__":
    sys.exit(main())
