"""Checkpoints, tried with thousands of random state dicts and hostile headers.

- every random object (names with dots, unicode, lone surrogates and reserved words; 0-d and
  zero-size tensors of every dtype; nesting; metadata) survives save/load exactly, and gives
  the same bytes when saved again;
- the regression test for the bug this found: a header length whose first byte is 0x80 (1 in
  32 files: safetensors pads headers to multiples of 8) was taken for a pickle;
- crafted headers raise only ``CheckpointError`` (catchable as torch's error classes), in work
  linear in the header's size.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import pickle
import subprocess
import sys
from collections import OrderedDict

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minitorch_cv as mt
from minitorch_cv import serialization
from minitorch_cv.serialization import CheckpointError

DTYPES = ["float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8",
          "uint16", "uint32", "uint64", "bool"]
NAMES = st.text(max_size=8) | st.sampled_from(
    ["", ".", "..", "a.b", "__metadata__", "tensor", "tensor#1", "\ud800", "é.ü", "\x00",
     " ", '"', "\\", "minitorch_cv.sha256", "0", "1.5"])
SHAPES = st.lists(st.integers(0, 3), max_size=4).map(tuple)


@st.composite
def arrays(draw):
    dtype = np.dtype(draw(st.sampled_from(DTYPES)))
    shape = draw(SHAPES)
    rng = np.random.default_rng(draw(st.integers(0, 2**32)))
    raw = rng.integers(0, 256, size=int(np.prod(shape)) * dtype.itemsize, dtype=np.uint8)
    if dtype == np.bool_:
        raw &= 1
    array = raw.view(dtype).reshape(shape)  # every bit pattern: nan, inf, -0.0, subnormals
    if draw(st.booleans()) and array.ndim >= 2:
        array = array.T  # not C-contiguous
    return array


LEAVES = (arrays().map(mt.from_numpy) | arrays()
          | arrays().filter(lambda a: a.ndim == 0).map(lambda a: a[()])
          | st.none() | st.booleans() | st.integers(-2**80, 2**80) | st.floats() | NAMES)
KEYS = NAMES | st.integers(-5, 5) | st.none() | st.floats(allow_nan=False)
OBJECTS = st.recursive(
    LEAVES,
    lambda children: (st.lists(children, max_size=3)
                      | st.lists(children, max_size=3).map(tuple)
                      | st.dictionaries(KEYS, children, max_size=3)
                      | st.dictionaries(KEYS, children, max_size=3).map(OrderedDict)),
    max_leaves=8)
STATE_DICTS = st.dictionaries(NAMES, arrays().map(mt.from_numpy), max_size=6).map(OrderedDict)


def assert_same(a, b, where="obj"):
    if isinstance(a, mt.Tensor):
        assert isinstance(b, mt.Tensor) and b.device == a.device, where
        a, b = a.array, b.array
    if isinstance(a, (np.ndarray, np.generic)):
        assert type(b) is type(a) and a.dtype == b.dtype and a.shape == b.shape, where
        assert np.asarray(a).tobytes() == np.asarray(b).tobytes(), where  # bit for bit
    elif isinstance(a, dict):
        assert type(b) is type(a) and list(a) == list(b), where
        for key in a:
            assert_same(a[key], b[key], f"{where}[{key!r}]")
    elif isinstance(a, (list, tuple)):
        assert type(b) is type(a) and len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{where}[{i}]")
    elif isinstance(a, float):
        assert type(b) is float, where
        assert (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a)
                                                     == math.copysign(1, b)), where
    else:
        assert type(b) is type(a) and a == b, where


TRICKY = ["", ".", "..", "a.b", "__metadata__", "tensor", "tensor#1", "\ud800", "é.ü", "\x00",
          " ", '"', "\\", "minitorch_cv.sha256", "0", "1.5", "features.0.weight", "😀"]


def _random_name(rng) -> str:
    if rng.random() < 0.4:
        return TRICKY[rng.integers(len(TRICKY))]
    return "".join(chr(c) for c in rng.integers(32, 0x2FF, size=rng.integers(0, 6)))


def _random_array(rng) -> np.ndarray:
    dtype = np.dtype(DTYPES[rng.integers(len(DTYPES))])
    shape = tuple(rng.integers(0, 4, size=rng.integers(0, 4)))
    raw = rng.integers(0, 256, size=int(np.prod(shape)) * dtype.itemsize, dtype=np.uint8)
    return (raw & 1 if dtype == np.bool_ else raw).view(dtype).reshape(shape)


def _random_value(rng, depth: int = 0):
    kind = rng.integers(9 if depth < 3 else 5)
    if kind == 0:
        return mt.from_numpy(_random_array(rng))
    if kind == 1:
        return _random_array(rng)
    if kind == 2:
        return [None, True, int(rng.integers(-2**62, 2**62)) * 2**20, -0.0, float("inf"),
                float(rng.standard_normal())][rng.integers(6)]
    if kind == 3:
        return _random_name(rng)
    if kind == 4:
        return _random_array(rng)[()] if rng.random() < 0.5 else np.float32(rng.random())
    items = [_random_value(rng, depth + 1) for _ in range(rng.integers(0, 4))]
    if kind == 5:
        return items
    if kind == 6:
        return tuple(items)
    keys = [_random_name(rng) if rng.random() < 0.7 else int(rng.integers(-3, 3))
            for _ in items]
    return (dict if kind == 7 else OrderedDict)(zip(keys, items))


def random_checkpoint(seed: int) -> dict:
    """A random state dict (names with dots, unicode, reserved words; 0-d and zero-size
    tensors of every dtype, every bit pattern) plus random nested metadata."""
    rng = np.random.default_rng(seed)
    state = OrderedDict((_random_name(rng), mt.from_numpy(_random_array(rng)))
                        for _ in range(rng.integers(0, 8)))
    return {"model": state, "extra": _random_value(rng), "epoch": int(seed)}


@settings(max_examples=2000, deadline=None)
@given(seed=st.integers(0, 2**63))
def test_thousands_of_random_state_dicts_round_trip_exactly_and_reproducibly(seed):
    """2,000 random state dicts with metadata (built from a drawn seed: fast): exact round
    trip, and what was loaded saves to the same bytes."""
    checkpoint = random_checkpoint(seed)
    blob = serialization.to_bytes(checkpoint)
    back = serialization.from_bytes(blob, "random.safetensors")
    assert_same(checkpoint, back)
    assert serialization.to_bytes(back) == blob


@settings(max_examples=150, deadline=None)
@given(state=STATE_DICTS, extra=OBJECTS)
def test_random_checkpoints_round_trip_exactly_and_reproducibly(state, extra):
    """The same property with hypothesis's own strategies (fewer: slower to draw, but a
    failure shrinks to a minimal example)."""
    checkpoint = {"model": state, "extra": extra, "epoch": 3}
    blob = serialization.to_bytes(checkpoint)
    assert serialization.to_bytes(checkpoint) == blob
    back = serialization.from_bytes(blob, "random.safetensors")
    assert_same(checkpoint, back)
    assert serialization.to_bytes(back) == blob  # what loads, saves to the same bytes


@settings(max_examples=150, deadline=None)
@given(state=STATE_DICTS)
def test_plain_state_dicts_are_readable_by_the_safetensors_library(state):
    from safetensors.numpy import load

    renamed = {"", "__metadata__"}  # a tensor needs a name; the metadata key is reserved
    state = OrderedDict((name, tensor) for name, tensor in state.items() if name not in renamed
                        and name.encode("utf-8", "ignore").decode() == name)
    theirs = load(serialization.to_bytes(state))
    assert set(theirs) == set(state)
    for name, tensor in state.items():
        assert theirs[name].tobytes() == tensor.array.tobytes()


def _with_first_byte(first: int, start: int = 0) -> tuple[dict, bytes]:
    for n in range(start, start + 70_000):
        obj = {"w": mt.ones(2), "note": "x" * n}
        blob = serialization.to_bytes(obj)
        if blob[0] == first:
            return obj, blob
    raise AssertionError("no header length found")


def test_regression_header_length_starting_with_0x80_or_PK_is_not_taken_for_a_pickle():
    """The cause of 'a few percent of checkpoints refused as something else': the loader took
    a first byte 0x80 (pickle's PROTO opcode) or the bytes b"PK" (zip) for torch.save files.
    Those bytes are the header length, a multiple of 8, so 1 in 32 files started with 0x80."""
    obj, blob = _with_first_byte(0x80)
    assert_same(obj, serialization.from_bytes(blob))
    # header length 0x...4B50: the file starts with b"PK"
    for n in range(18_000, 19_300):
        obj = {"w": mt.ones(2), "note": "x" * n}
        blob = serialization.to_bytes(obj)
        if blob[:2] == b"PK":
            break
    assert blob[:2] == b"PK"
    assert_same(obj, serialization.from_bytes(blob))


def test_real_torch_files_still_get_the_pickle_message(tmp_path):
    import torch

    zipped, raw = tmp_path / "zip.pt", tmp_path / "raw.pt"
    torch.save({"w": torch.ones(2)}, zipped)
    raw.write_bytes(pickle.dumps({"w": [1.0, 2.0]}, protocol=2))
    for path in (zipped, raw):
        with pytest.raises(CheckpointError, match="pickle/zip"):
            mt.load(path)


def test_the_same_object_gives_the_same_bytes_in_another_process():
    script = ("import hashlib, minitorch_cv as mt\n"
              "from minitorch_cv import serialization as s\n"
              "mt.manual_seed(3)\n"
              "obj = {'b': mt.randn(3, 2), 'a': [1, 'x', None], 'c': {'d': mt.zeros(0)}}\n"
              "print(hashlib.sha256(s.to_bytes(obj)).hexdigest())\n")
    mt.manual_seed(3)
    obj = {"b": mt.randn(3, 2), "a": [1, "x", None], "c": {"d": mt.zeros(0)}}
    ours = hashlib.sha256(serialization.to_bytes(obj)).hexdigest()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    for _ in range(2):  # the safetensors library's metadata map has a random order per map
        out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                             env=env, check=True)
        assert out.stdout.strip() == ours


def _blob(header: dict | bytes, data: bytes = b"") -> bytes:
    raw = header if isinstance(header, bytes) else json.dumps(header).encode()
    return len(raw).to_bytes(8, "little") + raw + data


@pytest.mark.parametrize("raw, message", [
    (b'{"a": {"dtype": "F32", "shape": [' + b"9" * 5000 + b'], "data_offsets": [0, 4]}}',
     "not valid JSON"),  # Python refuses ints of more than 4300 digits with a ValueError
    (b"[" * 100_000 + b"]" * 100_000, "not valid JSON"),  # RecursionError
    (b'{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}} \xff', "not valid JSON"),
    (b'{"a": {"dtype": "F32", "shape": ' + json.dumps([1] * 65).encode()
     + b', "data_offsets": [0, 4]}}', "65 dimensions"),
    (b'{"a": {"dtype": "BOOL", "shape": [1], "data_offsets": [0, 1]}}', "other than 0 and 1"),
    (b'{"a": {"dtype": "F32", "shape": [0, ' + str(2**62).encode() + b'],'
     b' "data_offsets": [0, 0]}}', "more than any array can hold"),
])
def test_crafted_headers_raise_checkpoint_error_catchable_as_torchs(raw, message):
    data = b"\x07" if b"BOOL" in raw else b"\x00" * 4 if b"[0, 4]" in raw else b""
    with pytest.raises(CheckpointError, match=message) as caught:
        serialization.from_bytes(_blob(raw, data), "crafted")
    assert isinstance(caught.value, RuntimeError)  # torch.load: corrupt zip
    assert isinstance(caught.value, pickle.UnpicklingError)  # torch.load: refused pickle


def test_shape_checks_stop_early_instead_of_multiplying_every_dimension():
    """Loading work is linear in the header: the product of a shape is abandoned as soon as it
    exceeds the data section (a full product of 64 dimensions of 2**64 has 4096 bits, and of
    a million would cost time quadratic in the list's length)."""
    header = {"a": {"dtype": "F32", "shape": [2**64] * 64, "data_offsets": [0, 4]}}
    with pytest.raises(CheckpointError, match=f"needs at least {2**64 * 4} bytes"):
        serialization.from_bytes(_blob(header, b"\x00" * 4), "wide")
    header["a"]["shape"] = [2**62] * 1_000_000
    with pytest.raises(CheckpointError, match="1000000 dimensions"):
        serialization.from_bytes(_blob(header, b"\x00" * 4), "long")
    # zero-size tensors with other large dimensions are fine, as NumPy allows them
    header = {"a": {"dtype": "F32", "shape": [0, 2**40], "data_offsets": [0, 0]}}
    assert serialization.from_bytes(_blob(header), "empty")["a"].shape == (0, 2**40)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats() | st.text(max_size=6),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6),
                                                                      children, max_size=4),
    max_leaves=10)
