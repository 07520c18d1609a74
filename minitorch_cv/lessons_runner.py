"""Find, list and run the lessons in ``lessons/``, and the argument parsing they share.

Lessons are scripts in the repository checkout (``lessons/NN_name.py``), not part of the
installed package, so :func:`lessons_dir` looks for them: ``$MINITORCH_CV_LESSONS`` first, then
``lessons/`` beside this package's folder (a source checkout or an editable install), then
``./lessons`` in the current directory.

Every lesson starts with a settings cell and::

    SMOKE, EPOCHS, SEED = False, None, 0          # the notebook's settings cell
    lesson = lesson_setup("03_convolution", __doc__, smoke=SMOKE, epochs=EPOCHS, seed=SEED)

which parses ``[--smoke] [--data-dir DIR] [--out DIR] [--seed N] [--epochs N]`` (a script's
command line overrides the settings cell; in a notebook the cell decides), seeds the
generators, makes the output folder, and gives ``lesson.figure("name")`` (the path to save a
PNG at) and ``lesson.finish()`` (prints where the figures are).

Data discipline: ``lesson.train_valid(...)`` gives a training split and a validation split held
out of the training file, for every choice a lesson makes (early stopping, schedules, learning
rates, the best model). The test split stays sealed until ``lesson.final_test(...)`` opens it,
once all training is done; training after that raises :class:`TestSetError`.

``python -m minitorch_cv.lessons_runner notebooks [--out DIR]`` writes every lesson as a
Jupyter notebook (``.ipynb``, beside the scripts by default), with no tool beyond this package.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

_LESSON_FILE = re.compile(r"^(\d\d)_([a-z0-9_]+)\.py$")


# --------------------------------------------------------------------------- finding lessons
def lessons_dir() -> Path:
    """The folder that holds the lesson scripts (raises if there is none)."""
    candidates = []
    env = os.environ.get("MINITORCH_CV_LESSONS")
    if env:
        candidates.append(Path(env))
    candidates.append(Path(__file__).resolve().parent.parent / "lessons")
    candidates.append(Path.cwd() / "lessons")
    for folder in candidates:
        if folder.is_dir() and any(_LESSON_FILE.match(p.name) for p in folder.iterdir()):
            return folder
    raise FileNotFoundError(
        "no lessons folder found (looked in: " + ", ".join(str(c) for c in candidates) + "). "
        "Lessons live in the repository checkout, not in the installed package: run from the "
        "checkout or set MINITORCH_CV_LESSONS=/path/to/minitorch_cv/lessons."
    )


def list_lessons() -> list[str]:
    """Lesson names in order, e.g. ``["00_autograd", "01_losses", ...]``."""
    return sorted(p.stem for p in lessons_dir().iterdir() if _LESSON_FILE.match(p.name))


def lesson_title(name: str) -> str:
    """The first line of a lesson's docstring (its one-line summary)."""
    text = lesson_path(name).read_text(encoding="utf-8")
    match = re.search(r'"""(.*?)(\n|""")', text, re.S)
    return match.group(1).strip() if match else ""


def resolve_lesson(name: str) -> str:
    """Accept ``"03_convolution"``, ``"03"``, ``"3"`` or ``"convolution"``."""
    names = list_lessons()
    if name in names:
        return name
    matches = [n for n in names if name.isdigit() and n.startswith(f"{int(name):02d}_")]
    matches += [n for n in names if n.split("_", 1)[1] == name]
    if len(matches) == 1:
        return matches[0]
    raise KeyError(f"no lesson named {name!r}; choose one of: {', '.join(names)}")


def lesson_path(name: str) -> Path:
    return lessons_dir() / f"{resolve_lesson(name)}.py"


def run_lesson(name: str, args: list[str] | None = None, timeout: float | None = None) -> int:
    """Run one lesson as ``python lessons/NAME.py ARGS`` in a child process; its exit code.

    A child process keeps each lesson's global state (seeds, matplotlib) apart, exactly as when
    a student runs the script by hand.
    """
    path = lesson_path(name)
    completed = subprocess.run([sys.executable, str(path), *(args or [])], timeout=timeout)
    return completed.returncode


