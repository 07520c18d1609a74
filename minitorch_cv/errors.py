"""Error classes that are catchable as torch's.

torch reports most bad sizes, shapes and arguments of its ops (an input too small for the
kernel, channels that do not match, shapes that do not broadcast, a tensor with several
elements given to ``item()``) as ``RuntimeError``, and dtype mismatches too. Course code catches
them as such (``except RuntimeError``). Our errors for these cases subclass ``RuntimeError``
and, for code written against earlier versions of this library, the built-in class it used to
raise (``ValueError`` / ``TypeError``). Both ``except`` clauses catch them.
"""

from __future__ import annotations

from .backend import DeviceError  # noqa: F401  (defined there: backend imports nothing else)


class SizeError(RuntimeError, ValueError):
    """A size, shape or size-like argument that torch rejects with ``RuntimeError``."""


class DTypeError(RuntimeError, TypeError):
    """Mismatched or unsupported dtypes, which torch reports as ``RuntimeError``."""


class UnsupportedError(NotImplementedError, ValueError):
    """A mode torch has but this library does not implement (torch raises
    ``NotImplementedError`` for modes it does not know)."""
