"""Find, list and run the lessons in ``lessons/``, and the argument parsing they share.

Lessons are scripts in the repository checkout (``lessons/NN_name.py``), not part of the
installed package, so :func:`lessons_dir` looks for them: ``$MINITORCH_CV_LESSONS`` first, then
``lessons/`` beside this package's folder (a source checkout or an editable install), then
``./lessons`` in the current directory.

Every lesson starts with::

    from minitorch_cv.lessons_runner import lesson_setup
    lesson = lesson_setup("03_convolution", __doc__)

which parses ``[--smoke] [--data-dir DIR] [--out DIR] [--seed N]``, seeds the generators, makes
the output folder, and gives ``lesson.figure("name")`` (the path to save a PNG at) and
``lesson.finish()`` (prints where the figures are).
"""

from __future__ import annotations

import argparse
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


# --------------------------------------------------------------------------- inside a lesson
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
        """Where to save the figure called ``stem`` (``.png`` is added)."""
        path = self.out / f"{stem}.png"
        self.figures.append(path)
        return path

    def pick(self, full, smoke):
        """``smoke`` in smoke mode, else ``full`` (sizes, epochs, steps)."""
        return smoke if self.smoke else full

    def load(self, dataset: str = "fashion-mnist", train: bool = True, limit: int | None = None):
        """Images ``float32 (N, 1, 28, 28)`` normalised to mean 0 / std 1, labels, class names.

        ``dataset`` is ``"mnist"`` or ``"fashion-mnist"``, read from ``--data-dir`` /
        ``$MINITORCH_CV_DATA``. Without a data folder the embedded Fashion-MNIST subset (10,000
        train / 1,000 test images) stands in for both, and the lesson says so. ``limit`` keeps
        a seeded random subset of that many images.
        """
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
        print(f"\n[{self.name}] done in {elapsed:.1f} s; {len(self.figures)} figure(s) saved in "
              f"{self.out}/")
        for path in self.figures:
            print(f"  {path}")


def lesson_setup(name: str, description: str | None = None,
                 argv: list[str] | None = None, extra_options=None) -> Lesson:
    """Parse the shared lesson options, seed, create the output folder.

    ``extra_options(parser)`` may add options of one lesson; their values are in
    ``lesson.options``.
    """
    parser = argparse.ArgumentParser(
        prog=f"python lessons/{name}.py", description=description,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--smoke", action="store_true",
                        help="tiny data and 1-2 steps: checks that the lesson runs (for tests)")
    parser.add_argument("--data-dir", default=None,
                        help="folder with the MNIST / Fashion-MNIST IDX files (default: "
                        "$MINITORCH_CV_DATA, else the small embedded subset)")
    parser.add_argument("--out", default=None,
                        help=f"output folder for the figures (default: lesson_output/{name})")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=None,
                        help="override the lesson's number of training epochs (full runs)")
    if extra_options is not None:
        extra_options(parser)
    # jupytext/IPython kernels pass their own argv: parse only when run as a script
    in_notebook = "ipykernel" in sys.modules and argv is None
    options = parser.parse_args([] if in_notebook else argv)
    from . import manual_seed  # noqa: PLC0415  (keep importing this module cheap)

    manual_seed(options.seed)
    data_dir = options.data_dir or os.environ.get("MINITORCH_CV_DATA") or None
    out = Path(options.out) if options.out else Path("lesson_output") / name
    out.mkdir(parents=True, exist_ok=True)
    lesson = Lesson(name=name, smoke=options.smoke, data_dir=data_dir, out=out,
                    seed=options.seed, epochs=options.epochs, options=options)
    mode = "smoke mode" if lesson.smoke else "full run"
    source = data_dir or "embedded default data"
    print(f"[{name}] {mode}; data: {source}; figures -> {out}/\n")
    return lesson