# --------------------------------------------------------------------------- the sealed test set
class TestSetError(RuntimeError):
    """Raised when a lesson trains or selects after it has looked at the test set."""

    __test__ = False  # not a pytest test class, despite its name


_test_opened_at: list[str] = []  # where final_test() was called, in this process


def test_set_opened() -> str | None:
    """Where the test set was first opened in this process (``file:line``), or ``None``."""
    return _test_opened_at[0] if _test_opened_at else None


def check_test_sealed(action: str) -> None:
    """Raise :class:`TestSetError` if the test set has been opened: ``action`` (training,
    validating, choosing) must happen before the one final look at the test data."""
    where = test_set_opened()
    if where is not None:
        raise TestSetError(
            f"{action} after the test set was opened ({where}): any choice made after looking "
            "at test data is fitted to it. Train and select on lesson.train_valid()'s "
            "validation split; call lesson.final_test() once, after all training.")


def _caller() -> str:
    frame = sys._getframe(2)
    return f"{Path(frame.f_code.co_filename).name}:{frame.f_lineno}"


# --------------------------------------------------------------------------- inside a lesson
SMOKE_STAMP = "SMOKE RUN: a few steps on tiny data; checks that the code runs, not a result"


@dataclass
class Lesson:
    """What a running lesson knows about its command line and output folder."""

    name: str
    smoke: bool
    data_dir: str | None
    out: Path
    seed: int
    epochs: int | None = None
    options: argparse.Namespace | None = None
    started: float = field(default_factory=time.perf_counter)
    figures: list[Path] = field(default_factory=list)
    _told_stand_in: bool = False

    def figure(self, stem: str) -> Path:
        """Where to save the figure called ``stem`` (``.png`` is added; ``_smoke`` too in smoke
        mode, so that a smoke figure is never mistaken for a result)."""
        path = self.out / f"{stem}{'_smoke' if self.smoke else ''}.png"
        self.figures.append(path)
        return path

    def title(self, text: str) -> str:
        """A figure title, marked ``(smoke run)`` in smoke mode."""
        return f"{text} (smoke run)" if self.smoke else text

    def pick(self, full, smoke):
        """``smoke`` in smoke mode, else ``full`` (sizes, epochs, steps)."""
        return smoke if self.smoke else full

    def load(self, dataset: str = "fashion-mnist", train: bool = True, limit: int | None = None):
        """Training images ``float32 (N, 1, 28, 28)`` normalised to mean 0 / std 1, labels,
        class names (the test split: :meth:`final_test`; a validation split:
        :meth:`train_valid`).

        ``dataset`` is ``"mnist"`` or ``"fashion-mnist"``, read from ``--data-dir`` /
        ``$MINITORCH_CV_DATA``. Without a data folder the embedded Fashion-MNIST subset (10,000
        train / 1,000 test images) stands in for both, and the lesson says so. ``limit`` keeps
        a seeded random subset of that many images.
        """
        if not train:
            raise TestSetError("lesson.load() reads training data only: hold out a validation "
                               "split with lesson.train_valid() and open the test split once, "
                               "at the end, with lesson.final_test()")
        return self._read(dataset, True, limit)

    def train_valid(self, dataset: str = "fashion-mnist", n_train: int | None = None,
                    n_valid: int = 1000) -> tuple[tuple, tuple, list[str]]:
        """``(x_train, y_train), (x_valid, y_valid), classes`` from the training file.

        The ``n_valid`` validation images are held out of training (the same ones for every
        seed); ``n_train`` (default: all the rest) training images follow them.
        """
        import numpy as np  # noqa: PLC0415

        x, y, classes = self._read(dataset, True, None)
        if n_valid >= len(x):
            raise ValueError(f"n_valid={n_valid} leaves no training images out of {len(x)}")
        order = np.random.default_rng(20_240_917).permutation(len(x))
        valid, train = order[:n_valid], order[n_valid:]
        if n_train is not None:
            train = train[:n_train]
        return (x[train], y[train]), (x[valid], y[valid]), classes

    def final_test(self, dataset: str = "fashion-mnist", limit: int | None = None):
        """Open the sealed test split for the final evaluation: ``x_test, y_test, classes``.

        Call it after all training and selection; from then on, training in this process
        (``_common.fit``) raises :class:`TestSetError`, and the lesson says it touched the test
        set.
        """
        where = _caller()
        if not _test_opened_at:
            print(f"  [test set opened for the final evaluation at {where}; no training or "
                  "selection after this point]")
        _test_opened_at.append(where)
        return self._read(dataset, False, limit)

    def _read(self, dataset: str, train: bool, limit: int | None):
        import numpy as np  # noqa: PLC0415

        from .data import vision  # noqa: PLC0415

        stats = {"mnist": (0.1307, 0.3081), "fashion-mnist": (0.2860, 0.3530)}
        if dataset not in stats:
            raise ValueError(f"dataset must be 'mnist' or 'fashion-mnist', got {dataset!r}")
        if self.data_dir is None:
            if dataset == "mnist" and not self._told_stand_in:
                print("  (no --data-dir: the embedded Fashion-MNIST subset stands in for MNIST)")
                self._told_stand_in = True
            source = vision.EmbeddedFashionMNIST(train=train)
            dataset = "fashion-mnist"
        elif dataset == "mnist":
            source = vision.MNIST(root=self.data_dir, train=train)
        else:
            source = vision.FashionMNIST(root=self.data_dir, train=train)
        images, labels = np.asarray(source.data), np.asarray(source.targets)  # Tensors
        if limit is not None and limit < len(images):
            keep = np.random.default_rng(self.seed + int(train)).permutation(len(images))[:limit]
            images, labels = images[np.sort(keep)], labels[np.sort(keep)]
        mean, std = stats[dataset]
        x = ((images.astype(np.float32) / 255.0 - mean) / std)[:, None]  # (N, 1, 28, 28)
        return x, labels.astype(np.int64), list(source.classes)

    def n_epochs(self, full: int, smoke: int = 1) -> int:
        """Epochs to train: ``--epochs`` if given, else ``smoke`` / ``full`` by mode."""
        if self.epochs is not None:
            return self.epochs
        return smoke if self.smoke else full

    def finish(self) -> None:
        elapsed = time.perf_counter() - self.started
        missing = [p for p in self.figures if not p.is_file()]
        if missing:
            raise RuntimeError(f"figures announced but not written: {missing}")
        if self.smoke:
            print(f"\n{SMOKE_STAMP}.")
        print(f"\n[{self.name}] done in {elapsed:.1f} s; {len(self.figures)} figure(s) saved in "
              f"{self.out}/")
        for path in self.figures:
            print(f"  {path}")


