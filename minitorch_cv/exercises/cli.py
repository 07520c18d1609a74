"""``minitorch-cv exercise list|start|check|hint|grade``: the argument parsing of the workbench."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_exercise_parser(sub) -> None:
    parser = sub.add_parser("exercise", help="the student workbench: start, check, hint, grade")
    commands = parser.add_subparsers(dest="exercise_command", required=True)
    commands.add_parser("list", help="the exercises, in lecture order")
    start = commands.add_parser("start", help="write an exercise's template (never overwrites)")
    start.add_argument("name")
    start.add_argument("--dir", default=".", help="the student's folder (default: here)")
    check = commands.add_parser("check", help="run the checker's stages on your file")
    check.add_argument("name")
    check.add_argument("file", nargs="?", help="default: NAME.py (or NAME.cu) here")
    check.add_argument("--seed", type=int, default=0, help="hypothesis seed")
    check.add_argument("--timeout", type=float, default=120.0, help="seconds (subprocess)")
    check.add_argument("--max-examples", type=int, default=None)
    check.add_argument("--stages", default=None, help="comma-separated subset of the stages")
    check.add_argument("--in-process", action="store_true",
                       help="no subprocess: for a debugger (breakpoints in your code stop)")
    hint = commands.add_parser("hint", help="the next hint of the ladder")
    hint.add_argument("name")
    hint.add_argument("--dir", default=".", help="the student's folder (hint state lives here)")
    grade = commands.add_parser("grade", help="check every student folder in DIR (teachers)")
    grade.add_argument("dir")
    grade.add_argument("--seed", type=int, default=1, help="differs from the students' 0")
    grade.add_argument("--timeout", type=float, default=120.0, help="seconds per submission")
    grade.add_argument("--max-examples", type=int, default=None)
    grade.add_argument("--out", default=None, help="where grades.md/.csv/.json go (default DIR)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from . import core, templates  # noqa: PLC0415

    command = args.exercise_command
    try:
        exercise = core.get(args.name) if hasattr(args, "name") else None
    except KeyError as error:
        print(f"minitorch-cv exercise: {error.args[0]}")
        return 2
    if command == "list":
        for e in core.catalogue():
            print(f"{e.order:2d} {e.name:20s} {e.lecture:28s} {e.title}")
        return 0
    if command == "start":
        path, written = templates.start(exercise, args.dir)
        print(f"wrote {path}: fill in the body, then `minitorch-cv exercise check "
              f"{exercise.name} {path}`" if written else
              f"{path} exists: not overwritten (delete it yourself to start again)")
        return 0 if written else 1
    if command == "hint":
        number, text = templates.next_hint(exercise, args.dir)
        print(f"hint {number} of {len(exercise.hints)} for {exercise.name}:\n  {text}")
        if number == len(exercise.hints):
            print("(that is the last hint)")
        return 0
    if command == "check":
        path = Path(args.file or f"{exercise.name}{exercise.file_suffix}")
        if not path.exists():
            print(f"no file {path}: write it with `minitorch-cv exercise start {exercise.name}`")
            return 2
        stages = args.stages.split(",") if args.stages else None
        if args.in_process:
            from .worker import check_path  # noqa: PLC0415

            report = check_path(exercise.name, path, seed=args.seed, stages=stages,
                                max_examples=args.max_examples)
        else:
            from .isolate import check_file  # noqa: PLC0415

            report = check_file(exercise.name, path, seed=args.seed, timeout=args.timeout,
                                stages=stages, max_examples=args.max_examples, echo=True)
        print(report.text())
        return 0 if report.passed else 1
    if command == "grade":
        from .grade import grade  # noqa: PLC0415

        grade(args.dir, seed=args.seed, timeout=args.timeout, out=args.out,
              max_examples=args.max_examples)
        print(f"wrote {Path(args.out or args.dir) / 'grades.md'} (and .csv, .json)")
        return 0
    return 2
