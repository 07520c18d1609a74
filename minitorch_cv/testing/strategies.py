"""Hypothesis strategies in one module: small, bounded, always-valid draws.

Students use them too: ``@given(arrays())`` draws a float64 array of a small random shape.
``non_contiguous`` turns any array into a strided view (a transposed copy transposed back),
the layout bugs hide in.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

FLOATS = st.floats(-3.0, 3.0, allow_nan=False, allow_infinity=False, width=64)


def shapes(min_dims: int = 1, max_dims: int = 4, min_side: int = 1, max_side: int = 4):
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                            max_side=max_side)


def arrays(shape=None, dtype=np.float64, elements=FLOATS):
    """Arrays of ``shape`` (or a drawn small shape) with bounded finite values."""
    return hnp.arrays(dtype, shapes() if shape is None else shape, elements=elements)


@st.composite
def broadcastable_pair(draw, max_dims: int = 3):
    """Two shapes that broadcast together (dims dropped or set to 1 on either side)."""
    shape = draw(shapes(max_dims=max_dims))
    first, second = list(shape), list(shape)
    for side in (first, second):
        for i in range(len(side)):
            if draw(st.booleans()) and draw(st.booleans()):
                side[i] = 1
    drop = draw(st.integers(0, len(second) - 1))
    return tuple(first), tuple(second[drop:])


@st.composite
def non_contiguous(draw, array_strategy):
    """A view of a drawn array with the same values but non-contiguous strides."""
    array = draw(array_strategy)
    if array.ndim < 2:
        doubled = np.repeat(array, 2)
        return doubled[::2]
    order = list(range(array.ndim))[::-1]
    return np.ascontiguousarray(array.transpose(order)).transpose(order)


def positive_arrays(shape=None):
    return arrays(shape, elements=st.floats(0.2, 3.0, width=64))


@st.composite
def conv_configs(draw, max_batch: int = 2, max_channels: int = 3, max_size: int = 7,
                 max_kernel: int = 3):
    """A convolution configuration whose output is at least 1x1 (and groups divide channels).

    Returns a dict with N, C, H, W, C_out, kh, kw, sh, sw, ph, pw, dh, dw, groups, out_h, out_w.
    """
    groups = draw(st.integers(1, 2))
    C = groups * draw(st.integers(1, max_channels))
    C_out = groups * draw(st.integers(1, max_channels))
    kh, kw = draw(st.integers(1, max_kernel)), draw(st.integers(1, max_kernel))
    dh, dw = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    sh, sw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    ph, pw = draw(st.integers(0, 2)), draw(st.integers(0, 2))
    min_h = max(1, dh * (kh - 1) + 1 - 2 * ph)
    min_w = max(1, dw * (kw - 1) + 1 - 2 * pw)
    H = draw(st.integers(min_h, max(min_h, max_size)))
    W = draw(st.integers(min_w, max(min_w, max_size)))
    out_h = (H + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    out_w = (W + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    return dict(N=draw(st.integers(1, max_batch)), C=C, H=H, W=W, C_out=C_out, kh=kh, kw=kw,
                sh=sh, sw=sw, ph=ph, pw=pw, dh=dh, dw=dw, groups=groups, out_h=out_h,
                out_w=out_w)
