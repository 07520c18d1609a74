"""The compatibility suite: programs written in torch's idiom, run on minitorch_cv and torch.

Each test defines a *program*, a function of the library (``def program(torch): ...``) that
uses only torch's API as a student writes it, and calls
``minitorch_cv.testing.compat.run_on_both(program)``: it runs ``program(minitorch_cv)`` and
``program(torch)`` and compares what they return (nested dicts/lists/tuples of tensors,
numbers, strings), by shape, dtype and value. Same inputs come from NumPy
(``compat.inputs(seed, shape)``), same weights from ``compat.same_weights(torch, model)``.

Files by category (issue 13): ``test_compat_devices.py``, ``test_compat_tensor_basics.py``,
``test_compat_silent.py``, ... One file per category; a new category adds a file here and a
row group in ``docs/torch_compat.md`` (checked by ``test_compat_doc.py``). See README.md.

The ``both`` fixture is ``run_on_both`` itself, for tests that prefer fixtures.
"""

import pytest

pytest.importorskip("torch")

from minitorch_cv.testing.compat import run_on_both  # noqa: E402


@pytest.fixture
def both():
    return run_on_both
