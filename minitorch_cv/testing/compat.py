"""Run one program written in torch's idiom on minitorch_cv and on torch, and compare.

A *program* is a function of the library module, written as a student writes torch code::

    def program(torch):
        nn = torch.nn
        device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2)).to(device)
        same_weights(torch, model)              # identical weights in both libraries
        x = torch.from_numpy(inputs(seed=0, shape=(5, 4))).to(device)
        loss = model(x).logsumexp(dim=1).mean()
        loss.backward()
        return {"loss": loss, "grad": model[0].weight.grad, "device": str(device)}

    ours, theirs = run_on_both(program)       # raises AssertionError on any difference

``run_on_both`` calls ``program(minitorch_cv)`` and ``program(torch)`` and compares the two
results leaf by leaf: tensors and NumPy arrays by shape, dtype and value (``rtol``/``atol``),
Python numbers approximately, everything else (strings, bools, None, types, exceptions'
class names) exactly. Results may nest in dicts, lists and tuples (``torch.Size`` is a tuple).
Randomness is not shared between the libraries: take inputs from NumPy (``inputs``) and
weights from ``same_weights``.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

__all__ = ["inputs", "run_on_both", "same_weights", "to_numpy"]


def inputs(seed: int = 0, shape: tuple[int, ...] = (2, 3), dtype=np.float32,
           low: float | None = None, high: float | None = None) -> np.ndarray:
    """A reproducible NumPy array (standard normal, or uniform on [low, high))."""
    rng = np.random.default_rng(seed)
    if low is not None:
        return rng.uniform(low, high, size=shape).astype(dtype)
    return rng.standard_normal(shape).astype(dtype)


def same_weights(lib, model, seed: int = 0, scale: float = 0.3) -> None:
    """Overwrite every floating parameter and buffer of ``model`` with values drawn by NumPy
    from ``seed`` in ``named_parameters()`` order, so both libraries hold the same weights.

    Buffers keep their meaning: ``running_var`` is drawn positive. Works for any library with
    torch's Module API (``lib`` is ``minitorch_cv`` or ``torch``).
    """
    rng = np.random.default_rng(seed)
    with lib.no_grad():
        for name, tensor in list(model.named_parameters()) + list(model.named_buffers()):
            if not tensor.is_floating_point():
                continue
            shape = tuple(tensor.shape)
            values = rng.standard_normal(shape) * scale
            if name.endswith("running_var"):
                values = rng.uniform(0.5, 1.5, size=shape)
            array = values.astype(to_numpy(tensor).dtype)
            tensor.copy_(lib.from_numpy(array).to(tensor.device))


def to_numpy(value) -> np.ndarray:
    """A tensor of either library (any device, with or without grad) as a NumPy array."""
    if hasattr(value, "detach"):
        value = value.detach()
    if hasattr(value, "cpu"):
        value = value.cpu()
    if hasattr(value, "numpy"):
        return np.asarray(value.numpy())
    return np.asarray(value)


def _is_tensor(value) -> bool:
    return hasattr(value, "detach") and hasattr(value, "shape")


def _compare(path: str, ours, theirs, rtol: float, atol: float) -> None:
    if isinstance(ours, dict) or isinstance(theirs, dict):
        if not (isinstance(ours, dict) and isinstance(theirs, dict)):
            raise AssertionError(f"{path}: {type(ours).__name__} vs torch's "
                                 f"{type(theirs).__name__}")
        if list(ours) != list(theirs):
            raise AssertionError(f"{path}: keys {list(ours)} vs torch's {list(theirs)}")
        for key in ours:
            _compare(f"{path}[{key!r}]", ours[key], theirs[key], rtol, atol)
        return
    if _is_tensor(ours) or _is_tensor(theirs) or isinstance(ours, np.ndarray):
        if not (_is_tensor(ours) or isinstance(ours, np.ndarray)) or not (
                _is_tensor(theirs) or isinstance(theirs, np.ndarray)):
            raise AssertionError(f"{path}: {type(ours).__name__} vs torch's "
                                 f"{type(theirs).__name__} (one is a tensor, the other not)")
        got, want = to_numpy(ours), to_numpy(theirs)
        if got.shape != want.shape:
            raise AssertionError(f"{path}: shape {got.shape} vs torch's {want.shape}")
        if got.dtype != want.dtype:
            raise AssertionError(f"{path}: dtype {got.dtype} vs torch's {want.dtype}")
        if got.dtype.kind in "iub":
            np.testing.assert_array_equal(got, want, err_msg=path)
        else:
            np.testing.assert_allclose(got, want, rtol=rtol, atol=atol, err_msg=path)
        return
    if isinstance(ours, (list, tuple)) and isinstance(theirs, (list, tuple)):
        if len(ours) != len(theirs):
            raise AssertionError(f"{path}: {len(ours)} items vs torch's {len(theirs)}")
        for i, (a, b) in enumerate(zip(ours, theirs)):
            _compare(f"{path}[{i}]", a, b, rtol, atol)
        return
    if isinstance(ours, bool) or isinstance(theirs, bool):
        if ours is not theirs:
            raise AssertionError(f"{path}: {ours!r} vs torch's {theirs!r}")
        return
    if isinstance(ours, numbers.Number) and isinstance(theirs, numbers.Number):
        if type(ours) is not type(theirs) and not (
                isinstance(ours, numbers.Integral) and isinstance(theirs, numbers.Integral)):
            raise AssertionError(f"{path}: {type(ours).__name__} {ours!r} vs torch's "
                                 f"{type(theirs).__name__} {theirs!r}")
        if not math.isclose(ours, theirs, rel_tol=rtol, abs_tol=atol) and not (
                math.isnan(ours) and math.isnan(theirs)):
            raise AssertionError(f"{path}: {ours!r} vs torch's {theirs!r}")
        return
    if ours != theirs:
        raise AssertionError(f"{path}: {ours!r} vs torch's {theirs!r}")


def run_on_both(program, *args, rtol: float = 1e-5, atol: float = 1e-6, **kwargs):
    """``program(minitorch_cv, *args, **kwargs)`` and ``program(torch, ...)``, compared.

    Returns ``(ours, theirs)`` so a test can assert more. Raises ``AssertionError`` naming the
    first leaf (``result['grad']``) that differs in type, shape, dtype or value.
    """
    import torch  # noqa: PLC0415  (the comparison needs torch; the package does not)

    import minitorch_cv  # noqa: PLC0415

    ours = program(minitorch_cv, *args, **kwargs)
    theirs = program(torch, *args, **kwargs)
    _compare("result", ours, theirs, rtol, atol)
    return ours, theirs
