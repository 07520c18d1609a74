"""Checkpoints: ``save(obj, path)`` / ``load(path)`` in the safetensors format, never pickle.

Why not pickle (what ``torch.save`` uses): unpickling a file can run any code its author
chose, so opening a downloaded checkpoint would be running a program. A safetensors file is an
8-byte little-endian header length, a JSON header (dtype, shape and byte range of each tensor,
plus ``__metadata__``: a map of strings to strings) and the raw tensor bytes. Reading it can
only ever produce arrays and strings.

Layout of our files:

- Every tensor (and NumPy array) anywhere in ``obj`` becomes one safetensors entry named by
  its path of keys: a model state dict keeps its names (``features.0.weight``), so a PyTorch
  user reads our weights with ``safetensors.torch.load_file``; a nested checkpoint gives
  ``model.features.0.weight``, ``optimizer.state.0.exp_avg``...
- Everything else (epoch, python numbers, strings, lists, dict keys that are ints, the nesting
  itself) goes into ``__metadata__["minitorch_cv.structure"]``: a JSON tree whose leaves are
  plain values or references to tensor entries. JSON is data: loading cannot run code.
- ``__metadata__["minitorch_cv.sha256"]`` is the SHA-256 of the whole file with that one field
  blanked, so a flipped byte anywhere (header or data) is detected instead of loaded.

Writes are atomic: the bytes go to a temporary file in the same directory, which is fsynced and
then renamed over the target with ``os.replace``; a crash mid-save leaves the old file intact.
Loading validates the header length, the JSON, dtypes, shapes, offsets and the total size
before the safetensors parser sees the bytes; every problem is a ``CheckpointError`` that names
the file and says what is wrong.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import struct
import tempfile
from collections import OrderedDict

import numpy as np

from . import backend
from .autograd.tensor import Tensor

FORMAT = "minitorch_cv/1"
_STRUCTURE_KEY = "minitorch_cv.structure"
_DIGEST_KEY = "minitorch_cv.sha256"
_FORMAT_KEY = "minitorch_cv.format"
_OUR_KEYS = (_FORMAT_KEY, _STRUCTURE_KEY, _DIGEST_KEY)
_BLANK_DIGEST = "0" * 64
_MAX_HEADER = 100_000_000  # the safetensors library's own limit
_DTYPES = {"F16": "float16", "F32": "float32", "F64": "float64", "I8": "int8", "I16": "int16",
           "I32": "int32", "I64": "int64", "U8": "uint8", "U16": "uint16", "U32": "uint32",
           "U64": "uint64", "BOOL": "bool"}


class CheckpointError(ValueError):
    """A checkpoint file that is truncated, corrupted, foreign, or holds unsupported data."""

    def __init__(self, path, problem: str):
        super().__init__(f"cannot load checkpoint {os.fspath(path)!r}: {problem}")
        self.path, self.problem = path, problem


# ----------------------------------------------------------------------------- saving
class _Flattener:
    """Walks ``obj``; tensors go to ``self.arrays`` by name, the rest becomes a JSON tree."""

    def __init__(self):
        self.arrays: dict[str, np.ndarray] = {}

    def _name(self, path: tuple) -> str:
        base = ".".join(str(k) for k in path) or "tensor"
        name, n = base, 1
        while name in self.arrays or name == "__metadata__":
            name, n = f"{base}#{n}", n + 1
        return name

    def _array(self, array: np.ndarray, path: tuple, kind: str) -> dict:
        name = self._name(path)
        # not np.ascontiguousarray: it turns a 0-d array into shape (1,)
        self.arrays[name] = array if array.flags.c_contiguous else array.copy(order="C")
        return {"kind": kind, "key": name}

    def visit(self, obj, path: tuple = ()):
        where = ".".join(str(k) for k in path) or "<top level>"
        if isinstance(obj, Tensor):
            return self._array(backend.to_numpy(obj.array), path, "tensor")
        if isinstance(obj, np.ndarray):
            return self._array(obj, path, "ndarray")
        if isinstance(obj, np.generic):
            return self._array(np.asarray(obj), path, "npscalar")
        if obj is None or isinstance(obj, (bool, int, float, str)):
            return {"kind": "value", "value": obj}
        if isinstance(obj, (list, tuple)):
            return {"kind": type(obj).__name__,
                    "items": [self.visit(v, (*path, i)) for i, v in enumerate(obj)]}
        if isinstance(obj, dict):
            items = []
            for key, value in obj.items():
                if not (key is None or isinstance(key, (bool, int, float, str))):
                    raise TypeError(f"cannot save a dict key of type {type(key).__name__} at "
                                    f"{where}: keys must be str, int, float, bool or None")
                items.append([key, self.visit(value, (*path, key))])
        else:
            raise TypeError(f"cannot save an object of type {type(obj).__name__} at {where}: "
                            "checkpoints hold tensors, arrays, numbers, strings, None, lists, "
                            "tuples and dicts (no pickle, so no arbitrary objects)")
        return {"kind": "ordered_dict" if isinstance(obj, OrderedDict) else "dict",
                "items": items}


def _digest(blob: bytes | bytearray, start: int, end: int) -> str:
    """SHA-256 of ``blob`` with bytes ``start:end`` (the digest's own field) blanked."""
    sha = hashlib.sha256()
    sha.update(memoryview(blob)[:start])
    sha.update(_BLANK_DIGEST.encode())
    sha.update(memoryview(blob)[end:])
    return sha.hexdigest()


def _digest_span(blob, header_end: int) -> tuple[int, int] | None:
    marker = f'"{_DIGEST_KEY}":"'.encode()
    at = bytes(blob[8:header_end]).find(marker)
    if at < 0:
        return None
    start = 8 + at + len(marker)
    return start, start + 64


def to_bytes(obj) -> bytes:
    """The safetensors bytes ``save`` would write for ``obj``."""
    from safetensors.numpy import save as st_save  # noqa: PLC0415

    flat = _Flattener()
    structure = flat.visit(obj)
    metadata = {_FORMAT_KEY: FORMAT, _STRUCTURE_KEY: json.dumps(structure),
                _DIGEST_KEY: _BLANK_DIGEST}
    blob = bytearray(st_save(flat.arrays, metadata=metadata))
    (header_len,) = struct.unpack("<Q", blob[:8])
    span = _digest_span(blob, 8 + header_len)
    assert span is not None, "internal error: digest field not found in the header"
    blob[span[0]:span[1]] = _digest(blob, *span).encode()
    return bytes(blob)


def save(obj, path) -> None:
    """Write ``obj`` (a state dict, or nested dicts/lists of tensors, numbers and strings) to
    ``path`` in the safetensors format, atomically (temporary file, fsync, rename)."""
    blob = to_bytes(obj)
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp",
                               dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(blob)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    try:  # make the rename itself durable; not every platform can open a directory
        dir_fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)


