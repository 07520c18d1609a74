"""Every layer against torch: same weights (copied from torch), same input, forward and all
gradients, in train and eval mode, float32 and float64; batch norm over several steps so the
running statistics are compared too."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest
import torch

import minitorch_cv as mt
import minitorch_cv.functional as F
import minitorch_cv.nn as nn

T = torch.nn


def _needs(*names):
    missing = [n for n in names if not hasattr(F, n)]
    return pytest.mark.skipif(bool(missing), reason=f"functional ops not landed yet: {missing}")


# (name, our factory, torch factory, input shape, functional ops needed)
CASES = [
    ("linear", lambda: nn.Linear(5, 3), lambda: T.Linear(5, 3), (4, 5), ()),
    ("linear_nobias_3d", lambda: nn.Linear(5, 3, bias=False), lambda: T.Linear(5, 3, bias=False),
     (2, 4, 5), ()),
    ("identity", nn.Identity, T.Identity, (2, 3), ()),
    ("flatten", nn.Flatten, T.Flatten, (2, 3, 4, 5), ()),
    ("flatten_1_2", lambda: nn.Flatten(1, 2), lambda: T.Flatten(1, 2), (2, 3, 4, 5), ()),
    ("relu", nn.ReLU, T.ReLU, (3, 7), ()),
    ("leaky_relu", lambda: nn.LeakyReLU(0.2), lambda: T.LeakyReLU(0.2), (3, 7), ()),
    ("sigmoid", nn.Sigmoid, T.Sigmoid, (3, 7), ()),
    ("tanh", nn.Tanh, T.Tanh, (3, 7), ()),
    ("softmax", lambda: nn.Softmax(dim=1), lambda: T.Softmax(dim=1), (3, 7), ()),
    ("log_softmax", lambda: nn.LogSoftmax(dim=-1), lambda: T.LogSoftmax(dim=-1), (3, 7), ()),
    ("conv", lambda: nn.Conv2d(3, 4, 3), lambda: T.Conv2d(3, 4, 3), (2, 3, 7, 6), ("conv2d",)),
    ("conv_stride_pad", lambda: nn.Conv2d(3, 4, (3, 2), stride=2, padding=(1, 2)),
     lambda: T.Conv2d(3, 4, (3, 2), stride=2, padding=(1, 2)), (2, 3, 7, 6), ("conv2d",)),
    ("conv_same_even", lambda: nn.Conv2d(2, 3, 4, padding="same", bias=False),
     lambda: T.Conv2d(2, 3, 4, padding="same", bias=False), (2, 2, 6, 5), ("conv2d",)),
    ("conv_same_dilated", lambda: nn.Conv2d(2, 2, 3, padding="same", dilation=2),
     lambda: T.Conv2d(2, 2, 3, padding="same", dilation=2), (1, 2, 7, 7), ("conv2d",)),
    ("conv_valid_groups", lambda: nn.Conv2d(4, 6, 3, padding="valid", groups=2),
     lambda: T.Conv2d(4, 6, 3, padding="valid", groups=2), (2, 4, 6, 6), ("conv2d",)),
    ("conv_unbatched_same", lambda: nn.Conv2d(3, 2, 2, padding="same"),
     lambda: T.Conv2d(3, 2, 2, padding="same"), (3, 5, 6), ("conv2d",)),
    ("maxpool_unbatched", lambda: nn.MaxPool2d(2), lambda: T.MaxPool2d(2), (3, 6, 7),
     ("max_pool2d",)),
    ("maxpool", lambda: nn.MaxPool2d(2), lambda: T.MaxPool2d(2), (2, 3, 6, 7),
     ("max_pool2d",)),
    ("maxpool_3_2_1", lambda: nn.MaxPool2d(3, 2, 1), lambda: T.MaxPool2d(3, 2, 1),
     (2, 3, 7, 7), ("max_pool2d",)),
    ("maxpool_ceil_dilated", lambda: nn.MaxPool2d(3, 2, 1, dilation=2, ceil_mode=True),
     lambda: T.MaxPool2d(3, 2, 1, dilation=2, ceil_mode=True), (2, 3, 8, 9), ("max_pool2d",)),
    ("avgpool_ceil_nopad_count", lambda: nn.AvgPool2d(3, 2, 1, ceil_mode=True,
                                                      count_include_pad=False),
     lambda: T.AvgPool2d(3, 2, 1, ceil_mode=True, count_include_pad=False), (2, 3, 8, 8),
     ("avg_pool2d",)),
    ("avgpool_divisor", lambda: nn.AvgPool2d(2, divisor_override=3),
     lambda: T.AvgPool2d(2, divisor_override=3), (1, 2, 4, 6), ("avg_pool2d",)),
    ("avgpool", lambda: nn.AvgPool2d(2), lambda: T.AvgPool2d(2), (2, 3, 6, 7), ("avg_pool2d",)),
    ("avgpool_pad", lambda: nn.AvgPool2d(3, 2, 1), lambda: T.AvgPool2d(3, 2, 1), (2, 3, 7, 7),
     ("avg_pool2d",)),
    ("adaptive_avg", lambda: nn.AdaptiveAvgPool2d((2, 3)), lambda: T.AdaptiveAvgPool2d((2, 3)),
     (2, 3, 7, 8), ("adaptive_avg_pool2d",)),
    ("adaptive_avg_1", lambda: nn.AdaptiveAvgPool2d(1), lambda: T.AdaptiveAvgPool2d(1),
     (2, 3, 5, 5), ("adaptive_avg_pool2d",)),
    ("adaptive_max", lambda: nn.AdaptiveMaxPool2d(3), lambda: T.AdaptiveMaxPool2d(3),
     (2, 3, 7, 8), ("adaptive_max_pool2d",)),
    ("lrn", lambda: nn.LocalResponseNorm(3), lambda: T.LocalResponseNorm(3), (2, 5, 4, 4),
     ("local_response_norm",)),
    ("dropout_eval_or_p0", lambda: nn.Dropout(0.0), lambda: T.Dropout(0.0), (3, 4),
     ("dropout",)),
    ("batchnorm2d", lambda: nn.BatchNorm2d(3), lambda: T.BatchNorm2d(3), (4, 3, 5, 5),
     ("batch_norm",)),
    ("batchnorm2d_cumulative", lambda: nn.BatchNorm2d(3, momentum=None),
     lambda: T.BatchNorm2d(3, momentum=None), (4, 3, 5, 5), ("batch_norm",)),
    ("batchnorm2d_no_affine", lambda: nn.BatchNorm2d(3, affine=False),
     lambda: T.BatchNorm2d(3, affine=False), (4, 3, 2, 5), ("batch_norm",)),
    ("batchnorm2d_no_stats", lambda: nn.BatchNorm2d(3, track_running_stats=False),
     lambda: T.BatchNorm2d(3, track_running_stats=False), (4, 3, 2, 5), ("batch_norm",)),
    ("batchnorm1d_2d", lambda: nn.BatchNorm1d(6), lambda: T.BatchNorm1d(6), (8, 6),
     ("batch_norm",)),
    ("batchnorm1d_3d", lambda: nn.BatchNorm1d(3, momentum=0.3), lambda: T.BatchNorm1d(
        3, momentum=0.3), (4, 3, 5), ("batch_norm",)),
]


@pytest.mark.filterwarnings("ignore:Using padding='same':UserWarning")  # torch's own note
@pytest.mark.parametrize("train", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_layer_matches_torch(case, dtype, train, torch_compare):
    name, ours, theirs, shape, needs = case
    missing = [n for n in needs if not hasattr(F, n)]
    if missing:
        pytest.skip(f"functional ops not landed yet: {missing}")
    torch.manual_seed(0)
    x = np.random.default_rng(1).standard_normal(shape).astype(dtype)
    torch_compare(ours(), theirs(), x, train=train, steps=3 if "batchnorm" in name else 1)


@_needs("conv2d", "max_pool2d", "batch_norm", "dropout")
@pytest.mark.parametrize("train", [True, False], ids=["train", "eval"])
def test_small_cnn_matches_torch(train, torch_compare):
    def build(M):  # noqa: N803
        return M.Sequential(OrderedDict(
            conv1=M.Conv2d(3, 6, 3, padding=1), bn1=M.BatchNorm2d(6), relu1=M.ReLU(),
            pool1=M.MaxPool2d(2), conv2=M.Conv2d(6, 8, 3), relu2=M.LeakyReLU(0.1),
            flat=M.Flatten(), drop=M.Dropout(0.0), fc=M.Linear(8 * 2 * 2, 5)))

    torch.manual_seed(0)
    x = np.random.default_rng(2).standard_normal((3, 3, 8, 8))
    torch_compare(build(nn), build(T), x, train=train, steps=2)


@_needs("dropout", "dropout2d")
def test_dropout_train_statistics_and_eval_identity():
    mt.manual_seed(3)
    x = mt.ones(200, 300)
    drop = nn.Dropout(0.3)
    out = drop(x).numpy()
    assert set(np.unique(out)).issubset({0.0, np.float32(1 / 0.7)})
    assert abs((out == 0).mean() - 0.3) < 0.01
    drop.eval()
    np.testing.assert_array_equal(drop(x).numpy(), x.numpy())
    drop2d = nn.Dropout2d(0.5)
    out = drop2d(mt.ones(40, 50, 3, 3)).numpy()
    per_channel = out.reshape(40, 50, 9)
    assert np.all(per_channel.min(-1) == per_channel.max(-1))  # whole channels dropped
    assert abs((per_channel[..., 0] == 0).mean() - 0.5) < 0.05


def test_pools_return_indices_like_torch():
    x = np.random.default_rng(3).standard_normal((2, 3, 6, 6)).astype(np.float32)
    for ours, theirs in [(nn.MaxPool2d(2, return_indices=True), T.MaxPool2d(2,
                                                                           return_indices=True)),
                         (nn.AdaptiveMaxPool2d(3, return_indices=True),
                          T.AdaptiveMaxPool2d(3, return_indices=True))]:
        values, indices = ours(mt.tensor(x))
        ref_values, ref_indices = theirs(torch.tensor(x))
        np.testing.assert_allclose(values.numpy(), ref_values.numpy())
        np.testing.assert_array_equal(indices.numpy(), ref_indices.numpy())


def test_layer_input_errors_are_clear():
    with pytest.raises(RuntimeError, match="in_features=5"):
        nn.Linear(5, 2)(mt.randn(3, 4))
    with pytest.raises(RuntimeError, match=r"\(N, 3, H, W\)"):
        nn.Conv2d(3, 2, 3)(mt.randn(1, 2, 5, 5))
    with pytest.raises(ValueError, match="divisible by groups"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="strided"):
        nn.Conv2d(3, 4, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="4D"):
        nn.BatchNorm2d(3)(mt.randn(2, 3))
    with pytest.raises(ValueError, match="channels"):
        nn.BatchNorm1d(3)(mt.randn(2, 4))
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(1.5)


def test_softmax_without_dim_warns_and_uses_torchs_legacy_rule():
    x = np.random.default_rng(0).standard_normal((2, 3, 4)).astype(np.float32)
    with pytest.warns(UserWarning, match="Implicit dimension"):
        ours = nn.Softmax()(mt.tensor(x))
    with pytest.warns(UserWarning):
        theirs = T.Softmax()(torch.tensor(x))
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)


def test_batchnorm_counts_batches_and_state_dict_matches_torch_names():
    bn = nn.BatchNorm2d(3)
    assert list(bn.state_dict()) == list(T.BatchNorm2d(3).state_dict())
    assert bn.num_batches_tracked.dtype == np.int64 and bn.num_batches_tracked.shape == ()
    assert list(nn.BatchNorm2d(3, bias=False).state_dict()) == list(
        T.BatchNorm2d(3, bias=False).state_dict())
