"""docs/torch_compat.md cannot drift: its tables are checked against minitorch_cv and torch.

- every name in a table exists in torch;
- names marked "supported" or "differs" exist in minitorch_cv (callable where torch's is);
- names marked "missing" do not exist in minitorch_cv (when one is added, this test fails until
  the row is updated);
- every public name minitorch_cv shares with torch's main namespaces appears in a table.
"""

import importlib
import re
import types
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

import minitorch_cv  # noqa: E402

DOC = Path(__file__).resolve().parents[2] / "docs" / "torch_compat.md"
STATUSES = {"supported", "differs", "missing"}
_MISSING = object()


def _rows() -> list[tuple[str, str]]:
    """``(name, status)`` for every backticked name in the first column of every table row."""
    rows = []
    for line in DOC.read_text().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if not line.startswith("|") or len(cells) < 3 or cells[1] in ("status", "---"):
            continue
        for name in re.findall(r"`([^`]+)`", cells[0]):
            rows.append((name, cells[1]))
    return rows


ROWS = _rows()


def _root(lib, name: str):
    """The object a documented name starts from, and the rest of the dotted path."""
    head, _, rest = name.partition(".")
    roots = {"torch": lambda: lib, "nn": lambda: lib.nn, "F": lambda: lib.nn.functional,
             "Tensor": lambda: lib.Tensor, "Module": lambda: lib.nn.Module}
    if head not in roots:
        raise AssertionError(f"{name}: names must start with torch., nn., F., Tensor. or "
                             "Module.")
    return roots[head](), rest


def resolve(lib, name: str):
    """The object ``name`` denotes in ``lib`` (minitorch_cv or torch), or ``_MISSING``."""
    obj, rest = _root(lib, name)
    path = [lib.__name__] if obj is lib else []
    for part in rest.split("."):
        value = getattr(obj, part, _MISSING)
        if value is _MISSING and isinstance(obj, types.ModuleType):
            try:  # a submodule that is not imported as an attribute
                value = importlib.import_module(f"{obj.__name__}.{part}")
            except ImportError:
                value = _MISSING
        if value is _MISSING and isinstance(obj, type) and obj.__name__ == "Tensor":
            value = getattr(lib.zeros(1), part, _MISSING)  # instance attributes (device, grad)
        if value is _MISSING:
            return _MISSING
        obj = value
        path.append(part)
    return obj


def test_the_tables_are_well_formed():
    assert len(ROWS) > 300
    bad = [(name, status) for name, status in ROWS if status not in STATUSES]
    assert not bad, f"unknown statuses (use {sorted(STATUSES)}): {bad}"
    names = [name for name, _ in ROWS]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    assert not duplicates, f"listed twice: {duplicates}"


@pytest.mark.parametrize("name,status", ROWS, ids=[name for name, _ in ROWS])
def test_row_matches_the_packages(name, status):
    theirs = resolve(torch, name)
    assert theirs is not _MISSING, f"{name} is not torch's: fix the row"
    ours = resolve(minitorch_cv, name)
    if status == "missing":
        assert ours is _MISSING, f"{name} exists in minitorch_cv now: mark it supported/differs"
        return
    assert ours is not _MISSING, f"{name} is marked {status} but minitorch_cv has no such name"
    if callable(theirs) and not isinstance(theirs, type(torch.float32)):
        assert callable(ours), f"{name} is callable in torch but not in minitorch_cv"


def _shared(ours_ns, theirs_ns, skip=()) -> set[str]:
    names = set()
    for name in dir(ours_ns):
        if name.startswith("_") or name in skip or not hasattr(theirs_ns, name):
            continue
        if isinstance(getattr(ours_ns, name), types.ModuleType):
            continue
        names.add(name)
    return names


NAMESPACES = [
    ("torch.", minitorch_cv, torch, ()),
    ("nn.", minitorch_cv.nn, torch.nn, ()),
    ("F.", minitorch_cv.nn.functional, torch.nn.functional, ()),
    ("torch.optim.", minitorch_cv.optim, torch.optim, ()),
    ("torch.optim.lr_scheduler.", minitorch_cv.optim.lr_scheduler, torch.optim.lr_scheduler,
     ("Counter", "Optimizer", "annotations")),
    ("nn.init.", minitorch_cv.nn.init, torch.nn.init, ("Tensor",)),
    ("Tensor.", minitorch_cv.Tensor, torch.Tensor, ()),
    ("Module.", minitorch_cv.nn.Module, torch.nn.Module, ()),
]


@pytest.mark.parametrize("prefix,ours,theirs,skip", NAMESPACES, ids=[n[0] for n in NAMESPACES])
def test_every_shared_name_is_documented(prefix, ours, theirs, skip):
    documented = {name for name, _ in ROWS}
    undocumented = sorted(prefix + name for name in _shared(ours, theirs, skip)
                          if prefix + name not in documented)
    assert not undocumented, f"add rows to docs/torch_compat.md for: {undocumented}"
