"""Whole models against torchvision with shared random weights (optional group).

torchvision is not installed in the main environment; run these in a separate virtual
environment (see docs/models.md):

    python -m venv /tmp/tv && /tmp/tv/bin/pip install torch==2.14.1 torchvision==0.29.1
    /tmp/tv/bin/pip install -e '.[test]'
    /tmp/tv/bin/pytest -m torchvision

For every model torchvision has: the torchvision state dict loads into ours with strict
name and shape checking (so the keys map one to one), the parameter counts agree, and the
outputs agree on the same image in eval mode. For a representative set, ``compare_with_torch``
also checks every layer's output and gradient in eval and train mode, in float64: in float32
a few pre-activations of a deep network lie within rounding error of zero and their ReLU
masks (or max-pool winners) differ between the libraries, so isolated gradient elements
differ by their full value although every forward value agrees.
"""

from __future__ import annotations

import numpy as np
import pytest

from minitorch_cv import interop, models

pytestmark = pytest.mark.torchvision
torch = pytest.importorskip("torch")
torchvision = pytest.importorskip("torchvision")

NAMES = sorted(name for name in models.list() if models.entry(name).torchvision)
OPTIONS = {"googlenet": {"aux_logits": False, "init_weights": True}}


def torchvision_model(name):
    torch.manual_seed(0)
    return torchvision.models.get_model(models.entry(name).torchvision, weights=None,
                                        **OPTIONS.get(name, {}))


def image(batch=1, size=224):
    return np.random.default_rng(0).standard_normal((batch, 3, size, size)).astype(np.float32)


@pytest.mark.parametrize("name", NAMES)
def test_whole_model_matches_torchvision(name):
    theirs = torchvision_model(name).eval()
    ours = models.get(name)
    assert sum(p.numel() for p in ours.parameters()) == sum(p.numel()
                                                            for p in theirs.parameters())
    interop.load_torch_state_dict(ours, theirs.state_dict(), strict=True)
    ours.eval()
    x = image()
    with torch.no_grad():
        expected = theirs(torch.from_numpy(x)).numpy()
    got = ours(__import__("minitorch_cv").tensor(x)).detach().numpy()
    assert got.shape == expected.shape == (1, 1000)
    scale = float(np.abs(expected).max())
    assert float(np.abs(got - expected).max()) <= 1e-3 * scale + 1e-5


@pytest.mark.parametrize("train", [False, True], ids=["eval", "train"])
@pytest.mark.parametrize("name", ["alexnet", "vgg11_bn", "googlenet", "resnet18",
                                  "resnext50_32x4d", "densenet121", "squeezenet1_1"])
def test_layer_by_layer_with_gradients(name, train):
    theirs = torchvision_model(name)
    report = interop.compare_with_torch(models.get(name), theirs, image(batch=2), train=train,
                                        atol=1e-8, rtol=1e-6, dtype=np.float64, verbose=False)
    assert report.ok, str(report)
    assert report.unmatched == []  # the same module names on both sides
