"""Read IDX files (the MNIST family's format), gzip-compressed or not, with validation.

Layout: two zero bytes, a type code (``0x08`` = unsigned byte, ...), the number of dimensions
``nd``, then ``nd`` big-endian ``uint32`` sizes, then the values in row-major order. MNIST's
images have magic ``0x00000803`` (2051: uint8, 3 dims), its labels ``0x00000801`` (2049).
"""

from __future__ import annotations

import gzip
import math
import zlib
from pathlib import Path

import numpy as np

IMAGES_MAGIC = 2051
LABELS_MAGIC = 2049

# IDX type codes -> big-endian NumPy dtypes
_IDX_DTYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


class IDXFormatError(ValueError):
    """An IDX file that is corrupted, truncated or not an IDX file at all."""


def _read_bytes(path: Path) -> bytes:
    try:
        with open(path, "rb") as f:
            raw = f.read()
        if raw[:2] == b"\x1f\x8b":  # gzip magic: decompress in memory
            return gzip.decompress(raw)
        return raw
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise IDXFormatError(
            f"{path}: the gzip stream is damaged ({exc}). Delete the file and download it again."
        ) from exc


def read_idx(path, expected_magic: int | None = None) -> np.ndarray:
    """Parse an IDX file into a native-endian, writable NumPy array.

    Args:
        path: ``.gz`` (detected by content) or uncompressed IDX file.
        expected_magic: e.g. ``IMAGES_MAGIC``; a different magic number raises.

    Raises:
        IDXFormatError: wrong magic, unknown type code, or a body whose length disagrees with
            the header (a truncated download), always naming the file.
    """
    path = Path(path)
    raw = _read_bytes(path)
    fix = "Delete the file and download it again (download=True), or check that it is IDX."
    if len(raw) < 4:
        raise IDXFormatError(f"{path}: {len(raw)} bytes is too short for an IDX header. {fix}")
    magic = int.from_bytes(raw[:4], "big")
    type_code, ndim = raw[2], raw[3]
    if raw[:2] != b"\x00\x00" or type_code not in _IDX_DTYPES or ndim == 0:
        raise IDXFormatError(f"{path}: magic number 0x{magic:08x} is not an IDX header. {fix}")
    if expected_magic is not None and magic != expected_magic:
        raise IDXFormatError(
            f"{path}: magic number {magic} (0x{magic:08x}), expected {expected_magic} "
            f"(0x{expected_magic:08x}): wrong file for this role. {fix}"
        )
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise IDXFormatError(f"{path}: the header of {ndim} dimensions is cut short. {fix}")
    dims = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    dtype = _IDX_DTYPES[type_code]
    expected = math.prod(dims) * dtype.itemsize
    found = len(raw) - header
    if found != expected:
        what = "truncated" if found < expected else "longer than its header says"
        raise IDXFormatError(
            f"{path}: body is {what}: the header {dims} needs {expected} bytes of data, "
            f"found {found}. {fix}"
        )
    array = np.frombuffer(raw, dtype=dtype, offset=header).reshape(dims)
    return array.astype(dtype.newbyteorder("="))  # native byte order, and a writable copy
