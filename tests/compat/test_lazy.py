"""Lazy layers as the current d2l edition writes its CNNs: LeNet and BNLeNet with
``nn.LazyConv2d`` / ``nn.LazyLinear`` / ``nn.LazyBatchNorm2d``, run on minitorch_cv and on torch
with the same weights; the placeholders before the first forward behave as torch's."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

import minitorch_cv as mt
import minitorch_cv.nn as mnn
from minitorch_cv import summary


def lenet(nn, batch_norm: bool = False, num_classes: int = 10):
    """d2l's LeNet (chapter 7.6) and BNLeNet (8.5), verbatim but for the library."""
    if batch_norm:
        return nn.Sequential(
            nn.LazyConv2d(6, kernel_size=5), nn.LazyBatchNorm2d(), nn.Sigmoid(),
            nn.AvgPool2d(kernel_size=2, stride=2),
            nn.LazyConv2d(16, kernel_size=5), nn.LazyBatchNorm2d(), nn.Sigmoid(),
            nn.AvgPool2d(kernel_size=2, stride=2), nn.Flatten(),
            nn.LazyLinear(120), nn.LazyBatchNorm1d(), nn.Sigmoid(),
            nn.LazyLinear(84), nn.LazyBatchNorm1d(), nn.Sigmoid(),
            nn.LazyLinear(num_classes))
    return nn.Sequential(
        nn.LazyConv2d(6, kernel_size=5, padding=2), nn.Sigmoid(),
        nn.AvgPool2d(kernel_size=2, stride=2),
        nn.LazyConv2d(16, kernel_size=5), nn.Sigmoid(),
        nn.AvgPool2d(kernel_size=2, stride=2),
        nn.Flatten(),
        nn.LazyLinear(120), nn.Sigmoid(),
        nn.LazyLinear(84), nn.Sigmoid(),
        nn.LazyLinear(num_classes))


def init_cnn(lib):
    """d2l's ``init_cnn``: it tests ``type(module) ==``, so lazy layers must have become
    ordinary ones by the time it runs."""
    def init(module):
        if type(module) is lib.nn.Linear or type(module) is lib.nn.Conv2d:
            lib.nn.init.xavier_uniform_(module.weight)
    return init


LENET_PARAMS = 156 + 2416 + 48120 + 10164 + 850  # conv1, conv2, fc1, fc2, fc3


def _numpy(t):
    return t.detach().numpy()


@pytest.mark.parametrize("batch_norm", [False, True], ids=["LeNet", "BNLeNet"])
def test_d2l_lenet_with_lazy_layers_matches_torch(batch_norm):
    mt.manual_seed(0)
    ours, theirs = lenet(mnn, batch_norm), lenet(torch.nn, batch_norm)
    for model, lib in ((ours, mt), (theirs, torch)):
        with pytest.raises(ValueError, match="uninitialized parameter"):
            sum(p.numel() for p in model.parameters())
        model(lib.zeros(2, 1, 28, 28))  # d2l's dry run (apply_init / layer_summary)
        model.apply(init_cnn(lib))
    # the lazy layers became ordinary ones, with the sizes torch infers
    assert [type(m).__name__ for m in ours] == [type(m).__name__ for m in theirs]
    assert "Lazy" not in repr(ours) and repr(ours) == repr(theirs)
    counts = [sum(p.numel() for p in m.parameters()) for m in (ours, theirs)]
    assert counts[0] == counts[1]
    if not batch_norm:
        assert counts[0] == LENET_PARAMS
    state = ours.state_dict()
    assert list(state) == list(theirs.state_dict())
    theirs.load_state_dict({k: torch.tensor(_numpy(v)) for k, v in state.items()})
    ours.double(), theirs.double()

    x_np = np.random.default_rng(0).standard_normal((4, 1, 28, 28))
    y_np = np.array([3, 1, 4, 1])
    results = []
    for model, lib, F in ((ours, mt, mt.functional), (theirs, torch, torch.nn.functional)):
        x = lib.tensor(x_np, requires_grad=True)
        out = model(x)
        loss = F.cross_entropy(out, lib.tensor(y_np))
        loss.backward()
        results.append([_numpy(out), _numpy(x.grad)]
                       + [_numpy(p.grad) for p in model.parameters()]
                       + [_numpy(b) for b in model.buffers() if b.is_floating_point()])
    for i, (a, b) in enumerate(zip(*results)):
        np.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-9, err_msg=f"array {i}")


