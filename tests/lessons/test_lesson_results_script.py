"""scripts/lesson_results.py records each run with commit, machine, load, wall time and seeds,
and renders RESULTS.md from the records."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def load_script():
    spec = importlib.util.spec_from_file_location("lesson_results",
                                                  REPO / "scripts" / "lesson_results.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_smoke_run_is_recorded_and_rendered(tmp_path):
    script = load_script()
    out = tmp_path / "docs" / "RESULTS.md"
    code = script.main(["--smoke", "--lessons", "22", "--work", str(tmp_path / "work"),
                        "--out", str(out)])
    assert code == 0
    record = json.loads((tmp_path / "work" / "22_ensembles_and_swa.json").read_text())
    assert record["commit"] and record["machine"] and record["wall_seconds"] > 0
    assert record["seeds"] == [0, 1, 2, 100, 101, 102, 200, 201, 202]  # 3 ensembles of 3
    assert len(record["load_before"]) == 3
    assert any(line.startswith("->") for line in record["results"])  # the verdicts
    text = out.read_text()
    assert "smoke: not a result" in text and record["commit"] in text
    assert "(results/22_ensembles_and_swa/swa_smoke.png)" in text
    assert (out.parent / "results" / "22_ensembles_and_swa" / "swa_smoke.png").is_file()
    # regenerating from the records alone gives the same page
    again = tmp_path / "again" / "RESULTS.md"
    again.parent.mkdir()
    script.main(["--from-logs", str(tmp_path / "work"), "--out", str(again)])
    assert again.read_text() == text


def test_smoke_runs_never_overwrite_the_real_results(capsys):
    script = load_script()
    try:
        script.main(["--smoke", "--lessons", "00"])
    except SystemExit as stop:
        assert stop.code == 2
    else:
        raise AssertionError("--smoke without --out must be refused")
