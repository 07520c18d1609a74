"""Dropout masks on the CPU (Numba) from a counter-based hash, identical on every device.

No random array is drawn: element ``i`` is kept iff ``u(seed, i) >= p``, where ``u`` hashes the
pair ``(seed, i)`` (SplitMix64's finaliser, uint64 arithmetic that wraps as in C)::

    z = seed + (i + 1) * 0x9E3779B97F4A7C15
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
    z = (z ^ (z >> 27)) * 0x94D049BB133111EB
    z = z ^ (z >> 31)
    u = (z >> 40) * 2**-24                      # 24 random bits in [0, 1)

So the CPU, the GPU and the simulated GPU produce the same mask bit for bit, and each element
can be computed by any thread in any order.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

_GOLDEN_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_MIX_1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX_2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S40 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(40)


@njit(parallel=True, cache=True)
def _dropout_mask(shape_n, threshold, seed):
    keep = np.empty(shape_n, dtype=np.uint8)
    for i in prange(shape_n):
        z = seed + np.uint64(i + 1) * _GOLDEN_GAMMA
        z = (z ^ (z >> _S30)) * _MIX_1
        z = (z ^ (z >> _S27)) * _MIX_2
        z = z ^ (z >> _S31)
        keep[i] = 1 if (z >> _S40) >= threshold else 0
    return keep


def dropout_mask(shape_n, p, seed):
    """keep (shape_n,) uint8: 1 where element ``i`` survives, i.e. ``u(seed, i) >= p``.

    ``u = (z >> 40) * 2**-24 >= p`` is tested as the exact integer comparison
    ``(z >> 40) >= ceil(p * 2**24)`` (multiplying by a power of two is exact), so no
    float rounding can differ between devices.

    Loop::

        for i in range(shape_n):
            keep[i] = u(seed, i) >= p
    """
    threshold = np.uint64(min(math.ceil(float(p) * 2.0**24), 2**24))
    # as plain Python (NUMBA_DISABLE_JIT=1) NumPy scalars warn when uint64 wraps; here it must
    with np.errstate(over="ignore"):
        return _dropout_mask(int(shape_n), threshold, np.uint64(int(seed) % 2**64))