def test_initialisation_draws_the_same_numbers_as_the_ordinary_layer():
    cases = [
        (lambda: mnn.LazyLinear(3), lambda: mnn.Linear(4, 3), mt.zeros(2, 4)),
        (lambda: mnn.LazyLinear(3, bias=False), lambda: mnn.Linear(4, 3, bias=False),
         mt.zeros(4)),
        (lambda: mnn.LazyConv2d(4, 3, stride=2, groups=2),
         lambda: mnn.Conv2d(6, 4, 3, stride=2, groups=2), mt.zeros(1, 6, 5, 5)),
        (lambda: mnn.LazyBatchNorm2d(momentum=None), lambda: mnn.BatchNorm2d(5, momentum=None),
         mt.zeros(2, 5, 3, 3)),
    ]
    for make_lazy, make_plain, x in cases:
        mt.manual_seed(7)
        lazy = make_lazy()
        lazy(x)
        after_lazy = mt.rand(1).item()  # the generator moved by the same draws
        mt.manual_seed(7)
        plain = make_plain()
        plain(x)  # the same forward pass (batch norm's running statistics move)
        after_plain = mt.rand(1).item()
        assert type(lazy) is type(plain) and repr(lazy) == repr(plain)
        assert after_lazy == after_plain
        for (name, a), (_, b) in zip(lazy.state_dict().items(), plain.state_dict().items()):
            np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=name)


def test_placeholders_before_the_first_forward_behave_as_torchs():
    for nn in (mnn, torch.nn):
        layer = nn.LazyLinear(5)
        weight = layer.weight
        assert isinstance(weight, nn.Parameter) and isinstance(weight, nn.UninitializedParameter)
        assert weight.requires_grad and layer.has_uninitialized_params()
        assert repr(weight) == "<UninitializedParameter>"
        assert repr(layer) == "LazyLinear(in_features=0, out_features=5, bias=True)"
        with pytest.raises(RuntimeError, match="Can't access the shape of an uninitialized"):
            weight.shape  # noqa: B018
        with pytest.raises(ValueError, match="Attempted to use an uninitialized parameter"):
            weight.numel()
        with pytest.raises(ValueError, match="Attempted to use an uninitialized parameter"):
            weight * 2
        bn = nn.LazyBatchNorm2d()
        kinds = {k: type(v).__name__ for k, v in bn.state_dict().items()}
        assert kinds == {"weight": "UninitializedParameter", "bias": "UninitializedParameter",
                         "running_mean": "UninitializedBuffer",
                         "running_var": "UninitializedBuffer", "num_batches_tracked": "Tensor"}
        assert repr(bn).startswith("LazyBatchNorm2d(0, eps=1e-05")


def test_optimizer_built_before_the_first_forward_trains_the_same_weights():
    results = []
    for lib, nn in ((mt, mnn), (torch, torch.nn)):
        lib.manual_seed(0)
        model = nn.Sequential(nn.LazyLinear(4), nn.ReLU(), nn.LazyLinear(2))
        sgd = lib.optim.SGD(model[0].parameters(), lr=0.1, momentum=0.9)
        adam = lib.optim.Adam(model[2].parameters(), lr=0.01)
        model(lib.zeros(1, 3))
        with lib.no_grad():  # the same starting weights on both sides
            for i, p in enumerate(model.parameters()):
                values = np.cos(np.arange(p.numel()) + i).reshape(tuple(p.shape))
                p.copy_(lib.tensor(values, dtype=lib.float32))
        x = lib.tensor(np.linspace(-1, 1, 6, dtype=np.float32).reshape(2, 3))
        for _ in range(3):
            sgd.zero_grad(), adam.zero_grad()
            (model(x) ** 2).sum().backward()
            sgd.step(), adam.step()
        results.append([p.detach().numpy() for p in model.parameters()])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_state_dict_before_and_after_initialisation():
    for nn, lib in ((mnn, mt), (torch.nn, torch)):
        model = nn.Sequential(nn.LazyConv2d(2, 3), nn.LazyBatchNorm2d())
        before = model.state_dict()
        assert list(before) == ["0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean",
                                "1.running_var", "1.num_batches_tracked"]
        model(lib.zeros(1, 3, 4, 4))
        after = model.state_dict()
        assert list(after) == list(before)
        assert [tuple(v.shape) for v in after.values()] == [(2, 3, 3, 3), (2,), (2,), (2,),
                                                            (2,), (2,), ()]


def test_load_state_dict_into_a_lazy_model_takes_the_checkpoints_shapes():
    source = mnn.Sequential(mnn.Linear(7, 4), mnn.BatchNorm1d(4))
    for nn, lib in ((mnn, mt), (torch.nn, torch)):
        target = nn.Sequential(nn.LazyLinear(4), nn.LazyBatchNorm1d())
        target.load_state_dict({k: lib.tensor(v.numpy()) for k, v in
                                source.state_dict().items()})
        assert tuple(target[0].weight.shape) == (4, 7)
        target.eval()
        out = target(lib.ones(2, 7))
        assert type(target[0]).__name__ == "Linear" and type(target[1]).__name__ == "BatchNorm1d"
    source.eval()
    np.testing.assert_allclose(out.detach().numpy(), source(mt.ones(2, 7)).detach().numpy(),
                               rtol=1e-6)


