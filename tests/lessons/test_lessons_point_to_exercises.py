"""Every workbench exercise is named in the lesson it belongs to (issue 14 item 6)."""

import re
from pathlib import Path

from minitorch_cv.exercises import catalogue

LESSONS = Path(__file__).resolve().parents[2] / "lessons"


def test_every_exercise_is_named_in_its_lesson():
    for exercise in catalogue():
        text = (LESSONS / f"{exercise.lesson}.py").read_text()
        section = text.split("## Build it yourself", 1)
        assert len(section) == 2, f"{exercise.lesson} has no 'Build it yourself' cell"
        assert f"`{exercise.name}`" in section[1], (exercise.lesson, exercise.name)


def test_lessons_name_only_exercises_that_exist():
    names = {exercise.name for exercise in catalogue()}
    for path in LESSONS.glob("*.py"):
        section = path.read_text().split("## Build it yourself", 1)
        if len(section) == 2:
            listed = re.findall(r"`(\w+)`", section[1].split("In a terminal")[0])
            assert listed and set(listed) <= names, (path.name, listed)
