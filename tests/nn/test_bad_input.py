"""Bad input to layers and losses: torch's error classes, a message with the problem and the fix
(issue 15, item 5). torch's own behaviour is checked side by side where it exists."""

from __future__ import annotations

import numpy as np
import pytest

import minitorch_cv as mt
import minitorch_cv.functional as F
from minitorch_cv import nn
from minitorch_cv.ops.kernel_dtype import UnsupportedDtypeError

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("make, ours, theirs", [
    (lambda m: m.Conv2d(1, 4, 0), "kernel_size must be >= 1.*got \\(0, 0\\)", "kernel size"),
    (lambda m: m.Conv2d(1, 4, (3, 0)), "kernel_size must be >= 1", "kernel size"),
    (lambda m: m.Conv2d(1, 4, 3, stride=0), "stride must be >= 1.*use 1", "stride"),
    (lambda m: m.Conv2d(1, 4, 3, stride=(1, -1)), "stride must be >= 1", "stride"),
    (lambda m: m.Conv2d(1, 4, 3, padding=-1), "padding must be >= 0", "padding"),
    (lambda m: m.Conv2d(1, 4, 3, dilation=0), "dilation must be >= 1", "dilation"),
    (lambda m: m.Conv2d(1, 4, 3, groups=0), "groups must be a positive integer", "groups"),
    (lambda m: m.Conv2d(3, 4, 3, groups=2), "divisible by groups \\(2\\)", "divisible"),
    (lambda m: m.Conv2d(4, 3, 3, groups=2), "divisible by groups \\(2\\)", "divisible"),
    (lambda m: m.MaxPool2d(0), "kernel_size must be >= 1", "stride should not be zero"),
    (lambda m: m.MaxPool2d(2, stride=0), "stride must be >= 1", "stride should not be zero"),
    (lambda m: m.MaxPool2d(2, padding=-1), "padding must be >= 0", "pad must be non-negative"),
    (lambda m: m.MaxPool2d(2, padding=2), "at most half the kernel size", "at most half"),
    (lambda m: m.MaxPool2d(2, dilation=0), "dilation must be >= 1", "dilation"),
    (lambda m: m.AvgPool2d(0), "kernel_size must be >= 1", "stride should not be zero"),
    (lambda m: m.AvgPool2d(3, padding=2), "at most half the kernel size", "at most half"),
], ids=["conv_k0", "conv_k3x0", "conv_s0", "conv_s_neg", "conv_p_neg", "conv_d0", "conv_g0",
        "conv_g_in", "conv_g_out", "maxpool_k0", "maxpool_s0", "maxpool_p_neg", "maxpool_p_big",
        "maxpool_d0", "avgpool_k0", "avgpool_p_big"])
@pytest.mark.filterwarnings("ignore:Initializing zero-element tensors:UserWarning")
def test_impossible_windows_raise_torchs_error_class(make, ours, theirs):
    x = torch.randn(1, 4, 6, 6)
    with pytest.raises((RuntimeError, ValueError), match=theirs) as torch_error:
        layer = make(torch.nn)  # torch raises here or ...
        layer(x[:, :layer.in_channels] if hasattr(layer, "in_channels") else x)  # ... here
    with pytest.raises(torch_error.type, match=ours):
        make(nn)  # ours already when the layer is built, catchable as torch's class


def test_functional_conv_refuses_a_zero_kernel():
    """Before: a (4, 1, 0, 0) weight ran and returned zeros larger than the input."""
    x = mt.randn(1, 1, 5, 5)
    with pytest.raises(RuntimeError, match="kernel size must be >= 1.*\\(0, 0\\)"):
        F.conv2d(x, mt.zeros(4, 1, 0, 0))
    with pytest.raises(RuntimeError, match="kernel size"):
        torch.nn.functional.conv2d(torch.randn(1, 1, 5, 5), torch.zeros(4, 1, 0, 0))
    for kwargs, message in (({"stride": 0}, "stride"), ({"padding": -1}, "padding"),
                            ({"dilation": 0}, "dilation")):
        with pytest.raises(RuntimeError, match=message):  # torch's class (ours: also ValueError)
            F.conv2d(x, mt.randn(4, 1, 3, 3), **kwargs)
        with pytest.raises(RuntimeError):
            torch.nn.functional.conv2d(torch.randn(1, 1, 5, 5), torch.randn(4, 1, 3, 3),
                                       **kwargs)


