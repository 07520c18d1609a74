"""Losses against torch (values and input gradients, every reduction and option) and through
gradcheck in float64 with a random upstream gradient; clear errors for bad targets."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import minitorch_cv as mt
import minitorch_cv.functional as F
import minitorch_cv.nn as nn
from minitorch_cv.testing import assert_matches_torch, gradcheck

REDUCTIONS = ["mean", "sum", "none"]
RNG = np.random.default_rng(0)


def logits(*shape, scale=2.0):
    return RNG.standard_normal(shape) * scale


def classes(num_classes, *shape, dtype=np.int64):
    return RNG.integers(0, num_classes, size=shape).astype(dtype)


def ours_target(array):
    return mt.from_numpy(np.array(array))


def torch_target(array):
    return torch.from_numpy(np.array(array, dtype=np.int64))


CE_OPTIONS = [
    {},
    {"label_smoothing": 0.2},
    {"ignore_index": 1},
    {"weight": True},
    {"weight": True, "ignore_index": 2, "label_smoothing": 0.1},
]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("options", CE_OPTIONS, ids=lambda o: "-".join(o) or "plain")
@pytest.mark.parametrize("shape", [(6, 4), (3, 4, 2, 5), (4,)], ids=["NC", "NCHW", "C"])
def test_cross_entropy_class_indices_matches_torch(shape, options, reduction):
    x = logits(*shape)
    target_shape = () if len(shape) == 1 else (shape[0], *shape[2:])
    num_classes = shape[0] if len(shape) == 1 else shape[1]
    target = classes(num_classes, *target_shape)
    weight = RNG.uniform(0.5, 2.0, num_classes) if options.get("weight") else None
    kwargs = {k: v for k, v in options.items() if k != "weight"}
    assert_matches_torch(
        lambda a: F.cross_entropy(a, ours_target(target), None if weight is None else
                                  mt.tensor(weight), reduction=reduction, **kwargs),
        lambda a: TF.cross_entropy(a, torch_target(target), None if weight is None else
                                   torch.tensor(weight), reduction=reduction, **kwargs),
        x, kind="reduction")


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.uint16])
def test_cross_entropy_accepts_any_integer_dtype(dtype):
    x = logits(5, 3).astype(np.float32)
    target = classes(3, 5, dtype=dtype)
    ours = F.cross_entropy(mt.tensor(x), ours_target(target))
    theirs = TF.cross_entropy(torch.tensor(x), torch_target(target))
    np.testing.assert_allclose(ours.item(), theirs.item(), rtol=1e-6)
    assert ours.dtype == np.float32


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("options", [{}, {"label_smoothing": 0.3}, {"weight": True}])
@pytest.mark.parametrize("shape", [(5, 3), (2, 3, 2, 2)])
def test_cross_entropy_probability_targets_match_torch(shape, options, reduction):
    x = logits(*shape)
    probs = np.exp(logits(*shape))
    probs /= probs.sum(axis=1, keepdims=True)
    weight = RNG.uniform(0.5, 2.0, shape[1]) if options.get("weight") else None
    kwargs = {k: v for k, v in options.items() if k != "weight"}
    assert_matches_torch(
        lambda a, p: F.cross_entropy(a, p, None if weight is None else mt.tensor(weight),
                                     reduction=reduction, **kwargs),
        lambda a, p: TF.cross_entropy(a, p, None if weight is None else torch.tensor(weight),
                                      reduction=reduction, **kwargs),
        x, probs, kind="reduction")


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_nll_loss_matches_torch(reduction, weighted):
    x = logits(7, 4)
    target = classes(4, 7)
    target[2] = -100
    weight = RNG.uniform(0.5, 2.0, 4) if weighted else None
    assert_matches_torch(
        lambda a: F.nll_loss(a, ours_target(target), None if weight is None else
                             mt.tensor(weight), reduction=reduction),
        lambda a: TF.nll_loss(a, torch_target(target), None if weight is None else
                              torch.tensor(weight), reduction=reduction),
        x, kind="reduction")


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_regression_losses_match_torch(reduction):
    x, y = logits(4, 5), logits(4, 5)
    y[0, 0] = x[0, 0]  # a tie: l1's gradient is 0 there, as torch
    assert_matches_torch(lambda a, b: F.mse_loss(a, b, reduction),
                         lambda a, b: TF.mse_loss(a, b, reduction=reduction), x, y,
                         kind="reduction")
    assert_matches_torch(lambda a, b: F.l1_loss(a, b, reduction),
                         lambda a, b: TF.l1_loss(a, b, reduction=reduction), x, y,
                         kind="reduction")


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_bce_matches_torch(reduction, weighted):
    p = RNG.uniform(0.02, 0.98, (6, 3))
    t = RNG.uniform(0, 1, (6, 3))
    weight = RNG.uniform(0.5, 2, (3,)) if weighted else None
    assert_matches_torch(
        lambda a, b: F.binary_cross_entropy(a, b, None if weight is None else mt.tensor(weight),
                                            reduction),
        lambda a, b: TF.binary_cross_entropy(a, b, None if weight is None else
                                             torch.tensor(weight), reduction=reduction),
        p, t, kind="transcendental")


def test_bce_clamps_log_at_minus_100_like_torch():
    p = np.array([0.0, 1.0, 0.5, 1e-50])
    t = np.array([1.0, 0.0, 1.0, 1.0])
    ours = F.binary_cross_entropy(mt.tensor(p), mt.tensor(t), reduction="none").numpy()
    theirs = TF.binary_cross_entropy(torch.tensor(p), torch.tensor(t), reduction="none").numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)
    assert np.all(np.isfinite(ours)) and ours[0] == 100.0


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("options", [{}, {"pos_weight": True}, {"weight": True},
                                     {"pos_weight": True, "weight": True}],
                         ids=lambda o: "-".join(o) or "plain")
def test_bce_with_logits_matches_torch_including_huge_logits(reduction, options):
    x = logits(5, 4, scale=3.0)
    x[0] = [1e4, -1e4, 0.0, 50.0]
    t = RNG.uniform(0, 1, (5, 4))
    t[0] = [0.0, 1.0, 0.5, 1.0]
    pos = RNG.uniform(0.5, 3, (4,)) if options.get("pos_weight") else None
    weight = RNG.uniform(0.5, 2, (5, 1)) if options.get("weight") else None

    def ours(a, b):
        return F.binary_cross_entropy_with_logits(
            a, b, None if weight is None else mt.tensor(weight), reduction,
            None if pos is None else mt.tensor(pos))

    def theirs(a, b):
        return TF.binary_cross_entropy_with_logits(
            a, b, None if weight is None else torch.tensor(weight), reduction=reduction,
            pos_weight=None if pos is None else torch.tensor(pos))

    assert_matches_torch(ours, theirs, x, t, kind="transcendental")
    assert np.isfinite(ours(mt.tensor(x), mt.tensor(t)).detach().numpy()).all()


# ----------------------------------------------------------------------------- gradcheck
def _double(array):
    return mt.tensor(array.astype(np.float64), requires_grad=True)


SPATIAL_TARGET = ours_target(classes(3, 2, 2, 2))
GRADCHECK_CASES = {
    "cross_entropy_smooth_weighted": lambda: (
        lambda a: F.cross_entropy(a, ours_target(np.array([0, 2, 1, 2])),
                                  mt.tensor([1.0, 2.0, 0.5], dtype=mt.float64),
                                  ignore_index=1, label_smoothing=0.1),
        [_double(logits(4, 3))]),
    "cross_entropy_probabilities": lambda: (
        lambda a, p: F.cross_entropy(a, p, reduction="none"),
        [_double(logits(3, 4)), _double(RNG.uniform(0, 1, (3, 4)))]),
    "cross_entropy_spatial": lambda: (
        lambda a: F.cross_entropy(a, SPATIAL_TARGET, reduction="none"),
        [_double(logits(2, 3, 2, 2))]),
    "nll_loss": lambda: (
        lambda a: F.nll_loss(a, ours_target(np.array([1, 0, 2])), reduction="sum"),
        [_double(logits(3, 3))]),
    "mse_loss": lambda: (lambda a, b: F.mse_loss(a, b, "none"),
                         [_double(logits(3, 2)), _double(logits(3, 2))]),
    "l1_loss": lambda: (lambda a, b: F.l1_loss(a, b),
                        [_double(logits(3, 2)), _double(logits(3, 2))]),
    "binary_cross_entropy": lambda: (
        lambda a, b: F.binary_cross_entropy(a, b, reduction="none"),
        [_double(RNG.uniform(0.1, 0.9, (3, 2))), _double(RNG.uniform(0, 1, (3, 2)))]),
    "bce_with_logits": lambda: (
        lambda a, b, w: F.binary_cross_entropy_with_logits(a, b, reduction="none",
                                                           pos_weight=w),
        [_double(logits(3, 2)), _double(RNG.uniform(0, 1, (3, 2))),
         _double(RNG.uniform(0.5, 2, (2,)))]),
}


@pytest.mark.parametrize("name", list(GRADCHECK_CASES))
def test_loss_gradcheck(name):
    fn, inputs = GRADCHECK_CASES[name]()
    assert gradcheck(fn, *inputs, seed=len(name))


def test_loss_modules_store_their_options():
    x = logits(6, 3).astype(np.float32)
    target = classes(3, 6)
    weight = np.array([1.0, 2.0, 3.0], dtype=np.float32)
    ours = nn.CrossEntropyLoss(weight=mt.tensor(weight), label_smoothing=0.1, ignore_index=0,
                               reduction="sum")(mt.tensor(x), ours_target(target))
    theirs = torch.nn.CrossEntropyLoss(weight=torch.tensor(weight), label_smoothing=0.1,
                                       ignore_index=0, reduction="sum")(
        torch.tensor(x), torch_target(target))
    np.testing.assert_allclose(ours.item(), theirs.item(), rtol=1e-5)
    pairs = [(nn.NLLLoss(), torch.nn.NLLLoss()), (nn.MSELoss(), torch.nn.MSELoss()),
             (nn.L1Loss(reduction="sum"), torch.nn.L1Loss(reduction="sum"))]
    for mine, ref in pairs:
        if isinstance(mine, nn.NLLLoss):
            a, b = mine(mt.tensor(x), ours_target(target)), ref(torch.tensor(x),
                                                               torch_target(target))
        else:
            a, b = mine(mt.tensor(x), mt.tensor(x * 0.5)), ref(torch.tensor(x),
                                                               torch.tensor(x * 0.5))
        np.testing.assert_allclose(a.item(), b.item(), rtol=1e-5)
    p = np.array([[0.2, 0.9]], dtype=np.float32)
    t = np.array([[0.0, 1.0]], dtype=np.float32)
    np.testing.assert_allclose(nn.BCELoss()(mt.tensor(p), mt.tensor(t)).item(),
                               torch.nn.BCELoss()(torch.tensor(p), torch.tensor(t)).item(),
                               rtol=1e-6)
    pos = np.array([2.0, 3.0], dtype=np.float32)
    np.testing.assert_allclose(
        nn.BCEWithLogitsLoss(pos_weight=mt.tensor(pos))(mt.tensor(p), mt.tensor(t)).item(),
        torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor(pos))(torch.tensor(p),
                                                                 torch.tensor(t)).item(),
        rtol=1e-6)
    assert "weight" in dict(nn.CrossEntropyLoss(weight=mt.ones(3)).named_buffers())


def test_bad_targets_give_clear_errors():
    x = mt.randn(4, 3)
    with pytest.raises(IndexError, match=r"target 3 is out of bounds.*\[0, 2\]"):
        F.cross_entropy(x, mt.tensor([0, 1, 2, 3]))
    with pytest.raises(IndexError, match="out of bounds"):
        F.cross_entropy(x, mt.tensor([0, -1, 2, 1]))
    with pytest.raises(ValueError, match=r"shape \(4,\)"):
        F.cross_entropy(x, mt.tensor([[0, 1, 2, 1]]))
    with pytest.raises(ValueError, match="probability target"):
        F.cross_entropy(x, mt.rand(4, 2))
    with pytest.raises(TypeError, match="integer dtype"):
        F.cross_entropy(x, mt.tensor([True, False, True, True]))
    with pytest.raises(TypeError, match="integer dtype"):
        F.nll_loss(x, mt.rand(4))
    with pytest.raises(ValueError, match="reduction"):
        F.mse_loss(x, x, reduction="avg")
    with pytest.raises(RuntimeError, match="between 0 and 1"):
        F.binary_cross_entropy(x, mt.rand(4, 3))
    with pytest.warns(UserWarning, match="different to the input size"):
        F.mse_loss(x, mt.randn(3))
    # ignored targets may be out of range
    F.cross_entropy(x, mt.tensor([0, -100, 2, 1]))
