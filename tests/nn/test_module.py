"""nn.Module mechanics: registration, traversal, modes, hooks, to(), state dicts, repr."""

from __future__ import annotations

import copy
from collections import OrderedDict

import numpy as np
import pytest
import torch

import minitorch_cv as mt
import minitorch_cv.nn as nn
import minitorch_cv.optim as optim


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Linear(4, 3)
        self.bn = nn.BatchNorm1d(3)
        self.register_buffer("scratch", mt.zeros(2), persistent=False)
        self.scale = nn.Parameter(mt.ones(1))
        self.plain = [1, 2]  # not a module: a plain attribute

    def forward(self, x):
        return self.bn(self.conv(x)) * self.scale


class TorchBlock(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Linear(4, 3)
        self.bn = torch.nn.BatchNorm1d(3)
        self.register_buffer("scratch", torch.zeros(2), persistent=False)
        self.scale = torch.nn.Parameter(torch.ones(1))


def test_registration_and_names_match_torch():
    ours, theirs = nn.Sequential(Block(), nn.ReLU(), Block()), torch.nn.Sequential(
        TorchBlock(), torch.nn.ReLU(), TorchBlock())
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]
    assert [n for n, _ in ours.named_children()] == ["0", "1", "2"]
    assert len(list(ours.modules())) == len(list(theirs.modules()))
    assert ours[0].plain == [1, 2]
    assert "scratch" not in ours[0].state_dict()


def test_shared_parameter_counted_once_and_reassignment():
    layer = nn.Linear(2, 2)
    model = nn.Sequential(layer, layer)
    assert len(list(model.parameters())) == 2
    block = Block()
    block.conv = nn.Identity()  # replacing a module keeps one entry
    assert "conv" in block._modules and isinstance(block.conv, nn.Identity)
    with pytest.raises(TypeError, match="parameter 'scale'"):
        block.scale = mt.ones(1)
    block.scale = None
    assert "scale" not in dict(block.named_parameters())
    del block.bn
    assert not hasattr(block, "bn")


def test_train_eval_recurse_and_apply():
    model = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.Dropout(), nn.BatchNorm1d(2)))
    model.eval()
    assert all(not m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())
    seen = []
    model.apply(lambda m: seen.append(type(m).__name__))
    assert seen == ["Linear", "Dropout", "BatchNorm1d", "Sequential", "Sequential"]


def test_zero_grad_and_requires_grad():
    model = nn.Linear(3, 2)
    model(mt.randn(4, 3)).sum().backward()
    assert model.weight.grad is not None
    model.zero_grad(set_to_none=False)
    assert np.all(model.weight.grad.numpy() == 0)
    model.zero_grad()
    assert model.weight.grad is None
    model.requires_grad_(False)
    assert not any(p.requires_grad for p in model.parameters())


def test_to_dtype_keeps_parameter_objects_and_int_buffers():
    model = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    weight = model[0].weight
    opt = optim.SGD(model.parameters(), lr=0.1)
    model.to(mt.float64)
    assert model[0].weight is weight and weight.dtype == np.float64
    assert model[1].num_batches_tracked.dtype == np.int64
    model.to("cpu", dtype=mt.float32)
    assert weight.dtype == np.float32
    model[0](mt.randn(4, 3)).sum().backward()
    before = weight.array.copy()
    opt.step()
    assert not np.array_equal(before, weight.array)


def test_forward_hooks_and_handles():
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU())
    seen = []
    handle = model[0].register_forward_hook(lambda m, i, o: seen.append(o.shape))
    pre = model[1].register_forward_pre_hook(lambda m, i: (i[0] * 0,))
    out = model(mt.randn(2, 3))
    assert seen == [(2, 4)] and np.all(out.detach().numpy() == 0)
    handle.remove()
    pre.remove()
    model(mt.randn(2, 3))
    assert seen == [(2, 4)]
    replace = model.register_forward_hook(lambda m, i, o: o + 1)
    assert np.all(model(mt.randn(2, 3)).detach().numpy() >= 1)
    replace.remove()


