"""Dropout and dropout2d: inverted scaling, identity in eval, p = 0 / p = 1, masks equal to the
shared counter-based hash with the seed from the RNG, repeatability, gradients."""

import numpy as np
import pytest
import torch

import minitorch_cv as mt
import minitorch_cv.functional as F
from minitorch_cv.kernels import reference as ref
from minitorch_cv.random import next_seed
from minitorch_cv.testing import assert_matches_torch, gradcheck


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dropout_mask_is_the_shared_hash_and_scaled(dtype):
    x = np.random.default_rng(0).uniform(1, 2, (4, 5, 6)).astype(dtype)
    mt.manual_seed(11)
    seed = next_seed("cpu")
    mt.manual_seed(11)
    t = mt.Tensor(x, requires_grad=True)
    y = F.dropout(t, p=0.3)
    keep = ref.dropout_mask(x.size, 0.3, seed).reshape(x.shape)
    expected = x * keep * dtype(1 / 0.7)
    np.testing.assert_allclose(y.detach().numpy(), expected, rtol=1e-6)
    assert y.dtype == dtype
    g = np.random.default_rng(1).standard_normal(x.shape).astype(dtype)
    y.backward(mt.Tensor(g))
    np.testing.assert_allclose(t.grad.numpy(), g * keep * dtype(1 / 0.7), rtol=1e-6)


def test_dropout2d_drops_whole_channels():
    x = mt.ones(8, 16, 3, 3)
    mt.manual_seed(12)
    seed = next_seed("cpu")
    mt.manual_seed(12)
    y = F.dropout2d(x, p=0.5).numpy()
    keep = ref.dropout_mask(8 * 16, 0.5, seed).reshape(8, 16)  # i = n*C + c
    np.testing.assert_array_equal(y, np.broadcast_to(keep[:, :, None, None] * 2.0, y.shape))
    assert 0 < keep.sum() < keep.size
    y3 = F.dropout2d(mt.ones(16, 2, 2), p=0.5).numpy()  # unbatched (C, H, W)
    assert y3.shape == (16, 2, 2)
    assert all(len(np.unique(y3[c])) == 1 for c in range(16))


def test_dropout_rate_and_mean_are_preserved():
    mt.manual_seed(13)
    y = F.dropout(mt.ones(200_000), p=0.25).numpy()
    assert abs((y == 0).mean() - 0.25) < 0.005
    assert abs(y.mean() - 1.0) < 0.01
    np.testing.assert_allclose(np.unique(y), [0.0, 1 / 0.75], rtol=1e-6)


def test_dropout_identity_cases_and_p_one():
    x = mt.randn(3, 4, requires_grad=True)
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x
    assert F.dropout2d(x.reshape(3, 4, 1, 1), 0.5, training=False).shape == (3, 4, 1, 1)
    y = F.dropout(x, 1.0)
    np.testing.assert_array_equal(y.detach().numpy(), 0)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), 0)
    np.testing.assert_array_equal(F.dropout2d(mt.ones(2, 3, 2, 2), 1.0).numpy(), 0)


def test_dropout_is_repeatable_with_manual_seed():
    mt.manual_seed(5)
    a = F.dropout(mt.ones(1000), 0.5).numpy()
    b = F.dropout(mt.ones(1000), 0.5).numpy()
    mt.manual_seed(5)
    c = F.dropout(mt.ones(1000), 0.5).numpy()
    np.testing.assert_array_equal(a, c)
    assert not np.array_equal(a, b)


def test_dropout_matches_torch_when_deterministic():
    # torch's masks come from another generator; where no randomness is involved they agree
    x = np.random.default_rng(2).standard_normal((3, 4)).astype(np.float32)
    for ours, theirs in [
        (lambda x: F.dropout(x, 0.5, training=False), lambda x: torch.nn.functional.dropout(
            x, 0.5, training=False)),
        (lambda x: F.dropout(x, 1.0), lambda x: torch.nn.functional.dropout(x, 1.0)),
        (lambda x: F.dropout(x, 0.0), lambda x: torch.nn.functional.dropout(x, 0.0)),
    ]:
        assert_matches_torch(ours, theirs, x)


@pytest.mark.parametrize("fn", [F.dropout, F.dropout2d])
def test_dropout_gradcheck(fn):
    x = mt.Tensor(np.random.default_rng(3).standard_normal((2, 3, 2, 2)), requires_grad=True)

    def with_fixed_mask(x):
        mt.manual_seed(21)  # the same mask on every call gradcheck makes
        return fn(x, 0.4)

    gradcheck(with_fixed_mask, x)


@pytest.mark.parametrize("make,match", [
    (lambda: F.dropout(mt.ones(3), p=1.5), r"between 0 and 1, got 1.5"),
    (lambda: F.dropout2d(mt.ones(3), p=0.5), r"expected 4-D input \(N, C, H, W\)"),
])
def test_dropout_errors(make, match):
    with pytest.raises(ValueError, match=match):
        make()
