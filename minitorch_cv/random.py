"""One seedable source of randomness per device.

Initialisation, dropout masks, shuffling and augmentation all draw from here, so
``minitorch_cv.manual_seed(n)`` makes a whole run repeatable.

- ``generator("cpu")`` is a ``numpy.random.Generator`` (PCG64). ``"cuda-sim"`` shares it: a
  simulated-GPU run draws the same numbers as a CPU run with the same seed.
- Device kernels that need random bits (dropout) do not draw arrays from a generator: they take
  a 64-bit ``seed`` drawn here and hash ``(seed, element index)`` with the same counter-based
  function on every device, so CPU, simulated GPU and GPU give identical masks.
"""

from __future__ import annotations

import numpy as np

_DEFAULT_SEED = 0x5EED
_generators: dict[str, np.random.Generator] = {}
_initial_seed = _DEFAULT_SEED


def manual_seed(seed: int) -> None:
    """Seed every device's generator (as ``torch.manual_seed``)."""
    global _initial_seed
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"manual_seed expects a non-negative integer, got {seed!r}")
    _initial_seed = int(seed)
    _generators.clear()


def initial_seed() -> int:
    return _initial_seed


def generator(device: str = "cpu") -> np.random.Generator:
    """The NumPy generator for ``device`` (host-side draws; ``cuda`` copies results over)."""
    key = "cpu" if device in ("cpu", "cuda-sim") else device
    gen = _generators.get(key)
    if gen is None:
        # distinct but deterministic streams per device
        gen = np.random.Generator(np.random.PCG64([_initial_seed, len(key)]))
        _generators[key] = gen
    return gen


def next_seed(device: str = "cpu") -> int:
    """A fresh 64-bit seed for a counter-based kernel (dropout)."""
    return int(generator(device).integers(0, 2**63 - 1, dtype=np.int64))


def get_state() -> dict:
    """Every generator's state, as plain data (a checkpoint can hold it): restore it with
    ``set_state`` to continue the same random stream (resumed training)."""
    return {"initial_seed": _initial_seed,
            "generators": {key: gen.bit_generator.state for key, gen in _generators.items()}}


def set_state(state: dict) -> None:
    """Restore what ``get_state`` returned."""
    global _initial_seed
    generators = {}
    for key, bit_state in state["generators"].items():
        bits = np.random.PCG64()
        bits.state = bit_state
        generators[key] = np.random.Generator(bits)
    _initial_seed = int(state["initial_seed"])
    _generators.clear()
    _generators.update(generators)
