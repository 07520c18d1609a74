"""Build a CUDA C source into a shared library that runs on the CPU (g++ plus ``cuda_shim.h``).

The build wraps the source unchanged between the shim header and one generated entry point per
``extern "C" __global__`` kernel, compiles it with g++ and keeps the library in a cache keyed by
the full text and flags, so a kernel is compiled once per machine (about a second).

Environment variables:

- ``MINITORCH_CV_EMULATOR_CACHE``: cache directory (default
  ``$XDG_CACHE_HOME/minitorch_cv/emulator``, else ``~/.cache/minitorch_cv/emulator``).
- ``CXX``: the C++ compiler (default ``g++``; it needs C++20).
- ``MINITORCH_CV_EMULATOR_DEBUG=1``: build with ``-O0 -g`` so a debugger steps line by line.
- ``MINITORCH_CV_EMULATOR_SANITIZE=address|thread``: build every kernel with a sanitizer
  (see ``minitorch_cv.emulator.sanitizers``).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None

SHIM_HEADER = Path(__file__).with_name("cuda_shim.h")
SANITIZERS = {
    # UBSan rides along with ASan: signed overflow in index arithmetic is a bug too.
    "address": ("-fsanitize=address,undefined", "-fno-sanitize-recover=all"),
    "thread": ("-fsanitize=thread",),
}
_KERNEL_NAME = re.compile(r"__global__\s+void\s+(\w+)\s*\(")
_STATIC_SHARED = re.compile(r"(?<!extern )__shared__\s+[\w\s]+?\s+(\w+)\s*\[[^;\]]*\]\s*;")
_DYNAMIC_SHARED = re.compile(
    r"extern\s+__shared__\s+(?:__align__\(\s*\d+\s*\)\s*)?([\w\s]+?)\s+(\w+)\s*\[\s*\]\s*;"
)


class BuildError(RuntimeError):
    """g++ rejected the source: the message holds the compiler's diagnostics."""


def cache_dir() -> Path:
    """Where built libraries live (created on first use)."""
    env = os.environ.get("MINITORCH_CV_EMULATOR_CACHE")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "minitorch_cv" / "emulator"


def compiler() -> str | None:
    """Path of the C++ compiler, or None when there is none."""
    return shutil.which(os.environ.get("CXX", "g++"))


def kernel_names(source: str) -> list[str]:
    """The ``__global__`` kernels of a source, in order of appearance."""
    return _KERNEL_NAME.findall(source)


def _brace_depth(text: str) -> int:
    """How deep in ``{`` blocks the end of ``text`` is (comments and strings ignored)."""
    text = re.sub(r"//[^\n]*|/\*.*?\*/|\"(?:\\.|[^\"\\])*\"", "", text, flags=re.DOTALL)
    return text.count("{") - text.count("}")


def _translate(source: str) -> str:
    # `extern __shared__ T name[];` (dynamic shared memory, sized at launch) becomes a pointer
    # into the block's shared buffer.
    source = _DYNAMIC_SHARED.sub(r"\1* \2 = (\1*)emu::dynamic_shared();", source)
    # A static `__shared__ T name[n];` inside a function gets poisoned once per block.
    parts, position = [], 0
    for match in _STATIC_SHARED.finditer(source):
        parts.append(source[position:match.end()])
        position = match.end()
        if _brace_depth(source[:match.start()]) > 0:
            name = match.group(1)
            parts.append(f" static unsigned long long emu_seen_{name} = 0;"
                         f" emu::poison_static_shared({name}, sizeof({name}), &emu_seen_{name});")
    parts.append(source[position:])
    return "".join(parts)


def wrapper_text(source: str, names: list[str]) -> str:
    """The C++ translation unit: shim, the source as written, one launch entry per kernel."""
    uses_barriers = "true" if "__syncthreads" in source else "false"
    lines = ['#include "cuda_shim.h"']
    if not source.lstrip().startswith("#line"):
        lines.append('#line 1 "kernel.cu"')
    lines += [_translate(source), "", '#line 1 "emulator-entry-points.cpp"']
    for name in names:
        lines.append(
            f'extern "C" int emu_launch_{name}(unsigned gx, unsigned gy, unsigned gz, unsigned bx,'
            f" unsigned by, unsigned bz, size_t shared_mem, int order, unsigned seed,"
            f" void** args) {{ return emu::launch({name}, dim3(gx, gy, gz), dim3(bx, by, bz),"
            f" shared_mem, order, seed, {uses_barriers}, args); }}"
        )
        lines.append(
            f'extern "C" const char* emu_signature_{name}() {{ return emu::signature({name}); }}'
        )
    lines.append(
        'extern "C" long long emu_divergent_barriers() { return emu::divergent_barriers; }'
    )
    return "\n".join(lines) + "\n"


