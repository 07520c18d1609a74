"""The student workbench: exercises in which students build the engine's pieces themselves.

From a notebook::

    from minitorch_cv import exercises
    exercises.start("im2col")                  # writes im2col.py (the template), never overwrites
    exercises.check("im2col", im2col)          # stages, in a subprocess with a time limit
    exercises.check("conv2d", conv2d_forward=my_forward, conv2d_backward=my_backward)
    exercises.hint("im2col")                   # the next hint of the ladder

From the command line: ``minitorch-cv exercise list|start|check|hint|grade`` (docs/exercises).
"""

from __future__ import annotations

from .checker import Report, run_checks
from .core import STAGES, Exercise, StageFailure, catalogue, get
from .templates import next_hint, render
from .templates import start as _start


def _student(exercise: Exercise, fn, functions: dict) -> dict:
    if exercise.kind == "cuda":
        source = fn.get("SOURCE") if isinstance(fn, dict) else fn
        source = functions.get("SOURCE", source)
        return {"SOURCE": source}
    found = dict(functions)
    if isinstance(fn, dict):
        found.update(fn)
    elif fn is not None and hasattr(fn, "__dict__") and not callable(fn):
        found.update({k: getattr(fn, k) for k in exercise.functions if hasattr(fn, k)})
    elif fn is not None:
        if len(exercise.functions) != 1:
            names = ", ".join(f"{n}=..." for n in exercise.functions)
            raise TypeError(f"exercise {exercise.name} has several functions: pass them by "
                            f"name, check({exercise.name!r}, {names})")
        found[next(iter(exercise.functions))] = fn
    return found


def check(name: str, fn=None, *, isolate: bool = True, seed: int = 0, timeout: float = 120.0,
          stages=None, max_examples: int | None = None, quiet: bool = False,
          **functions) -> Report:
    """Check a student's function(s) for exercise ``name``; print and return the Report.

    Args:
        fn: the function (or class, or CUDA source text); several functions go by name as
            keyword arguments, or as a dict.
        isolate: run in a subprocess with ``timeout`` (default). ``isolate=False`` runs in this
            process, so that a debugger stops at breakpoints in your code.
        seed: hypothesis seed; stages: only these; max_examples: hypothesis examples.
    """
    exercise = get(name)
    student = _student(exercise, fn, functions)
    report = None
    if isolate:
        from .extract import to_source  # noqa: PLC0415
        from .isolate import check_source  # noqa: PLC0415

        try:
            source = (student["SOURCE"] if exercise.kind == "cuda" else to_source(student))
        except (OSError, TypeError, SyntaxError) as exc:
            print(f"(cannot send your code to a subprocess: {exc}; checking in this process)")
        else:
            report = check_source(exercise.name, source, exercise.file_suffix, seed=seed,
                                  timeout=timeout, stages=stages, max_examples=max_examples,
                                  echo=not quiet)
    if report is None:
        report = run_checks(exercise, student, seed=seed, stages=stages,
                            max_examples=max_examples)
    if not quiet:
        print(report.text())
    return report


def replay(name: str, fn, config: dict, stage: str = "properties", **functions) -> None:
    """Re-run one configuration that a stage printed (raises the same failure)."""
    exercise = get(name)
    student = _student(exercise, fn, functions)
    if stage == "gradcheck":
        from .gradients import run_problems  # noqa: PLC0415

        run_problems(exercise.grad_problems(config, student), 0)
    elif exercise.property_body is not None:
        exercise.property_body(exercise, student, config)
    else:
        from .checker import property_call_check  # noqa: PLC0415

        property_call_check(exercise, student, config)
    print("this configuration passes")


def start(name: str, folder: str = ".") -> str:
    """Write the exercise's template into ``folder`` (never overwriting); return its path."""
    path, written = _start(get(name), folder)
    print(f"wrote {path}" if written else f"{path} exists: not overwritten")
    return str(path)


def hint(name: str, folder: str = ".") -> str:
    exercise = get(name)
    number, text = next_hint(exercise, folder)
    message = f"hint {number} of {len(exercise.hints)} for {exercise.name}: {text}"
    print(message)
    return message


__all__ = ["STAGES", "Exercise", "Report", "StageFailure", "catalogue", "check", "get", "hint",
           "render", "replay", "run_checks", "start"]