# ----------------------------------------------------------------------------- loading
def _check_entry(path, name: str, entry, data_len: int) -> tuple[int, int]:
    if not isinstance(entry, dict) or set(entry) != {"dtype", "shape", "data_offsets"}:
        raise CheckpointError(path, f"header entry {name!r} is not a tensor description "
                                    "(dtype, shape, data_offsets)")
    dtype, shape, offsets = entry["dtype"], entry["shape"], entry["data_offsets"]
    if not isinstance(dtype, str) or dtype not in _DTYPES:
        raise CheckpointError(path, f"tensor {name!r} has dtype {dtype!r}, which NumPy cannot "
                                    f"hold (supported: {', '.join(_DTYPES)})")
    if not isinstance(shape, list) or not all(type(n) is int and n >= 0 for n in shape):
        raise CheckpointError(path, f"tensor {name!r} has an invalid shape {shape!r}")
    if (not isinstance(offsets, list) or len(offsets) != 2
            or not all(type(n) is int for n in offsets)
            or not 0 <= offsets[0] <= offsets[1] <= data_len):
        raise CheckpointError(path, f"tensor {name!r} has invalid data_offsets {offsets!r} "
                                    f"(the data section is {data_len} bytes)")
    expected = math.prod(shape) * np.dtype(_DTYPES[dtype]).itemsize  # Python ints: no overflow
    if offsets[1] - offsets[0] != expected:
        raise CheckpointError(path, f"tensor {name!r}: shape {shape} of {dtype} needs "
                                    f"{expected} bytes, its offsets span "
                                    f"{offsets[1] - offsets[0]}")
    return offsets[0], offsets[1]


