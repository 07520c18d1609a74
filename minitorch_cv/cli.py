"""The command line: ``minitorch-cv COMMAND`` (also ``python -m minitorch_cv COMMAND``).

Commands:
    train MODEL        train a model (defaults: LeNet-5 on the embedded Fashion-MNIST subset)
    summary MODEL      per-layer table: shapes, formulas, parameters, mult-adds, memory
    compare-models A B two architectures side by side (depth, parameters, new building blocks)
    parity MODEL       the same model and batch on every device (cpu, cuda-sim, cuda)
    lessons            list the lesson scripts
    lesson NAME        run one lesson (extra arguments go to the lesson, e.g. --smoke)
    doctor             what is installed and usable (numba, cupy, NVRTC, GPU, BLAS), and why not
    exercise ...       the student workbench: list, start, check, hint, grade (docs/exercises)
"""

from __future__ import annotations

import argparse
import sys


def _doctor(args: argparse.Namespace) -> int:
    from .backend import doctor

    doctor()
    return 0


def _compare_models(args: argparse.Namespace) -> int:
    from .models.compare import compare_command

    return compare_command(args.model_a, args.model_b)


def _parity(args: argparse.Namespace) -> int:
    from . import parity

    return parity.main(args)


def _lessons(args: argparse.Namespace) -> int:
    from .lessons_runner import lesson_title, list_lessons

    for name in list_lessons():
        print(f"{name:32s} {lesson_title(name)}")
    return 0


def _lesson(args: argparse.Namespace) -> int:
    from .lessons_runner import resolve_lesson, run_lesson

    try:
        name = resolve_lesson(args.name)
    except (KeyError, FileNotFoundError, ValueError) as error:
        print(f"minitorch-cv lesson: {error}")
        return 2
    return run_lesson(name, args.lesson_args)


def build_parser() -> argparse.ArgumentParser:
    from . import parity
    from .train.cli_commands import add_summary_parser, add_train_parser

    parser = argparse.ArgumentParser(prog="minitorch-cv", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    add_train_parser(sub)  # sets args.handler
    add_summary_parser(sub)
    compare = sub.add_parser("compare-models", help="two architectures side by side")
    compare.add_argument("model_a")
    compare.add_argument("model_b")
    compare.set_defaults(handler=_compare_models)
    parity_parser = sub.add_parser("parity", help="one model on every device, differences")
    parity.add_arguments(parity_parser)
    parity_parser.set_defaults(handler=_parity)
    sub.add_parser("lessons", help="list the lessons").set_defaults(handler=_lessons)
    lesson = sub.add_parser("lesson", help="run one lesson (e.g. minitorch-cv lesson 10 --smoke)")
    lesson.add_argument("name", help="lesson name or number, e.g. 10_lenet or 10")
    lesson.add_argument("lesson_args", nargs=argparse.REMAINDER,
                        help="passed to the lesson (--smoke, --data-dir DIR, --out DIR)")
    lesson.set_defaults(handler=_lesson)
    sub.add_parser("doctor", help="what is installed and usable, and why not").set_defaults(
        handler=_doctor)
    from .exercises.cli import add_exercise_parser

    add_exercise_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv`` and run the command. Exit codes: 0 done, 2 a bad invocation (argparse's
    code; one line on stderr says what and how to fix it) and also Ctrl-C (after saving)."""
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except KeyboardInterrupt:
        print(f"minitorch-cv {args.command}: interrupted (Ctrl-C)", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
