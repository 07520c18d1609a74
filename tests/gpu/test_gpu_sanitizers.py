"""Sanitizer runs of the GPU kernels on the CPU (slow; excluded by default: ``pytest -m
sanitizer``). Each case starts Python with the sanitizer runtime preloaded
(``minitorch_cv.emulator.sanitizers``) and runs ``sanitizer_workload.py``.

- The project's kernels: no report from AddressSanitizer(+UBSan) or ThreadSanitizer.
- A col2im that scatters with ``+=`` (``racy_col2im.cu``): ThreadSanitizer reports the race
  that every serial thread order misses.
- An im2col whose loop bound is off by one: AddressSanitizer reports the write past ``col``,
  which a comparison of values cannot see.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from minitorch_cv.emulator import sanitizers

pytestmark = pytest.mark.sanitizer
WORKLOAD = str(Path(__file__).with_name("sanitizer_workload.py"))


def _run(kind: str, case: str):
    if sanitizers.runtime_library(kind) is None:
        pytest.skip(f"the {kind} sanitizer runtime is not installed for g++")
    result = sanitizers.run_python(kind, [WORKLOAD, case], timeout=600)
    return result, sanitizers.reports(kind, result.stdout + result.stderr)


@pytest.mark.parametrize("kind", ["address", "thread"])
def test_project_kernels_are_clean(kind):
    result, reports = _run(kind, "project")
    assert reports == [], result.stderr[-4000:]
    assert result.returncode == 0, result.stderr[-4000:]
    assert "all project kernels match the reference" in result.stdout


def test_thread_sanitizer_catches_the_racy_col2im():
    result, reports = _run("thread", "racy")
    assert any("data race" in line for line in reports), result.stderr[-4000:]
    assert "racy_col2im.cu" in result.stderr  # the report points at the offending line


def test_address_sanitizer_catches_an_off_by_one_write():
    result, reports = _run("address", "overflow")
    assert any("heap-buffer-overflow" in line for line in reports), result.stderr[-4000:]
    assert "conv.cu" in result.stderr and result.returncode != 0
    assert "overflowing im2col finished" not in result.stdout
