"""``ParameterList`` and ``ParameterDict``: parameters held in a list or dict, registered under
the names torch gives them ("0", "1", ... or the keys), so ``parameters()`` and state dicts
see them."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

from ..autograd.tensor import Tensor
from .container import _index
from .module import Module
from .parameter import Parameter


def _as_parameter(value) -> Parameter:
    if isinstance(value, Parameter):
        return value
    if isinstance(value, Tensor):
        return Parameter(value)
    raise TypeError(f"ParameterList/ParameterDict hold tensors, got {type(value).__name__}")


class ParameterList(Module):
    """A list of parameters (plain tensors are wrapped as ``Parameter``, as torch)."""

    def __init__(self, values: Iterable | None = None):
        super().__init__()
        self._size = 0
        if values is not None:
            self.extend(values)

    def __getitem__(self, index: int) -> Parameter:
        return self._parameters[str(_index(index, self._size, "ParameterList"))]

    def __setitem__(self, index: int, value) -> None:
        self.register_parameter(str(_index(index, self._size, "ParameterList")),
                                _as_parameter(value))

    def __len__(self) -> int:
        return self._size

    def __iter__(self) -> Iterator[Parameter]:
        return iter(self._parameters[str(i)] for i in range(self._size))

    def append(self, value) -> ParameterList:
        self.register_parameter(str(self._size), _as_parameter(value))
        self._size += 1
        return self

    def extend(self, values: Iterable) -> ParameterList:
        for value in values:
            self.append(value)
        return self


class ParameterDict(Module):
    """A dict of parameters, in insertion order, registered under their keys."""

    def __init__(self, parameters: Mapping | Iterable | None = None):
        super().__init__()
        if parameters is not None:
            self.update(parameters)

    def __getitem__(self, key: str) -> Parameter:
        return self._parameters[key]

    def __setitem__(self, key: str, value) -> None:
        self.register_parameter(key, _as_parameter(value))

    def __delitem__(self, key: str) -> None:
        del self._parameters[key]

    def __len__(self) -> int:
        return len(self._parameters)

    def __iter__(self) -> Iterator[str]:
        return iter(self._parameters)

    def __contains__(self, key: str) -> bool:
        return key in self._parameters

    def keys(self):
        return self._parameters.keys()

    def values(self):
        return self._parameters.values()

    def items(self):
        return self._parameters.items()

    def update(self, parameters: Mapping | Iterable) -> None:
        pairs = parameters.items() if isinstance(parameters, Mapping) else parameters
        for key, value in pairs:
            self[key] = value
