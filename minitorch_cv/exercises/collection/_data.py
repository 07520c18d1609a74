"""Inputs for the exercises' checks: small arrays whose values print exactly.

Values are multiples of 1/4 (``values``), so a failing case prints as a short literal a student
can paste; ``ties=True`` draws from a handful of values so that equal entries (max-pool ties)
are common; ``distinct`` gives all-different values, spaced far apart compared with
gradcheck's step, for functions with kinks (max, ReLU).
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st


def values(seed: int, shape, ties: bool = False, scale: int = 12) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if ties:
        return rng.integers(-2, 3, size=shape).astype(np.float64)
    return rng.integers(-scale, scale + 1, size=shape).astype(np.float64) / 4


def distinct(seed: int, shape) -> np.ndarray:
    rng = np.random.default_rng(seed)
    size = int(np.prod(shape))
    return (rng.permutation(size).astype(np.float64) - size / 2).reshape(shape) / 4


def layout(array: np.ndarray, contiguous: bool) -> np.ndarray:
    """The same values, C-contiguous or as a non-contiguous (Fortran-ordered) array."""
    if contiguous or array.ndim < 2:
        return np.ascontiguousarray(array)
    return np.asfortranarray(array)


def out_size(size: int, k: int, s: int, p: int, d: int = 1) -> int:
    return (size + 2 * p - d * (k - 1) - 1) // s + 1


@st.composite
def geometry(draw, max_batch=2, max_channels=3, max_size=7, max_kernel=3, dilation=True,
             max_pad=2, out_channels=False):
    """A window geometry (conv or pooling) whose output is at least 1x1.

    Keys: N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, out_h, out_w (and C_out), seed,
    contiguous (False: inputs are non-contiguous), ties.
    """
    kh, kw = draw(st.integers(1, max_kernel)), draw(st.integers(1, max_kernel))
    dh, dw = (draw(st.integers(1, 2)), draw(st.integers(1, 2))) if dilation else (1, 1)
    sh, sw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    ph, pw = draw(st.integers(0, max_pad)), draw(st.integers(0, max_pad))
    min_h = max(1, dh * (kh - 1) + 1 - 2 * ph)
    min_w = max(1, dw * (kw - 1) + 1 - 2 * pw)
    H = draw(st.integers(min_h, max(min_h, max_size)))
    W = draw(st.integers(min_w, max(min_w, max_size)))
    config = dict(N=draw(st.integers(1, max_batch)), C=draw(st.integers(1, max_channels)),
                  H=H, W=W, kh=kh, kw=kw, sh=sh, sw=sw, ph=ph, pw=pw, dh=dh, dw=dw,
                  out_h=out_size(H, kh, sh, ph, dh), out_w=out_size(W, kw, sw, pw, dw))
    if out_channels:
        config["C_out"] = draw(st.integers(1, max_channels))
    config.update(seed=draw(st.integers(0, 2**16)), contiguous=draw(st.booleans()),
                  ties=draw(st.booleans()))
    return config


def pool_geometry(**kwargs):
    """Pooling windows: padding at most half the kernel (PyTorch's rule)."""
    return geometry(**kwargs).filter(lambda g: g["ph"] <= g["kh"] // 2
                                     and g["pw"] <= g["kw"] // 2)
