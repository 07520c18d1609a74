"""The workbench: every exercise's solution passes, every kept mutant is caught at its stage.

Hypothesis example counts are small here (the checker's defaults are for students); the
mutants were chosen so that each is caught on those counts with the default seed.
"""

from __future__ import annotations

import collections

import pytest

from minitorch_cv.exercises import catalogue, get, run_checks
from minitorch_cv.exercises.templates import render

from .mutants_a import MUTANTS_A
from .mutants_b import MUTANTS_B

EXERCISES = catalogue()
MUTANTS = MUTANTS_A + MUTANTS_B
FAST = dict(max_examples=12, grad_examples=3)


def test_the_catalogue_has_twenty_exercises_in_lecture_order():
    names = [e.name for e in EXERCISES]
    assert len(names) >= 20 and len(set(names)) == len(names)
    assert [e.order for e in EXERCISES] == sorted(e.order for e in EXERCISES)
    for exercise in EXERCISES:
        assert len(exercise.hints) >= 3, exercise.name
        assert "Worked example" in exercise.doc or "worked example" in exercise.doc.lower()
        assert "Lecture" in exercise.doc or "lecture" in exercise.doc


@pytest.mark.parametrize("exercise", [e for e in EXERCISES if e.kind != "cuda"],
                         ids=lambda e: e.name)
def test_template_is_valid_python_that_raises_not_implemented(exercise):
    text = render(exercise)
    compile(text, f"{exercise.name}.py", "exec")
    assert "not implemented yet" in text
    for name, _params in exercise.functions.items():
        assert f"{name}(" in text or f"class {name}(" in text


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: e.name)
def test_the_engines_own_code_passes_every_stage(exercise):
    report = run_checks(exercise, exercise.solution, **FAST)
    assert report.passed, report.text()


def test_every_exercise_keeps_at_least_three_mutants():
    counts = collections.Counter(name for name, *_ in MUTANTS)
    missing = {e.name: counts[e.name] for e in EXERCISES
               if counts[e.name] < 3 and e.kind != "cuda"}
    assert not missing, missing


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # overflow is what some mutants do
@pytest.mark.parametrize("name, what, student, stage", MUTANTS,
                         ids=[f"{m[0]}: {m[1]}" for m in MUTANTS])
def test_mutant_is_caught_at_its_stage(name, what, student, stage):
    report = run_checks(get(name), student, **FAST)
    assert not report.passed, f"mutant not caught: {name}: {what}\n{report.text()}"
    assert report.failed_stage == stage, report.text()
    message = next(r.message for r in report.results if r.status == "failed")
    if stage in ("properties", "gradcheck"):
        assert "shrank it to the smallest" in message, message
        assert "paste" in message or "reproduce" in message, message


def test_replay_reproduces_a_printed_configuration():
    from minitorch_cv.exercises import StageFailure, replay

    from .mutants_b import im2col_sh_for_w

    config = dict(N=1, C=1, H=3, W=5, kh=1, kw=1, sh=1, sw=2, ph=0, pw=0, dh=1, dw=1,
                  out_h=3, out_w=3, seed=0, contiguous=True, ties=False)
    replay("im2col", get("im2col").solution["im2col"], config)
    with pytest.raises(StageFailure, match="paste it to reproduce"):
        replay("im2col", im2col_sh_for_w, config)
