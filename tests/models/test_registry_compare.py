"""Registry, torchvision naming, ``compare``/``analyze``, and the behaviour of individual
architectures (course models, LeNet shapes, GoogLeNet heads, zero-init residuals)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import minitorch_cv as mt
from minitorch_cv import models, nn
from minitorch_cv.models.alexnet import PAPER, AlexNet
from minitorch_cv.models.resnet import BasicBlock, Bottleneck, ResNet


# ---------------------------------------------------------------- registry and names
def test_registry_get_list_and_errors():
    assert "resnet18" in models.list() and "lenet5" in models.list(small=True)
    assert "vgg16" not in models.list(small=True)
    assert all(models.entry(n).small for n in models.list(small=True))
    assert models.list(family="densenet") == ["densenet121", "densenet169", "densenet201",
                                              "densenet_cifar"]
    assert models.input_size("resnet18") == (3, 224, 224)
    assert models.input_size("lenet5", in_channels=3) == (3, 28, 28)
    assert isinstance(models.get("lenet5", num_classes=7), models.LeNet5)
    with pytest.raises(KeyError, match="unknown model 'resnet9'.*resnet18"):
        models.get("resnet9")
    with pytest.raises(ValueError, match="registered twice"):
        models.register("lenet5", (1, 28, 28), "lenet")(lambda: None)


TORCHVISION_KEYS = {  # keys of torchvision's state dicts, for the same configurations
    "alexnet": ["features.0.weight", "features.10.bias", "classifier.1.weight",
                "classifier.6.bias"],
    "vgg16_bn": ["features.0.weight", "features.1.running_var", "features.40.weight",
                 "features.41.num_batches_tracked", "classifier.3.weight", "classifier.6.bias"],
    "googlenet": ["conv1.conv.weight", "conv1.bn.running_mean", "inception3a.branch2.1.conv.weight",
                  "inception5b.branch4.1.bn.bias", "fc.weight"],
    "resnet50": ["conv1.weight", "bn1.running_mean", "layer1.0.downsample.0.weight",
                 "layer4.2.bn3.running_var", "fc.bias"],
    "resnext50_32x4d": ["layer3.5.conv2.weight"],
    "densenet121": ["features.conv0.weight", "features.denseblock1.denselayer1.norm1.weight",
                    "features.denseblock4.denselayer16.conv2.weight",
                    "features.transition3.conv.weight", "features.norm5.running_var",
                    "classifier.bias"],
    "squeezenet1_0": ["features.0.weight", "features.3.squeeze.weight",
                      "features.12.expand3x3.bias", "classifier.1.weight"],
    "squeezenet1_1": ["features.12.expand1x1.weight", "classifier.1.bias"],
}


@pytest.mark.parametrize("name", sorted(TORCHVISION_KEYS))
def test_state_dict_keys_are_torchvisions(name, cheap_init):
    keys = models.get(name).state_dict().keys()
    for key in TORCHVISION_KEYS[name]:
        assert key in keys


def test_shapes_of_grouped_and_wide_convs(cheap_init):
    assert models.get("resnext50_32x4d").layer3[5].conv2.weight.shape == (512, 16, 3, 3)
    assert models.get("wide_resnet50_2").layer1[0].conv2.weight.shape == (128, 128, 3, 3)
    assert models.get("se_resnet50").layer4[2].se.fc1.weight.shape == (128, 2048)


# ---------------------------------------------------------------- analyze / compare
def tiny_resnet(**kwargs):
    return ResNet(BasicBlock, ((1, 4), (1, 8)), num_classes=3, stem="cifar", **kwargs)


def test_analyze_lenet():
    facts = models.analyze("lenet5")
    assert (facts.depth, facts.weight_layers, facts.parameters) == (5, 5, 61_706)
    # conv1 6*28*28*25 + conv2 16*10*10*150 + 400*120 + 120*84 + 84*10
    assert facts.macs == 117_600 + 240_000 + 48_000 + 10_080 + 840
    # 5x5 conv, 2x2/2 pool, 5x5 conv (jump 2), 2x2 pool: 5 + 1 + 8 + 2
    assert facts.receptive_field == 16
    assert facts.blocks == {}


def test_analyze_finds_residual_adds_depth_and_receptive_field():
    facts = models.analyze(tiny_resnet(), (3, 16, 16), name="tiny")
    assert facts.depth == 6  # stem, 2 + 2 block convs, fc; the projection path is shorter
    assert facts.weight_layers == 7
    assert facts.receptive_field == 13  # 3, +2, +2, stride 2: +2, jump 2: +4
    assert facts.blocks["residual adds"] == 2
    assert facts.blocks["3x3 stacks"] == 4  # stem->conv1, conv1->conv2, twice
    assert facts.blocks["batch norm"] == 6


def test_analyze_finds_lrn_and_groups_in_the_paper_alexnet():
    facts = models.analyze(AlexNet(PAPER, num_classes=10, hidden=16, pool_size=2),
                           (3, 67, 67))
    assert facts.blocks == {"local response norm": 2, "grouped convolutions": 3}
    assert facts.depth == 8


def test_analyze_tells_inception_from_dense_concatenation():
    inception = models.analyze("googlenet_small")
    assert inception.depth == 22  # the paper's count
    assert inception.blocks["inception branches"] == 9
    assert "dense concatenation" not in inception.blocks
    dense = models.analyze(models.DenseNet(4, (2, 3), 8, 2, num_classes=3, stem="cifar"),
                           (3, 8, 8))
    # every layer concatenates its inputs (the first has one only) and every block its maps
    assert dense.blocks["dense concatenation"] == (1 + 2) + 2
    assert "inception branches" not in dense.blocks
    assert dense.blocks["1x1 convolutions"] == 2 + 3 + 1


def test_analyze_finds_se_gates_and_groups_and_keeps_the_papers_depth():
    se = models.analyze(ResNet(Bottleneck, ((1, 16), (1, 16)), num_classes=3, stem="cifar",
                               se_reduction=16), (3, 8, 8))
    assert se.blocks["SE gates"] == 2 and se.depth == 1 + 3 + 3 + 1
    assert se.weight_layers == 1 + 2 * (3 + 1 + 2) + 1  # convs, shortcuts, SE FCs, fc
    resnext = models.analyze(ResNet(Bottleneck, ((1, 16),), num_classes=3, stem="cifar",
                                    groups=4, width_per_group=16), (3, 8, 8))
    assert resnext.blocks["grouped convolutions"] == 1 and "SE gates" not in resnext.blocks


def test_compare_prints_a_side_by_side_table(capsys):
    comparison = models.compare("lenet5", "nin_small")
    out = capsys.readouterr().out
    assert "lenet5" in out and "nin_small" in out and "61,706" in out and "181,158" in out
    assert comparison.new_in_b == ["1x1 convolutions", "global average pooling"]
    assert comparison.new_in_a == []
    assert "new in nin_small: 1x1 convolutions, global average pooling" in out


@pytest.mark.slow
def test_compare_full_size_models(capsys):
    comparison = models.compare("alexnet", "vgg16")
    assert (comparison.a.depth, comparison.b.depth) == (8, 16)
    assert comparison.a.macs == 714_188_480 and comparison.b.macs == 15_470_264_320
    assert (comparison.a.receptive_field, comparison.b.receptive_field) == (195, 212)
    assert comparison.new_in_b == ["3x3 stacks"]
    resnet50 = models.analyze("resnet50")
    assert resnet50.depth == 50 and resnet50.blocks["residual adds"] == 16
    assert models.analyze("googlenet").depth == 22


# ---------------------------------------------------------------- individual models
def test_course_models():
    assert [f.name for f in dataclasses.fields(models.CNNConfig)] == [
        "matrixshape", "batchsize", "input_channels", "hidden", "kernel_size", "maxpool",
        "num_layers", "num_classes"]
    mlp = models.NeuralNetwork(features=784, num_classes=10, units1=32, units2=16)
    assert mlp(mt.randn(3, 1, 28, 28)).shape == (3, 10)
    for kernel, layers in ((3, 3), (5, 2), (1, 6)):
        config = models.CNNConfig(matrixshape=(28, 28), batchsize=4, input_channels=1, hidden=8,
                                  kernel_size=kernel, maxpool=2, num_layers=layers,
                                  num_classes=10)
        model = models.CNNblocks(config)
        assert model(mt.randn(2, 1, 28, 28)).shape == (2, 10)
        assert model.training  # the dummy pass did not leave it in eval mode


def test_cnnblocks_reports_a_too_small_input_by_layer():
    config = models.CNNConfig(matrixshape=(12, 12), batchsize=4, input_channels=1, hidden=4,
                              kernel_size=5, maxpool=2, num_layers=4, num_classes=10)
    with pytest.raises(ValueError, match=r"input too small: layer convolutions\.\d+"):
        models.CNNblocks(config)


def test_lenet_shapes_and_forms():
    assert models.lenet5()(mt.randn(2, 1, 28, 28)).shape == (2, 10)
    old = models.lenet5_1998()
    assert old(mt.randn(2, 1, 32, 32)).shape == (2, 10)
    kinds = [type(m).__name__ for m in old.features]
    assert kinds == ["Conv2d", "Tanh", "AvgPool2d", "Conv2d", "Tanh", "AvgPool2d"]


def test_googlenet_aux_heads_only_in_training():
    model = models.googlenet_small(aux_logits=True)
    outputs = model(mt.randn(2, 1, 28, 28))
    assert isinstance(outputs, models.GoogLeNetOutputs)
    assert [o.shape for o in outputs] == [(2, 10)] * 3
    model.eval()
    assert model(mt.randn(2, 1, 28, 28)).shape == (2, 10)


def test_zero_init_residual_makes_blocks_start_as_identity():
    model = tiny_resnet(zero_init_residual=True).eval()
    block = model.layer1[0]
    x = mt.randn(2, 4, 6, 6).relu()
    np.testing.assert_allclose(block(x).detach().numpy(), x.detach().numpy(), atol=1e-6)


def test_se_block_in_any_network():
    net = nn.Sequential(nn.Conv2d(3, 32, 3, padding=1), models.SEBlock(32), nn.ReLU())
    out = net(mt.randn(2, 3, 5, 5))
    assert out.shape == (2, 32, 5, 5)
    assert sum(p.numel() for p in net[1].parameters()) == 2 * 32 * 2 + 2 + 32


def test_highway_gate_starts_closed():
    layer = models.HighwayLayer(8, gate_bias=-20.0)
    x = mt.randn(3, 8)
    # with T ~ 0 the layer carries its input through
    np.testing.assert_allclose(layer(x).detach().numpy(), x.detach().numpy(), atol=1e-6)
    assert models.highway()(mt.randn(2, 1, 28, 28)).shape == (2, 10)


def test_compare_command_exit_status(capsys):
    assert models.compare_command("lenet5", "lenet5_1998") == 0
    assert "lenet5_1998" in capsys.readouterr().out
    assert models.compare_command("lenet5", "lenet6") == 2
    assert "unknown model 'lenet6'" in capsys.readouterr().out
