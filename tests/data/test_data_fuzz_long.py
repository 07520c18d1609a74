"""The long coverage-guided fuzz of the IDX and CIFAR-10 readers (`python3 -m pytest -m fuzz`).

Runs ``scripts/fuzz_loaders.py`` (atheris) in one process for ``MINITORCH_CV_FUZZ_SECONDS``
(default 300) seconds and fails on any crash, timeout or out-of-memory input it finds; the
input is kept in the test's temporary folder and named in the failure.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.fuzz
SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "fuzz_loaders.py"


def test_coverage_guided_fuzz_of_the_loaders(tmp_path):
    pytest.importorskip("atheris", reason='pip install -e ".[fuzz]" -c constraints.txt')
    seconds = int(os.environ.get("MINITORCH_CV_FUZZ_SECONDS", "300"))
    env = {**os.environ, "PYTHONPATH": str(SCRIPT.parents[1])}
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--seconds", str(seconds), "--artifacts", str(tmp_path)],
        capture_output=True, text=True, timeout=seconds + 300, env=env,
    )
    found = sorted(p.name for p in tmp_path.iterdir() if p.name.split("-")[0] in
                   ("crash", "timeout", "oom", "leak"))
    log = result.stdout + result.stderr
    executions = re.search(r"stat::number_of_executed_units: (\d+)", log)
    print(f"fuzz: {executions.group(1) if executions else '?'} executions in {seconds} s, "
          f"{len(found)} crashing inputs {found}")
    assert result.returncode == 0 and not found, f"inputs in {tmp_path}: {found}\n{log[-6000:]}"
    assert executions and int(executions.group(1)) > 0
