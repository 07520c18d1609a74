"""torch's grad-mode switches that are classes there: ``set_grad_enabled`` (a function *and* a
context manager) and ``inference_mode``.

``with set_grad_enabled(phase == "train"):`` is how torch's transfer-learning tutorial writes
its train/eval loop; calling ``set_grad_enabled(False)`` alone switches at once, as in torch.
"""

from __future__ import annotations

import contextlib
import functools

from . import function


class set_grad_enabled:  # noqa: N801 (torch's name)
    """Switch gradient recording on or off now; as a context manager, restore on exit."""

    def __init__(self, mode: bool):
        self.previous = function.is_grad_enabled()
        self.mode = bool(mode)
        function.set_grad_enabled(self.mode)

    def __enter__(self) -> None:
        function.set_grad_enabled(self.mode)

    def __exit__(self, *exc) -> None:
        function.set_grad_enabled(self.previous)

    def __call__(self, fn):
        """As a decorator: undo the switch made at construction, apply it per call."""
        function.set_grad_enabled(self.previous)
        mode = self.mode

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            previous = function.is_grad_enabled()
            function.set_grad_enabled(mode)
            try:
                return fn(*args, **kwargs)
            finally:
                function.set_grad_enabled(previous)

        return wrapper


@contextlib.contextmanager
def inference_mode(mode: bool = True):
    """``no_grad()`` under torch's inference-mode name (no graph is recorded; the extra
    speed-ups torch gets from it do not exist here)."""
    previous = function.is_grad_enabled()
    function.set_grad_enabled(not mode and previous)
    try:
        yield
    finally:
        function.set_grad_enabled(previous)
