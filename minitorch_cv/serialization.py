"""Checkpoints: ``save(obj, f)`` / ``load(f)`` in the safetensors format, never pickle.

Why not pickle (what ``torch.save`` uses): unpickling a file can run any code its author
chose, so opening a downloaded checkpoint would be running a program. A safetensors file is an
8-byte little-endian header length, a JSON header (dtype, shape and byte range of each tensor,
plus ``__metadata__``: a map of strings to strings) and the raw tensor bytes
(``safetensors_format.py`` writes and reads it). Reading it can only produce arrays and strings.

Layout of our files:

- Every tensor (and NumPy array) anywhere in ``obj`` becomes one safetensors entry named by
  its path of keys: a model state dict keeps its names (``features.0.weight``), so a PyTorch
  user reads our weights with ``safetensors.torch.load_file``; a nested checkpoint gives
  ``model.features.0.weight``, ``optimizer.state.0.exp_avg``...
- Everything else (epoch, python numbers, strings, lists, dict keys that are ints, the nesting
  itself, whole models as their constructor calls: see ``model_record.py``) goes into
  ``__metadata__["minitorch_cv.structure"]``: a JSON tree whose leaves are plain values or
  references to tensor entries. JSON is data: loading cannot run code.
- ``__metadata__["minitorch_cv.sha256"]`` is the SHA-256 of the whole file with that one field
  blanked, so a flipped byte anywhere (header or data) is detected instead of loaded.

The same object gives the same bytes every time. Writes are atomic: the bytes go to a
temporary file in the same directory (``.NAME.PID.RANDOM.tmp``, created with the mode
``open()`` would give: ``0o666`` minus the umask, or the mode of the file it replaces), which
is fsynced and then renamed over the target; a crash or ``kill -9`` mid-save leaves the old
file intact, and the next save to the same target removes temporary files whose process is
gone. Every problem found on loading is a ``CheckpointError`` that names the file.
"""

from __future__ import annotations

import hashlib
import json
import mmap as _mmap
import os
import re
import secrets
import struct
import time
from collections import OrderedDict

import numpy as np

from . import backend, model_record
from .autograd.tensor import Tensor
from .model_record import add_safe_globals, clear_safe_globals, get_safe_globals, safe_globals
from .safetensors_format import CheckpointError, decode, encode, parse

__all__ = ["CheckpointError", "add_safe_globals", "clear_safe_globals", "get_safe_globals",
           "load", "safe_globals", "save"]

FORMAT = "minitorch_cv/1"
_STRUCTURE_KEY = "minitorch_cv.structure"
_DIGEST_KEY = "minitorch_cv.sha256"
_FORMAT_KEY = "minitorch_cv.format"
_OUR_KEYS = (_FORMAT_KEY, _STRUCTURE_KEY, _DIGEST_KEY)
_BLANK_DIGEST = "0" * 64
STALE_AFTER_SECONDS = 24 * 3600  # a temporary file this old is stale even if its pid lives


