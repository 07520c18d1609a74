"""The CUDA C sources of the GPU kernels, ready to compile for one dtype.

Each ``.cu`` file is written once with a scalar type ``scalar_t``; ``source(file, dtype)``
prepends ``typedef float scalar_t;`` (or ``double``) and pastes ``common.h`` in place of its
``#include``, so the text handed to NVRTC (real GPU), to the NVRTC gate and to g++ (simulated
GPU) is one self-contained string, the same for all three. ``#line`` directives keep the file
names and line numbers of the ``.cu`` files in compiler messages and in a debugger.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent
KERNEL_FILES = ("conv", "winograd", "pool", "batch_norm", "dropout")
SCALAR_TYPES = {np.dtype(np.float32): "float", np.dtype(np.float64): "double"}
_INCLUDE = re.compile(r"^#include \"(\w+\.h)\"[ \t]*$", re.MULTILINE)


def check_dtype(dtype) -> np.dtype:
    dtype = np.dtype(dtype)
    if dtype not in SCALAR_TYPES:
        raise TypeError(f"the GPU kernels support float32 and float64 arrays, got {dtype}")
    return dtype


@cache
def source(file: str, dtype=np.float32) -> str:
    """The complete source text of ``file``.cu for arrays of ``dtype``."""
    path = HERE / f"{file}.cu"
    text = path.read_text()
    parts = [f"// minitorch_cv.kernels.gpu: {file}.cu for scalar_t = "
             f"{SCALAR_TYPES[check_dtype(dtype)]}",
             f"typedef {SCALAR_TYPES[np.dtype(dtype)]} scalar_t;"]
    position = 0
    for match in _INCLUDE.finditer(text):
        header = HERE / match.group(1)
        parts.append(f'#line {text.count(chr(10), 0, position) + 1} "{path}"')
        parts.append(text[position:match.start()])
        parts.append(f'#line 1 "{header}"')
        parts.append(header.read_text())
        position = match.end()
    parts.append(f'#line {text.count(chr(10), 0, position) + 1} "{path}"')
    parts.append(text[position:])
    return "\n".join(parts)


def kernel_names(file: str) -> list[str]:
    """The ``extern "C"`` kernels defined in ``file``.cu."""
    return re.findall(r'extern "C" __global__ void (\w+)\(', (HERE / f"{file}.cu").read_text())
