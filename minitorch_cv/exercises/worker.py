"""The checker's child process: ``python -m minitorch_cv.exercises.worker NAME FILE``.

Loads the student's file (a .py module, or a .cu kernel source), runs the stages, prints each
stage's name as it starts and the report as one JSON line at the end (``isolate.MARK``).
``--in-process`` is for a debugger: the same run, printed as text.
"""

from __future__ import annotations

import argparse
import json
import runpy
import sys
import traceback
from pathlib import Path

from .checker import Report, StageResult, run_checks
from .core import STAGES, get


def load_student(path) -> dict:
    """The namespace of the student's file (raises with the reason when it cannot load)."""
    path = Path(path)
    if path.suffix == ".cu":
        return {"SOURCE": path.read_text(), "__file__": str(path.resolve())}
    return runpy.run_path(str(path), run_name="student_solution")


def load_failure(name: str, error: str) -> Report:
    exercise = get(name)
    results = [StageResult("signature", "failed", error)]
    results += [StageResult(s, "n/a" if not exercise.applies(s) else "not run")
                for s in STAGES[1:]]
    return Report(exercise.name, results)


def check_path(name: str, path, **options) -> Report:
    try:
        student = load_student(path)
    except Exception:  # noqa: BLE001 (a syntax or import error in the student's file)
        lines = traceback.format_exc().strip().splitlines()
        return load_failure(name, "your file could not be loaded:\n" + "\n".join(lines[-6:]))
    return run_checks(get(name), student, **options)


def main(argv=None) -> int:
    from .isolate import MARK, STAGE_MARK  # noqa: PLC0415

    parser = argparse.ArgumentParser(prog="minitorch_cv.exercises.worker")
    parser.add_argument("name")
    parser.add_argument("path")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--stages", default=None)
    parser.add_argument("--max-examples", type=int, default=None)
    parser.add_argument("--in-process", action="store_true")
    args = parser.parse_args(argv)
    stages = args.stages.split(",") if args.stages else None

    def progress(stage):
        if not args.in_process:
            print(f"{STAGE_MARK}{stage}", flush=True)

    report: Report = check_path(args.name, args.path, seed=args.seed, stages=stages,
                                max_examples=args.max_examples, progress=progress)
    if args.in_process:
        print(report.text())
    else:
        print(MARK + json.dumps(report.to_dict()), flush=True)
    return 0 if report.passed else 1


if __name__ == "__main__":
    sys.exit(main())