# ----------------------------------------------------------------------------- saving
class _Flattener:
    """Walks ``obj``; tensors go to ``self.arrays`` by name, the rest becomes a JSON tree."""

    def __init__(self):
        self.arrays: dict[str, np.ndarray] = {}
        self.inside_module = False  # the state of a module is saved once, at its top

    def _name(self, path: tuple) -> str:
        base = ".".join(str(k) for k in path) or "tensor"
        # a name must be valid UTF-8 (a lone surrogate is not); the structure keeps the key
        base = base.encode("utf-8", "backslashreplace").decode("utf-8")
        name, n = base, 1
        while name in self.arrays or name == "__metadata__":
            name, n = f"{base}#{n}", n + 1
        return name

    def _array(self, array: np.ndarray, path: tuple, kind: str, device: str = "cpu") -> dict:
        name = self._name(path)
        # not np.ascontiguousarray: it turns a 0-d array into shape (1,)
        self.arrays[name] = array if array.flags.c_contiguous else array.copy(order="C")
        node = {"kind": kind, "key": name}
        if device != "cpu":
            node["device"] = device
        return node

    def visit(self, obj, path: tuple = ()):
        where = ".".join(str(k) for k in path) or "<top level>"
        if isinstance(obj, Tensor):
            return self._array(backend.to_numpy(obj.array), path, "tensor", obj.device)
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
            return {"kind": "ordered_dict" if isinstance(obj, OrderedDict) else "dict",
                    "items": items}
        node = model_record.describe(obj, self, path, where)
        if node is None:
            raise TypeError(f"cannot save an object of type {type(obj).__name__} at {where}: "
                            "checkpoints hold tensors, arrays, numbers, strings, None, lists, "
                            "tuples, dicts and nn.Modules built by their constructors (no "
                            "pickle, so no arbitrary objects)")
        return node


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
    """The safetensors bytes ``save`` would write for ``obj`` (the same bytes every time)."""
    flat = _Flattener()
    structure = flat.visit(obj)
    metadata = {_DIGEST_KEY: _BLANK_DIGEST, _FORMAT_KEY: FORMAT,
                _STRUCTURE_KEY: json.dumps(structure, separators=(",", ":"))}
    blob = encode(flat.arrays, metadata)
    (header_len,) = struct.unpack("<Q", blob[:8])
    span = _digest_span(blob, 8 + header_len)
    assert span is not None, "internal error: digest field not found in the header"
    blob[span[0]:span[1]] = _digest(blob, *span).encode()
    return bytes(blob)


def _temp_pattern(base: str) -> re.Pattern:
    return re.compile(rf"\.{re.escape(base)}\.(?:(\d+)\.[0-9a-f]{{8}}|[a-z0-9_]{{8}})\.tmp")


def _remove_stale_temps(directory: str, base: str) -> None:
    """Remove temporary files of earlier saves to the same target that were killed: their
    process no longer exists (or they are older than ``STALE_AFTER_SECONDS``)."""
    pattern = _temp_pattern(base)
    try:
        names = os.listdir(directory)
    except OSError:
        return
    for name in names:
        match = pattern.fullmatch(name)
        if match is None:
            continue
        full = os.path.join(directory, name)
        pid = int(match.group(1)) if match.group(1) else None
        try:
            if pid == os.getpid():
                continue  # another thread of this process may be writing it
            stale = time.time() - os.stat(full).st_mtime > STALE_AFTER_SECONDS
            if pid is not None and not stale:
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    stale = True
                except PermissionError:  # alive, another user's
                    pass
            if stale:
                os.unlink(full)
        except OSError:
            continue


