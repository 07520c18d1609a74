"""A restricted unpickler for data files that hold only lists, dicts, strings, numbers and arrays.

Pickle is a small stack machine, and ``pickle.load`` runs whatever callables a file names. Two
gates stand before anything is built:

1. ``scan``: every opcode is read with ``pickletools.genops`` (which parses and never executes).
   Opcodes that create objects of arbitrary classes or reach outside the file (``INST``,
   ``OBJ``, ``NEWOBJ``, persistent ids, the extension registry, out-of-band buffers) are
   refused, and memo indices must stay below the number of opcodes: a ten-byte file that asks
   for memo slot 2**31 would otherwise make the unpickler allocate gigabytes.
2. ``RestrictedUnpickler.find_class`` hands out stand-ins, never NumPy itself: ``_reconstruct``,
   ``_frombuffer``, ``ndarray``, ``dtype`` and ``scalar`` (how NumPy pickles arrays) and
   ``_codecs.encode`` (how Python 3 writes bytes in protocols 0-2). An array is only made, with
   ``np.frombuffer``, after its shape, dtype and byte count agree; everything else the file names
   (``os.system``, ``builtins.eval``, ...) is refused.

The result holds only ``dict``, ``list``, ``tuple``, ``set``, ``bytes``, ``bytearray``, ``str``,
``int``, ``float``, ``bool``, ``None`` and ``numpy.ndarray``; the caller checks its structure.
A file with self-references or shared parts loads in time linear in its size, because nothing
here walks the result.
"""

from __future__ import annotations

import io
import math
import pickle
import pickletools
import warnings

import numpy as np

# Opcodes that build objects of classes named in the file, or that read outside the file
REFUSED_OPCODES = {"INST", "OBJ", "NEWOBJ", "NEWOBJ_EX", "PERSID", "BINPERSID", "EXT1", "EXT2",
                   "EXT4", "NEXT_BUFFER", "READONLY_BUFFER"}
_MEMO_OPCODES = {"PUT", "BINPUT", "LONG_BINPUT", "GET", "BINGET", "LONG_BINGET"}
# dtypes an array in a data file may have (NumPy pickles them as `dtype("u1", False, True)`)
ARRAY_DTYPES = {"u1", "i1", "u2", "i2", "u4", "i4", "u8", "i8", "f4", "f8", "b1"}
MAX_ARRAY_DIMS = 8


class UnsafePickleError(pickle.UnpicklingError):
    """The file holds something a data file never holds (the message says what)."""


def scan(raw: bytes) -> None:
    """Check every opcode of ``raw`` before anything is unpickled (see the module docstring)."""
    count = 0
    try:
        for opcode, arg, position in pickletools.genops(raw):
            count += 1
            if opcode.name in REFUSED_OPCODES:
                raise UnsafePickleError(f"opcode {opcode.name} at byte {position} is not allowed")
            if opcode.name in _MEMO_OPCODES and not 0 <= arg < count:
                raise UnsafePickleError(f"memo index {arg} at byte {position} is out of range")
    except UnsafePickleError:
        raise
    except Exception as exc:  # genops raises ValueError, but also struct and decoding errors
        raise UnsafePickleError(f"not a valid pickle stream: {exc}") from exc


def _text(value):
    """Python 2's ``str`` arrives as bytes (``encoding="bytes"``): names and codes are ASCII."""
    return value.decode("latin1") if type(value) is bytes else value


class _Dtype:
    """Stand-in for ``numpy.dtype(name, align, copy)``; ``__setstate__`` gives its byte order."""

    __slots__ = ("name", "order")

    def __init__(self, name, align=False, copy=True):
        name = _text(name)
        if not isinstance(name, str) or name not in ARRAY_DTYPES:
            raise UnsafePickleError(f"array dtype {name!r} is not one of {sorted(ARRAY_DTYPES)}")
        self.name, self.order = name, "|"

    def __setstate__(self, state):
        order = _text(state[1]) if isinstance(state, tuple) and len(state) >= 2 else None
        if order not in ("<", ">", "|", "="):
            raise UnsafePickleError(f"dtype state {state!r:.80} is not a plain number type")
        self.order = order

    def numpy(self) -> np.dtype:
        dtype = np.dtype(self.name)
        return dtype.newbyteorder(self.order) if self.order in "<>" else dtype


def _refuse_state(self, state=None):
    # BUILD on a global would otherwise set attributes on it (and so change later loads)
    raise UnsafePickleError("only arrays and dtypes take a state (BUILD)")


class _StandIn:
    """A callable stand-in for a global; it has no ``__dict__`` and refuses any state."""

    __slots__ = ("function",)
    __setstate__ = _refuse_state

    def __init__(self, function):
        self.function = function

    def __call__(self, *args):
        return self.function(*args)


