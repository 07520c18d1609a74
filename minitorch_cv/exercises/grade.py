"""For teachers: check every student folder, each submission in its own subprocess.

``grade(folder)`` looks for ``<exercise>.py`` (or ``.cu``) in every sub-folder of ``folder``
(one per student) and writes ``grades.md``, ``grades.csv`` and ``grades.json``: per student
and exercise, the stages passed out of those that apply, and the stage that failed. Give a
``seed`` other than the students' default (0) so the property tests draw other examples.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from .core import catalogue
from .isolate import DEFAULT_TIMEOUT, check_file


def _cell(report) -> str:
    text = f"{report.stages_passed}/{report.stages_applicable}"
    return text if report.passed else f"{text} ({report.failed_stage or 'not run'})"


def grade(folder, *, seed: int = 1, timeout: float = DEFAULT_TIMEOUT, out=None,
          max_examples: int | None = None, progress=print) -> dict:
    """Grade every student folder; returns {student: {exercise: report dict}}."""
    folder = Path(folder)
    out = Path(out) if out else folder
    exercises = catalogue()
    results: dict = {}
    for student in sorted(p for p in folder.iterdir() if p.is_dir() and
                          not p.name.startswith(".")):
        results[student.name] = {}
        for exercise in exercises:
            path = student / f"{exercise.name}{exercise.file_suffix}"
            if not path.exists():
                continue
            report = check_file(exercise.name, path, seed=seed, timeout=timeout,
                                max_examples=max_examples)
            results[student.name][exercise.name] = report
            if progress:
                progress(f"{student.name:20s} {exercise.name:22s} {_cell(report)}")
    used = [e.name for e in exercises if any(e.name in r for r in results.values())]
    header = ["student", *used]
    rows = [[name, *(_cell(r[e]) if e in r else "-" for e in used)]
            for name, r in results.items()]
    out.mkdir(parents=True, exist_ok=True)
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    note = (f"\nStages passed of those that apply, and the stage that failed (seed {seed}, "
            f"time limit {timeout:g} s per submission).\n")
    (out / "grades.md").write_text("\n".join(lines) + "\n" + note)
    with open(out / "grades.csv", "w", newline="") as handle:
        csv.writer(handle).writerows([header, *rows])
    (out / "grades.json").write_text(json.dumps(
        {s: {e: r.to_dict() for e, r in rs.items()} for s, rs in results.items()}, indent=1))
    return results
