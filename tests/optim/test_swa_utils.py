"""AveragedModel and update_bn against torch.optim.swa_utils on the same weights and data."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import minitorch_cv as mt
import minitorch_cv.nn as nn
from minitorch_cv.optim import swa_utils


def _models():
    def build(M):  # noqa: N803
        return M.Sequential(M.Conv2d(2, 3, 3), M.BatchNorm2d(3), M.ReLU(), M.Flatten(),
                            M.Linear(12, 2))

    torch.manual_seed(0)
    theirs = build(torch.nn).double()
    ours = build(nn).double()
    ours.load_state_dict(theirs.state_dict())
    return ours, theirs


def _perturb(ours, theirs, rng):
    """The same random 'training step' on both models (weights and BN statistics move)."""
    x = rng.standard_normal((4, 2, 4, 4))
    ours.train()
    theirs.train()
    ours(mt.tensor(x))
    theirs(torch.tensor(x))
    with mt.no_grad(), torch.no_grad():
        for p, q in zip(ours.parameters(), theirs.parameters()):
            delta = rng.standard_normal(q.shape) * 0.1
            p.add_(delta)
            q.add_(torch.tensor(delta))


@pytest.mark.parametrize("use_buffers", [False, True])
@pytest.mark.parametrize("ema", [False, True])
def test_averaged_model_matches_torch(use_buffers, ema):
    ours, theirs = _models()
    kwargs = {"use_buffers": use_buffers}
    avg_ours = swa_utils.AveragedModel(
        ours, avg_fn=swa_utils.get_ema_avg_fn(0.9) if ema else None, **kwargs)
    avg_theirs = torch.optim.swa_utils.AveragedModel(
        theirs, avg_fn=torch.optim.swa_utils.get_ema_avg_fn(0.9) if ema else None, **kwargs)
    rng = np.random.default_rng(0)
    for _ in range(6):
        _perturb(ours, theirs, rng)
        avg_ours.update_parameters(ours)
        avg_theirs.update_parameters(theirs)
    mine, ref = avg_ours.state_dict(), avg_theirs.state_dict()
    assert list(mine) == list(ref)
    for key in ref:
        np.testing.assert_allclose(mine[key].numpy(), ref[key].numpy(), rtol=1e-12,
                                   atol=1e-12, err_msg=key)
    assert avg_ours.n_averaged.item() == 6
    x = rng.standard_normal((2, 2, 4, 4))
    avg_ours.eval()
    avg_theirs.eval()
    np.testing.assert_allclose(avg_ours(mt.tensor(x)).detach().numpy(),
                               avg_theirs(torch.tensor(x)).detach().numpy(), rtol=1e-10)
    # the average is a copy: training the source model does not move it
    before = avg_ours.module[0].weight.array.copy()
    with mt.no_grad():
        ours[0].weight.add_(1.0)
    np.testing.assert_array_equal(avg_ours.module[0].weight.array, before)


def test_update_bn_matches_torch_and_restores_mode_and_momentum():
    ours, theirs = _models()
    rng = np.random.default_rng(1)
    batches = [rng.standard_normal((5, 2, 4, 4)) for _ in range(4)]
    loader_ours = [(mt.tensor(b), mt.zeros(5)) for b in batches]
    loader_theirs = [(torch.tensor(b), torch.zeros(5)) for b in batches]
    ours.eval()
    theirs.eval()
    swa_utils.update_bn(loader_ours, ours)
    torch.optim.swa_utils.update_bn(loader_theirs, theirs)
    for (name, b), (_, c) in zip(ours.named_buffers(), theirs.named_buffers()):
        np.testing.assert_allclose(b.numpy(), c.numpy(), rtol=1e-10, atol=1e-12, err_msg=name)
    assert not ours.training and ours[1].momentum == 0.1
    swa_utils.update_bn([mt.tensor(b) for b in batches], ours)  # bare tensors work too
    with pytest.raises(ValueError, match="decay"):
        swa_utils.get_ema_avg_fn(1.5)


@pytest.mark.parametrize("kwargs", [{"swa_lr": 0.05}, {"swa_lr": [0.01, 0.2], "anneal_epochs": 3,
                                     "anneal_strategy": "linear"}, {"swa_lr": 0.02,
                                                                    "anneal_epochs": 0}])
def test_swalr_matches_torch(kwargs):
    ours_p, theirs_p = nn.Parameter(mt.zeros(2)), torch.nn.Parameter(torch.zeros(2))
    extra_ours, extra_theirs = nn.Parameter(mt.zeros(1)), torch.nn.Parameter(torch.zeros(1))
    opt_ours = mt.optim.SGD([{"params": [ours_p]}, {"params": [extra_ours], "lr": 0.3}], lr=0.5)
    opt_theirs = torch.optim.SGD([{"params": [theirs_p]}, {"params": [extra_theirs], "lr": 0.3}],
                                 lr=0.5)
    sched_ours = swa_utils.SWALR(opt_ours, **kwargs)
    sched_theirs = torch.optim.swa_utils.SWALR(opt_theirs, **kwargs)
    for step in range(15):
        np.testing.assert_allclose(sched_ours.get_last_lr(), sched_theirs.get_last_lr(),
                                   rtol=1e-13, err_msg=f"step {step}")
        opt_ours.step()
        opt_theirs.step()
        sched_ours.step()
        sched_theirs.step()
