"""``Tensor.data`` is torch's: a Tensor sharing memory, without gradient; ``.array`` is raw."""

import numpy as np
import pytest
import torch

import minitorch_cv as mt


def test_data_is_a_tensor_that_shares_memory_and_has_no_grad():
    x = mt.tensor([1.0, -2.0, 3.0], requires_grad=True)
    d = x.data
    assert isinstance(d, mt.Tensor) and not d.requires_grad and d.grad_fn is None
    assert d.array is x.array  # shares memory
    d.mul_(2.0)  # not seen by autograd: no error, no version bump on x
    np.testing.assert_array_equal(x.detach().numpy(), [2.0, -4.0, 6.0])
    assert x._version == 0
    assert isinstance(x.array, np.ndarray)


def test_data_assignment_replaces_the_values_like_torch():
    ours, theirs = mt.zeros(3), torch.zeros(3)
    ours.data = mt.tensor([1.0, 2.0, 3.0])
    theirs.data = torch.tensor([1.0, 2.0, 3.0])
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    with pytest.raises(TypeError, match="must be a Tensor"):
        ours.data = np.zeros(3)


def _scratch_batch_norm(lib, x, gamma, beta, moving_mean, moving_var, momentum=0.1, eps=1e-5):
    """d2l's from-scratch batch norm, as a student writes it (updates ``.data``)."""
    mean = x.mean(dim=(0, 2, 3), keepdim=True)
    var = ((x - mean) ** 2).mean(dim=(0, 2, 3), keepdim=True)
    x_hat = (x - mean) / lib.sqrt(var + eps)
    moving_mean.data = (1.0 - momentum) * moving_mean.data + momentum * mean.data
    moving_var.data = (1.0 - momentum) * moving_var.data + momentum * var.data
    return gamma * x_hat + beta


def test_scratch_batch_norm_updating_moving_stats_through_data_matches_torch():
    rng = np.random.default_rng(0)
    x_np = rng.normal(size=(4, 3, 5, 5))
    results = []
    for lib in (mt, torch):
        x = lib.tensor(x_np, requires_grad=True)
        gamma = lib.ones((1, 3, 1, 1), dtype=lib.float64, requires_grad=True)
        beta = lib.zeros((1, 3, 1, 1), dtype=lib.float64, requires_grad=True)
        mm = lib.zeros((1, 3, 1, 1), dtype=lib.float64)
        mv = lib.ones((1, 3, 1, 1), dtype=lib.float64)
        for _ in range(3):
            y = _scratch_batch_norm(lib, x, gamma, beta, mm, mv)
        (y * lib.tensor(x_np[::-1].copy())).sum().backward()
        results.append([np.asarray(v.detach().numpy()) for v in (y, mm, mv, x.grad, gamma.grad)])
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)
    assert results[0][1].std() > 0  # the moving mean really moved


def test_data_norm_and_other_tensor_methods_work():
    p = mt.tensor([[3.0, 4.0]], requires_grad=True)
    assert float((p.data ** 2).sum()) == 25.0
    assert p.data.numpy().tolist() == [[3.0, 4.0]]  # no requires_grad error on .data