def test_load_state_dict_from_torch_and_errors_list_every_key():
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4))
    ours = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    ours.load_state_dict(theirs.state_dict())
    np.testing.assert_array_equal(ours[0].weight.detach().numpy(),
                                  theirs[0].weight.detach().numpy())
    bad = {k: v.detach().numpy() for k, v in theirs.state_dict().items()}
    del bad["0.bias"], bad["1.running_var"]
    bad["extra.weight"] = np.zeros(1)
    bad["other"] = np.zeros(1)
    bad["0.weight"] = np.zeros((4, 5))
    bad["1.weight"] = np.zeros(3)
    with pytest.raises(RuntimeError) as info:
        ours.load_state_dict(bad)
    message = str(info.value)
    for key in ("0.bias", "1.running_var", "extra.weight", "other", "0.weight", "1.weight"):
        assert f"{key}" in message, key
    assert "size mismatch for 0.weight" in message and "(4, 5)" in message
    del bad["0.weight"], bad["1.weight"]
    missing, unexpected = ours.load_state_dict(bad, strict=False)
    assert missing == ["0.bias", "0.weight", "1.weight", "1.running_var"] or set(missing) == {
        "0.bias", "0.weight", "1.weight", "1.running_var"}
    assert unexpected == ["extra.weight", "other"]


def test_state_dict_round_trip_changes_values_not_objects():
    a, b = nn.Linear(3, 2), nn.Linear(3, 2)
    weight = b.weight
    b.load_state_dict(a.state_dict())
    assert b.weight is weight
    np.testing.assert_array_equal(a.weight.detach().numpy(), b.weight.detach().numpy())
    sd = a.state_dict()
    assert not sd["weight"].requires_grad
    assert isinstance(sd, OrderedDict)


def test_repr_matches_torch():
    ours = nn.Sequential(OrderedDict(
        conv=nn.Conv2d(3, 8, 3, stride=2, padding=1, bias=False), bn=nn.BatchNorm2d(8),
        act=nn.ReLU(inplace=True), pool=nn.MaxPool2d(2), drop=nn.Dropout(0.25),
        flat=nn.Flatten(), fc=nn.Linear(8, 10), lrelu=nn.LeakyReLU(0.2), sm=nn.Softmax(dim=1),
        ap=nn.AdaptiveAvgPool2d((1, 1)), avg=nn.AvgPool2d(3, 2), id=nn.Identity(),
        lrn=nn.LocalResponseNorm(5), inner=nn.Sequential(nn.Tanh(), nn.Sigmoid())))
    T = torch.nn  # noqa: N806
    theirs = T.Sequential(OrderedDict(
        conv=T.Conv2d(3, 8, 3, stride=2, padding=1, bias=False), bn=T.BatchNorm2d(8),
        act=T.ReLU(inplace=True), pool=T.MaxPool2d(2), drop=T.Dropout(0.25),
        flat=T.Flatten(), fc=T.Linear(8, 10), lrelu=T.LeakyReLU(0.2), sm=T.Softmax(dim=1),
        ap=T.AdaptiveAvgPool2d((1, 1)), avg=T.AvgPool2d(3, 2), id=T.Identity(),
        lrn=T.LocalResponseNorm(5), inner=T.Sequential(T.Tanh(), T.Sigmoid())))
    assert repr(ours) == repr(theirs)
    assert repr(nn.Conv2d(1, 2, 3, padding="same", dilation=2, groups=1)) == repr(
        T.Conv2d(1, 2, 3, padding="same", dilation=2))