ENTRIES = st.fixed_dictionaries({
    "dtype": st.sampled_from(["F32", "F16", "I64", "U8", "BOOL", "BF16", "x"]) | JSON_VALUES,
    "shape": st.lists(st.integers(-1, 4) | st.integers(2**62, 2**66), max_size=3) | JSON_VALUES,
    "data_offsets": st.lists(st.integers(-1, 40), min_size=2, max_size=2) | JSON_VALUES})
COUNTS = {"loaded": 0, "refused": 0}


@settings(max_examples=400, deadline=None)
@given(header=st.dictionaries(NAMES, ENTRIES | JSON_VALUES, max_size=3),
       metadata=st.none() | JSON_VALUES | st.dictionaries(
           st.sampled_from(["minitorch_cv.format", "minitorch_cv.structure",
                            "minitorch_cv.sha256", "other"]), st.text(max_size=8)),
       data=st.binary(max_size=40), noise=st.binary(max_size=3), cut=st.integers(0, 3))
def test_fuzz_loader_raises_only_checkpoint_error(header, metadata, data, noise, cut):
    """Bounded fuzz of the loader: random headers and data, raw bytes appended to the JSON
    and cut files never raise anything but CheckpointError."""
    if metadata is not None:
        header = {**header, "__metadata__": metadata}
    raw = json.dumps(header).encode() + noise
    blob = _blob(raw, data)
    blob = blob[:len(blob) - cut]
    try:
        serialization.from_bytes(blob, "fuzz")
        COUNTS["loaded"] += 1
    except CheckpointError:
        COUNTS["refused"] += 1
