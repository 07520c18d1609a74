"""The checker: run an exercise's stages on a student's code, stop at the first failure.

Stages (``core.STAGES``): signature and shapes; the worked examples; hypothesis property tests
against the reference (the SHRUNK smallest failing configuration is printed as a call to
paste); gradcheck of every backward in float64 with a random upstream gradient (also driven by
hypothesis and shrunk); PyTorch comparison (when torch is installed); the NVRTC gate (CUDA
exercise); plug-in (the student's code replaces the engine's and a small network trains).

This module runs the stages in the current process. ``isolate.py`` runs it in a subprocess
with a time limit (what the command line and ``exercises.check`` do by default).
"""

from __future__ import annotations

import copy
import inspect
import time
import traceback
from dataclasses import asdict, dataclass, field

from .calls import compare, format_call, indent
from .core import STAGE_WORDS, STAGES, Exercise, NotImplementedYet, StageFailure


@dataclass
class StageResult:
    stage: str
    status: str  # "passed", "failed", "not run", "n/a"
    message: str = ""
    seconds: float = 0.0


@dataclass
class Report:
    exercise: str
    results: list[StageResult] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        # every stage that ran passed (a --stages subset leaves the others "not run")
        return (not any(r.status == "failed" for r in self.results)
                and any(r.status == "passed" for r in self.results))

    @property
    def failed_stage(self) -> str | None:
        return next((r.stage for r in self.results if r.status == "failed"), None)

    @property
    def stages_passed(self) -> int:
        return sum(r.status == "passed" for r in self.results)

    @property
    def stages_applicable(self) -> int:
        return sum(r.status != "n/a" for r in self.results)

    def text(self) -> str:
        lines = [f"exercise {self.exercise}:"]
        marks = {"passed": "PASS", "failed": "FAIL", "not run": " -- ", "n/a": " n/a"}
        for r in self.results:
            lines.append(f"  [{marks[r.status]}] {r.stage:10s} {STAGE_WORDS[r.stage]}"
                         + (f" ({r.seconds:.1f} s)" if r.status in ("passed", "failed") else ""))
            if r.message and r.status in ("passed", "failed"):
                lines.append(indent(r.message, "         "))
        verdict = (f"stopped at stage '{self.failed_stage}'" if self.failed_stage else
                   "all stages pass" if self.passed else "every stage that ran passed")
        lines.append(f"  {self.stages_passed} of {self.stages_applicable} stages passed: {verdict}")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {"exercise": self.exercise, "results": [asdict(r) for r in self.results]}

    @classmethod
    def from_dict(cls, data: dict) -> Report:
        return cls(data["exercise"], [StageResult(**r) for r in data["results"]])


def student_error(exc: BaseException, where: str) -> StageFailure:
    """A StageFailure that explains an exception raised by the student's code."""
    if isinstance(exc, StageFailure):
        return exc
    if isinstance(exc, NotImplementedError):
        return StageFailure(f"{where}: {exc}" if "not implemented yet" in str(exc) else
                            f"{where}: not implemented yet ({exc}). Write the body, then check "
                            "again (`minitorch-cv exercise hint NAME` gives a hint).")
    frames = traceback.extract_tb(exc.__traceback__)
    mine = [f for f in frames if "minitorch_cv/exercises" not in f.filename.replace("\\", "/")]
    tail = "".join(traceback.format_list(mine[-3:] or frames[-2:]))
    return StageFailure(f"{where}: your code raised {type(exc).__name__}: {exc}\n{tail.rstrip()}")


def call_student(student: dict, function: str, args: dict, where: str):
    try:
        return student[function](**copy.deepcopy(args))
    except Exception as exc:  # noqa: BLE001 (every student error becomes a report)
        raise student_error(exc, where) from None


# ------------------------------------------------------------------ stages