class _NdarrayClass:
    """Stand-in for the ``numpy.ndarray`` class, only accepted as ``_reconstruct``'s argument."""

    __slots__ = ()
    __setstate__ = _refuse_state


class _Array:
    """Stand-in for an array under construction: real once ``__setstate__`` checked its bytes."""

    __slots__ = ("array",)

    def __init__(self):
        self.array = None

    def __setstate__(self, state):
        # NumPy writes (version, shape, dtype, is_fortran, data); old files omit the version
        if isinstance(state, tuple) and len(state) == 5:
            state = state[1:]
        if not isinstance(state, tuple) or len(state) != 4:
            raise UnsafePickleError("array state is not (shape, dtype, is_fortran, data)")
        shape, dtype, is_fortran, data = state
        self.array = _make_array(data, dtype, shape, "F" if is_fortran else "C")


def _make_array(data, dtype, shape, order) -> np.ndarray:
    if not isinstance(dtype, _Dtype):
        raise UnsafePickleError(f"array dtype {type(dtype).__name__} is not a NumPy dtype")
    if (not isinstance(shape, tuple) or len(shape) > MAX_ARRAY_DIMS
            or not all(type(n) is int and n >= 0 for n in shape)):
        raise UnsafePickleError(f"array shape {shape!r:.80} is not a tuple of sizes")
    if not isinstance(data, bytes | bytearray):
        raise UnsafePickleError(f"array data is {type(data).__name__}, not bytes")
    dtype = dtype.numpy()
    if math.prod(shape) * dtype.itemsize != len(data):
        raise UnsafePickleError(f"array of shape {shape} {dtype} needs "
                                f"{math.prod(shape) * dtype.itemsize} bytes, the file has "
                                f"{len(data)}")
    return np.frombuffer(bytes(data), dtype=dtype).reshape(shape, order=order).copy(order="C")


def _reconstruct(cls, shape, typecode):
    if cls is not _NdarrayClass:  # the class itself, as NumPy writes it
        raise UnsafePickleError("_reconstruct may only make a numpy.ndarray")
    return _Array()


def _frombuffer(data, dtype, shape, order):
    array, order = _Array(), _text(order)
    if order not in ("C", "F"):
        raise UnsafePickleError(f"array order {order!r:.20} is not 'C' or 'F'")
    array.array = _make_array(data, dtype, shape, order)
    return array


def _scalar(dtype, data):
    return _make_array(data, dtype, (), "C").item()


def _encode(text, encoding="utf-8"):
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise UnsafePickleError("_codecs.encode may only turn a str into latin-1 bytes")
    return text.encode("latin1")


_STAND_INS = {
    ("numpy._core.multiarray", "_reconstruct"): _StandIn(_reconstruct),
    ("numpy._core.multiarray", "scalar"): _StandIn(_scalar),
    ("numpy._core.numeric", "_frombuffer"): _StandIn(_frombuffer),
    ("numpy", "ndarray"): _NdarrayClass,
    ("numpy", "dtype"): _StandIn(_Dtype),
    ("_codecs", "encode"): _StandIn(_encode),
}


class RestrictedUnpickler(pickle.Unpickler):
    """An Unpickler whose only globals are the stand-ins above."""

    def find_class(self, module: str, name: str):
        # files written by NumPy 1.x (and Python 2's cPickle) name numpy.core, NumPy 2 numpy._core
        if module.startswith("numpy.core"):
            module = "numpy._core" + module[len("numpy.core"):]
        if (module, name) not in _STAND_INS:
            raise UnsafePickleError(
                f"refusing to load {module}.{name}: a data file only holds NumPy arrays, "
                "lists, numbers and strings"
            )
        return _STAND_INS[(module, name)]


def _real(value):
    """Top-level stand-ins become arrays (nested ones are left: the caller refuses them)."""
    if isinstance(value, _Array):
        if value.array is None:
            raise UnsafePickleError("an array was never given its data")
        return value.array
    return value


def loads(raw: bytes):
    """Unpickle ``raw`` through both gates; a dict's top-level values that are arrays are real.

    Raises:
        UnsafePickleError: for any problem (the original exception is chained).
    """
    # protocol 0 strings with bad escapes warn (DeprecationWarning) in both readers: the bytes
    # are checked here, the warning would only repeat it to whoever loads the dataset
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        scan(raw)
        try:
            result = RestrictedUnpickler(io.BytesIO(raw), encoding="bytes").load()
        except UnsafePickleError:
            raise
        except Exception as exc:  # truncated or inconsistent streams raise a dozen types
            raise UnsafePickleError(f"{type(exc).__name__}: {exc}") from exc
    if isinstance(result, dict):
        return {key: _real(value) for key, value in result.items()}
    return _real(result)
