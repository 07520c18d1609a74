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


class Generator:
    """A generator of its own, as ``torch.Generator``: ``Generator().manual_seed(42)``.

    Functions that take ``generator=`` (``rand``, ``randn``, ``randint``, ``randperm``,
    ``normal``, data splitting and shuffling) draw from it instead of the global source, so
    one stream can be made repeatable without reseeding everything.
    """

    def __init__(self, device="cpu"):
        self.device = device
        self._seed = _DEFAULT_SEED
        self.numpy_generator = np.random.Generator(np.random.PCG64(self._seed))

    def manual_seed(self, seed: int) -> Generator:
        if not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"manual_seed expects a non-negative integer, got {seed!r}")
        self._seed = int(seed)
        self.numpy_generator = np.random.Generator(np.random.PCG64(self._seed))
        return self

    def initial_seed(self) -> int:
        return self._seed

    def seed(self) -> int:
        """Reseed from fresh entropy (as torch) and return the new seed."""
        return self.manual_seed(int(np.random.SeedSequence().entropy % 2**63)).initial_seed()

    def get_state(self) -> dict:
        return self.numpy_generator.bit_generator.state

    def set_state(self, state: dict) -> Generator:
        self.numpy_generator.bit_generator.state = state
        return self


def seed() -> int:
    """Seed every device's generator from fresh entropy (as ``torch.seed``); return the seed."""
    new_seed = int(np.random.SeedSequence().entropy % 2**63)
    manual_seed(new_seed)
    return new_seed
