"""Batch norm (training and eval, 2-D and 4-D, running statistics) and local response norm
against torch in float32 and float64; gradcheck with a random upstream gradient; errors."""

import numpy as np
import pytest
import torch

import minitorch_cv as mt
import minitorch_cv.functional as F
from minitorch_cv.testing import assert_matches_torch, gradcheck

TF = torch.nn.functional
SHAPES = [(6, 3), (4, 3, 5), (3, 2, 4, 5), (1, 3, 1, 2)]


def _stats(C, dtype, rng):
    mean = rng.standard_normal(C).astype(dtype)
    var = rng.uniform(0.5, 2.0, C).astype(dtype)
    return (mt.Tensor(mean.copy()), mt.Tensor(var.copy()), torch.from_numpy(mean.copy()),
            torch.from_numpy(var.copy()))


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm_matches_torch(shape, dtype, training, affine):
    rng = np.random.default_rng(0)
    C = shape[1]
    x = (rng.standard_normal(shape) * 2 + 1.5).astype(dtype)
    rm, rv, trm, trv = _stats(C, dtype, rng)
    arrays = [x]
    if affine:
        arrays += [rng.standard_normal(C).astype(dtype), rng.standard_normal(C).astype(dtype)]
    for _ in range(2):  # two steps: the second one starts from updated running stats
        assert_matches_torch(
            lambda x, *wb: F.batch_norm(x, rm, rv, *wb, training=training, momentum=0.2,
                                        eps=1e-3),
            lambda x, *wb: TF.batch_norm(x, trm, trv, *wb, training=training, momentum=0.2,
                                         eps=1e-3),
            *arrays, kind="norm")
        tol = dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-12)
        np.testing.assert_allclose(rm.numpy(), trm.numpy(), **tol)
        np.testing.assert_allclose(rv.numpy(), trv.numpy(), **tol)
        assert rm.dtype == dtype and rv.dtype == dtype


def test_batch_norm_momentum_none_is_a_cumulative_average():
    rng = np.random.default_rng(1)
    layer = torch.nn.BatchNorm2d(3, momentum=None, dtype=torch.float64)
    rm, rv = mt.zeros(3, dtype=mt.float64), mt.ones(3, dtype=mt.float64)
    for step in range(1, 4):
        x = rng.standard_normal((4, 3, 2, 2)) * step
        layer(torch.from_numpy(x))
        F.batch_norm(mt.Tensor(x), rm, rv, training=True, momentum=None,
                     num_batches_tracked=step)
        np.testing.assert_allclose(rm.numpy(), layer.running_mean.numpy(), rtol=1e-12)
        np.testing.assert_allclose(rv.numpy(), layer.running_var.numpy(), rtol=1e-12)
    with pytest.raises(ValueError, match="num_batches_tracked"):
        F.batch_norm(mt.Tensor(x), rm, rv, training=True, momentum=None)


def test_batch_norm_without_running_stats_uses_batch_stats():
    x = np.random.default_rng(2).standard_normal((5, 3, 2, 2)).astype(np.float32)
    assert_matches_torch(lambda x: F.batch_norm(x, None, None, training=True),
                         lambda x: TF.batch_norm(x, None, None, training=True), x, kind="norm")


@pytest.mark.parametrize("shape", [(5, 3), (3, 2, 3, 2)])
@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_gradcheck(shape, training):
    # gradcheck draws a random upstream gradient: with ones, grad_x would sum to ~0 and hide bugs
    rng = np.random.default_rng(3)
    C = shape[1]
    x = mt.Tensor(rng.standard_normal(shape) * 2 + 1, requires_grad=True)
    w = mt.Tensor(rng.standard_normal(C), requires_grad=True)
    b = mt.Tensor(rng.standard_normal(C), requires_grad=True)
    rm = mt.Tensor(rng.standard_normal(C))
    rv = mt.Tensor(rng.uniform(0.5, 2, C))
    # running stats are updated in place on every call; pass copies so each call sees the same
    gradcheck(lambda x, w, b: F.batch_norm(x, rm.clone(), rv.clone(), w, b, training=training),
              x, w, b)


def test_batch_norm_train_gradient_is_not_trivial():
    # the input gradient under a ones upstream gradient vanishes; under a random one it must not
    x = mt.Tensor(np.random.default_rng(4).standard_normal((4, 2, 3, 3)), requires_grad=True)
    F.batch_norm(x, None, None, training=True).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 0, atol=1e-12)
    x.grad = None
    F.batch_norm(x, None, None, training=True).backward(mt.randn(4, 2, 3, 3, dtype=mt.float64))
    assert np.abs(x.grad.numpy()).max() > 1e-3


@pytest.mark.parametrize("make,match", [
    (lambda: F.batch_norm(mt.randn(1, 3), None, None, training=True),
     r"more than 1 value per channel"),
    (lambda: F.batch_norm(mt.randn(4, 3), None, None, training=False), r"running_mean"),
    (lambda: F.batch_norm(mt.randn(4, 3, 2, 2), None, None, mt.ones(4), training=True),
     r"weight must have shape \(3,\).*\(4, 3, 2, 2\)"),
    (lambda: F.batch_norm(mt.randn(4), None, None, training=True), r"expected 2-D input"),
])
def test_batch_norm_errors_name_the_problem(make, match):
    with pytest.raises(ValueError, match=match):
        make()


@pytest.mark.parametrize("size,alpha,beta,k", [(3, 1e-4, 0.75, 1.0), (4, 0.1, 0.5, 2.0),
                                               (5, 1.0, 0.75, 1.0)])
@pytest.mark.parametrize("shape", [(2, 6, 3, 3), (2, 5, 4)])
def test_local_response_norm_matches_torch(size, alpha, beta, k, shape):
    rng = np.random.default_rng(5)
    for dtype in (np.float32, np.float64):
        assert_matches_torch(lambda x: F.local_response_norm(x, size, alpha, beta, k),
                             lambda x: TF.local_response_norm(x, size, alpha, beta, k),
                             rng.standard_normal(shape).astype(dtype), kind="transcendental")


def test_local_response_norm_gradcheck():
    x = mt.Tensor(np.random.default_rng(6).standard_normal((2, 5, 2, 3)), requires_grad=True)
    gradcheck(lambda x: F.local_response_norm(x, 3, alpha=0.5), x)
