"""Turn functions defined in a notebook into a file that a fresh Python process can import.

``exercises.check(NAME, fn)`` runs the checker in a subprocess (a hang or a crash must not
take the notebook down), so the student's function has to travel there as source code:
its own source, the sources of the notebook functions and classes it uses, an import for
every module or importable object it uses, and the values of simple globals.
"""

from __future__ import annotations

import ast
import builtins
import inspect
import textwrap
import types

import numpy as np


def _source(obj) -> str:
    return textwrap.dedent(inspect.getsource(getattr(obj, "py_func", obj)))


def _names_used(source: str) -> set[str]:
    return {node.id for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Name)}


def _globals_of(obj) -> dict:
    inner = getattr(obj, "py_func", obj)
    if isinstance(inner, type):
        merged = {}
        for member in vars(inner).values():
            func = getattr(member, "__func__", member)
            if isinstance(func, types.FunctionType):
                merged.update(func.__globals__)
        module = inspect.getmodule(inner)
        return {**merged, **(vars(module) if module else {})}
    closure = {}
    if getattr(inner, "__closure__", None):
        closure = dict(zip(inner.__code__.co_freevars,
                           (c.cell_contents for c in inner.__closure__)))
    return {**getattr(inner, "__globals__", {}), **closure}


def _importable(obj) -> str | None:
    module = getattr(obj, "__module__", None)
    qualname = getattr(obj, "__qualname__", "")
    if not module or module == "__main__" or "<" in qualname or "." in qualname:
        return None
    return module


def to_source(objects: dict) -> str:
    """Python source defining every item of ``objects`` (name -> function, class or text)."""
    imports, definitions, done = [], [], set()

    def visit(name, obj):
        if name in done or name in vars(builtins):
            return
        done.add(name)
        if isinstance(obj, types.ModuleType):
            imports.append(f"import {obj.__name__} as {name}")
            return
        if callable(obj):
            module = _importable(obj)
            if module is not None and name == obj.__name__:
                imports.append(f"from {module} import {name}")
                return
            if module is not None:
                imports.append(f"from {module} import {obj.__name__} as {name}")
                return
            source = _source(obj)
            scope = _globals_of(obj)
            for used in sorted(_names_used(source)):
                if used in scope and used != name:
                    visit(used, scope[used])
            if name != getattr(obj, "__name__", name):
                source += f"\n{name} = {obj.__name__}\n"
            definitions.append(source)
            return
        if isinstance(obj, (int, float, str, bool, tuple, type(None))):
            definitions.append(f"{name} = {obj!r}\n")
        elif isinstance(obj, np.ndarray):
            definitions.append(f"{name} = np.array({obj.tolist()!r}, dtype=np.{obj.dtype})\n")
            visit("np", np)

    for name, obj in objects.items():
        visit(name, obj)
    header = "# written by minitorch_cv.exercises.extract from notebook definitions\n"
    return header + "\n".join(dict.fromkeys(imports)) + "\n\n\n" + "\n\n".join(definitions)
