"""Pooling: forward, indices and gradients against torch in float32 and float64 (ceil_mode,
dilation, count_include_pad, divisor_override, adaptive windows), gradcheck, errors."""

import numpy as np
import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import minitorch_cv as mt
import minitorch_cv.functional as F
from minitorch_cv.ops.pool import pool_output_size
from minitorch_cv.testing import assert_matches_torch, gradcheck

TF = torch.nn.functional
DTYPES = st.sampled_from([np.float32, np.float64])


@st.composite
def pool_args(draw):
    """torch-valid pooling arguments (padding <= kernel // 2, output >= 1) and an input."""
    k = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    s = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    p = (draw(st.integers(0, k[0] // 2)), draw(st.integers(0, k[1] // 2)))
    d = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    H = draw(st.integers(max(1, d[0] * (k[0] - 1) + 1 - 2 * p[0]), 7))
    W = draw(st.integers(max(1, d[1] * (k[1] - 1) + 1 - 2 * p[1]), 7))
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 3)), H, W)
    ceil_mode = draw(st.booleans())
    # a dilated window can fall entirely on padding; torch then returns -inf with an index
    # outside the window (and its backward writes there), we return index -1: not compared
    for size, kk, ss, pp, dd in zip((H, W), k, s, p, d):
        out = pool_output_size(size, kk, ss, pp, dd, ceil_mode)
        assume(all(any(0 <= o * ss - pp + i * dd < size for i in range(kk))
                   for o in range(out)))
    return dict(kernel_size=k, stride=s, padding=p, dilation=d, ceil_mode=ceil_mode), shape


@settings(max_examples=25, deadline=None)
@given(args=pool_args(), dtype=DTYPES, seed=st.integers(0, 99), ties=st.booleans())
def test_max_pool2d_matches_torch(args, dtype, seed, ties):
    kw, shape = args
    rng = np.random.default_rng(seed)
    # integer values give ties: the gradient must go to the first maximum, as in torch
    x = rng.integers(-2, 3, shape) if ties else rng.standard_normal(shape)
    assert_matches_torch(lambda x: F.max_pool2d(x, **kw, return_indices=True),
                         lambda x: TF.max_pool2d(x, **kw, return_indices=True),
                         x.astype(dtype))


@settings(max_examples=25, deadline=None)
@given(args=pool_args(), dtype=DTYPES, seed=st.integers(0, 99), include_pad=st.booleans(),
       divisor=st.sampled_from([None, 3, -2]))
def test_avg_pool2d_matches_torch(args, dtype, seed, include_pad, divisor):
    kw, shape = args
    kw.pop("dilation")
    x = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    extra = dict(count_include_pad=include_pad, divisor_override=divisor)
    assert_matches_torch(lambda x: F.avg_pool2d(x, **kw, **extra),
                         lambda x: TF.avg_pool2d(x, **kw, **extra), x, kind="reduction")


@pytest.mark.parametrize("output_size", [1, 2, (3, 4), (5, None), (4, 1), (7, 7)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_adaptive_pools_match_torch(output_size, dtype):
    x = np.random.default_rng(0).standard_normal((2, 3, 7, 6)).astype(dtype)
    assert_matches_torch(lambda x: F.adaptive_avg_pool2d(x, output_size),
                         lambda x: TF.adaptive_avg_pool2d(x, output_size), x, kind="reduction")
    assert_matches_torch(lambda x: F.adaptive_max_pool2d(x, output_size, return_indices=True),
                         lambda x: TF.adaptive_max_pool2d(x, output_size, return_indices=True),
                         x)


def test_global_pooling_is_output_size_one():
    x = mt.randn(2, 3, 5, 4)
    np.testing.assert_allclose(F.adaptive_avg_pool2d(x, 1).numpy()[:, :, 0, 0],
                               x.numpy().mean(axis=(2, 3)), rtol=1e-6)
    np.testing.assert_array_equal(F.adaptive_max_pool2d(x, 1).numpy()[:, :, 0, 0],
                                  x.numpy().max(axis=(2, 3)))


@pytest.mark.parametrize("fn", [
    lambda x: F.max_pool2d(x, 2),
    lambda x: F.max_pool2d(x, (3, 2), stride=(2, 1), padding=1, dilation=(1, 2),
                           ceil_mode=True),
    lambda x: F.avg_pool2d(x, 3, 2, padding=1, ceil_mode=True),
    lambda x: F.avg_pool2d(x, (2, 3), 1, padding=(1, 1), count_include_pad=False),
    lambda x: F.avg_pool2d(x, 2, divisor_override=3),
    lambda x: F.adaptive_avg_pool2d(x, (3, 2)),
    lambda x: F.adaptive_max_pool2d(x, (2, 3)),
])
def test_pool_gradcheck(fn):
    x = mt.Tensor(np.random.default_rng(4).standard_normal((2, 2, 5, 4)), requires_grad=True)
    gradcheck(fn, x)


def test_pool_unbatched_input():
    x = np.random.default_rng(5).standard_normal((2, 5, 5)).astype(np.float32)
    assert_matches_torch(lambda x: F.max_pool2d(x, 2), lambda x: TF.max_pool2d(x, 2), x)
    assert_matches_torch(lambda x: F.avg_pool2d(x, 3, 1, 1), lambda x: TF.avg_pool2d(x, 3, 1, 1),
                         x)


@pytest.mark.parametrize("make,match", [
    (lambda: F.max_pool2d(mt.randn(2, 3), 2), r"expected 4-D input \(N, C, H, W\)"),
    (lambda: F.max_pool2d(mt.randn(1, 1, 4, 4), 3, padding=2), r"padding should be between 0"),
    (lambda: F.avg_pool2d(mt.randn(1, 1, 2, 2), 3), r"output height would be 0 < 1.*\(2 \+ 2\*0"),
    (lambda: F.max_pool2d(mt.randn(1, 1, 4, 4), 2, stride=0), r"stride must be >= 1"),
    (lambda: F.avg_pool2d(mt.randn(1, 1, 4, 4), 2, divisor_override=0), r"divisor_override"),
    (lambda: F.adaptive_avg_pool2d(mt.randn(1, 1, 4, 4), 0), r"output_size must be >= 1"),
])
def test_pool_errors_name_the_problem(make, match):
    with pytest.raises(ValueError, match=match):
        make()
