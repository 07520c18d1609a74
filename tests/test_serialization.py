"""Checkpoints: exact round trips, PyTorch interoperability, every corruption detected
(property tests), atomic writes that survive a crash or a kill mid-save."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections import OrderedDict

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import minitorch_cv as mt
import minitorch_cv.nn as nn
import minitorch_cv.optim as optim
from minitorch_cv import serialization
from minitorch_cv.serialization import CheckpointError


def _checkpoint():
    mt.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.Flatten(), nn.Linear(4, 2))
    opt = optim.Adam(model.parameters(), lr=1e-3, amsgrad=True)
    model[3](mt.randn(5, 4)).sum().backward()
    opt.step()
    return model, opt, {
        "model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 7,
        "history": [0.5, 0.25, float("inf")], "note": "ünïcode", "flag": True, "none": None,
        "pair": (1, -2.5), "int_keys": {0: "a", 3: [1, 2]}, "array": np.arange(6).reshape(2, 3),
        "scalar": np.float32(1.5), "empty": mt.zeros(0, 3), "bool_t": mt.tensor([True, False]),
    }


def _assert_equal(a, b, where="obj"):
    assert type(a) is type(b) or (isinstance(a, mt.Tensor) and isinstance(b, mt.Tensor)), where
    if isinstance(a, mt.Tensor):
        assert a.dtype == b.dtype and a.shape == b.shape, where
        np.testing.assert_array_equal(a.array, b.array, err_msg=where)
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape, where
        np.testing.assert_array_equal(a, b, err_msg=where)
    elif isinstance(a, dict):
        assert list(a) == list(b), where
        for key in a:
            _assert_equal(a[key], b[key], f"{where}.{key}")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            _assert_equal(x, y, f"{where}[{i}]")
    else:
        assert a == b and type(a) is type(b), where


def test_round_trip_is_exact_and_model_and_optimizer_resume(tmp_path):
    model, opt, ck = _checkpoint()
    path = tmp_path / "ck.safetensors"
    mt.save(ck, path)
    back = mt.load(path)
    _assert_equal(ck, back)
    assert isinstance(back["model"], OrderedDict)
    fresh = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.Flatten(), nn.Linear(4, 2))
    fresh.load_state_dict(back["model"])
    fresh_opt = optim.Adam(fresh.parameters(), lr=1e-3, amsgrad=True)
    fresh_opt.load_state_dict(back["optimizer"])
    assert fresh_opt.state[fresh[3].weight]["step"] == 1.0


def test_pytorch_reads_our_weights_and_we_read_theirs(tmp_path):
    import torch
    from safetensors.torch import load_file, save_file

    model, _, _ = _checkpoint()
    path = tmp_path / "weights.safetensors"
    mt.save(model.state_dict(), path)
    theirs = load_file(str(path))
    assert set(theirs) == set(model.state_dict())
    reference = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4),
                                    torch.nn.Flatten(), torch.nn.Linear(4, 2))
    reference.load_state_dict(theirs)
    np.testing.assert_array_equal(reference[0].weight.detach().numpy(), model[0].weight.array)
    torch_path = tmp_path / "torch.safetensors"
    save_file(reference.state_dict(), str(torch_path))
    loaded = mt.load(torch_path)
    assert isinstance(loaded, OrderedDict) and set(loaded) == set(reference.state_dict())
    model.load_state_dict(loaded)


@pytest.fixture(scope="module")
def good_blob():
    _, _, ck = _checkpoint()
    return serialization.to_bytes(ck)


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_truncated_file_always_raises_checkpoint_error(good_blob, data):
    cut = data.draw(st.integers(0, len(good_blob) - 1))
    with pytest.raises(CheckpointError, match="cannot load checkpoint"):
        serialization.from_bytes(good_blob[:cut], "cut.safetensors")


@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_mangled_header_or_data_always_raises_checkpoint_error(good_blob, data):
    header_end = 8 + int.from_bytes(good_blob[:8], "little")
    region = data.draw(st.sampled_from(["length", "header", "data"]))
    low, high = {"length": (0, 8), "header": (8, header_end),
                 "data": (header_end, len(good_blob))}[region]
    position = data.draw(st.integers(low, high - 1))
    width = data.draw(st.integers(1, min(8, high - position)))
    replacement = data.draw(st.binary(min_size=width, max_size=width))
    mangled = good_blob[:position] + replacement + good_blob[position + width:]
    if mangled == good_blob:
        return
    with pytest.raises(CheckpointError, match="cannot load checkpoint"):
        serialization.from_bytes(mangled, "mangled.safetensors")


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=False)
    | st.text(max_size=6),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6),
                                                                      children, max_size=4),
    max_leaves=12)
_ENTRY = st.fixed_dictionaries({
    "dtype": st.sampled_from(["F32", "I64", "U8", "BF16", "x"]) | _JSON,
    "shape": st.lists(st.integers(-1, 2**66), max_size=3) | _JSON,
    "data_offsets": st.lists(st.integers(-1, 2**66), min_size=2, max_size=2) | _JSON})


@settings(max_examples=150, deadline=None)
@given(header=st.dictionaries(st.text(max_size=5), _ENTRY | _JSON, max_size=3),
       metadata=st.none() | _JSON | st.dictionaries(
           st.sampled_from(["minitorch_cv.format", "minitorch_cv.structure",
                            "minitorch_cv.sha256", "other"]), st.text(max_size=8)),
       data=st.binary(max_size=24))
def test_arbitrary_headers_raise_checkpoint_error_or_load(header, metadata, data):
    """A hostile or random header never crashes the loader with another exception."""
    import json

    if metadata is not None:
        header = {**header, "__metadata__": metadata}
    raw = json.dumps(header).encode()
    blob = len(raw).to_bytes(8, "little") + raw + data
    try:
        serialization.from_bytes(blob, "fuzz.safetensors")
    except CheckpointError:
        pass


@settings(max_examples=100, deadline=None)
@given(structure=_JSON)
def test_hostile_structure_with_a_valid_checksum_raises_checkpoint_error(structure):
    """Even a file whose checksum is right (crafted, not damaged) cannot crash the loader."""
    import json

    from safetensors.numpy import save as st_save

    metadata = {"minitorch_cv.format": serialization.FORMAT,
                "minitorch_cv.structure": json.dumps(structure),
                "minitorch_cv.sha256": "0" * 64}
    blob = bytearray(st_save({"a": np.zeros(2, np.float32)}, metadata=metadata))
    span = serialization._digest_span(blob, 8 + int.from_bytes(blob[:8], "little"))
    blob[span[0]:span[1]] = serialization._digest(blob, *span).encode()
    try:  # a random tree is almost never a valid structure; if it is, loading must work
        serialization.from_bytes(bytes(blob), "crafted.safetensors")
    except CheckpointError:
        pass


def test_foreign_files_and_specific_messages(tmp_path):
    pickle_like = tmp_path / "model.pt"
    pickle_like.write_bytes(b"PK\x03\x04" + b"\x00" * 40)
    with pytest.raises(CheckpointError, match="pickle/zip"):
        mt.load(pickle_like)
    text = tmp_path / "notes.txt"
    text.write_bytes(b"hello world, this is not a checkpoint")
    with pytest.raises(CheckpointError, match="header claims"):
        mt.load(text)
    with pytest.raises(CheckpointError, match="too short"):
        serialization.from_bytes(b"abc", "x")
    header = b'{"a":{"dtype":"BF16","shape":[1],"data_offsets":[0,2]}}'
    blob = len(header).to_bytes(8, "little") + header + b"\x00\x00"
    with pytest.raises(CheckpointError, match="BF16"):
        serialization.from_bytes(blob, "x")
    header = b'{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}'
    blob = len(header).to_bytes(8, "little") + header + b"\x00" * 4
    with pytest.raises(CheckpointError, match="needs at least 8 bytes"):
        serialization.from_bytes(blob, "x")
    with pytest.raises(FileNotFoundError):
        mt.load(tmp_path / "missing.safetensors")


def test_unsupported_objects_are_refused_with_the_path():
    with pytest.raises(TypeError, match="at optimizer.extra"):
        serialization.to_bytes({"optimizer": {"extra": object()}})
    with pytest.raises(TypeError, match="dict key of type tuple"):
        serialization.to_bytes({(1, 2): 3})


def test_failed_write_leaves_previous_checkpoint_and_no_temp_file(tmp_path, monkeypatch):
    path = tmp_path / "ck.safetensors"
    mt.save({"epoch": 1, "w": mt.ones(3)}, path)

    def broken_fsync(fd):
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(serialization.os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="disk full"):
        mt.save({"epoch": 2, "w": mt.zeros(3)}, path)
    monkeypatch.undo()
    assert mt.load(path)["epoch"] == 1
    assert os.listdir(tmp_path) == ["ck.safetensors"]


def test_kill_during_save_leaves_previous_checkpoint_loadable(tmp_path):
    path = tmp_path / "ck.safetensors"
    mt.save({"epoch": 0, "w": mt.zeros(4)}, path)
    # a child that saves large checkpoints in a loop; SIGKILL lands in the middle of one
    script = textwrap.dedent(f"""
        import numpy as np, minitorch_cv as mt, sys
        big = mt.from_numpy(np.random.default_rng(0).standard_normal(4_000_000))
        print("ready", flush=True)
        epoch = 1
        while True:
            mt.save({{"epoch": epoch, "w": big}}, {str(path)!r})
            epoch += 1
    """)
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE)
    try:
        assert child.stdout.readline().strip() == b"ready"
        time.sleep(1.0)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    loaded = mt.load(path)  # must not raise: either the old file or a complete new one
    assert isinstance(loaded["epoch"], int)
    assert loaded["w"].shape in ((4,), (4_000_000,))


def test_load_to_device_and_parameters_become_tensors(tmp_path):
    path = tmp_path / "p.safetensors"
    p = nn.Parameter(mt.randn(2, 2))
    mt.save({"p": p}, path)
    back = mt.load(path, device="cuda-sim")
    assert back["p"].device == "cuda-sim" and not back["p"].requires_grad
    assert mt.load(path, map_location="cuda-sim")["p"].device == "cuda-sim"
    np.testing.assert_array_equal(back["p"].array, p.array)


def test_training_resume_from_checkpoint_is_bit_identical(tmp_path):
    """model + optimizer + scheduler state through a file: the resumed run equals the
    uninterrupted one exactly."""
    from minitorch_cv.optim import lr_scheduler

    rng = np.random.default_rng(0)
    data = [(rng.standard_normal((8, 4)).astype(np.float32), rng.integers(0, 3, 8))
            for _ in range(10)]

    def setup():
        mt.manual_seed(1)
        model = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3))
        opt = optim.AdamW(model.parameters(), lr=0.01)
        sched = lr_scheduler.OneCycleLR(opt, max_lr=0.05, total_steps=10)
        return model, opt, sched

    def train(model, opt, sched, batches):
        for x, y in batches:
            opt.zero_grad()
            loss = nn.CrossEntropyLoss()(model(mt.tensor(x)), mt.tensor(y))
            loss.backward()
            opt.step()
            sched.step()

    model, opt, sched = setup()
    train(model, opt, sched, data)
    expected = {k: v.numpy().copy() for k, v in model.state_dict().items()}

    model, opt, sched = setup()
    train(model, opt, sched, data[:4])
    path = tmp_path / "resume.safetensors"
    mt.save({"model": model.state_dict(), "optimizer": opt.state_dict(),
             "scheduler": sched.state_dict(), "epoch": 4}, path)
    model, opt, sched = setup()
    ck = mt.load(path)
    model.load_state_dict(ck["model"])
    opt.load_state_dict(ck["optimizer"])
    sched.load_state_dict(ck["scheduler"])
    train(model, opt, sched, data[ck["epoch"]:])
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), expected[key], err_msg=key)