def _parse_header(path, blob: bytes) -> tuple[dict, dict, int]:
    size = len(blob)
    if size < 8:
        raise CheckpointError(path, f"the file is {size} bytes, too short for a safetensors "
                                    "header (truncated?)")
    if blob[:2] == b"PK" or blob[:1] == b"\x80":
        raise CheckpointError(path, "this looks like a pickle/zip checkpoint (torch.save); "
                                    "minitorch_cv reads only safetensors files. In PyTorch, "
                                    "convert it with safetensors.torch.save_file(state_dict)")
    (header_len,) = struct.unpack("<Q", blob[:8])
    if header_len > _MAX_HEADER or header_len > size - 8:
        raise CheckpointError(path, f"the header claims {header_len} bytes but the file has "
                                    f"{size - 8} after the length field (truncated, or not a "
                                    "safetensors file)")
    try:
        header = json.loads(blob[8:8 + header_len].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise CheckpointError(path, f"the header is not valid JSON ({exc}); the file is "
                                    "corrupted or not a safetensors file") from None
    if not isinstance(header, dict):
        raise CheckpointError(path, "the header is not a JSON object")
    metadata = header.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
        raise CheckpointError(path, "__metadata__ must map strings to strings")
    data_len = size - 8 - header_len
    spans = sorted((_check_entry(path, name, entry, data_len), name)
                   for name, entry in header.items())
    position = 0
    for (begin, end), name in spans:
        if begin == end:
            continue  # empty tensors take no bytes
        if begin != position:
            raise CheckpointError(path, f"tensor {name!r} starts at byte {begin}, expected "
                                        f"{position}: the data section has gaps or overlaps")
        position = end
    if position != data_len:
        raise CheckpointError(path, f"the tensors cover {position} bytes but the data section "
                                    f"has {data_len} (truncated or padded file)")
    return header, metadata, 8 + header_len


def _rebuild(path, node, arrays: dict, used: set):
    if not isinstance(node, dict) or "kind" not in node:
        raise CheckpointError(path, "malformed structure metadata")
    kind = node["kind"]
    if kind in ("tensor", "ndarray", "npscalar"):
        key = node.get("key")
        if key not in arrays:
            raise CheckpointError(path, f"structure refers to a missing tensor {key!r}")
        used.add(key)
        array = arrays[key]
        if kind == "tensor":
            return Tensor._wrap(array, "cpu")
        return array if kind == "ndarray" else array[()]
    if kind == "value":
        return node.get("value")
    if kind in ("list", "tuple"):
        items = [_rebuild(path, v, arrays, used) for v in node.get("items", [])]
        return items if kind == "list" else tuple(items)
    if kind in ("dict", "ordered_dict"):
        out = OrderedDict() if kind == "ordered_dict" else {}
        for pair in node.get("items", []):
            if not isinstance(pair, list) or len(pair) != 2:
                raise CheckpointError(path, "malformed dict in structure metadata")
            out[pair[0]] = _rebuild(path, pair[1], arrays, used)
        return out
    raise CheckpointError(path, f"unknown node kind {kind!r} in structure metadata")


def from_bytes(blob: bytes, path="<bytes>"):
    """Validate and decode checkpoint bytes (see ``load``)."""
    from safetensors.numpy import load as st_load  # noqa: PLC0415

    header, metadata, header_end = _parse_header(path, blob)
    ours = [k for k in _OUR_KEYS if k in metadata]
    if ours:
        if len(ours) != len(_OUR_KEYS):
            missing = sorted(set(_OUR_KEYS) - set(ours))
            raise CheckpointError(path, f"minitorch_cv metadata is incomplete (missing "
                                        f"{missing}): the header was modified")
        if metadata[_FORMAT_KEY] != FORMAT:
            raise CheckpointError(path, f"unknown format {metadata[_FORMAT_KEY]!r}, this "
                                        f"version reads {FORMAT!r}")
        span = _digest_span(blob, header_end)
        if span is None or bytes(blob[span[0]:span[1]]).decode("ascii", "replace") != \
                metadata[_DIGEST_KEY]:
            raise CheckpointError(path, "the checksum field is damaged")
        if _digest(blob, *span) != metadata[_DIGEST_KEY]:
            raise CheckpointError(path, "checksum mismatch: the file was modified or corrupted "
                                        "after it was written")
    try:
        arrays = st_load(bytes(blob))
    except Exception as exc:  # the parser's own complaint, after ours found nothing
        raise CheckpointError(path, f"safetensors could not parse it: {exc}") from None
    if set(arrays) != set(header):
        raise CheckpointError(path, "the parser returned other tensors than the header lists")
    if not ours:
        # a plain safetensors file (e.g. safetensors.torch.save_file): a flat state dict
        return OrderedDict((name, Tensor._wrap(arrays[name], "cpu")) for name in header)
    used: set = set()
    try:
        obj = _rebuild(path, json.loads(metadata[_STRUCTURE_KEY]), arrays, used)
    except (json.JSONDecodeError, RecursionError, TypeError) as exc:
        raise CheckpointError(path, f"structure metadata is malformed ({exc})") from None
    if used != set(arrays):
        extra = sorted(set(arrays) - used)[:5]
        raise CheckpointError(path, f"tensors {extra} are not referenced by the structure")
    return obj


def load(path, device: str = "cpu", map_location: str | None = None):
    """Read a checkpoint written by ``save`` (or any plain safetensors file, returned as an
    ordered dict of Tensors). Tensors are placed on ``device`` (``map_location``, torch's
    name, is accepted as a device name too).

    Raises:
        CheckpointError: the file is truncated, corrupted, not safetensors, or modified.
        FileNotFoundError: there is no such file.
    """
    with open(path, "rb") as handle:
        blob = handle.read()
    obj = from_bytes(blob, path)
    if map_location is not None:
        device = str(map_location)
    if device != "cpu":
        obj = _to_device(obj, backend.check_device(device))
    return obj


def _to_device(obj, device: str):
    if isinstance(obj, Tensor):
        return Tensor._wrap(backend.move_array(obj.array, device), device)
    if isinstance(obj, (list, tuple)):
        return type(obj)(_to_device(v, device) for v in obj)
    if isinstance(obj, dict):
        return type(obj)((k, _to_device(v, device)) for k, v in obj.items())
    return obj
