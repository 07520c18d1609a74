"""Shared start of every lesson: make ``minitorch_cv`` importable from a checkout, parse options.

``python lessons/NN_name.py`` puts ``lessons/`` (this folder) on ``sys.path``, so every lesson
can ``from _common import lesson_setup``. When the package is not installed (a fresh clone),
the repository root is added to the path so that ``import minitorch_cv`` finds the source tree.
The option parsing and output folder live in ``minitorch_cv.lessons_runner``.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

if importlib.util.find_spec("minitorch_cv") is None:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from minitorch_cv.lessons_runner import Lesson, lesson_setup  # noqa: E402

__all__ = ["Lesson", "lesson_setup"]
