"""Read IDX files (the MNIST family's format), gzip-compressed or not, with validation.

Layout: two zero bytes, a type code (``0x08`` = unsigned byte, ...), the number of dimensions
``nd``, then ``nd`` big-endian ``uint32`` sizes, then the values in row-major order. MNIST's
images have magic ``0x00000803`` (2051: uint8, 3 dims), its labels ``0x00000801`` (2049).
"""

from __future__ import annotations

import gzip
import math
import os
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


# NumPy's limit on dimensions; MNIST's files have 1 or 3
MAX_DIMS = 64
# deflate cannot compress better than about 1032:1 (a run of 258 bytes in one ~2-bit code), so a
# gzip file of S bytes never holds more than this many bytes per byte, plus a small constant
DEFLATE_MAX_RATIO = 1032
CHUNK = 1 << 20
FIX = "Delete the file and download it again (download=True), or check that it is IDX."


class IDXFormatError(ValueError):
    """An IDX file that is corrupted, truncated or not an IDX file at all."""


def _read_exact(stream, count: int, path: Path, what: str) -> bytes:
    data = stream.read(count)
    if len(data) < count:
        raise IDXFormatError(f"{path}: {what} is cut short ({len(data)} of {count} bytes). {FIX}")
    return data


def _read_body(stream, expected: int, path: Path, dims: tuple) -> bytes:
    """Exactly ``expected`` bytes, read in chunks: memory follows what the file really holds."""
    chunks, found = [], 0
    while found < expected:
        chunk = stream.read(min(CHUNK, expected - found))
        if not chunk:
            raise IDXFormatError(
                f"{path}: body is truncated: the header {dims} needs {expected} bytes of data, "
                f"found {found}. {FIX}"
            )
        chunks.append(chunk)
        found += len(chunk)
    extra = len(stream.read(CHUNK))
    if extra:
        raise IDXFormatError(
            f"{path}: body is longer than its header says: the header {dims} needs {expected} "
            f"bytes of data, found {expected + extra}{'+' if extra == CHUNK else ''}. {FIX}"
        )
    return b"".join(chunks)


def _parse(stream, path: Path, file_size: int, compressed: bool, expected_magic: int | None):
    start = _read_exact(stream, 4, path, "the 4-byte IDX header")
    magic = int.from_bytes(start, "big")
    type_code, ndim = start[2], start[3]
    if start[:2] != b"\x00\x00" or type_code not in _IDX_DTYPES or ndim == 0:
        raise IDXFormatError(f"{path}: magic number 0x{magic:08x} is not an IDX header. {FIX}")
    if expected_magic is not None and magic != expected_magic:
        raise IDXFormatError(
            f"{path}: magic number {magic} (0x{magic:08x}), expected {expected_magic} "
            f"(0x{expected_magic:08x}): wrong file for this role. {FIX}"
        )
    if ndim > MAX_DIMS:
        raise IDXFormatError(f"{path}: the header claims {ndim} dimensions; NumPy holds at most "
                             f"{MAX_DIMS} (MNIST files have 1 or 3). {FIX}")
    raw_dims = _read_exact(stream, 4 * ndim, path, f"the header of {ndim} dimensions")
    dims = tuple(int.from_bytes(raw_dims[4 * i:4 * i + 4], "big") for i in range(ndim))
    dtype = _IDX_DTYPES[type_code]
    expected = math.prod(dims) * dtype.itemsize
    if math.prod(n for n in dims if n) * dtype.itemsize > np.iinfo(np.intp).max:
        # NumPy refuses such a shape even when a 0 makes it empty
        raise IDXFormatError(f"{path}: the header's sizes {dims} are too large for any array. "
                             f"{FIX}")
    # what the file can hold, checked before a byte of the body is read or inflated
    room = file_size * DEFLATE_MAX_RATIO + 1024 if compressed else file_size - 4 - 4 * ndim
    if expected > room:
        how = f"a gzip file of {file_size} bytes inflates to at most {room}" if compressed else (
            f"the file has {room} bytes after the header")
        raise IDXFormatError(f"{path}: body is truncated: the header {dims} needs {expected} "
                             f"bytes of data, but {how}. {FIX}")
    body = _read_body(stream, expected, path, dims)
    array = np.frombuffer(body, dtype=dtype).reshape(dims)
    return array.astype(dtype.newbyteorder("="))  # native byte order, and a writable copy


def read_idx(path, expected_magic: int | None = None) -> np.ndarray:
    """Parse an IDX file into a native-endian, writable NumPy array.

    The header is read first and its sizes are bounded by what the file can hold (its length, or
    for ``.gz`` the deflate limit of ~1032x) before the body is read; a ``.gz`` body is inflated
    in 1 MiB chunks and never beyond the size the header gives.

    Args:
        path: ``.gz`` (detected by content) or uncompressed IDX file.
        expected_magic: e.g. ``IMAGES_MAGIC``; a different magic number raises.

    Raises:
        IDXFormatError: wrong magic, unknown type code, too many dimensions, a damaged gzip
            stream, or a body whose length disagrees with the header (a truncated download),
            always naming the file.
    """
    path = Path(path)
    with open(path, "rb") as f:
        file_size = os.fstat(f.fileno()).st_size
        compressed = f.read(2) == b"\x1f\x8b"  # gzip magic
        f.seek(0)
        try:
            if compressed:
                with gzip.GzipFile(fileobj=f) as stream:
                    return _parse(stream, path, file_size, True, expected_magic)
            return _parse(f, path, file_size, False, expected_magic)
        except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
            raise IDXFormatError(
                f"{path}: the gzip stream is damaged ({exc}). Delete the file and download it "
                "again."
            ) from exc
