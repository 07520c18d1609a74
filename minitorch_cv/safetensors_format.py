"""The safetensors file format, written and read in plain Python and NumPy.

A safetensors file is::

    8 bytes    N, the header length (unsigned little-endian 64-bit integer)
    N bytes    a JSON object: {"__metadata__": {str: str}, NAME: {"dtype": "F32",
               "shape": [2, 3], "data_offsets": [BEGIN, END]}, ...}, padded with spaces
    the rest   the tensors' bytes, little-endian, C order; offsets count from here

Reading it can only ever produce arrays and strings: no code runs. ``encode`` writes the same
bytes for the same input every time (keys in a fixed order, no hash-map ordering), and
``parse`` checks every claim of a header against the file (linear time in the header's size)
before ``decode`` turns byte ranges into arrays. Every problem is a ``CheckpointError`` that
names the file and says what is wrong.
"""

from __future__ import annotations

import json
import os
import pickle
import struct

import numpy as np

MAX_HEADER = 100_000_000  # the safetensors library's own limit
MAX_DIMS = 64  # NumPy's limit
_INTP_MAX = np.iinfo(np.intp).max
DTYPES = {"F16": "float16", "F32": "float32", "F64": "float64", "I8": "int8", "I16": "int16",
          "I32": "int32", "I64": "int64", "U8": "uint8", "U16": "uint16", "U32": "uint32",
          "U64": "uint64", "BOOL": "bool"}
_CODES = {np.dtype(name): code for code, name in DTYPES.items()}


class CheckpointError(ValueError, RuntimeError, pickle.UnpicklingError):
    """A checkpoint file that is truncated, corrupted, foreign, or holds unsupported data.

    Catchable as ``RuntimeError`` and ``pickle.UnpicklingError`` (what ``torch.load`` raises
    for a damaged or refused file) and as ``ValueError`` (what earlier versions raised).
    """

    def __init__(self, path, problem: str):
        super().__init__(f"cannot load checkpoint {os.fspath(path)!r}: {problem}")
        self.path, self.problem = path, problem