def test_sequential_indexing_slicing_append_and_containers():
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    assert isinstance(model[0], nn.Linear) and isinstance(model[-1], nn.Linear)
    head = model[:2]
    assert isinstance(head, nn.Sequential) and len(head) == 2 and head[0] is model[0]
    model.append(nn.Sigmoid())
    assert len(model) == 4 and [type(m).__name__ for m in model][-1] == "Sigmoid"
    with pytest.raises(IndexError, match="out of range"):
        model[7]
    named = nn.Sequential(OrderedDict(a=nn.Linear(2, 2), b=nn.ReLU()))
    assert list(named.state_dict()) == ["a.weight", "a.bias"]
    layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    layers.append(nn.Linear(2, 1))
    assert len(list(layers.parameters())) == 8 and len(layers[1:]) == 3
    heads = nn.ModuleDict({"cls": nn.Linear(2, 3), "box": nn.Linear(2, 4)})
    assert list(heads.keys()) == ["cls", "box"] and "cls" in heads
    assert [n for n, _ in heads.named_parameters()] == ["cls.weight", "cls.bias", "box.weight",
                                                       "box.bias"]


def test_deepcopy_is_independent():
    model = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))
    twin = copy.deepcopy(model)
    with mt.no_grad():
        twin[0].weight.fill_(3.0)
    assert not np.all(model[0].weight.detach().numpy() == 3.0)
    assert isinstance(twin[0].weight, nn.Parameter)


def test_module_errors_are_clear():
    class Forgot(nn.Module):
        def __init__(self):
            self.layer = nn.Linear(1, 1)

    with pytest.raises(AttributeError, match="super"):
        Forgot()
    with pytest.raises(NotImplementedError):
        nn.Module()(1)
    layer = nn.Linear(1, 1)
    with pytest.raises(KeyError, match="already exists"):
        layer.register_buffer("weight", mt.zeros(1))
    with pytest.raises(KeyError, match="already exists"):
        layer.register_buffer("forward", mt.zeros(1))
    with pytest.raises(KeyError, match="invalid name"):
        layer.add_module("a.b", nn.ReLU())
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        _ = nn.Linear(1, 1).nothing


DEVICES = ["cuda-sim", pytest.param("cuda", marks=[
    pytest.mark.gpu, pytest.mark.skipif(not mt.backend.cuda_available(), reason="no GPU")])]


@pytest.mark.parametrize("device", DEVICES)
def test_model_moves_to_device_and_trains_like_on_cpu(device):
    def build():
        mt.manual_seed(0)
        return nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                             nn.MaxPool2d(2), nn.Flatten(), nn.Linear(4 * 4 * 4, 3))

    x = np.random.default_rng(0).standard_normal((2, 3, 8, 8)).astype(np.float32)
    target = mt.tensor([0, 2])
    results = []
    for where in ("cpu", device):
        model = build().to(where)
        weight = model[0].weight
        opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        for _ in range(2):
            opt.zero_grad()
            loss = nn.CrossEntropyLoss()(model(mt.tensor(x).to(where)), target.to(where))
            loss.backward()
            opt.step()
        assert model[0].weight is weight and weight.device == where
        assert model[1].running_var.device == where
        results.append({k: v.cpu().numpy() for k, v in
                        model.state_dict().items()})
    for key in results[0]:
        np.testing.assert_allclose(results[1][key], results[0][key], rtol=1e-4, atol=1e-5,
                                   err_msg=key)


def test_deleting_from_containers_renumbers_like_torch():
    import torch

    from minitorch_cv import nn as mnn

    for ours_cls, torch_cls in ((mnn.Sequential, torch.nn.Sequential),
                                (mnn.ModuleList, torch.nn.ModuleList)):
        def build(cls, lib):
            layers = [lib.Linear(2, 2), lib.ReLU(), lib.Linear(2, 3), lib.Tanh(), lib.Linear(3, 1)]
            return cls(layers) if cls in (mnn.ModuleList, torch.nn.ModuleList) else cls(*layers)

        ours, theirs = build(ours_cls, mnn), build(torch_cls, torch.nn)
        for index in (1, -1, slice(0, 2)):
            del ours[index]
            del theirs[index]
            assert [name for name, _ in ours.named_children()] == \
                [name for name, _ in theirs.named_children()]
            assert [type(m).__name__ for m in ours] == [type(m).__name__ for m in theirs]
        with pytest.raises(IndexError, match="out of range"):
            del ours[5]