def lesson_setup(name: str, description: str | None = None,
                 argv: list[str] | None = None, extra_options=None, *, smoke: bool = False,
                 epochs: int | None = None, seed: int = 0, out: str | None = None) -> Lesson:
    """Parse the shared lesson options, seed, create the output folder.

    ``smoke``, ``epochs``, ``seed`` and ``out`` come from the lesson's settings cell: they are
    the defaults that a script's command line overrides, and what a notebook (which has no
    command line) uses. ``extra_options(parser)`` may add options of one lesson; their values
    are in ``lesson.options``.
    """
    parser = argparse.ArgumentParser(
        prog=f"python lessons/{name}.py", description=description,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--smoke", action="store_true", default=smoke,
                        help="tiny data and 1-2 steps: checks that the lesson runs (for tests)")
    parser.add_argument("--data-dir", default=None,
                        help="folder with the MNIST / Fashion-MNIST IDX files (default: "
                        "$MINITORCH_CV_DATA, else the small embedded subset)")
    parser.add_argument("--out", default=out,
                        help=f"output folder for the figures (default: lesson_output/{name})")
    parser.add_argument("--seed", type=int, default=seed)
    parser.add_argument("--epochs", type=int, default=epochs,
                        help="override the lesson's number of training epochs (full runs)")
    if extra_options is not None:
        extra_options(parser)
    # jupytext/IPython kernels pass their own argv: parse only when run as a script
    in_notebook = "ipykernel" in sys.modules and argv is None
    options = parser.parse_args([] if in_notebook else argv)
    from . import manual_seed  # noqa: PLC0415  (keep importing this module cheap)
    from .viz import set_figure_stamp  # noqa: PLC0415

    manual_seed(options.seed)
    _test_opened_at.clear()  # a notebook re-running the lesson starts sealed again
    set_figure_stamp(SMOKE_STAMP if options.smoke else None)
    data_dir = options.data_dir or os.environ.get("MINITORCH_CV_DATA") or None
    out = Path(options.out) if options.out else Path("lesson_output") / name
    out.mkdir(parents=True, exist_ok=True)
    lesson = Lesson(name=name, smoke=options.smoke, data_dir=data_dir, out=out,
                    seed=options.seed, epochs=options.epochs, options=options)
    mode = f"smoke mode ({SMOKE_STAMP})" if lesson.smoke else "full run"
    source = data_dir or "embedded default data"
    print(f"[{name}] {mode}; seed {lesson.seed}; data: {source}; figures -> {out}/\n")
    return lesson


