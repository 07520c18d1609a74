"""Run the checker on a student's file in a subprocess with a time limit.

A hang (an endless loop) or a crash (a segfault in a kernel, ``os._exit``, running out of
memory) ends in a report that says so, and never takes down the caller (a notebook, the
command line, or ``grade`` checking a whole class). The child prints the name of each stage
as it starts, so a time-out names the stage that hung.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from .checker import Report, StageResult
from .core import STAGES, get

MARK = "@@minitorch_cv-exercise-report@@"
STAGE_MARK = "@@stage@@ "
DEFAULT_TIMEOUT = 120.0


def _environment() -> dict:
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parents[2])  # the child imports this minitorch_cv
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
    return env


def _partial(name: str, started: list[str], status_message: str) -> Report:
    exercise = get(name)
    report, failed = Report(exercise.name), False
    for stage in STAGES:
        if not exercise.applies(stage):
            report.results.append(StageResult(stage, "n/a"))
        elif stage in started[:-1]:
            report.results.append(StageResult(stage, "passed", "passed before the stop"))
        elif started and stage == started[-1] and not failed:
            report.results.append(StageResult(stage, "failed", status_message))
            failed = True
        elif not started and not failed and stage == "signature":
            report.results.append(StageResult(stage, "failed", status_message))
            failed = True
        else:
            report.results.append(StageResult(stage, "not run"))
    return report


def check_file(name: str, path, *, seed: int = 0, timeout: float = DEFAULT_TIMEOUT,
               stages=None, max_examples: int | None = None, echo: bool = False) -> Report:
    """Check ``path`` (a .py or .cu file) for exercise ``name`` in a fresh Python process."""
    command = [sys.executable, "-m", "minitorch_cv.exercises.worker", name, str(path),
               "--seed", str(seed)]
    if stages:
        command += ["--stages", ",".join(stages)]
    if max_examples:
        command += ["--max-examples", str(max_examples)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env=_environment(), start_new_session=True)
    try:
        out, err = process.communicate(timeout=timeout)
        timed_out = False
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)  # the child and anything it started
        out, err = process.communicate()
        timed_out = True
    started = [line[len(STAGE_MARK):].strip() for line in out.splitlines()
               if line.startswith(STAGE_MARK)]
    if echo:
        for line in out.splitlines():
            if not line.startswith((MARK, STAGE_MARK)):
                print(line)
    for line in out.splitlines():
        if line.startswith(MARK):
            return Report.from_dict(json.loads(line[len(MARK):]))
    where = f"stage '{started[-1]}'" if started else "loading your file"
    if timed_out:
        message = (f"stopped after {timeout:g} s in {where}: your code did not finish (an "
                   "endless loop, or far too slow: a loop over every pixel inside a loop over "
                   "every pixel?)")
    else:
        code = process.returncode
        reason = (f"killed by signal {-code} ({signal.Signals(-code).name})" if code < 0
                  else f"exit status {code}")
        tail = "\n".join(err.strip().splitlines()[-8:])
        message = f"your code crashed the checker's process in {where} ({reason})"
        message += f":\n{tail}" if tail else ""
    return _partial(name, started, message)


def check_source(name: str, source: str, suffix: str = ".py", **options) -> Report:
    """Write ``source`` to a temporary file and check it (``exercises.check`` in a notebook)."""
    with tempfile.TemporaryDirectory(prefix="minitorch_cv_exercise_") as folder:
        path = Path(folder) / f"{get(name).name}{suffix}"
        path.write_text(source)
        return check_file(name, path, **options)
