"""Checkpoint files on disk: permissions as open() gives them, stale temporary files of killed
saves removed, file objects, torch.load's arguments."""

from __future__ import annotations

import io
import os
import signal
import stat
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import minitorch_cv as mt
from minitorch_cv import serialization


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.mark.parametrize("umask", [0o022, 0o002, 0o077])
def test_new_files_follow_the_umask_as_open_does(tmp_path, umask):
    old = os.umask(umask)
    try:
        mt.save({"w": mt.ones(2)}, tmp_path / "ck.safetensors")
        with open(tmp_path / "plain.bin", "wb"):
            pass
    finally:
        os.umask(old)
    assert _mode(tmp_path / "ck.safetensors") == _mode(tmp_path / "plain.bin") == 0o666 & ~umask


def test_replacing_a_file_keeps_its_permissions_as_open_does(tmp_path):
    path = tmp_path / "ck.safetensors"
    mt.save({"w": mt.ones(2)}, path)
    os.chmod(path, 0o640)
    mt.save({"w": mt.zeros(2)}, path)
    assert _mode(path) == 0o640
    assert mt.load(path)["w"].tolist() == [0.0, 0.0]


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_stale_temporary_files_of_the_same_target_are_removed(tmp_path):
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        dead = tmp_path / f".ck.safetensors.{_dead_pid()}.0123abcd.tmp"
        alive = tmp_path / f".ck.safetensors.{live.pid}.89abcdef.tmp"
        old_style = tmp_path / ".ck.safetensors.k2j_x9a1.tmp"  # mkstemp's, from before
        other = tmp_path / f".other.safetensors.{_dead_pid()}.0123abcd.tmp"
        for path in (dead, alive, old_style, other):
            path.write_bytes(b"partial")
        day_ago = time.time() - serialization.STALE_AFTER_SECONDS - 60
        os.utime(old_style, (day_ago, day_ago))
        mt.save({"w": mt.ones(2)}, tmp_path / "ck.safetensors")
        assert not dead.exists() and not old_style.exists()
        assert alive.exists(), "a save in progress in a living process must be left alone"
        assert other.exists(), "only temporary files of the same target are touched"
    finally:
        live.kill()
        live.wait()


def test_a_killed_save_leaves_a_temp_file_that_the_next_save_removes(tmp_path):
    path = tmp_path / "ck.safetensors"
    script = textwrap.dedent(f"""
        import numpy as np, minitorch_cv as mt
        big = mt.from_numpy(np.random.default_rng(0).standard_normal(3_000_000))
        print("ready", flush=True)
        while True:
            mt.save({{"w": big}}, {str(path)!r})
    """)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    for _ in range(20):  # until a kill lands mid-write (most do)
        child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,
                                 env=env)
        assert child.stdout.readline().strip() == b"ready"
        time.sleep(0.4)
        child.send_signal(signal.SIGKILL)
        child.wait()
        if any(name.endswith(".tmp") for name in os.listdir(tmp_path)):
            break
    assert any(name.endswith(".tmp") for name in os.listdir(tmp_path))
    mt.save({"w": mt.ones(1)}, path)
    assert os.listdir(tmp_path) == ["ck.safetensors"]


def test_file_objects_and_torch_load_arguments(tmp_path):
    buffer = io.BytesIO()
    mt.save({"w": mt.arange(3)}, buffer)
    buffer.seek(0)
    assert mt.load(buffer, weights_only=True)["w"].tolist() == [0, 1, 2]
    path = tmp_path / "ck.safetensors"
    mt.save({"w": mt.arange(3.0)}, path)
    for kwargs, expected in [
            ({"map_location": "cpu"}, "cpu"), ({"map_location": "cuda-sim"}, "cuda-sim"),
            ({"map_location": {"cpu": "cuda-sim"}}, "cuda-sim"), ({"mmap": True}, "cpu"),
            ({"map_location": lambda tensor, location: tensor.to("cuda-sim")}, "cuda-sim"),
            ({"map_location": lambda storage, location: storage}, "cpu"),  # torch's idiom
            ({"map_location": lambda storage, location: None}, "cpu")]:
        back = mt.load(path, **kwargs)["w"]
        assert back.device == expected, kwargs
        np.testing.assert_array_equal(back.numpy(), [0.0, 1.0, 2.0])
    # a tensor comes back where it was saved from, as in torch, unless mapped
    mt.save({"w": mt.ones(2, device="cuda-sim")}, path)
    assert mt.load(path)["w"].device == "cuda-sim"
    assert mt.load(path, map_location="cpu")["w"].device == "cpu"
    assert mt.load(path, map_location={"cuda-sim": "cpu"})["w"].device == "cpu"
    with pytest.raises(ValueError, match="unknown device"):
        mt.load(path, map_location="tpu")
    with pytest.raises(TypeError, match="pickle"):
        mt.load(path, encoding="latin1")
    with pytest.raises(TypeError, match="pickle_module"):
        mt.save({"w": mt.ones(1)}, path, pickle_module=object())