def stage_signature(exercise: Exercise, student: dict, options: dict) -> str:
    if exercise.kind == "cuda":
        return exercise.signature_check(student, options)
    for name, params in exercise.functions.items():
        if name not in student:
            raise StageFailure(f"your file defines no {name!r}; the template's signature is "
                               f"{name}({params})")
        target = student[name]
        if not callable(target):
            raise StageFailure(f"{name} is a {type(target).__name__}, not a function or class")
        inner = getattr(target, "py_func", target)  # a Numba dispatcher wraps the function
        try:
            got = list(inspect.signature(inner).parameters)
        except (TypeError, ValueError):
            continue
        want = [p.split("=")[0].strip() for p in params.split(",") if p.strip()]
        if exercise.kind == "module":
            got = got[1:] if got and got[0] == "self" else got
        if got != want:
            raise StageFailure(f"{name} has parameters ({', '.join(got)}); the exercise needs "
                               f"({', '.join(want)}), in this order")
    notes = []
    if exercise.signature_check is not None:
        notes.append(exercise.signature_check(student, options))
    examples = exercise.examples()
    if examples and exercise.kind == "python":
        first = examples[0]
        want = exercise.solution[first.function](**copy.deepcopy(first.args))
        got = call_student(student, first.function, first.args, f"{first.function} on the "
                           "first example")
        _same_structure(got, want, first.function)
    return "; ".join(n for n in notes if n) or "names, parameters and output shapes match"


def _same_structure(got, want, function: str) -> None:
    import numpy as np  # noqa: PLC0415

    if isinstance(want, tuple):
        if not isinstance(got, (tuple, list)) or len(got) != len(want):
            raise StageFailure(f"{function} must return a tuple of {len(want)} results")
        for k, (g, w) in enumerate(zip(got, want)):
            if hasattr(w, "shape") and np.shape(g) != np.shape(w):
                raise StageFailure(f"{function}: result {k} has shape {np.shape(g)}, expected "
                                   f"{np.shape(w)}")
    elif hasattr(want, "shape") and np.shape(got) != np.shape(want):
        raise StageFailure(f"{function} returns shape {np.shape(got)}, expected "
                           f"{np.shape(want)}")


def stage_examples(exercise: Exercise, student: dict, options: dict) -> str:
    examples = exercise.examples()
    for example in examples:
        if exercise.kind == "python":
            got = call_student(student, example.function, example.args,
                               f"example '{example.what}'")
        else:
            got = exercise.extra["run_example"](student, example)
        if example.output is not None:
            got = got[example.output] if isinstance(got, (tuple, list)) else got
        if example.index is not None:
            import numpy as np  # noqa: PLC0415

            got = np.asarray(got)
            if got.ndim < len(example.index):
                raise StageFailure(f"worked example: {example.what}\n  the result has shape "
                                   f"{got.shape}; cannot take its part {example.index}")
            got = got[example.index]
        try:
            compare(got, example.expected, exercise.rtol, exercise.atol,
                    format_call(example.function, example.args) if exercise.kind == "python"
                    else None)
        except StageFailure as failure:
            raise StageFailure(f"worked example: {example.what}\n{failure}") from None
    return f"{len(examples)} worked examples match"


def _hypothesis_run(strategy, body, max_examples: int, seed: int) -> tuple[int, dict | None,
                                                                          BaseException | None]:
    """Run ``body(config)`` on hypothesis-drawn configs; the last failure is the shrunk one."""
    from hypothesis import HealthCheck, given, settings  # noqa: PLC0415
    from hypothesis import seed as hypothesis_seed  # noqa: PLC0415

    state = {"count": 0, "config": None, "error": None}

    @hypothesis_seed(seed)
    @settings(max_examples=max_examples, deadline=None, database=None, derandomize=False,
              report_multiple_bugs=False, print_blob=False,
              suppress_health_check=list(HealthCheck))
    @given(strategy)
    def run(config):
        state["count"] += 1
        try:
            body(config)
        except Exception as exc:  # noqa: BLE001 (RecursionError included; Ctrl-C is not)
            state["config"], state["error"] = config, exc
            raise

    try:
        run()
    except Exception as exc:  # noqa: BLE001
        if state["error"] is None:
            state["error"] = exc
        return state["count"], state["config"], state["error"]
    return state["count"], None, None


def _property_failure(exercise: Exercise, config, error, kind: str) -> StageFailure:
    shown = {k: v for k, v in (config or {}).items() if k != "seed"}
    detail = error if isinstance(error, StageFailure) else student_error(error, "your code")
    replay = (f"exercises.replay({exercise.name!r}, <your function>, {config!r}, "
              f"stage={kind!r})")
    return StageFailure(
        f"hypothesis found a failing case and shrank it to the smallest: {shown}\n{detail}\n"
        f"  (replay it with {replay})")


