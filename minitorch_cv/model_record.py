"""Saving a whole model without pickle: its constructor call, recorded when it is made.

``torch.save(model, path)`` pickles the model, and ``torch.load`` then runs whatever the file
says. ``minitorch_cv.save(model, path)`` instead writes, for the model and each submodule, the
class's import path (``minitorch_cv.models.lenet:LeNet5``), the arguments its constructor was
called with (recorded by ``Module.__init_subclass__``, which wraps every subclass's
``__init__``), its training flag, and once, at the top, the state dict. ``load`` calls the
constructors again and loads the state dict, rebuilding only classes it is allowed to:

- classes and functions of ``minitorch_cv`` itself;
- classes you allow: ``add_safe_globals([MyNet])`` (process-wide, as
  ``torch.serialization.add_safe_globals``), ``with safe_globals([MyNet]):`` or
  ``load(path, safe_globals=[MyNet])``;
- with ``load(path, weights_only=False)``: any ``nn.Module`` subclass (and class or function
  argument) whose module is already imported; nothing is ever imported on a file's say-so.

A submodule replaced after construction (``model.fc = nn.Linear(512, 10)``) is rebuilt from its
own record. What cannot be saved this way (``save`` refuses it and says where): a constructor
argument that is not a number, string, bool, None, tensor, array, list/tuple/dict of those, a
module, or a class or function defined at the top level of a module (so no lambdas, no local
classes, no open files or datasets). Plain attributes changed after construction
(``model.dropout.p = 0.3``), hooks, and attributes that are not parameters, buffers or
submodules are not saved: they come back as the constructor sets them.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib
import inspect
import json
import sys
import threading

import numpy as np

from .safetensors_format import CheckpointError

KINDS = ("module", "global")
_RECORD = "_constructor_call"
_allowed: list = []  # add_safe_globals
_scoped = threading.local()  # safe_globals(...) blocks and load(safe_globals=...)


# ----------------------------------------------------------------------------- recording
def record_constructor_calls(cls) -> None:
    """Wrap ``cls.__init__`` so that each instance remembers ``(class, args, kwargs)`` of the
    outermost constructor call (``super().__init__(...)`` calls inside it do not overwrite)."""
    init = cls.__dict__.get("__init__")
    if init is None or getattr(init, "_records_call", False):
        return

    @functools.wraps(init)
    def __init__(self, *args, **kwargs):
        if _RECORD not in self.__dict__:
            self.__dict__[_RECORD] = (type(self), args, kwargs)
        init(self, *args, **kwargs)

    __init__._records_call = True
    cls.__init__ = __init__


# ----------------------------------------------------------------------------- allow-list
def add_safe_globals(safe_globals: list) -> None:
    """Allow ``load`` to rebuild these classes (and pass these classes/functions as arguments)
    in every later call, as ``torch.serialization.add_safe_globals``. Their constructors run
    on loading: allow only classes whose files you trust."""
    for item in safe_globals:
        if isinstance(item, tuple) and len(item) == 2:  # torch's (obj, "name") form
            item = item[0]
        if not (inspect.isclass(item) or inspect.isroutine(item)):
            raise TypeError(f"safe globals are classes or functions, got {type(item).__name__}")
        if item not in _allowed:
            _allowed.append(item)


def get_safe_globals() -> list:
    """The classes and functions allowed with ``add_safe_globals``."""
    return list(_allowed)


def clear_safe_globals() -> None:
    """Forget every class allowed with ``add_safe_globals``."""
    _allowed.clear()


@contextlib.contextmanager
def safe_globals(safe_globals: list):
    """``with safe_globals([MyNet]): model = load(path)``: allowed inside the block only."""
    stack = getattr(_scoped, "stack", None)
    if stack is None:
        stack = _scoped.stack = []
    stack.append([item[0] if isinstance(item, tuple) else item for item in safe_globals])
    try:
        yield
    finally:
        stack.pop()


def _path(obj) -> str:
    return f"{obj.__module__}:{obj.__qualname__}"


def _is_allowed(obj) -> bool:
    scoped = [item for block in getattr(_scoped, "stack", []) for item in block]
    return any(item is obj for item in (*_allowed, *scoped))


# ----------------------------------------------------------------------------- saving
def _global_node(obj, where: str) -> dict:
    name = getattr(obj, "__qualname__", "")
    module = getattr(obj, "__module__", None)
    if not module or "<" in name or module == "builtins":
        what = "a lambda" if "<lambda>" in name else f"{name or type(obj).__name__}"
        raise TypeError(f"cannot save {what} at {where}: only classes and functions defined at "
                        "the top level of a module can be saved (by name; no pickle). Define "
                        "it at module level, or save the state_dict() instead")
    return {"kind": "global", "path": _path(obj)}


def call_key(module) -> str:
    """A text that is equal for two modules made by equal constructor calls."""
    call = module.__dict__.get(_RECORD)
    if call is None:
        return f"<unrecorded {id(module)}>"
    cls, args, kwargs = call
    return json.dumps([_path(cls), _key(args), _key(kwargs)], default=repr)


def _key(value):
    from .autograd.tensor import Tensor  # noqa: PLC0415
    from .nn.module import Module  # noqa: PLC0415

    if isinstance(value, Module):
        return call_key(value)
    if isinstance(value, (Tensor, np.ndarray)):
        array = np.asarray(value.numpy() if isinstance(value, Tensor) else value)
        return f"{array.dtype}{array.shape}:{hashlib.sha256(array.tobytes()).hexdigest()}"
    if inspect.isclass(value) or inspect.isroutine(value):
        return _path(value)
    if isinstance(value, (list, tuple)):
        return [_key(v) for v in value]
    if isinstance(value, dict):
        return [[repr(k), _key(v)] for k, v in value.items()]
    return repr(value)


def describe(obj, flat, path: tuple, where: str) -> dict | None:
    """The structure node of a module, class or function (``None`` for anything else)."""
    from .nn.module import Module  # noqa: PLC0415

    if isinstance(obj, Module):
        return _module_node(obj, flat, path, where)
    if inspect.isclass(obj) or inspect.isroutine(obj):
        return _global_node(obj, where)
    return None


def _module_node(module, flat, path: tuple, where: str) -> dict:
    call = module.__dict__.get(_RECORD)
    if call is None:
        raise TypeError(f"cannot save the {type(module).__name__} at {where}: it was not made "
                        "by calling its class, so there is no constructor call to record; "
                        "save its state_dict() instead")
    cls, args, kwargs = call
    top = not flat.inside_module
    node = {"kind": "module"}
    if top:  # the state first, so that its tensors keep their state-dict names
        node["state"] = flat.visit(module.state_dict(), path)
        devices = [p.device for p in module.parameters()]
        node["device"] = devices[0] if devices else "cpu"
    flat.inside_module = True
    try:
        node.update({
            "class": _global_node(cls, where)["path"],
            "args": flat.visit(list(args), (*path, "__init__")),
            "kwargs": flat.visit(dict(kwargs), (*path, "__init__")),
            "training": bool(module.training),
            "key": call_key(module),
            "children": [[name, None if child is None else _module_node(
                child, flat, (*path, name), f"{where}.{name}")]
                for name, child in module._modules.items()],
        })
    finally:
        flat.inside_module = not top
    return node


# ----------------------------------------------------------------------------- loading
def _resolve(path, loader, module_class: bool):
    from .nn.module import Module  # noqa: PLC0415

    if not isinstance(path, str) or path.count(":") != 1:
        raise CheckpointError(loader.path, f"malformed class path {path!r:.80}")
    module_name, qualname = path.split(":")
    what = "model class" if module_class else "class or function"
    obj = None
    for item in (*_allowed, *(i for b in getattr(_scoped, "stack", []) for i in b)):
        if _path(item) == path:
            obj = item
    ours = module_name == "minitorch_cv" or module_name.startswith("minitorch_cv.")
    if obj is None and "<" not in qualname and (ours or not loader.weights_only):
        module = sys.modules.get(module_name)
        if module is None and module_name.startswith(("minitorch_cv.nn", "minitorch_cv.models")):
            module = importlib.import_module(module_name)  # our layers: no side effects
        obj = module
        for part in qualname.split("."):
            obj = getattr(obj, part, None)
    if obj is not None and module_class and not (inspect.isclass(obj)
                                                 and issubclass(obj, Module)):
        raise CheckpointError(loader.path, f"{path} is not an nn.Module class")
    if obj is None or not (inspect.isclass(obj) or inspect.isroutine(obj)):
        short = qualname.rsplit(".", 1)[-1]
        hint = (f"import {module_name} (where {qualname} is defined) before loading"
                if not loader.weights_only else
                f"if you trust the file, allow it: minitorch_cv.serialization.add_safe_globals"
                f"([{short}]) or load(..., safe_globals=[{short}]), or load with "
                f"weights_only=False after importing {module_name}")
        raise CheckpointError(loader.path, f"the checkpoint holds the {what} {qualname} from "
                                           f"module {module_name}, which load does not rebuild "
                                           f"unless allowed (its constructor would run): {hint}")
    return obj


def _build(node: dict, loader):
    cls = _resolve(node.get("class"), loader, module_class=True)
    args, kwargs = loader.rebuild(node.get("args")), loader.rebuild(node.get("kwargs"))
    if not isinstance(args, list) or not isinstance(kwargs, dict) or not all(
            isinstance(k, str) for k in kwargs):
        raise CheckpointError(loader.path, f"malformed constructor arguments of {cls.__name__}")
    try:
        module = cls(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001 (any constructor failure: say which one)
        problem = f"rebuilding {cls.__qualname__} with its saved arguments failed: {exc!r}"
        raise CheckpointError(loader.path, problem) from exc
    _fix(module, node, loader)
    return module


def _fix(module, node: dict, loader) -> None:
    """Make ``module``'s submodules and training flags those recorded in ``node``: a child
    made by the constructor as recorded is kept (and fixed in turn); one replaced after
    construction is rebuilt from its own record; one deleted is removed."""
    children = node.get("children", [])
    if not isinstance(children, list):
        raise CheckpointError(loader.path, "malformed module children")
    saved_names = set()
    for pair in children:
        if (not isinstance(pair, list) or len(pair) != 2 or not isinstance(pair[0], str)
                or not (pair[1] is None or isinstance(pair[1], dict))):
            raise CheckpointError(loader.path, "malformed module children")
        name, child_node = pair
        saved_names.add(name)
        current = module._modules.get(name)
        if child_node is None:
            module._modules[name] = None
        elif current is not None and call_key(current) == child_node.get("key"):
            _fix(current, child_node, loader)
        else:
            setattr(module, name, _build(child_node, loader))
    for name in [n for n in module._modules if n not in saved_names]:
        del module._modules[name]
    object.__setattr__(module, "training", bool(node.get("training", True)))


def rebuild(node: dict, loader):
    """A module or a global from its structure node (see ``serialization._Loader``)."""
    from . import random  # noqa: PLC0415

    if node["kind"] == "global":
        return _resolve(node.get("path"), loader, module_class=False)
    state = random.get_state()
    try:  # constructors draw initial weights: loading must not move the user's random stream
        module = _build(node, loader)
    finally:
        random.set_state(state)
    if "state" in node:
        weights = loader.rebuild(node["state"])
        try:
            module.load_state_dict(weights)
        except (KeyError, RuntimeError, ValueError, TypeError) as exc:
            raise CheckpointError(loader.path, f"the saved state does not fit the rebuilt "
                                               f"{type(module).__name__}: {exc}") from None
        location = node.get("device", "cpu")
        device = loader.device_for(location if isinstance(location, str) else "cpu")
        if device != "cpu":
            module.to(device)
    return module
