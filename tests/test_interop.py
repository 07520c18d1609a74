"""PyTorch interop: state dicts in (dict, .pt, safetensors) and out, strict checking, and the
layer-by-layer comparison (which must agree on equal models and point at the right layer when
one differs)."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
tnn = torch.nn

import minitorch_cv as mt  # noqa: E402
from minitorch_cv import interop, models  # noqa: E402
from minitorch_cv.models.resnet import BasicBlock, ResNet  # noqa: E402


def torch_lenet(activation=tnn.ReLU):
    """LeNet-5 (modern form) written with torch.nn, with our module names."""
    model = tnn.Module()
    model.features = tnn.Sequential(
        tnn.Conv2d(1, 6, 5, padding=2), activation(), tnn.MaxPool2d(2, 2),
        tnn.Conv2d(6, 16, 5), tnn.ReLU(), tnn.MaxPool2d(2, 2))
    model.classifier = tnn.Sequential(
        tnn.Flatten(), tnn.Linear(400, 120), tnn.ReLU(), tnn.Linear(120, 84), tnn.ReLU(),
        tnn.Linear(84, 10))
    model.forward = lambda x: model.classifier(model.features(x))
    return model


class TorchBlock(tnn.Module):
    def __init__(self, cin, planes, stride):
        super().__init__()
        self.conv1 = tnn.Conv2d(cin, planes, 3, stride, 1, bias=False)
        self.bn1 = tnn.BatchNorm2d(planes)
        self.relu = tnn.ReLU(inplace=True)
        self.conv2 = tnn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = tnn.BatchNorm2d(planes)
        self.downsample = None
        if stride != 1 or cin != planes:
            self.downsample = tnn.Sequential(tnn.Conv2d(cin, planes, 1, stride, bias=False),
                                             tnn.BatchNorm2d(planes))

    def forward(self, x):  # torchvision's style: in-place add and in-place ReLU
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out += identity
        return self.relu(out)


class TorchTinyResNet(tnn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = tnn.Conv2d(3, 4, 3, 1, 1, bias=False)
        self.bn1 = tnn.BatchNorm2d(4)
        self.relu = tnn.ReLU(inplace=True)
        self.maxpool = tnn.Identity()
        self.layer1 = tnn.Sequential(TorchBlock(4, 4, 1))
        self.layer2 = tnn.Sequential(TorchBlock(4, 8, 2))
        self.avgpool = tnn.AdaptiveAvgPool2d(1)
        self.fc = tnn.Linear(8, 3)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer2(self.layer1(x))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def tiny_resnet():
    return ResNet(BasicBlock, ((1, 4), (1, 8)), num_classes=3, stem="cifar")


def fashion_batch(n=4):
    return np.random.default_rng(0).standard_normal((n, 1, 28, 28)).astype(np.float32)


def outputs_equal(ours, theirs, x):
    ours.eval()
    theirs.eval()
    with torch.no_grad():
        expected = theirs(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(ours(mt.tensor(x)).detach().numpy(), expected, rtol=1e-4,
                               atol=1e-5)


def test_load_from_a_dict_of_torch_tensors():
    theirs, ours = torch_lenet(), models.lenet5()
    assert interop.load_torch_state_dict(ours, theirs.state_dict()) is ours
    outputs_equal(ours, theirs, fashion_batch())


def test_load_from_pt_and_safetensors_files(tmp_path):
    from safetensors.torch import save_file

    theirs = torch_lenet()
    torch.save(theirs.state_dict(), tmp_path / "weights.pt")
    save_file(theirs.state_dict(), str(tmp_path / "weights.safetensors"))
    for name in ("weights.pt", "weights.safetensors"):
        ours = models.lenet5()
        interop.load_torch_state_dict(ours, tmp_path / name)
        outputs_equal(ours, theirs, fashion_batch())


def test_a_pickled_model_is_refused(tmp_path):
    torch.save(TorchTinyResNet(), tmp_path / "model.pt")  # a whole module: pickled code
    with pytest.raises(Exception, match="(?i)weights_only|unpickl|global"):
        interop.load_torch_state_dict(tiny_resnet(), tmp_path / "model.pt")


def test_buffers_and_dtypes_are_loaded():
    theirs = TorchTinyResNet().double()
    theirs.train()
    theirs(torch.randn(4, 3, 8, 8, dtype=torch.float64))  # non-trivial running statistics
    ours = interop.load_torch_state_dict(tiny_resnet(), theirs.state_dict())
    assert ours.bn1.running_mean.dtype == np.float32
    np.testing.assert_allclose(ours.bn1.running_var.detach().numpy(),
                               theirs.bn1.running_var.numpy(), rtol=1e-6)
    assert int(ours.bn1.num_batches_tracked.item()) == 1


def test_strict_checking_lists_every_bad_key():
    state = dict(torch_lenet().state_dict())
    del state["features.0.bias"]
    del state["classifier.5.weight"]
    state["features.9.weight"] = torch.zeros(3)
    state["classifier.1.weight"] = torch.zeros(120, 401)
    with pytest.raises(interop.StateDictError) as info:
        interop.load_torch_state_dict(models.lenet5(), state)
    error = info.value
    assert error.missing == ["features.0.bias", "classifier.5.weight"]
    assert error.unexpected == ["features.9.weight"]
    assert error.mismatched == [("classifier.1.weight", (120, 401), (120, 400))]
    for key in ("features.0.bias", "classifier.5.weight", "features.9.weight",
                "classifier.1.weight"):
        assert key in str(error)
    # non-strict ignores names but never shapes
    with pytest.raises(interop.StateDictError, match="classifier.1.weight"):
        interop.load_torch_state_dict(models.lenet5(), state, strict=False)


def test_export_to_torch_dict_and_safetensors(tmp_path):
    from safetensors.torch import load_file

    ours = models.lenet5()
    x = fashion_batch()
    theirs = torch_lenet()
    theirs.load_state_dict(interop.export_state_dict(ours), strict=True)
    outputs_equal(ours, theirs, x)
    interop.export_safetensors(ours, tmp_path / "ours.safetensors")
    theirs = torch_lenet()
    theirs.load_state_dict(load_file(str(tmp_path / "ours.safetensors")), strict=True)
    outputs_equal(ours, theirs, x)


@pytest.mark.parametrize("train", [False, True], ids=["eval", "train"])
def test_compare_with_torch_agrees_on_equal_models(train, capsys):
    x = np.random.default_rng(1).standard_normal((4, 3, 8, 8)).astype(np.float32)
    report = interop.compare_with_torch(tiny_resnet(), TorchTinyResNet(), x, train=train)
    assert report.ok, str(report)
    names = [layer.name for layer in report.layers]
    # reused modules are compared call by call; in-place ops on the torch side do not leak
    assert "layer1.0.relu#1" in names and "layer1.0.relu#2" in names
    assert "layer2.0.downsample.0" in names and "fc" in names
    assert all(layer.grad_abs is not None for layer in report.layers if layer.name != "(output)")
    assert len(report.params) == len(list(tiny_resnet().parameters()))
    assert report.max_output_diff < 1e-4
    assert "all layers agree" in capsys.readouterr().out


def test_compare_with_torch_in_float64():
    x = np.random.default_rng(2).standard_normal((2, 3, 8, 8))
    ours, theirs = tiny_resnet(), TorchTinyResNet()
    report = interop.compare_with_torch(ours, theirs, x, train=True, atol=1e-10, rtol=1e-9,
                                        dtype=np.float64, verbose=False)
    assert report.ok, str(report)
    assert ours.fc.weight.dtype == np.float64 and theirs.fc.weight.dtype == torch.float64
    assert report.max_output_diff < 1e-12


def test_compare_with_torch_flags_the_first_divergent_layer(capsys):
    x = fashion_batch()
    report = interop.compare_with_torch(models.lenet5(), torch_lenet(activation=tnn.Tanh), x)
    assert not report.ok
    assert report.first_divergence == "features.1"
    out = capsys.readouterr().out
    assert "first divergence (forward)" in out and "DIFFERENCES FOUND" in out


class DoubleGrad(torch.autograd.Function):
    """Identity forward, gradient times two: a backward-only bug."""

    @staticmethod
    def forward(ctx, x):
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad):
        return 2 * grad


class BuggyConv(tnn.Conv2d):
    def forward(self, x):
        return DoubleGrad.apply(super().forward(x))


def test_compare_with_torch_flags_a_backward_only_divergence():
    theirs = torch_lenet()
    theirs.features[3] = BuggyConv(6, 16, 5)
    report = interop.compare_with_torch(models.lenet5(), theirs, fashion_batch(),
                                        verbose=False)
    assert report.first_divergence is None  # forward is exact
    # the gradient at features.3's own output is right; what flows into its input is doubled
    assert report.first_grad_divergence == "features.2"
    assert not report.ok


def test_compare_with_torch_disables_dropout_in_train_mode_and_restores_it():
    ours = models.get("alexnet_small")

    class TorchAlexSmall(tnn.Module):
        def __init__(self):
            super().__init__()
            layers = []
            channels = 1
            for spec in models.alexnet.__globals__["SMALL"]:
                layers += [tnn.Conv2d(channels, spec.out_channels, spec.kernel_size,
                                      spec.stride, spec.padding), tnn.ReLU(inplace=True)]
                if spec.pool:
                    layers.append(tnn.MaxPool2d(3, 2))
                channels = spec.out_channels
            self.features = tnn.Sequential(*layers)
            self.avgpool = tnn.AdaptiveAvgPool2d(2)
            self.classifier = tnn.Sequential(
                tnn.Dropout(), tnn.Linear(channels * 4, 256), tnn.ReLU(inplace=True),
                tnn.Dropout(), tnn.Linear(256, 256), tnn.ReLU(inplace=True), tnn.Linear(256, 10))

        def forward(self, x):
            return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))

    theirs = TorchAlexSmall()
    report = interop.compare_with_torch(ours, theirs, fashion_batch(), train=True,
                                        verbose=False)
    assert report.ok, str(report)
    assert ours.classifier[0].p == 0.5 and theirs.classifier[0].p == 0.5


def test_report_counts_the_fraction_of_bad_gradient_elements():
    theirs = torch_lenet()
    theirs.features[3] = BuggyConv(6, 16, 5)
    report = interop.compare_with_torch(models.lenet5(), theirs, fashion_batch(),
                                        verbose=False)
    rows = {layer.name: layer for layer in report.layers}
    assert rows["features.3"].grad_bad == 0.0
    # doubled everywhere except where the max pool sends no gradient (3/4 of its inputs)
    assert 0.1 < rows["features.2"].grad_bad <= 1.0
    assert "bad %" in str(report) and "rerun with dtype" not in str(report)
