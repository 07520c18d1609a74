"""The emulator's build cache under concurrency: processes that build the same kernel at the same
moment must each load a library built from the whole source (issue 15: 1 in 24 did not)."""

from __future__ import annotations

import importlib
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from minitorch_cv import emulator

# the module (``emulator.build`` is its function)
build_module = importlib.import_module("minitorch_cv.emulator.build")

pytestmark = pytest.mark.skipif(emulator.compiler() is None, reason="no g++: emulator unusable")

ROOT = Path(__file__).resolve().parents[2]
# 8 MB of comment before the kernel: writing the source takes long enough that a build which
# reads it while another process rewrites it sees a cut file (an unterminated comment, no kernel)
SOURCE = "/*" + "padding " * (1 << 20) + "*/\n" + (
    'extern "C" __global__ void fill(float* out, float v) { out[threadIdx.x] = v + threadIdx.x; }\n'
)
ROUNDS = 5
CHILD = """
import os, sys, time
import numpy as np
from minitorch_cv import emulator
source, value = open(sys.argv[1]).read(), float(sys.argv[2])
print("ready", flush=True)
start = float(sys.stdin.readline())
for round in range(int(sys.argv[4])):
    os.environ["MINITORCH_CV_EMULATOR_CACHE"] = os.path.join(sys.argv[3], str(round))
    while time.time() < start + round:  # all children start each round's build together
        time.sleep(0.0005)
    out = np.zeros(4, np.float32)
    emulator.RawKernel(source, "fill")((1,), (4,), [out, np.float32(value)])
    print(out.tolist(), flush=True)
"""


def test_concurrent_builds_of_one_kernel_all_load_the_whole_library(tmp_path):
    """Four processes build the same kernel at the same moment, five times (a fresh cache each)."""
    (tmp_path / "kernel.cu").write_text(SOURCE)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    children = [
        subprocess.Popen([sys.executable, "-c", CHILD, str(tmp_path / "kernel.cu"), str(10 * i),
                          str(tmp_path / "cache"), str(ROUNDS)], env=env, stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for i in range(4)
    ]
    try:
        for child in children:  # every child has imported the package: give them one start time
            assert child.stdout.readline() == "ready\n", child.communicate()[1][-3000:]
        start = time.time() + 0.2
        for child in children:
            child.stdin.write(f"{start}\n")
            child.stdin.flush()
        for i, child in enumerate(children):
            out, err = child.communicate(timeout=600)
            assert child.returncode == 0, err[-3000:]
            assert out.split("\n")[:-1] == [str([10.0 * i + t for t in range(4)])] * ROUNDS
    finally:  # a failed assertion must not leave children running
        for child in children:
            if child.poll() is None:
                child.kill()
            child.communicate()
    for cache in (tmp_path / "cache").iterdir():
        files = sorted(p.name for p in cache.iterdir() if not p.name.endswith(".lock"))
        assert len(files) == 2 and files[0].endswith(".cpp") and files[1].endswith(".so"), files
        assert (cache / files[0]).read_text() == build_module.wrapper_text(SOURCE, ["fill"])


def test_builds_follow_the_umask_and_leave_no_temporary_files(tmp_path, monkeypatch):
    monkeypatch.setenv("MINITORCH_CV_EMULATOR_CACHE", str(tmp_path))
    old = os.umask(0o027)
    try:
        library = emulator.build('extern "C" __global__ void k(float* x) { x[0] = 2.f; }')
    finally:
        os.umask(old)
    assert stat.S_IMODE(library.stat().st_mode) == 0o750
    assert stat.S_IMODE(library.with_suffix(".cpp").stat().st_mode) == 0o640
    assert not [p for p in tmp_path.iterdir() if "partial" in p.name]
    x = np.zeros(1, np.float32)
    emulator.RawKernel('extern "C" __global__ void k(float* x) { x[0] = 2.f; }', "k")(
        (1,), (1,), [x])
    assert x[0] == 2.0