def _create_temp(directory: str, base: str, target: str) -> tuple[int, str]:
    try:  # replacing a file keeps its permissions, as open(target, "wb") would
        mode, keep = os.stat(target).st_mode & 0o7777, True
    except OSError:
        mode, keep = 0o666, False  # the kernel takes the umask off, as for open()
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    while True:
        tmp = os.path.join(directory, f".{base}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
        try:
            fd = os.open(tmp, flags, mode)
        except FileExistsError:
            continue
        if keep:
            try:
                os.chmod(tmp, mode)
            except OSError:
                pass
        return fd, tmp


def write_atomic(path, blob: bytes) -> None:
    """Write ``blob`` to ``path`` atomically (temporary file, fsync, rename), with the
    permissions ``open()`` would give. Used for checkpoints and exports."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    base = os.path.basename(path)
    _remove_stale_temps(directory, base)
    fd, tmp = _create_temp(directory, base, path)
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


def save(obj, f, pickle_module=None, pickle_protocol=None) -> None:
    """Write ``obj`` to ``f`` (a path, or a binary file object such as ``io.BytesIO``).

    ``obj`` may be a state dict, nested dicts/lists/tuples of tensors, arrays, numbers and
    strings, or a whole ``nn.Module`` (saved as its recorded constructor call plus its state
    dict: see ``model_record``). A path is written atomically. ``pickle_module`` and
    ``pickle_protocol`` are torch's arguments; there is no pickle here, so only their defaults
    (``None``) are accepted.
    """
    if pickle_module is not None or pickle_protocol is not None:
        raise TypeError("minitorch_cv.save writes safetensors, not pickles: pickle_module and "
                        "pickle_protocol cannot be used; drop them")
    blob = to_bytes(obj)
    if hasattr(f, "write"):
        f.write(blob)
        return
    write_atomic(f, blob)


# ----------------------------------------------------------------------------- loading
class _Loader:
    """Rebuilds the structure tree: tensors placed by ``map_location``, modules allowed by
    ``model_record``'s rules."""

    def __init__(self, path, arrays: dict, map_location, weights_only: bool):
        self.path, self.arrays, self.used = path, arrays, set()
        self.map_location, self.weights_only = map_location, weights_only

    def device_for(self, location: str) -> str:
        target = self.map_location
        if isinstance(target, dict):
            target = target.get(location, location)
        elif target is None or callable(target):
            target = location
        return backend.check_device(str(target))

    def tensor(self, array, location: str):
        if callable(self.map_location) and not isinstance(self.map_location, dict):
            moved = self.map_location(Tensor._wrap(array, "cpu"), location)
            if moved is not None:
                if not isinstance(moved, Tensor):
                    raise TypeError(f"map_location returned {type(moved).__name__}; it must "
                                    "return a Tensor or None")
                return moved
        device = self.device_for(location)
        if device == "cpu":
            return Tensor._wrap(array, "cpu")
        return Tensor._wrap(backend.move_array(array, device), device)

    def rebuild(self, node):
        path = self.path
        if not isinstance(node, dict) or "kind" not in node:
            raise CheckpointError(path, "malformed structure metadata")
        kind = node["kind"]
        if kind in ("tensor", "ndarray", "npscalar"):
            key = node.get("key")
            if key not in self.arrays:
                raise CheckpointError(path, f"structure refers to a missing tensor {key!r}")
            self.used.add(key)
            array = self.arrays[key]
            if kind == "tensor":
                location = node.get("device", "cpu")
                if not isinstance(location, str):
                    raise CheckpointError(path, f"tensor {key!r} has a malformed device")
                return self.tensor(array, location)
            return array if kind == "ndarray" else array[()]
        if kind == "value":
            return node.get("value")
        if kind in ("list", "tuple"):
            items = [self.rebuild(v) for v in node.get("items", [])]
            return items if kind == "list" else tuple(items)
        if kind in ("dict", "ordered_dict"):
            out = OrderedDict() if kind == "ordered_dict" else {}
            for pair in node.get("items", []):
                if not isinstance(pair, list) or len(pair) != 2:
                    raise CheckpointError(path, "malformed dict in structure metadata")
                out[pair[0]] = self.rebuild(pair[1])
            return out
        if kind in model_record.KINDS:
            return model_record.rebuild(node, self)
        raise CheckpointError(path, f"unknown node kind {kind!r} in structure metadata")


def from_bytes(blob, path="<bytes>", map_location=None, weights_only: bool = True):
    """Validate and decode checkpoint bytes (see ``load``)."""
    entries, metadata, data_start = parse(path, blob)
    ours = [k for k in _OUR_KEYS if k in metadata]
    if ours:
        if len(ours) != len(_OUR_KEYS):
            missing = sorted(set(_OUR_KEYS) - set(ours))
            raise CheckpointError(path, f"minitorch_cv metadata is incomplete (missing "
                                        f"{missing}): the header was modified")
        if metadata[_FORMAT_KEY] != FORMAT:
            raise CheckpointError(path, f"unknown format {metadata[_FORMAT_KEY]!r:.80}, this "
                                        f"version reads {FORMAT!r}")
        span = _digest_span(blob, data_start)
        if span is None or bytes(blob[span[0]:span[1]]).decode("ascii", "replace") != \
                metadata[_DIGEST_KEY]:
            raise CheckpointError(path, "the checksum field is damaged")
        if _digest(blob, *span) != metadata[_DIGEST_KEY]:
            raise CheckpointError(path, "checksum mismatch: the file was modified or corrupted "
                                        "after it was written")
    arrays = decode(path, blob, entries, data_start)
    loader = _Loader(path, arrays, map_location, weights_only)
    if not ours:
        # a plain safetensors file (e.g. safetensors.torch.save_file): a flat state dict
        return OrderedDict((name, loader.tensor(arrays[name], "cpu")) for name in entries)
    try:
        obj = loader.rebuild(json.loads(metadata[_STRUCTURE_KEY]))
    except (ValueError, RecursionError, TypeError, AttributeError) as exc:
        if isinstance(exc, CheckpointError):
            raise
        raise CheckpointError(path, f"structure metadata is malformed ({exc!s:.200})") from None
    if loader.used != set(arrays):
        extra = sorted(set(arrays) - loader.used)[:5]
        raise CheckpointError(path, f"tensors {extra} are not referenced by the structure")
    return obj


def load(f, map_location=None, pickle_module=None, *, weights_only: bool | None = None,
         mmap: bool | None = None, device: str | None = None, **pickle_load_args):
    """Read a checkpoint written by ``save`` (or any plain safetensors file, returned as an
    ordered dict of Tensors), with ``torch.load``'s arguments.

    Args:
        f: a path, or a binary file object.
        map_location: where tensors go, as in torch: a device name (``"cpu"``, ``"cuda"``,
            ``"cuda:0"``, ``"cuda-sim"``) or device object; a dict from saved location to
            new location (``{"cuda": "cpu"}``); or a callable ``fn(tensor, location)`` called
            with each tensor on the CPU and the device it was saved from, returning a Tensor
            or ``None`` (keep the default). Default: the device each tensor was saved from.
        pickle_module: torch's argument; nothing is unpickled here, so it is not used.
        weights_only: torch's default ``True`` rebuilds only minitorch_cv's own model classes
            and those allowed with ``add_safe_globals`` / ``safe_globals`` (or passed as
            ``safe_globals=[...]``); ``False`` also rebuilds ``nn.Module`` subclasses whose
            module is already imported (the course's ``torch.load(path, weights_only=False)``
            for a model class defined in the script). Never imports other modules.
        mmap: read the file through a memory map instead of one ``read()``.
        device: minitorch_cv's older name for a device ``map_location``.
        safe_globals: (keyword) classes allowed for this call only.

    Raises:
        CheckpointError: the file is truncated, corrupted, not safetensors, modified, or holds
            a model class that is not allowed (catchable as RuntimeError and
            pickle.UnpicklingError, as torch.load's errors).
        FileNotFoundError: there is no such file.
    """
    allowed = pickle_load_args.pop("safe_globals", None)
    if pickle_load_args:
        raise TypeError(f"load() got unexpected arguments {sorted(pickle_load_args)}: they "
                        "configure pickle, which minitorch_cv does not use")
    del pickle_module  # accepted for torch's signature: there is no unpickling to configure
    if device is not None:
        if map_location is not None:
            raise TypeError("pass map_location or device, not both")
        map_location = device
    if map_location is not None and not (isinstance(map_location, dict)
                                         or callable(map_location)):
        map_location = backend.check_device(str(map_location))
    path = getattr(f, "name", "<file object>") if hasattr(f, "read") else f
    with model_record.safe_globals(allowed or []):
        if hasattr(f, "read"):
            return from_bytes(f.read(), path, map_location, weights_only is not False)
        with open(f, "rb") as handle:
            if mmap and os.fstat(handle.fileno()).st_size:
                with _mmap.mmap(handle.fileno(), 0, access=_mmap.ACCESS_READ) as mapped:
                    return from_bytes(mapped, path, map_location, weights_only is not False)
            return from_bytes(handle.read(), path, map_location, weights_only is not False)
