"""The pages of ``docs/exercises/``, generated from the exercise modules (a test keeps them in
sync): ``python -m minitorch_cv.exercises.docs docs/exercises`` rewrites them."""

from __future__ import annotations

import sys
from pathlib import Path

from .core import STAGE_WORDS, STAGES, Exercise, catalogue

DEBUGGING = """## Stepping through it in a debugger

- Check in this process, so that breakpoints in your code stop:
  `python -m minitorch_cv exercise check {name} --in-process` (or, in a notebook,
  `exercises.check("{name}", ..., isolate=False)`), with a `breakpoint()` in your function.
- A failing property test prints the smallest failing configuration as a call: paste it
  into a script or a cell and step into your function with it.
- Numba kernels: `NUMBA_DISABLE_JIT=1 python -m minitorch_cv exercise check {name}
  --in-process` runs `@njit` functions as plain Python, so pdb steps through every line.
- CUDA C kernels run on the simulated GPU (the g++ emulator, see `docs/gpu.md`):
  `MINITORCH_CV_EMULATOR_DEBUG=1 gdb --args python -m minitorch_cv exercise check {name}
  FILE --in-process`, then `set breakpoint pending on`, `break FILE.cu:LINE`, `run`,
  `print threadIdx`. `MINITORCH_CV_EMULATOR_ORDER=forward` makes thread 0 stop first.
"""


def page(exercise: Exercise) -> str:
    stages = "\n".join(f"- **{s}**: {STAGE_WORDS[s]}" for s in STAGES if exercise.applies(s))
    signature = "\n".join(f"    {n}({p})" for n, p in exercise.functions.items())
    hints = "\n".join(f"{k}. {h}" for k, h in enumerate(exercise.hints, 1))
    return (f"# Exercise {exercise.order:02d}: {exercise.name}\n\n*{exercise.title}* "
            f"(lecture {exercise.lecture}; lesson `lessons/{exercise.lesson}.py`)\n\n"
            f"```bash\npython -m minitorch_cv exercise start {exercise.name}      # writes "
            f"{exercise.name}{exercise.file_suffix}\npython -m minitorch_cv exercise check "
            f"{exercise.name}\npython -m minitorch_cv exercise hint {exercise.name}       # "
            f"the next of {len(exercise.hints)} hints\n```\n\nWhat you write:\n\n"
            f"{signature}\n\n## The template's docstring\n\n```text\n{exercise.doc.strip()}\n"
            f"```\n\n## Stages the checker runs\n\n{stages}\n\n"
            f"{DEBUGGING.format(name=exercise.name)}\n## Hints (what `hint` shows, one at a "
            f"time)\n\n{hints}\n")


def index() -> str:
    rows = "\n".join(f"| {e.order} | [{e.name}]({e.name}.md) | {e.lecture} | "
                     f"`lessons/{e.lesson}.py` | {e.title} |" for e in catalogue())
    return f"""# The student workbench: exercises

Students build the engine's pieces themselves, and the checker property-tests them: the
gradients against finite differences, the smallest input on which a piece is wrong (shrunk
by hypothesis and printed as a call to paste), a comparison with PyTorch, and (topo_sort,
cross_entropy, conv2d, max_pool) a small CNN trained on the embedded Fashion-MNIST subset
with the student's code plugged into the engine, its losses printed beside the built-in's.

```bash
python -m minitorch_cv exercise list                 # the exercises, in lecture order
python -m minitorch_cv exercise start conv2d --dir my_work
python -m minitorch_cv exercise check conv2d my_work/conv2d.py
python -m minitorch_cv exercise hint conv2d --dir my_work
python -m minitorch_cv exercise grade class/ --seed 7  # teachers: one folder per student
```

From a notebook:

```python
from minitorch_cv import exercises
exercises.start("im2col")
exercises.check("im2col", im2col)                          # one function
exercises.check("conv2d", conv2d_forward=f, conv2d_backward=g)
exercises.check("im2col", im2col, isolate=False)           # in this process: for a debugger
exercises.replay("im2col", im2col, {{...the printed configuration...}})
```

**Stages**, each stopping the run when it fails: signature and output shapes; the worked
examples (hand-computed numbers, such as the slide's 25); hypothesis property tests against
the reference (stride, padding, dilation, odd sizes, batch of 1, ties, non-contiguous
inputs); gradcheck of every backward in float64 with a random upstream gradient; PyTorch
comparison (when torch is installed); the NVRTC gate (CUDA exercise); plug-in: the
student's function replaces the engine's inside a context manager that always restores it.

**Isolation**: `check` (command line and notebook) runs the student's code in a subprocess
with a time limit (`--timeout`, default 120 s): an endless loop or a crash is reported with
the stage it happened in and never takes the checker, the notebook or `grade` down. A
notebook's functions travel to the subprocess as source code (their helpers and imports
with them); `isolate=False` / `--in-process` skips the subprocess.

**Teachers**: `grade DIR` checks every `DIR/<student>/<exercise>.py` (or `.cu`) in its own
subprocess and writes `grades.md`, `grades.csv` and `grades.json` (stages passed per
exercise and student). Its default seed (1) differs from the students' (0), so the property
tests draw other configurations than the ones a student saw.

**Hints**: `hint NAME` shows the next hint of the ladder (3 or more per exercise, from the
idea to the near-solution); the count is kept in `.minitorch_cv_hints.json` in the student's
folder.

**Debugging**: every page below says how to step through the exercise: `--in-process` with
`breakpoint()`, `NUMBA_DISABLE_JIT=1` for Numba kernels (plain Python, pdb steps through),
and the simulated GPU with gdb for the CUDA kernel (`docs/gpu.md`).

| # | exercise | lecture | lesson | what |
|---|---|---|---|---|
{rows}
"""


def write(folder) -> list[Path]:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = [folder / "index.md"]
    written[0].write_text(index())
    for exercise in catalogue():
        path = folder / f"{exercise.name}.md"
        path.write_text(page(exercise))
        written.append(path)
    return written


if __name__ == "__main__":
    for path in write(sys.argv[1] if len(sys.argv) > 1 else "docs/exercises"):
        print(path)
