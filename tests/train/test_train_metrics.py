"""Metrics against values computed by hand."""

import numpy as np
import pytest

import minitorch_cv as mt
from minitorch_cv.train import metrics

SCORES = np.array([[0.1, 0.7, 0.2],   # predicts 1
                   [0.5, 0.3, 0.2],   # predicts 0
                   [0.2, 0.3, 0.5],   # predicts 2
                   [0.6, 0.1, 0.3]])  # predicts 0
LABELS = np.array([1, 2, 2, 1])


def test_accuracy_by_hand():
    # right on samples 0 and 2 only
    assert metrics.Accuracy()(LABELS, SCORES) == pytest.approx(0.5)
    assert isinstance(metrics.Accuracy()(mt.tensor(LABELS), mt.tensor(SCORES)), float)


def test_accuracy_on_tensors_with_grad_and_soft_labels():
    scores = mt.tensor(SCORES, requires_grad=True)
    assert metrics.Accuracy()(mt.tensor(LABELS), scores) == pytest.approx(0.5)
    soft = np.eye(3)[LABELS] * 0.8 + 0.2 / 3  # MixUp-style soft labels, argmax = LABELS
    assert metrics.Accuracy()(soft, SCORES) == pytest.approx(0.5)


def test_top_k_accuracy_by_hand():
    # second-best classes: sample 0 -> 2, sample 1 -> 1, sample 2 -> 1, sample 3 -> 2
    # top-2 sets: {1,2}, {0,1}, {2,1}, {0,2}; labels 1,2,2,1 -> hit, miss, hit, miss
    assert metrics.TopKAccuracy(2)(LABELS, SCORES) == pytest.approx(0.5)
    assert metrics.TopKAccuracy(1)(LABELS, SCORES) == metrics.Accuracy()(LABELS, SCORES)
    assert metrics.TopKAccuracy(3)(LABELS, SCORES) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="fewer than k=4"):
        metrics.TopKAccuracy(4)(LABELS, SCORES)
    with pytest.raises(ValueError):
        metrics.TopKAccuracy(0)


def test_mae_by_hand_and_shape_trap():
    y = np.array([1.0, 2.0, 4.0])
    yhat = np.array([[1.5], [2.0], [1.0]])  # (N, 1) against (N,): element by element
    assert metrics.MAE()(y, yhat) == pytest.approx((0.5 + 0.0 + 3.0) / 3)
    assert metrics.MAE()(mt.tensor(y), mt.tensor(yhat)) == pytest.approx(3.5 / 3)


def test_names_used_as_log_keys():
    assert [repr(m) for m in (metrics.Accuracy(), metrics.TopKAccuracy(5), metrics.MAE())] == [
        "Accuracy", "Top5Accuracy", "MAE"]