def property_call_check(exercise: Exercise, student: dict, config: dict) -> None:
    """Compare every call of ``exercise.cases(config)`` with the reference."""
    for function, args in exercise.cases(config):
        want = exercise.solution[function](**copy.deepcopy(args))
        try:
            got = student[function](**copy.deepcopy(args))
        except Exception as exc:  # noqa: BLE001
            raise StageFailure(f"{student_error(exc, function)}\n  the call (paste it to "
                               f"reproduce):\n{indent(format_call(function, args))}") from None
        compare(got, want, exercise.rtol, exercise.atol, format_call(function, args))


def stage_properties(exercise: Exercise, student: dict, options: dict) -> str:
    def body(config):
        if exercise.property_body is not None:
            exercise.property_body(exercise, student, config)
        else:
            property_call_check(exercise, student, config)

    n = options.get("max_examples") or exercise.max_examples
    count, config, error = _hypothesis_run(exercise.strategy(), body, n, options.get("seed", 0))
    if error is not None:
        raise _property_failure(exercise, config, error, "properties")
    return f"{count} hypothesis-drawn configurations agree with the reference"


def stage_gradcheck(exercise: Exercise, student: dict, options: dict) -> str:
    from .gradients import run_problems  # noqa: PLC0415

    def body(config):
        run_problems(exercise.grad_problems(config, student), options.get("seed", 0))

    n = options.get("grad_examples") or exercise.grad_examples
    count, config, error = _hypothesis_run(exercise.grad_strategy(), body, n,
                                           options.get("seed", 0))
    if error is not None:
        raise _property_failure(exercise, config, error, "gradcheck")
    return (f"every backward matches finite differences on {count} configurations "
            "(float64, random upstream gradient)")


def stage_torch(exercise: Exercise, student: dict, options: dict) -> str:
    try:
        import torch  # noqa: F401, PLC0415
    except ImportError:
        return "skipped: PyTorch is not installed (pip install torch to compare)"
    return exercise.torch_check(student, options.get("seed", 0))


def stage_gate(exercise: Exercise, student: dict, options: dict) -> str:
    return exercise.gate(student)


def stage_plugin(exercise: Exercise, student: dict, options: dict) -> str:
    return exercise.plugin(student)


RUNNERS = {"signature": stage_signature, "examples": stage_examples,
           "properties": stage_properties, "gradcheck": stage_gradcheck, "torch": stage_torch,
           "gate": stage_gate, "plugin": stage_plugin}


def run_checks(exercise: Exercise, student: dict, *, seed: int = 0, stages=None,
               max_examples: int | None = None, grad_examples: int | None = None,
               progress=None) -> Report:
    """Run the stages in order, stopping at the first failure; return the Report.

    Args:
        student: the student's namespace (function name -> function, or ``SOURCE`` text).
        seed: hypothesis seed (a teacher grades with another one than the students used).
        stages: only these stages (others are reported as not run); default all.
        max_examples, grad_examples: override the exercise's hypothesis example counts.
        progress: called with the stage name when a stage starts (the subprocess prints it).
    """
    options = {"seed": seed, "max_examples": max_examples, "grad_examples": grad_examples}
    report, failed = Report(exercise.name), False
    for stage in STAGES:
        if not exercise.applies(stage):
            report.results.append(StageResult(stage, "n/a"))
            continue
        if failed or (stages is not None and stage not in stages):
            report.results.append(StageResult(stage, "not run"))
            continue
        if progress is not None:
            progress(stage)
        start = time.perf_counter()
        try:
            message = RUNNERS[stage](exercise, student, options)
            status = "passed"
        except (StageFailure, NotImplementedYet) as failure:
            message, status = str(failure), "failed"
        except Exception as exc:  # noqa: BLE001 (a student error escaping a stage helper)
            message, status = str(student_error(exc, stage)), "failed"
        failed = status == "failed"
        report.results.append(StageResult(stage, status, message or "",
                                          time.perf_counter() - start))
    return report
