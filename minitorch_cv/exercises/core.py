"""The exercise record, the failure type of a stage, and the catalogue in lecture order.

An exercise is data: the functions (or class, or CUDA kernel) the student writes with their
exact parameters, the template's docstring in the lecture's words, a ladder of hints, the
engine's own code wrapped to the same signature (the solution, which is also the reference the
checker compares with), hand-computed examples, and the pieces each stage of the checker needs.
``checker.py`` runs the stages; the modules of ``collection/`` (``e01_topo_sort.py`` ...)
hold the exercises.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field

# The stages, in the order the checker runs them; each stops the run when it fails.
STAGES = ("signature", "examples", "properties", "gradcheck", "torch", "gate", "plugin")

STAGE_WORDS = {
    "signature": "the names, parameters and output shapes",
    "examples": "hand-computed worked examples",
    "properties": "property tests against the reference (hypothesis)",
    "gradcheck": "gradcheck: backward against finite differences (float64)",
    "torch": "comparison with PyTorch",
    "gate": "the NVRTC compile gate (every GPU architecture)",
    "plugin": "plugged into the engine: a small network trains",
}


class StageFailure(AssertionError):
    """A stage found a problem; the message is written for the student."""


class NotImplementedYet(NotImplementedError):
    """Raised by a fresh template's body (the student has not written it yet)."""


@dataclass
class Example:
    """A worked example: one call and the hand-computed answer.

    Attributes:
        function: which of the exercise's functions is called.
        args: the call's arguments by name.
        expected: the answer (an array, a number, or a tuple of them).
        what: the example in words, with the arithmetic (shown when it fails).
        output: compare only this item of a tuple result (None: the whole result).
        index: then compare only this part of it (e.g. ``(0, 0, 0, 0)``).
    """

    function: str
    args: dict
    expected: object
    what: str
    output: int | None = None
    index: tuple | None = None


@dataclass
class Exercise:
    """One exercise of the catalogue (see the module docstring).

    The optional fields switch stages on: ``strategy`` + ``cases`` or ``property_body``
    (properties), ``grad_strategy`` + ``grad_problems`` (gradcheck), ``torch_check``,
    ``plugin``, ``gate``. A stage without its fields is reported as not applicable.
    """

    name: str
    order: int
    lecture: str
    lesson: str
    title: str
    functions: dict[str, str]
    doc: str
    hints: tuple[str, ...]
    solution: dict[str, Callable]
    examples: Callable[[], list[Example]] = list
    kind: str = "python"  # "python" (functions), "module" (an nn.Module class), "cuda"
    imports: str = "import numpy as np"
    strategy: Callable[[], object] | None = None
    cases: Callable[[dict], list[tuple[str, dict]]] | None = None
    property_body: Callable[[dict, dict, dict], None] | None = None
    grad_strategy: Callable[[], object] | None = None
    grad_problems: Callable[[dict, dict], list] | None = None
    torch_check: Callable[[dict, int], str] | None = None
    gate: Callable[[dict], str] | None = None
    plugin: Callable[[dict], str] | None = None
    signature_check: Callable[[dict, dict], str] | None = None
    rtol: float = 1e-7
    atol: float = 1e-9
    max_examples: int = 30
    grad_examples: int = 4
    extra: dict = field(default_factory=dict)

    @property
    def file_suffix(self) -> str:
        return ".cu" if self.kind == "cuda" else ".py"

    def applies(self, stage: str) -> bool:
        return {
            "signature": True,
            "examples": True,
            "properties": self.strategy is not None,
            "gradcheck": self.grad_problems is not None,
            "torch": self.torch_check is not None,
            "gate": self.gate is not None,
            "plugin": self.plugin is not None,
        }[stage]


def catalogue() -> list[Exercise]:
    """Every exercise, in lecture order."""
    package = importlib.import_module(f"{__package__}.collection")

    found = []
    for info in pkgutil.iter_modules(package.__path__):
        if info.name.startswith("e"):
            module = importlib.import_module(f"{package.__name__}.{info.name}")
            found.append(module.EXERCISE)
    return sorted(found, key=lambda e: e.order)


def _module_names() -> dict[str, str]:
    """Exercise name -> module name: the modules are called ``eNN_<exercise name>``."""
    package = importlib.import_module(f"{__package__}.collection")
    return {info.name[4:]: info.name for info in pkgutil.iter_modules(package.__path__)
            if info.name.startswith("e")}


def get(name: str) -> Exercise:
    """The exercise called ``name`` (its number works too: ``get("13")``)."""
    modules = _module_names()
    if name in modules:  # import only this exercise's module (a fresh checker process)
        return importlib.import_module(f"{__package__}.collection.{modules[name]}").EXERCISE
    exercises = catalogue()
    for exercise in exercises:
        if name in (exercise.name, str(exercise.order), f"{exercise.order:02d}"):
            return exercise
    names = ", ".join(e.name for e in exercises)
    raise KeyError(f"no exercise called {name!r}; the exercises are: {names}")