# --------------------------------------------------------------------------- notebooks
def to_notebook(name: str) -> dict:
    """The lesson as a Jupyter notebook (nbformat 4, as a dict), from its ``# %%`` cells.

    ``# %% [markdown]`` cells become Markdown (their ``# `` prefixes removed); other cells are
    code, keeping jupytext's cell metadata such as ``tags=["parameters"]``; the text before
    the first marker (the docstring) is the first code cell. jupytext reads the same file into
    the same cells (tests/lessons/test_lessons_notebooks.py).
    """
    text = lesson_path(name).read_text(encoding="utf-8")
    cells, kind, meta, lines = [], "code", {}, []

    def flush():
        while lines and not lines[0].strip():
            lines.pop(0)
        while lines and not lines[-1].strip():
            lines.pop()
        if not lines:
            return
        if kind == "markdown":
            body = [line[2:] if line.startswith("# ") else line.lstrip("#") for line in lines]
        else:
            body = list(lines)
        source = "\n".join(body)
        cell = {"cell_type": kind, "id": f"cell-{len(cells)}", "metadata": dict(meta),
                "source": source.splitlines(keepends=True)}
        if kind == "code":
            cell.update(execution_count=None, outputs=[])
        cells.append(cell)

    for line in text.splitlines():
        marker = re.match(r"^# %%(.*)$", line)
        if marker:
            flush()
            rest = marker.group(1).strip()
            kind = "markdown" if rest.startswith("[markdown]") else "code"
            tags = re.search(r"tags=(\[.*?\])", rest)
            meta = {"tags": json.loads(tags.group(1))} if tags else {}
            lines = []
        else:
            lines.append(line)
    flush()
    return {"nbformat": 4, "nbformat_minor": 5, "cells": cells, "metadata": {
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"}}}


def write_notebooks(folder: Path | None = None, names: list[str] | None = None) -> list[Path]:
    """Write each lesson as ``NAME.ipynb`` in ``folder`` (default: beside the scripts, where
    ``from _common import ...`` finds its module). Returns the paths."""
    folder = Path(folder) if folder is not None else lessons_dir()
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name in names or list_lessons():
        notebook = to_notebook(name)
        path = folder / f"{resolve_lesson(name)}.ipynb"
        path.write_text(json.dumps(notebook, indent=1) + "\n", encoding="utf-8")
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m minitorch_cv.lessons_runner")
    parser.add_argument("command", choices=["notebooks"],
                        help="notebooks: write every lesson as a Jupyter notebook")
    parser.add_argument("--out", default=None, help="folder for the .ipynb files (default: "
                        "beside the lesson scripts)")
    parser.add_argument("names", nargs="*", help="lessons to convert (default: all)")
    options = parser.parse_intermixed_args(argv)  # names may follow --out
    for path in write_notebooks(options.out, options.names or None):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
