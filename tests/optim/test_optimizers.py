"""Each optimizer fed the same gradients as torch for 30 steps ends with the same parameters
(float64, 1e-10); param groups, zero_grad and state dicts behave as torch's."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import minitorch_cv as mt
import minitorch_cv.nn as nn
import minitorch_cv.optim as optim

CONFIGS = [
    ("SGD", {"lr": 0.1}),
    ("SGD", {"lr": 0.05, "momentum": 0.9}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "dampening": 0.3, "weight_decay": 1e-2}),
    ("SGD", {"lr": 0.05, "momentum": 0.8, "nesterov": True, "weight_decay": 1e-3}),
    ("SGD", {"lr": 0.05, "momentum": 0.5, "maximize": True}),
    ("Adam", {}),
    ("Adam", {"lr": 0.01, "betas": (0.8, 0.99), "eps": 1e-6, "weight_decay": 0.1}),
    ("Adam", {"lr": 0.01, "amsgrad": True}),
    ("Adam", {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("AdamW", {"lr": 0.01}),
    ("AdamW", {"lr": 0.01, "weight_decay": 0.3, "amsgrad": True}),
    ("RMSprop", {}),
    ("RMSprop", {"lr": 0.01, "alpha": 0.9, "momentum": 0.7, "weight_decay": 0.01}),
    ("RMSprop", {"lr": 0.005, "centered": True, "momentum": 0.5}),
    ("RMSprop", {"lr": 0.005, "centered": True}),
    ("Adagrad", {}),
    ("Adagrad", {"lr": 0.05, "lr_decay": 0.01, "weight_decay": 0.1,
                 "initial_accumulator_value": 0.5, "eps": 1e-8}),
    ("Adagrad", {"lr": 0.05, "maximize": True}),
    ("Adadelta", {}),
    ("Adadelta", {"lr": 0.5, "rho": 0.8, "eps": 1e-5, "weight_decay": 0.05}),
    ("Adadelta", {"maximize": True}),
]


def _run_both(name, kwargs, steps=30, seed=0):
    rng = np.random.default_rng(seed)
    shapes = [(4, 3), (3,), (2, 2, 2)]
    initial = [rng.standard_normal(s) for s in shapes]
    grads = [[rng.standard_normal(s) for s in shapes] for _ in range(steps)]
    ours = [nn.Parameter(mt.tensor(a)) for a in initial]
    theirs = [torch.nn.Parameter(torch.tensor(a)) for a in initial]
    # two param groups, the second with its own lr, to exercise group handling
    opt_ours = getattr(optim, name)([{"params": ours[:2]},
                                     {"params": ours[2:], "lr": 0.003}], **kwargs)
    opt_theirs = getattr(torch.optim, name)([{"params": theirs[:2]},
                                             {"params": theirs[2:], "lr": 0.003}], **kwargs)
    for step_grads in grads:
        for p, q, g in zip(ours, theirs, step_grads):
            p.grad = mt.tensor(g)
            q.grad = torch.tensor(g)
        opt_ours.step()
        opt_theirs.step()
    return ours, theirs, opt_ours, opt_theirs


@pytest.mark.parametrize("name,kwargs", CONFIGS, ids=[f"{n}-{i}" for i, (n, _) in
                                                      enumerate(CONFIGS)])
def test_thirty_steps_match_torch(name, kwargs):
    ours, theirs, opt_ours, opt_theirs = _run_both(name, kwargs)
    for p, q in zip(ours, theirs):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-10,
                                   atol=1e-10)
    # torch's state keys and values, in torch's state_dict layout
    sd_ours, sd_theirs = opt_ours.state_dict(), opt_theirs.state_dict()
    assert sd_ours["state"].keys() == sd_theirs["state"].keys()
    for index, state in sd_theirs["state"].items():
        assert set(sd_ours["state"][index]) == set(state)
        for key, value in state.items():
            mine = sd_ours["state"][index][key]
            if key == "step":
                assert mine == value.item()
            else:
                np.testing.assert_allclose(mine.numpy(), value.numpy(), rtol=1e-10, atol=1e-12)
    for g_ours, g_theirs in zip(sd_ours["param_groups"], sd_theirs["param_groups"]):
        assert g_ours["params"] == g_theirs["params"]
        for key in ("lr", "weight_decay"):
            assert g_ours[key] == g_theirs[key]


@pytest.mark.parametrize("name,kwargs", [CONFIGS[2], CONFIGS[7], CONFIGS[13]],
                         ids=["SGD", "Adam", "RMSprop"])
def test_state_dict_resume_continues_identically(name, kwargs):
    full, _, _, _ = _run_both(name, kwargs, steps=30)
    rng = np.random.default_rng(0)
    shapes = [(4, 3), (3,), (2, 2, 2)]
    initial = [rng.standard_normal(s) for s in shapes]
    grads = [[rng.standard_normal(s) for s in shapes] for _ in range(30)]
    params = [nn.Parameter(mt.tensor(a)) for a in initial]

    def make(ps):
        return getattr(optim, name)([{"params": ps[:2]}, {"params": ps[2:], "lr": 0.003}],
                                    **kwargs)

    first = make(params)
    for step_grads in grads[:12]:
        for p, g in zip(params, step_grads):
            p.grad = mt.tensor(g)
        first.step()
    saved = first.state_dict()
    resumed_params = [nn.Parameter(mt.tensor(p.array.copy())) for p in params]
    resumed = make(resumed_params)
    resumed.load_state_dict(saved)
    for step_grads in grads[12:]:
        for p, g in zip(resumed_params, step_grads):
            p.grad = mt.tensor(g)
        resumed.step()
    for p, q in zip(resumed_params, full):
        np.testing.assert_array_equal(p.array, q.array)


def test_param_groups_zero_grad_and_validation():
    model = nn.Sequential(nn.Linear(3, 2), nn.Linear(2, 1))
    opt = optim.SGD([{"params": model[0].parameters()},
                     {"params": model[1].parameters(), "lr": 0.5}], lr=0.1, momentum=0.9)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5]
    assert opt.param_groups[1]["momentum"] == 0.9
    model(mt.randn(4, 3)).sum().backward()
    opt.zero_grad(set_to_none=False)
    assert all(np.all(p.grad.numpy() == 0) for p in model.parameters())
    opt.zero_grad()
    assert all(p.grad is None for p in model.parameters())
    extra = nn.Parameter(mt.zeros(2))
    opt.add_param_group({"params": [extra], "lr": 1.0})
    assert opt.param_groups[2]["momentum"] == 0.9
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [extra]})
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.Adam([])
    with pytest.raises(TypeError, match="iterable"):
        optim.Adam(extra)
    with pytest.raises(ValueError, match="Nesterov"):
        optim.SGD(model.parameters(), lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="beta"):
        optim.Adam(model.parameters(), betas=(1.0, 0.9))
    assert "Parameter Group 0" in repr(opt)
    named = optim.SGD(model.named_parameters(), lr=0.1)
    assert named.param_groups[0]["params"] == list(model.parameters())


def test_step_is_not_recorded_and_bumps_versions():
    layer = nn.Linear(2, 1)
    opt = optim.Adam(layer.parameters(), lr=0.1)
    out = layer(mt.randn(3, 2)).sum()
    out.backward()
    version = layer.weight._version
    opt.step()
    assert layer.weight._version == version + 1
    assert layer.weight.grad_fn is None and layer.weight.requires_grad


def test_closure_is_called_with_grad_enabled():
    layer = nn.Linear(2, 1)
    x = mt.randn(5, 2)
    opt = optim.SGD(layer.parameters(), lr=0.1)

    def closure():
        opt.zero_grad()
        loss = (layer(x) ** 2).mean()
        loss.backward()
        return loss

    first = opt.step(closure).item()
    second = opt.step(closure).item()
    assert second < first
