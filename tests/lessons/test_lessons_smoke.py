"""Every lesson runs in --smoke mode: exit code 0 under -W error, and its figures are written."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from minitorch_cv.lessons_runner import (
    lesson_path,
    lesson_title,
    lessons_dir,
    list_lessons,
    resolve_lesson,
    run_lesson,
)

LESSONS = list_lessons()
REPO = Path(__file__).resolve().parents[2]


def test_lessons_found_in_order():
    assert lessons_dir() == REPO / "lessons"
    assert LESSONS == sorted(LESSONS) and LESSONS[0] == "00_autograd"
    assert resolve_lesson("0") == "00_autograd" and resolve_lesson("autograd") == "00_autograd"
    with pytest.raises(KeyError):
        resolve_lesson("no_such_lesson")


def test_run_lesson_runs_the_script_and_returns_its_exit_code(tmp_path):
    assert lesson_title("00_autograd").startswith("Autograd")
    assert run_lesson("0", ["--smoke", "--out", str(tmp_path / "a")], timeout=120) == 0
    assert (tmp_path / "a" / "graph_a_plus_a_smoke.png").is_file()
    assert run_lesson("0", ["--no-such-option"], timeout=120) == 2  # argparse's usage error


@pytest.mark.parametrize("name", LESSONS)
def test_lesson_smoke(name, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "MINITORCH_CV_DATA"}
    env["MPLBACKEND"] = "Agg"
    out = tmp_path / name
    completed = subprocess.run(
        [sys.executable, "-W", "error", str(lesson_path(name)), "--smoke", "--out", str(out)],
        capture_output=True, text=True, timeout=240, env=env, cwd=tmp_path,
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    assert "Warning" not in completed.stderr, completed.stderr
    announced = re.findall(r"^  (\S+\.png)$", completed.stdout, re.M)
    assert announced, "the lesson should name the figures it saved"
    assert "SMOKE RUN" in completed.stdout  # smoke output is marked as such
    for figure in announced:
        path = Path(figure)
        assert path.stem.endswith("_smoke"), figure
        assert path.parent == out
        assert path.is_file() and path.stat().st_size > 1000, figure
    assert f"saved in {out}" in completed.stdout


def test_every_lesson_has_a_companion_page():
    missing = [n for n in LESSONS if not (REPO / "docs" / "lessons" / f"{n}.md").is_file()]
    assert not missing, f"docs/lessons/ pages missing for {missing}"


def test_lessons_load_minitorch_cv_before_numpy():
    # minitorch_cv/_early.py's thread settings only work if NumPy starts OpenBLAS after them:
    # every lesson imports _common (which imports minitorch_cv first) before NumPy, and then
    # no setting is late
    for name in LESSONS:
        text = lesson_path(name).read_text()
        common, numpy = text.find("from _common import"), text.find("import numpy")
        assert common >= 0 and (numpy < 0 or common < numpy), name
    env = {k: v for k, v in os.environ.items()
           if k not in ("OMP_WAIT_POLICY", "OPENBLAS_THREAD_TIMEOUT")}
    done = subprocess.run(
        [sys.executable, "-c", "import _common, numpy; from minitorch_cv import _early; "
         "assert _early.late_settings() == [], _early.late_settings()"],
        cwd=REPO / "lessons", env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