def test_to_dtype_and_deepcopy_before_initialisation():
    for nn, lib in ((mnn, mt), (torch.nn, torch)):
        layer = nn.LazyLinear(3).double()
        twin = copy.deepcopy(layer)
        layer(lib.zeros(1, 2, dtype=lib.float64))
        assert layer.weight.dtype == lib.float64
        assert twin.has_uninitialized_params()  # a deep copy is its own placeholder
        twin(lib.zeros(1, 5, dtype=lib.float64))
        assert tuple(twin.weight.shape) == (3, 5)


def test_summary_of_a_lazy_model_runs_its_forward():
    mt.manual_seed(0)
    model = lenet(mnn)
    report = summary(model, (1, 1, 28, 28))
    assert report.total_params == LENET_PARAMS
    assert [type(m).__name__ for m in model][0] == "Conv2d"


def test_bad_first_input_names_the_problem():
    with pytest.raises(ValueError, match="divisible by groups"):
        mnn.LazyConv2d(4, 3, groups=2)(mt.zeros(1, 3, 5, 5))
    with pytest.raises(TypeError, match="Tensor input"):
        mnn.LazyLinear(2)([1.0, 2.0])


def test_lazy_model_moved_before_initialisation_is_created_on_that_device():
    model = mnn.Sequential(mnn.LazyConv2d(4, 3, padding="same"), mnn.LazyBatchNorm2d(),
                           mnn.Flatten(), mnn.LazyLinear(2)).to("cuda-sim")
    out = model(mt.zeros(2, 3, 5, 5).to("cuda-sim"))
    assert out.device == "cuda-sim"
    assert {t.device for t in list(model.parameters()) + list(model.buffers())} == {"cuda-sim"}
    assert model[3].in_features == 4 * 5 * 5


def d2l_resnet(lib, arch=((2, 8), (2, 16)), stem=8, num_classes=10):
    """d2l's ResNet (chapter 8.6, current edition): lazy layers and ``Y += X``, verbatim but
    for the library and the (small) sizes."""
    nn, F = lib.nn, (mt.functional if lib is mt else torch.nn.functional)

    class Residual(nn.Module):
        def __init__(self, num_channels, use_1x1conv=False, strides=1):
            super().__init__()
            self.conv1 = nn.LazyConv2d(num_channels, kernel_size=3, padding=1, stride=strides)
            self.conv2 = nn.LazyConv2d(num_channels, kernel_size=3, padding=1)
            if use_1x1conv:
                self.conv3 = nn.LazyConv2d(num_channels, kernel_size=1, stride=strides)
            else:
                self.conv3 = None
            self.bn1 = nn.LazyBatchNorm2d()
            self.bn2 = nn.LazyBatchNorm2d()

        def forward(self, X):
            Y = F.relu(self.bn1(self.conv1(X)))
            Y = self.bn2(self.conv2(Y))
            if self.conv3:
                X = self.conv3(X)
            Y += X
            return F.relu(Y)

    def block(num_residuals, num_channels, first_block=False):
        blk = []
        for i in range(num_residuals):
            if i == 0 and not first_block:
                blk.append(Residual(num_channels, use_1x1conv=True, strides=2))
            else:
                blk.append(Residual(num_channels))
        return nn.Sequential(*blk)

    net = nn.Sequential(nn.Sequential(
        nn.LazyConv2d(stem, kernel_size=7, stride=2, padding=3),
        nn.LazyBatchNorm2d(), nn.ReLU(),
        nn.MaxPool2d(kernel_size=3, stride=2, padding=1)))
    for i, b in enumerate(arch):
        net.add_module(f"b{i + 2}", block(*b, first_block=(i == 0)))
    net.add_module("last", nn.Sequential(nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(),
                                         nn.LazyLinear(num_classes)))
    return net


def test_d2l_resnet_with_lazy_layers_and_in_place_residual_matches_torch():
    mt.manual_seed(0)
    ours, theirs = d2l_resnet(mt), d2l_resnet(torch)
    ours(mt.zeros(2, 1, 32, 32)), theirs(torch.zeros(2, 1, 32, 32))
    assert repr(ours) == repr(theirs)
    theirs.load_state_dict({k: torch.tensor(_numpy(v)) for k, v in ours.state_dict().items()})
    ours.double(), theirs.double()
    x_np = np.random.default_rng(5).standard_normal((4, 1, 32, 32))
    results = []
    for model, lib in ((ours, mt), (theirs, torch)):
        x = lib.tensor(x_np, requires_grad=True)
        out = model(x)
        out.backward(lib.tensor(np.cos(np.arange(40.0)).reshape(4, 10)))
        results.append([_numpy(out), _numpy(x.grad)]
                       + [_numpy(p.grad) for p in model.parameters()]
                       + [_numpy(b) for b in model.buffers() if b.is_floating_point()])
    for i, (a, b) in enumerate(zip(*results)):
        np.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-9, err_msg=f"array {i}")
