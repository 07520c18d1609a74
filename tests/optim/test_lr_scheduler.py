"""Every scheduler against torch for 30 steps: the same learning rates (and momentum for
OneCycleLR) at every step, and the same parameters at the end (float64, 1e-10)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import minitorch_cv as mt
import minitorch_cv.nn as nn
import minitorch_cv.optim as optim
from minitorch_cv.optim import lr_scheduler

SCHEDULERS = [
    ("LambdaLR", {"lr_lambda": lambda epoch: min(1.0, (epoch + 1) / 5) * 0.97**epoch}, "SGD"),
    ("LambdaLR", {"lr_lambda": [lambda e: 1 / (1 + e), lambda e: 0.9**e]}, "Adam"),
    ("StepLR", {"step_size": 7, "gamma": 0.5}, "SGD"),
    ("MultiStepLR", {"milestones": [3, 10, 10, 22], "gamma": 0.3}, "SGD"),
    ("ExponentialLR", {"gamma": 0.9}, "Adam"),
    ("CosineAnnealingLR", {"T_max": 8}, "SGD"),
    ("CosineAnnealingLR", {"T_max": 12, "eta_min": 0.01}, "Adam"),
    ("OneCycleLR", {"max_lr": 0.5, "total_steps": 30}, "SGD"),
    ("OneCycleLR", {"max_lr": [0.5, 0.2], "epochs": 3, "steps_per_epoch": 10,
                    "anneal_strategy": "linear", "pct_start": 0.25}, "SGD"),
    ("OneCycleLR", {"max_lr": 0.01, "total_steps": 31, "three_phase": True,
                    "div_factor": 10.0}, "Adam"),
    ("OneCycleLR", {"max_lr": 0.3, "total_steps": 30, "cycle_momentum": False}, "RMSprop"),
    ("LinearLR", {}, "SGD"),
    ("LinearLR", {"start_factor": 0.1, "end_factor": 0.5, "total_iters": 12}, "Adam"),
    ("ConstantLR", {"factor": 0.25, "total_iters": 7}, "SGD"),
    ("CosineAnnealingWarmRestarts", {"T_0": 4}, "SGD"),
    ("CosineAnnealingWarmRestarts", {"T_0": 3, "T_mult": 2, "eta_min": 0.001}, "Adam"),
]


def _sequential(lib, optimizer, kind):
    """Warm-up then decay, as modern training recipes write it."""
    S = lib.optim.lr_scheduler
    if kind == "cosine":
        parts = [S.LinearLR(optimizer, start_factor=0.1, total_iters=5),
                 S.CosineAnnealingLR(optimizer, T_max=20)]
        return S.SequentialLR(optimizer, parts, milestones=[5])
    parts = [S.ConstantLR(optimizer, factor=0.5, total_iters=3),
             S.ExponentialLR(optimizer, gamma=0.9), S.StepLR(optimizer, 4, gamma=0.5),
             S.MultiStepLR(optimizer, [3, 5], gamma=0.5)]
    return S.SequentialLR(optimizer, parts, milestones=[4, 12, 20])


@pytest.mark.parametrize("kind", ["cosine", "chain"])
def test_sequential_lr_matches_torch(kind):
    ours, theirs, opt_ours, opt_theirs, grads = _setup("SGD")
    sched_ours, sched_theirs = _sequential(mt, opt_ours, kind), _sequential(torch, opt_theirs,
                                                                            kind)
    assert sched_ours.get_last_lr() == sched_theirs.get_last_lr()
    for step in range(len(grads)):
        opt_ours.step()
        opt_theirs.step()
        sched_ours.step()
        sched_theirs.step()
        np.testing.assert_allclose(sched_ours.get_last_lr(), sched_theirs.get_last_lr(),
                                   rtol=1e-13, atol=0, err_msg=f"step {step}")
        assert [g["lr"] for g in opt_ours.param_groups] == pytest.approx(
            [g["lr"] for g in opt_theirs.param_groups], rel=1e-13)


def _setup(optimizer_name, steps=30, seed=0):
    rng = np.random.default_rng(seed)
    initial = [rng.standard_normal((3, 2)), rng.standard_normal(4)]
    grads = [[rng.standard_normal(a.shape) for a in initial] for _ in range(steps)]
    ours = [nn.Parameter(mt.tensor(a)) for a in initial]
    theirs = [torch.nn.Parameter(torch.tensor(a)) for a in initial]
    kwargs = {"lr": 0.1, "momentum": 0.9} if optimizer_name == "SGD" else {"lr": 0.1}
    def make(lib, ps):
        return (getattr(lib, optimizer_name)(
            [{"params": ps[:1]}, {"params": ps[1:], "lr": 0.05}], **kwargs))
    return ours, theirs, make(optim, ours), make(torch.optim, theirs), grads


@pytest.mark.parametrize("name,kwargs,optimizer_name", SCHEDULERS,
                         ids=[f"{s[0]}-{i}" for i, s in enumerate(SCHEDULERS)])
def test_scheduler_matches_torch(name, kwargs, optimizer_name):
    ours, theirs, opt_ours, opt_theirs, grads = _setup(optimizer_name)
    sched_ours = getattr(lr_scheduler, name)(opt_ours, **kwargs)
    sched_theirs = getattr(torch.optim.lr_scheduler, name)(opt_theirs, **kwargs)
    assert sched_ours.get_last_lr() == sched_theirs.get_last_lr()
    for step, step_grads in enumerate(grads):
        for p, q, g in zip(ours, theirs, step_grads):
            p.grad, q.grad = mt.tensor(g), torch.tensor(g)
        opt_ours.step()
        opt_theirs.step()
        sched_ours.step()
        sched_theirs.step()
        np.testing.assert_allclose(sched_ours.get_last_lr(), sched_theirs.get_last_lr(),
                                   rtol=1e-13, atol=0, err_msg=f"step {step}")
        for g_ours, g_theirs in zip(opt_ours.param_groups, opt_theirs.param_groups):
            for key in ("momentum", "betas"):
                if key in g_theirs:
                    np.testing.assert_allclose(g_ours[key], g_theirs[key], rtol=1e-13)
    for p, q in zip(ours, theirs):
        np.testing.assert_allclose(p.array, q.detach().numpy(), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("kwargs", [
    {},
    {"mode": "max", "factor": 0.5, "patience": 2, "threshold": 0.1, "cooldown": 2},
    {"patience": 1, "threshold_mode": "abs", "threshold": 0.05, "min_lr": [0.02, 0.0],
     "eps": 1e-3},
])
def test_reduce_on_plateau_matches_torch(kwargs):
    ours, theirs, opt_ours, opt_theirs, grads = _setup("SGD")
    sched_ours = lr_scheduler.ReduceLROnPlateau(opt_ours, **kwargs)
    sched_theirs = torch.optim.lr_scheduler.ReduceLROnPlateau(opt_theirs, **kwargs)
    metrics = np.concatenate([np.linspace(1.0, 0.5, 6), np.full(10, 0.5),
                              np.linspace(0.5, 0.8, 8), np.full(6, 0.3)])
    for step, (metric, step_grads) in enumerate(zip(metrics, grads)):
        for p, q, g in zip(ours, theirs, step_grads):
            p.grad, q.grad = mt.tensor(g), torch.tensor(g)
        opt_ours.step()
        opt_theirs.step()
        sched_ours.step(metric)
        sched_theirs.step(metric)
        assert sched_ours.get_last_lr() == sched_theirs.get_last_lr(), f"step {step}"
        assert sched_ours.num_bad_epochs == sched_theirs.num_bad_epochs
    for p, q in zip(ours, theirs):
        np.testing.assert_allclose(p.array, q.detach().numpy(), rtol=1e-10, atol=1e-10)


def test_scheduler_state_dict_resume():
    _, _, opt, _, _ = _setup("SGD")
    sched = lr_scheduler.CosineAnnealingLR(opt, T_max=10)
    for _ in range(4):
        sched.step()
    state = sched.state_dict()
    assert "optimizer" not in state and state["last_epoch"] == 4
    expected = []
    for _ in range(3):
        sched.step()
        expected.append(sched.get_last_lr())
    _, _, opt2, _, _ = _setup("SGD")
    for group, lr in zip(opt2.param_groups, state["_last_lr"]):
        group["lr"] = lr
        group["initial_lr"] = lr
    resumed = lr_scheduler.CosineAnnealingLR(opt2, T_max=10)
    resumed.load_state_dict(state)
    got = []
    for _ in range(3):
        resumed.step()
        got.append(resumed.get_last_lr())
    np.testing.assert_allclose(got, expected, rtol=1e-13)


def test_scheduler_errors():
    _, _, opt, _, _ = _setup("SGD")
    with pytest.raises(TypeError, match="not an Optimizer"):
        lr_scheduler.StepLR(object(), 3)
    with pytest.raises(ValueError, match="total_steps"):
        lr_scheduler.OneCycleLR(opt, max_lr=0.1)
    one = lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=2)
    one.step()
    one.step()
    with pytest.raises(ValueError, match="Tried to step 3 times"):
        one.step()
    with pytest.raises(ValueError, match="Factor"):
        lr_scheduler.ReduceLROnPlateau(opt, factor=1.5)
    _, _, rms, _, _ = _setup("RMSprop")
    with pytest.raises(ValueError, match="momentum"):
        lr_scheduler.OneCycleLR(_NoMomentum(rms), max_lr=0.1, total_steps=3)


class _NoMomentum(optim.Optimizer):
    """An optimizer without momentum or betas, to check OneCycleLR's validation."""

    def __init__(self, template):
        super().__init__(template.param_groups[0]["params"], {"lr": 0.1})