def compile_flags(sanitize: str | None = None, debug: bool | None = None) -> list[str]:
    if debug is None:
        debug = os.environ.get("MINITORCH_CV_EMULATOR_DEBUG", "") not in ("", "0")
    # No fast maths and no FMA contraction: the CPU result should be the plain IEEE one.
    flags = ["-std=c++20", "-O0" if debug else "-O1", "-g", "-shared", "-fPIC", "-pthread",
             "-fno-fast-math", "-ffp-contract=off", "-Wall", "-Wno-unused-variable",
             "-Wno-unused-function", "-Werror=return-type", "-I", str(SHIM_HEADER.parent)]
    if sanitize:
        if sanitize not in SANITIZERS:
            raise ValueError(f"sanitize must be one of {sorted(SANITIZERS)}, got {sanitize!r}")
        flags += [*SANITIZERS[sanitize], "-fno-omit-frame-pointer"]
    return flags


def build(source: str, sanitize: str | None = None, debug: bool | None = None) -> Path:
    """Compile ``source`` (cached) and return the path of the shared library."""
    cxx = compiler()
    if cxx is None:
        raise BuildError(
            "the GPU emulator needs a C++20 compiler: no g++ found (apt-get install g++, or set "
            "CXX)"
        )
    names = kernel_names(source)
    if not names:
        raise BuildError('no `extern "C" __global__ void name(...)` kernel in the source')
    text = wrapper_text(source, names)
    flags = compile_flags(sanitize, debug)
    digest = hashlib.sha256()
    for part in (text, " ".join(flags), cxx, SHIM_HEADER.read_text()):
        digest.update(part.encode())
        digest.update(b"\0")
    key = digest.hexdigest()[:20]
    directory = cache_dir()
    directory.mkdir(parents=True, exist_ok=True)
    library = directory / f"{names[0]}-{key}.so"
    if library.exists():
        return library
    # One build per key at a time (a lock file beside the cache), and every file written under
    # a unique temporary name in the same directory, then renamed: another process sees the old
    # state or the finished files, never a half-written source or library.
    with _locked(directory / f".{names[0]}-{key}.lock"):
        if library.exists():  # built by the process that held the lock before us
            return library
        _build_atomically(cxx, flags, text, directory / f"{names[0]}-{key}.cpp", library)
    return library


@contextlib.contextmanager
def _locked(path: Path):
    """An exclusive ``flock`` on ``path`` (no lock where ``fcntl`` does not exist: the renames
    alone keep the files whole, processes may then only compile the same kernel twice)."""
    if fcntl is None:
        yield
        return
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _build_atomically(cxx: str, flags: list[str], text: str, cpp: Path, library: Path) -> None:
    stem = f".{library.stem}."
    fd, partial_cpp = tempfile.mkstemp(prefix=stem, suffix=".cpp.partial", dir=library.parent)
    fd_so, partial = tempfile.mkstemp(prefix=stem, suffix=".so.partial", dir=library.parent)
    os.close(fd_so)
    try:
        with os.fdopen(fd, "w") as out:
            out.write(text)
        # debug info names the final .cpp, not the temporary one
        rename = f"-fdebug-prefix-map={partial_cpp}={cpp}"
        result = subprocess.run([cxx, *flags, rename, "-x", "c++", partial_cpp, "-o", partial],
                                capture_output=True, text=True)
        if result.returncode != 0:
            raise BuildError(f"g++ rejected the kernel source:\n{result.stderr[-6000:]}")
        os.chmod(partial, 0o755 & ~_umask())  # mkstemp makes 0600; a shared cache needs more
        os.chmod(partial_cpp, 0o644 & ~_umask())
        os.replace(partial_cpp, cpp)  # kept beside the library for a debugger
        os.replace(partial, library)
    finally:
        for leftover in (partial_cpp, partial):
            if os.path.exists(leftover):
                os.remove(leftover)


def _umask() -> int:
    """The process's umask, read without changing it (``os.umask`` would, for every thread)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    return 0o022