def test_valid_windows_still_build():
    assert nn.Conv2d(4, 8, (1, 3), stride=(2, 1), padding=(0, 1), dilation=2, groups=4)
    assert nn.Conv2d(3, 6, 3, padding="same") and nn.Conv2d(3, 6, 3, padding="valid")
    assert nn.MaxPool2d(3, 2, 1) and nn.MaxPool2d((2, 2), stride=[]) and nn.AvgPool2d([3], 1, 1)


@pytest.mark.parametrize("target", [[0.0, 1.0, 2.0], [0.0, 1.0, -0.5], [0.0, 1.0, np.nan]])
def test_bce_targets_outside_0_1_raise_as_torch(target):
    probabilities = [0.2, 0.7, 0.5]
    with pytest.raises(RuntimeError, match="all elements of target should be between 0 and 1"):
        torch.nn.BCELoss()(torch.tensor(probabilities), torch.tensor(target))
    with pytest.raises(RuntimeError, match="target should be between 0 and 1.*cross_entropy"):
        nn.BCELoss()(mt.tensor(probabilities), mt.tensor(target))


def test_bce_input_nan_and_integer_targets_raise_as_torch():
    with pytest.raises(RuntimeError, match="input should be between 0 and 1"):
        torch.nn.functional.binary_cross_entropy(torch.tensor([0.5, np.nan]),
                                                 torch.tensor([0.0, 1.0]))
    with pytest.raises(RuntimeError, match="input should be between 0 and 1.*sigmoid"):
        F.binary_cross_entropy(mt.tensor([0.5, np.nan]), mt.tensor([0.0, 1.0]))
    with pytest.raises(RuntimeError, match="Found dtype Long but expected Float"):
        torch.nn.functional.binary_cross_entropy(torch.tensor([0.5, 0.5]), torch.tensor([0, 1]))
    with pytest.raises(RuntimeError, match="target is int64 but input is float32.*to\\('float32'"):
        F.binary_cross_entropy(mt.tensor([0.5, 0.5]), mt.tensor([0, 1]))
    loss = F.binary_cross_entropy(mt.tensor([0.25, 0.5]), mt.tensor([0.0, 1.0]))
    expected = torch.nn.functional.binary_cross_entropy(torch.tensor([0.25, 0.5]),
                                                        torch.tensor([0.0, 1.0]))
    assert loss.item() == pytest.approx(expected.item(), rel=1e-6)


@pytest.mark.parametrize("device", ["cpu", "cuda-sim"])
def test_half_precision_is_refused_at_the_kernel_ops(device):
    if device == "cuda-sim":
        from minitorch_cv import emulator
        if emulator.compiler() is None:
            pytest.skip("no g++: emulator unusable")
    x = mt.randn(2, 3, 8, 8).to(mt.float16).to(device)
    layers = {"conv2d": nn.Conv2d(3, 4, 3), "batch_norm": nn.BatchNorm2d(3),
              "max_pool2d": nn.MaxPool2d(2), "avg_pool2d": nn.AvgPool2d(2)}
    for op, layer in layers.items():
        layer = layer.half().to(device)
        with pytest.raises(UnsupportedDtypeError, match=f"{op}: .*float16.*model.float\\(\\)"):
            layer(x)
    layers["batch_norm"].eval()
    with pytest.raises(RuntimeError, match="batch_norm: .*float16"):
        layers["batch_norm"](x)
    with pytest.raises(TypeError, match="adaptive|avg_pool2d"):  # global pooling runs avg_pool2d
        F.adaptive_avg_pool2d(x, 1)
    # ops written with NumPy keep accepting float16, and float32 still runs the kernels
    assert F.relu(x).dtype == np.float16
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.MaxPool2d(2))
    assert model.half().float().to(device)(x.float()).dtype == np.float32


@pytest.mark.filterwarnings("ignore:ComplexHalf support is experimental:UserWarning")
def test_bfloat16_torch_weights_load_as_float32(tmp_path):
    from safetensors.torch import save_file

    from minitorch_cv import interop

    theirs = torch.nn.Linear(3, 2).to(torch.bfloat16)
    state = theirs.state_dict()
    torch.save(state, tmp_path / "w.pt")
    save_file(state, str(tmp_path / "w.safetensors"))
    for source in (state, tmp_path / "w.pt", tmp_path / "w.safetensors"):
        ours = interop.load_torch_state_dict(nn.Linear(3, 2), source)
        assert ours.weight.dtype == np.float32
        np.testing.assert_array_equal(ours.weight.detach().numpy(), state["weight"].float())
    state = {"weight": torch.zeros(2, 3, dtype=torch.complex32), "bias": torch.zeros(2)}
    with pytest.raises(TypeError, match="'weight': torch dtype torch.complex32.*convert"):
        interop.load_torch_state_dict(nn.Linear(3, 2), state)