def _short(value, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "...]"


# ----------------------------------------------------------------------------- writing
def encode(arrays: dict[str, np.ndarray], metadata: dict[str, str]) -> bytearray:
    """The bytes of a safetensors file holding ``arrays`` and ``metadata``.

    Tensors are laid out by decreasing item size, then name, so every tensor is aligned to its
    item size (the header is padded to a multiple of 8, as the safetensors library does).
    """
    order = sorted(arrays, key=lambda name: (-arrays[name].dtype.itemsize, name))
    header: dict = {"__metadata__": metadata} if metadata else {}
    offset = 0
    for name in order:
        array = arrays[name]
        if array.dtype not in _CODES:
            raise TypeError(f"cannot save tensor {name!r} of dtype {array.dtype}: checkpoints "
                            f"hold {', '.join(DTYPES.values())}")
        header[name] = {"dtype": _CODES[array.dtype], "shape": list(array.shape),
                        "data_offsets": [offset, offset + array.nbytes]}
        offset += array.nbytes
    raw = json.dumps(header, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    raw += b" " * (-len(raw) % 8)
    blob = bytearray(struct.pack("<Q", len(raw)) + raw)
    for name in order:
        array = arrays[name]
        little = array.astype(array.dtype.newbyteorder("<"), copy=False)
        blob += np.ascontiguousarray(little).tobytes()
    return blob


# ----------------------------------------------------------------------------- reading
def _element_count(path, name: str, shape, itemsize: int, data_len: int) -> int:
    """The number of elements of ``shape``, checked against the data section, in time linear
    in ``len(shape)`` (a running product of huge dimensions would be quadratic)."""
    if not isinstance(shape, list) or not all(type(n) is int and n >= 0 for n in shape):
        raise CheckpointError(path, f"tensor {_short(name)} has an invalid shape "
                                    f"{_short(shape)}")
    if len(shape) > MAX_DIMS:
        raise CheckpointError(path, f"tensor {_short(name)} has {len(shape)} dimensions; "
                                    f"NumPy holds at most {MAX_DIMS}")
    empty = 0 in shape
    # an empty array may have huge other dimensions, as long as NumPy can describe it
    limit = _INTP_MAX if empty else data_len
    product = 1
    for n in shape:  # stop as soon as the product exceeds the limit: linear time
        product *= n or 1
        if product * itemsize > limit:
            room = ("more than any array can hold" if empty
                    else f"but the data section has {data_len}")
            raise CheckpointError(path, f"tensor {_short(name)}: shape {_short(shape)} needs "
                                        f"at least {product * itemsize} bytes, {room}")
    return 0 if empty else product


def _check_entry(path, name: str, entry, data_len: int) -> tuple[int, int, str, list]:
    if not isinstance(entry, dict) or set(entry) != {"dtype", "shape", "data_offsets"}:
        raise CheckpointError(path, f"header entry {_short(name)} is not a tensor description "
                                    "(dtype, shape, data_offsets)")
    dtype, shape, offsets = entry["dtype"], entry["shape"], entry["data_offsets"]
    if not isinstance(dtype, str) or dtype not in DTYPES:
        raise CheckpointError(path, f"tensor {_short(name)} has dtype {_short(dtype)}, which "
                                    f"NumPy cannot hold (supported: {', '.join(DTYPES)})")
    itemsize = np.dtype(DTYPES[dtype]).itemsize
    expected = _element_count(path, name, shape, itemsize, data_len) * itemsize
    if (not isinstance(offsets, list) or len(offsets) != 2
            or not all(type(n) is int for n in offsets)
            or not 0 <= offsets[0] <= offsets[1] <= data_len):
        raise CheckpointError(path, f"tensor {_short(name)} has invalid data_offsets "
                                    f"{_short(offsets)} (the data section is {data_len} bytes)")
    if offsets[1] - offsets[0] != expected:
        raise CheckpointError(path, f"tensor {_short(name)}: shape {_short(shape)} of {dtype} "
                                    f"needs {expected} bytes, its offsets span "
                                    f"{offsets[1] - offsets[0]}")
    return offsets[0], offsets[1], dtype, shape


def _foreign(path, blob) -> None:
    """Raise a specific message if ``blob`` is a torch.save file (zip or raw pickle).

    Called only once the bytes failed as safetensors: the first bytes of a safetensors file
    are a header length, which can start with any byte (0x80 = 128 does, for 1 in 32 files).
    """
    if blob[:4] == b"PK\x03\x04" or blob[:1] == b"\x80":
        raise CheckpointError(path, "this looks like a pickle/zip checkpoint (torch.save); "
                                    "minitorch_cv reads only safetensors files. In PyTorch, "
                                    "convert it with safetensors.torch.save_file(state_dict)")


def parse(path, blob) -> tuple[dict, dict, int]:
    """Validate a safetensors header against the whole file.

    Returns ``(entries, metadata, data_start)``, ``entries`` mapping each tensor name to
    ``(begin, end, dtype_code, shape)`` with offsets relative to ``data_start``.
    """
    size = len(blob)
    if size < 8:
        _foreign(path, blob)
        raise CheckpointError(path, f"the file is {size} bytes, too short for a safetensors "
                                    "header (truncated?)")
    (header_len,) = struct.unpack("<Q", blob[:8])
    if header_len > MAX_HEADER or header_len > size - 8:
        _foreign(path, blob)
        raise CheckpointError(path, f"the header claims {header_len} bytes but the file has "
                                    f"{size - 8} after the length field (truncated, or not a "
                                    "safetensors file)")
    try:
        header = json.loads(bytes(blob[8:8 + header_len]).decode("utf-8"))
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, UnicodeDecodeError,
        _foreign(path, blob)                      # an int of more than 4300 digits
        raise CheckpointError(path, f"the header is not valid JSON ({_short(str(exc), 120)}); "
                                    "the file is corrupted or not a safetensors file") from None
    if not isinstance(header, dict):
        raise CheckpointError(path, "the header is not a JSON object")
    metadata = header.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
        raise CheckpointError(path, "__metadata__ must map strings to strings")
    data_len = size - 8 - header_len
    entries = {name: _check_entry(path, name, entry, data_len)
               for name, entry in header.items()}
    position = 0
    for begin, end, name in sorted((e[0], e[1], name) for name, e in entries.items()):
        if begin == end:
            continue  # empty tensors take no bytes
        if begin != position:
            raise CheckpointError(path, f"tensor {_short(name)} starts at byte {begin}, "
                                        f"expected {position}: the data section has gaps or "
                                        "overlaps")
        position = end
    if position != data_len:
        raise CheckpointError(path, f"the tensors cover {position} bytes but the data section "
                                    f"has {data_len} (truncated or padded file)")
    return entries, metadata, 8 + header_len


def decode(path, blob, entries: dict, data_start: int) -> dict[str, np.ndarray]:
    """The arrays of a header ``parse`` accepted: each a fresh, writable copy."""
    arrays = {}
    for name, (begin, end, code, shape) in entries.items():
        dtype = np.dtype(DTYPES[code]).newbyteorder("<")
        count = (end - begin) // dtype.itemsize
        flat = np.frombuffer(blob, dtype=dtype, count=count, offset=data_start + begin)
        if code == "BOOL" and flat.view(np.uint8).max(initial=0) > 1:
            raise CheckpointError(path, f"tensor {_short(name)} is BOOL but holds bytes other "
                                        "than 0 and 1")
        arrays[name] = flat.reshape(shape).astype(dtype.newbyteorder("="), copy=True)
    return arrays
