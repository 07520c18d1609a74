"""``Generator``: a seedable random stream of one's own, as ``torch.Generator``.

Code written for torch passes one where reproducibility must not depend on the global seed::

    g = minitorch_cv.Generator().manual_seed(42)
    train, valid = random_split(dataset, [0.8, 0.2], generator=g)
    loader = DataLoader(train, shuffle=True, generator=g)

It wraps a ``numpy.random.Generator`` (PCG64), so its numbers differ from torch's (Mersenne
Twister / Philox): the same seed gives a repeatable order here and a repeatable, different
order in torch.
"""

from __future__ import annotations

import numpy as np

from . import random as _random


class Generator:
    """A random stream seeded on its own (``torch.Generator(device="cpu")``).

    Args:
        device: ``"cpu"`` (draws are made on the host for every device, as ``random.py``).
    """

    def __init__(self, device="cpu"):
        self.device = str(device)
        self._seed = _random.initial_seed()
        self._rng = np.random.default_rng(self._seed)

    def manual_seed(self, seed: int) -> Generator:
        """Reseed and return ``self`` (so ``Generator().manual_seed(0)`` is one expression)."""
        if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
            raise TypeError(f"manual_seed expected an int, got {type(seed).__name__}")
        self._seed = int(seed) % 2**64  # torch also takes negative seeds, modulo 2**64
        self._rng = np.random.default_rng(self._seed)
        return self

    def seed(self) -> int:
        """Reseed from fresh OS entropy; return the new seed."""
        new_seed = int(np.random.SeedSequence().entropy % 2**63)
        self.manual_seed(new_seed)
        return new_seed

    def initial_seed(self) -> int:
        return self._seed

    def get_state(self) -> dict:
        """The stream's state (a dict here; a ByteTensor in torch)."""
        return self._rng.bit_generator.state

    def set_state(self, state: dict) -> Generator:
        self._rng.bit_generator.state = state
        return self

    @property
    def numpy(self) -> np.random.Generator:
        """The NumPy generator behind this one."""
        return self._rng

    def __repr__(self) -> str:
        return f"<minitorch_cv.Generator device={self.device} seed={self._seed}>"


def numpy_generator(generator) -> np.random.Generator:
    """The NumPy stream for a ``generator=`` argument.

    ``None`` is the global generator (``minitorch_cv.manual_seed`` makes it repeatable); a
    ``Generator``, a ``numpy.random.Generator`` or an int seed (our extension) are accepted.
    """
    if generator is None:
        return _random.generator("cpu")
    if isinstance(generator, Generator):
        return generator.numpy
    if isinstance(generator, np.random.Generator):
        return generator
    if isinstance(generator, (int, np.integer)) and not isinstance(generator, bool):
        return np.random.default_rng(int(generator))
    raise TypeError(
        f"generator must be a minitorch_cv.Generator (torch.Generator), a numpy Generator, an int "
        f"seed or None, got {type(generator).__name__}"
    )
