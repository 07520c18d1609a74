"""The student's starting file, and the ladder of hints (state kept per student folder)."""

from __future__ import annotations

import json
from pathlib import Path

from .core import Exercise

HINT_STATE = ".minitorch_cv_hints.json"


def render(exercise: Exercise) -> str:
    """The template: docstring (maths, shapes, formulas, worked example), exact signature(s),
    bodies that raise a clear "not implemented yet" error."""
    if exercise.kind == "cuda":
        return exercise.extra["template"]()
    check = f"minitorch-cv exercise check {exercise.name}"
    parts = [f'"""Exercise {exercise.order:02d} ({exercise.name}): {exercise.title}.\n\n'
             f'{exercise.doc.strip()}\n\nCheck it:  {check}   (hints: minitorch-cv exercise '
             f'hint {exercise.name})\n"""\n']
    if exercise.imports:
        parts.append(exercise.imports + "\n")
    for name, params in exercise.functions.items():
        message = (f"{name}: not implemented yet (exercise {exercise.name}); write the body, "
                   f"then run `{check}`")
        if exercise.kind == "module":
            parts.append(f"\nclass {name}(nn.Module):\n    def __init__(self, {params}):\n"
                         f"        super().__init__()\n        raise NotImplementedError("
                         f"{message!r})\n\n    def forward(self, x):\n        raise "
                         f"NotImplementedError({message!r})\n")
        else:
            decorator = "@njit(parallel=True, cache=False)\n" if "numba" in exercise.imports \
                else ""
            parts.append(f"\n\n{decorator}def {name}({params}):\n    raise "
                         f"NotImplementedError({message!r})\n")
    return "".join(parts)


def start(exercise: Exercise, folder=".") -> tuple[Path, bool]:
    """Write the template into ``folder``; never overwrite (returns (path, written))."""
    path = Path(folder) / f"{exercise.name}{exercise.file_suffix}"
    if path.exists():
        return path, False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(exercise))
    return path, True


def next_hint(exercise: Exercise, folder=".") -> tuple[int, str]:
    """The next hint of the ladder for this student folder (1-based number, text)."""
    state_path = Path(folder) / HINT_STATE
    state = json.loads(state_path.read_text()) if state_path.exists() else {}
    given = state.get(exercise.name, 0)
    number = min(given + 1, len(exercise.hints))
    state[exercise.name] = number
    state_path.parent.mkdir(parents=True, exist_ok=True)
    state_path.write_text(json.dumps(state, indent=1))
    return number, exercise.hints[number - 1]
