"""No lesson selects on the test set.

Two checks: at run time, ``lesson.final_test()`` seals training (``_common.fit`` and the
lessons' own search loops raise ``TestSetError`` once the test set is open) and
``lesson.load(train=False)`` is refused; statically, no lesson opens the test set other than
through ``final_test``, and nothing that trains appears after the first ``final_test`` call in
a lesson's text (custom loops included: ``.backward()``, ``.step()``, ``Trainer``, ``fit`` and
any function of the lesson that calls one of them).
"""

from __future__ import annotations

import ast
import sys

import numpy as np
import pytest

from minitorch_cv import lessons_runner
from minitorch_cv.lessons_runner import Lesson, TestSetError, lesson_path, list_lessons

TRAINING_CALLS = {"fit", "train_small_variant", "overfit_one_batch", "backward", "step",
                  "loop", "Trainer", "tune_search", "update_bn"}


def called_names(node) -> set[str]:
    names = set()
    for call in ast.walk(node):
        if isinstance(call, ast.Call):
            func = call.func
            if isinstance(func, ast.Name):
                names.add(func.id)
            elif isinstance(func, ast.Attribute):
                names.add(func.attr)
    return names


def training_after_final_test(source: str) -> list[str]:
    """Names of training calls at or after the line of the first ``final_test`` call."""
    tree = ast.parse(source)
    trains = set(TRAINING_CALLS)
    changed = True
    while changed:  # a function of the lesson that calls a training function trains too
        changed = False
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and node.name not in trains \
                    and called_names(node) & trains:
                trains.add(node.name)
                changed = True
    opened = [n.lineno for n in ast.walk(tree) if isinstance(n, ast.Call)
              and isinstance(n.func, ast.Attribute) and n.func.attr == "final_test"]
    if not opened:
        return []
    first = min(opened)
    late = []
    for statement in tree.body:
        if statement.lineno < first or isinstance(statement, (ast.FunctionDef, ast.ClassDef)):
            continue
        late += [f"{name} (line {statement.lineno})" for name in called_names(statement) & trains]
    return late


@pytest.mark.parametrize("name", list_lessons())
def test_no_training_after_the_test_set_is_opened(name):
    source = lesson_path(name).read_text(encoding="utf-8")
    assert "train=False" not in source, "open the test set with lesson.final_test() only"
    assert training_after_final_test(source) == [], name


def test_the_static_check_catches_training_after_the_test_set():
    bad = ("x_test, y_test, _ = lesson.final_test()\n"
           "def tune(m):\n    fit(m, opt, train, (x_test, y_test), 1)\n"
           "tune(model)\n")
    assert training_after_final_test(bad) == ["tune (line 4)"]
    custom = "x, y, _ = lesson.final_test()\nloss.backward()\noptimizer.step()\n"
    assert len(training_after_final_test(custom)) == 2
    fine = ("fit(model, opt, train, valid, 1)\nx, y, _ = lesson.final_test()\n"
            "evaluate(model, x, y)\n")
    assert training_after_final_test(fine) == []


def test_training_after_final_test_raises_at_run_time(tmp_path, monkeypatch):
    monkeypatch.setattr(lessons_runner, "_test_opened_at", [])
    lesson = Lesson(name="t", smoke=True, data_dir=None, out=tmp_path, seed=0)
    with pytest.raises(TestSetError, match="final_test"):
        lesson.load("fashion-mnist", train=False)
    (x_train, y_train), (x_valid, y_valid), classes = lesson.train_valid(
        "fashion-mnist", n_train=50, n_valid=20)
    assert len(x_train) == 50 and len(x_valid) == 20 and len(classes) == 10
    lessons_runner.check_test_sealed("training")  # still sealed: fine
    x_test, y_test, _ = lesson.final_test("fashion-mnist", limit=10)
    assert len(x_test) == 10
    assert lessons_runner.test_set_opened().startswith("test_test_set_discipline.py:")
    with pytest.raises(TestSetError, match="after the test set was opened"):
        lessons_runner.check_test_sealed("training")
    sys.path.insert(0, str(lesson_path("00").parent))
    try:
        import _common

        from minitorch_cv import nn, optim

        model = nn.Linear(4, 2)
        data = (np.zeros((4, 4), np.float32), np.zeros(4, np.int64))
        with pytest.raises(TestSetError):
            _common.fit(model, optim.SGD(model.parameters(), lr=0.1), data, data, 1,
                        verbose=False)
    finally:
        sys.path.remove(str(lesson_path("00").parent))


def test_validation_split_is_disjoint_from_training_and_the_same_for_every_seed(tmp_path):
    splits = []
    for seed in (0, 1):
        lesson = Lesson(name="t", smoke=True, data_dir=None, out=tmp_path, seed=seed)
        (x_train, _), (x_valid, _), _ = lesson.train_valid("fashion-mnist", n_valid=100)
        splits.append(x_valid)
        train_rows = {row.tobytes() for row in x_train}
        assert not any(row.tobytes() in train_rows for row in x_valid)
    assert np.array_equal(splits[0], splits[1])
