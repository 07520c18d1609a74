"""Block-level parity with PyTorch: each block against a small reference written with
``torch.nn`` here, same weights (copied through state dicts), forward values, the input
gradient and every parameter gradient, in eval and in train mode (batch statistics, running
statistics updated the same way)."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
tnn = torch.nn

import minitorch_cv as mt  # noqa: E402
from minitorch_cv import models  # noqa: E402
from minitorch_cv.models.cifar_resnet import ShortcutA  # noqa: E402
from minitorch_cv.models.densenet import _DenseBlock, _Transition  # noqa: E402
from minitorch_cv.models.googlenet import Inception  # noqa: E402
from minitorch_cv.models.resnet import BasicBlock, Bottleneck, projection_shortcut  # noqa: E402

from .conftest import torch_state_dict_from  # noqa: E402

ATOL, RTOL = 1e-4, 1e-3


def randomize(model, seed: int = 0):
    """Random values in every parameter and floating buffer (BN running_var positive), so
    that eval mode and the affine BN parameters are really exercised."""
    rng = np.random.default_rng(seed)
    with mt.no_grad():
        for name, tensor in list(model.named_parameters()) + list(model.named_buffers()):
            if tensor.dtype.kind != "f":
                continue
            values = rng.standard_normal(tensor.shape) * 0.5
            if name.endswith("running_var"):
                values = rng.uniform(0.5, 1.5, tensor.shape)
            elif name.endswith("weight") and tensor.ndim == 1:  # BN gamma near 1
                values = 1 + 0.2 * values
            tensor.copy_(values.astype(tensor.dtype))
    return model


def assert_close(ours, theirs, what):
    np.testing.assert_allclose(ours, theirs, rtol=RTOL, atol=ATOL, err_msg=what)


def check_parity(ours, theirs, input_shape, train: bool, seed: int = 0):
    randomize(ours, seed)
    theirs.load_state_dict(torch_state_dict_from(ours))
    ours.train(train)
    theirs.train(train)
    rng = np.random.default_rng(seed + 1)
    x = rng.standard_normal(input_shape).astype(np.float32)
    x_ours = mt.tensor(x, requires_grad=True)
    x_torch = torch.from_numpy(x.copy()).requires_grad_(True)
    out_ours, out_torch = ours(x_ours), theirs(x_torch)
    assert out_ours.shape == tuple(out_torch.shape)
    assert_close(out_ours.detach().numpy(), out_torch.detach().numpy(), "forward")
    upstream = rng.standard_normal(out_ours.shape).astype(np.float32)
    out_ours.backward(mt.tensor(upstream))
    out_torch.backward(torch.from_numpy(upstream))
    assert_close(x_ours.grad.numpy(), x_torch.grad.numpy(), "input gradient")
    theirs_params = dict(theirs.named_parameters())
    assert set(theirs_params) == {name for name, _ in ours.named_parameters()}
    for name, param in ours.named_parameters():
        assert_close(param.grad.numpy(), theirs_params[name].grad.numpy(), f"grad of {name}")
    theirs_buffers = dict(theirs.named_buffers())
    for name, buf in ours.named_buffers():  # running statistics after a training step
        assert_close(buf.detach().numpy(), theirs_buffers[name].numpy(), f"buffer {name}")


# ----------------------------------------------------------------- references in torch.nn
class TorchBasicBlock(tnn.Module):
    def __init__(self, cin, planes, stride, shortcut):
        super().__init__()
        self.conv1 = tnn.Conv2d(cin, planes, 3, stride, 1, bias=False)
        self.bn1 = tnn.BatchNorm2d(planes)
        self.relu = tnn.ReLU(inplace=True)
        self.conv2 = tnn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = tnn.BatchNorm2d(planes)
        self.downsample = shortcut

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class TorchSE(tnn.Module):
    def __init__(self, channels, reduction):
        super().__init__()
        self.fc1 = tnn.Linear(channels, channels // reduction)
        self.fc2 = tnn.Linear(channels // reduction, channels)

    def forward(self, x):
        gate = torch.sigmoid(self.fc2(torch.relu(self.fc1(x.mean((2, 3))))))
        return x * gate[:, :, None, None]


class TorchBottleneck(tnn.Module):
    def __init__(self, cin, planes, stride, groups=1, base_width=64, se=None):
        super().__init__()
        width = int(planes * base_width / 64) * groups
        self.conv1 = tnn.Conv2d(cin, width, 1, bias=False)
        self.bn1 = tnn.BatchNorm2d(width)
        self.conv2 = tnn.Conv2d(width, width, 3, stride, 1, groups=groups, bias=False)
        self.bn2 = tnn.BatchNorm2d(width)
        self.conv3 = tnn.Conv2d(width, planes * 4, 1, bias=False)
        self.bn3 = tnn.BatchNorm2d(planes * 4)
        if se:
            self.se = TorchSE(planes * 4, se)
        self.relu = tnn.ReLU(inplace=True)
        self.downsample = tnn.Sequential(tnn.Conv2d(cin, planes * 4, 1, stride, bias=False),
                                         tnn.BatchNorm2d(planes * 4))

    def forward(self, x):
        identity = self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        if hasattr(self, "se"):
            out = self.se(out)
        return self.relu(out + identity)


class TorchBasicConv(tnn.Module):
    def __init__(self, cin, cout, **kwargs):
        super().__init__()
        self.conv = tnn.Conv2d(cin, cout, bias=False, **kwargs)
        self.bn = tnn.BatchNorm2d(cout, eps=0.001)

    def forward(self, x):
        return torch.relu(self.bn(self.conv(x)))


class TorchInception(tnn.Module):
    def __init__(self, cin, c1, c3r, c3, c5r, c5, pp):
        super().__init__()
        self.branch1 = TorchBasicConv(cin, c1, kernel_size=1)
        self.branch2 = tnn.Sequential(TorchBasicConv(cin, c3r, kernel_size=1),
                                      TorchBasicConv(c3r, c3, kernel_size=3, padding=1))
        self.branch3 = tnn.Sequential(TorchBasicConv(cin, c5r, kernel_size=1),
                                      TorchBasicConv(c5r, c5, kernel_size=3, padding=1))
        self.branch4 = tnn.Sequential(tnn.MaxPool2d(3, 1, 1, ceil_mode=True),
                                      TorchBasicConv(cin, pp, kernel_size=1))

    def forward(self, x):
        return torch.cat([self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)], 1)


class TorchDenseLayer(tnn.Module):
    def __init__(self, cin, growth, bn_size):
        super().__init__()
        self.norm1 = tnn.BatchNorm2d(cin)
        self.relu1 = tnn.ReLU(inplace=True)
        self.conv1 = tnn.Conv2d(cin, bn_size * growth, 1, bias=False)
        self.norm2 = tnn.BatchNorm2d(bn_size * growth)
        self.relu2 = tnn.ReLU(inplace=True)
        self.conv2 = tnn.Conv2d(bn_size * growth, growth, 3, 1, 1, bias=False)

    def forward(self, features):
        x = torch.cat(features, 1)
        return self.conv2(self.relu2(self.norm2(self.conv1(self.relu1(self.norm1(x))))))


class TorchDenseBlock(tnn.ModuleDict):
    def __init__(self, num_layers, cin, bn_size, growth):
        super().__init__()
        for i in range(num_layers):
            self.add_module(f"denselayer{i + 1}", TorchDenseLayer(cin + i * growth, growth,
                                                                  bn_size))

    def forward(self, x):
        features = [x]
        for layer in self.values():
            features.append(layer(features))
        return torch.cat(features, 1)


class TorchFire(tnn.Module):
    def __init__(self, cin, squeeze, e1, e3):
        super().__init__()
        self.squeeze = tnn.Conv2d(cin, squeeze, 1)
        self.squeeze_activation = tnn.ReLU(inplace=True)
        self.expand1x1 = tnn.Conv2d(squeeze, e1, 1)
        self.expand1x1_activation = tnn.ReLU(inplace=True)
        self.expand3x3 = tnn.Conv2d(squeeze, e3, 3, padding=1)
        self.expand3x3_activation = tnn.ReLU(inplace=True)

    def forward(self, x):
        x = self.squeeze_activation(self.squeeze(x))
        return torch.cat([self.expand1x1_activation(self.expand1x1(x)),
                          self.expand3x3_activation(self.expand3x3(x))], 1)


class TorchShortcutA(tnn.Module):
    def __init__(self, extra):
        super().__init__()
        self.extra = extra

    def forward(self, x):
        return torch.nn.functional.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, self.extra // 2,
                                                           self.extra - self.extra // 2))


class TorchHighway(tnn.Module):
    def __init__(self, features):
        super().__init__()
        self.transform = tnn.Linear(features, features)
        self.gate = tnn.Linear(features, features)

    def forward(self, x):
        t = torch.sigmoid(self.gate(x))
        return torch.relu(self.transform(x)) * t + x * (1 - t)


# ----------------------------------------------------------------- the cases
CASES = {
    "residual (BasicBlock, identity)": (
        lambda: BasicBlock(8, 8), lambda: TorchBasicBlock(8, 8, 1, None), (2, 8, 6, 6)),
    "residual (BasicBlock, projection, stride 2)": (
        lambda: BasicBlock(4, 8, 2, projection_shortcut(4, 8, 2)),
        lambda: TorchBasicBlock(4, 8, 2, tnn.Sequential(tnn.Conv2d(4, 8, 1, 2, bias=False),
                                                        tnn.BatchNorm2d(8))),
        (2, 4, 7, 7)),
    "residual (BasicBlock, option A)": (
        lambda: BasicBlock(4, 8, 2, ShortcutA(4, 8, 2)),
        lambda: TorchBasicBlock(4, 8, 2, TorchShortcutA(4)), (2, 4, 6, 6)),
    "bottleneck": (
        lambda: Bottleneck(8, 4, 2, projection_shortcut(8, 16, 2)),
        lambda: TorchBottleneck(8, 4, 2), (2, 8, 6, 6)),
    "ResNeXt bottleneck (groups 4, width 4)": (
        lambda: Bottleneck(8, 4, 1, projection_shortcut(8, 16, 1), groups=4, base_width=16),
        lambda: TorchBottleneck(8, 4, 1, groups=4, base_width=16), (2, 8, 5, 5)),
    "SE bottleneck": (
        lambda: Bottleneck(8, 8, 1, projection_shortcut(8, 32, 1), se_reduction=16),
        lambda: TorchBottleneck(8, 8, 1, se=16), (2, 8, 4, 4)),
    "SE block": (lambda: models.SEBlock(32, 16), lambda: TorchSE(32, 16), (3, 32, 3, 3)),
    "inception": (
        lambda: Inception(8, 4, 3, 6, 2, 3, 2), lambda: TorchInception(8, 4, 3, 6, 2, 3, 2),
        (2, 8, 7, 7)),
    "dense block": (
        lambda: _DenseBlock(3, 6, 2, 4), lambda: TorchDenseBlock(3, 6, 2, 4), (2, 6, 5, 5)),
    "transition": (
        lambda: _Transition(8, 4),
        lambda: tnn.Sequential(__import__("collections").OrderedDict(
            norm=tnn.BatchNorm2d(8), relu=tnn.ReLU(), conv=tnn.Conv2d(8, 4, 1, bias=False),
            pool=tnn.AvgPool2d(2, 2))), (2, 8, 6, 6)),
    "fire": (lambda: models.Fire(6, 3, 4, 5), lambda: TorchFire(6, 3, 4, 5), (2, 6, 5, 5)),
    "highway layer": (lambda: models.HighwayLayer(12), lambda: TorchHighway(12), (4, 12)),
}


@pytest.mark.parametrize("train", [False, True], ids=["eval", "train"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_block_matches_torch(case, train):
    make_ours, make_theirs, shape = CASES[case]
    check_parity(make_ours(), make_theirs(), shape, train)


def test_drop_path_is_identity_in_eval_and_drops_whole_samples_in_train():
    block = BasicBlock(4, 4, drop_path=0.5)
    x = mt.randn(64, 4, 3, 3)
    block.eval()
    reference = BasicBlock(4, 4)
    reference.load_state_dict(block.state_dict())
    reference.eval()
    np.testing.assert_allclose(block(x).detach().numpy(), reference(x).detach().numpy())
    # in training, a dropped sample's branch is zero: the output is relu(identity)
    mt.manual_seed(3)
    branch = models.drop_path(mt.ones(64, 4, 3, 3), 0.5, training=True).detach().numpy()
    per_sample = branch.reshape(64, -1)
    assert set(np.unique(per_sample)) <= {0.0, 2.0}
    assert (per_sample == per_sample[:, :1]).all()  # one decision per sample
    assert 10 < (per_sample[:, 0] == 0).sum() < 54  # about half dropped
    with pytest.raises(ValueError):
        models.drop_path(x, 1.0, training=True)


def test_resnet_drop_path_rate_grows_linearly_with_depth():
    model = models.get("resnet20", drop_path_rate=0.3)
    rates = [block.drop_path for name in ("layer1", "layer2", "layer3")
             for block in getattr(model, name)]
    assert len(rates) == 9
    np.testing.assert_allclose(rates, [0.3 * (i + 1) / 9 for i in range(9)])
