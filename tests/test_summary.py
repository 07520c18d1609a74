"""summary(): numbers checked against hand computation for LeNet-5, formulas and receptive
fields for strided/dilated/padded layers, too-small inputs reported by layer name."""

from __future__ import annotations

import numpy as np
import pytest

import minitorch_cv as mt
import minitorch_cv.nn as nn
from minitorch_cv.summary import InputTooSmallError, ModelSummary


def lenet():
    return nn.Sequential(
        nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
        nn.Linear(84, 10))


def test_lenet_numbers_by_hand():
    s = mt.summary(lenet(), (2, 1, 32, 32))
    assert isinstance(s, ModelSummary)
    by_name = {r.name: r for r in s.layers}
    # parameters: weights + biases
    assert [by_name[n].num_params for n in ("0", "3", "7", "9", "11")] == [
        6 * 25 + 6, 16 * 6 * 25 + 16, 400 * 120 + 120, 120 * 84 + 84, 84 * 10 + 10]
    assert s.total_params == 61706 == s.trainable_params and s.non_trainable_params == 0
    # multiply-adds, batch of 2: N * C_out * out_h * out_w * C_in * kh * kw; N * in * out
    expected_macs = {"0": 2 * 6 * 28 * 28 * 25, "3": 2 * 16 * 10 * 10 * 150,
                     "7": 2 * 400 * 120, "9": 2 * 120 * 84, "11": 2 * 84 * 10}
    for name, macs in expected_macs.items():
        assert by_name[name].mult_adds == macs, name
    assert s.total_mult_adds == 2 * 416520
    # output shapes
    assert by_name["0"].output_shape == (2, 6, 28, 28)
    assert by_name["5"].output_shape == (2, 16, 5, 5)
    assert by_name["6"].output_shape == (2, 400)
    # receptive field and jump: 5(1) -> pool 6(2) -> conv 6+4*2=14(2) -> pool 16(4)
    assert [(by_name[n].receptive_field, by_name[n].jump) for n in ("0", "2", "3", "5")] == [
        ((5, 5), (1, 1)), ((6, 6), (2, 2)), ((14, 14), (2, 2)), ((16, 16), (4, 4))]
    # im2col: N * C_in * kh * kw * out_h * out_w elements
    assert by_name["0"].im2col_elements == 2 * 1 * 25 * 28 * 28
    assert by_name["3"].im2col_elements == 2 * 6 * 25 * 10 * 10
    assert s.max_im2col_bytes == 2 * 25 * 28 * 28 * 4
    assert by_name["0"].formula == "H, W: (32 + 2*0 - 1*(5-1) - 1)//1 + 1 = 28"
    # memory: every leaf output is kept for backward
    leaf_outputs = (6 * 28 * 28 * 2 + 6 * 14 * 14 + 16 * 10 * 10 * 2 + 16 * 5 * 5 + 400
                    + 120 * 2 + 84 * 2 + 10)
    assert s.activation_bytes == 2 * leaf_outputs * 4
    assert s.input_bytes == 2 * 32 * 32 * 4
    assert s.param_bytes == s.grad_bytes == 61706 * 4 and s.adam_state_bytes == 2 * 61706 * 4
    assert s.training_step_bytes == 4 * 61706 * 4 + 2 * leaf_outputs * 4 + 2 * 32 * 32 * 4
    text = str(s)
    for piece in ("Total params: 61,706", "Total mult-adds: 833,040", "0 (Conv2d)",
                  "[2, 6, 28, 28]", "16 (4)", "Adam state"):
        assert piece in text, piece


def test_padding_stride_dilation_ceil_and_adaptive_formulas():
    model = nn.Sequential(
        nn.Conv2d(3, 4, 3, stride=2, padding=1), nn.Conv2d(4, 4, 3, dilation=2, padding=2),
        nn.Conv2d(4, 4, (3, 1), padding="same", bias=False), nn.MaxPool2d(3, 2, ceil_mode=True),
        nn.AvgPool2d(2), nn.AdaptiveAvgPool2d(1), nn.Flatten()).double()
    s = mt.summary(model, (1, 3, 17, 17), dtype=mt.float64)
    rows = {r.name: r for r in s.layers}
    assert rows["0"].formula == "H, W: (17 + 2*1 - 1*(3-1) - 1)//2 + 1 = 9"
    assert rows["0"].receptive_field == (3, 3) and rows["0"].jump == (2, 2)
    # dilation 2: k_eff = 5, r = 3 + 4*2 = 11
    assert rows["1"].receptive_field == (11, 11) and rows["1"].output_shape == (1, 4, 9, 9)
    # 'same' with a 3x1 kernel: only H grows, r = 11 + 2*2
    assert rows["2"].receptive_field == (15, 11) and rows["2"].output_shape == (1, 4, 9, 9)
    assert rows["3"].formula.startswith("H, W: ceil((9 + 2*0 - 1*(3-1) - 1)/2) + 1 = 4")
    assert rows["3"].output_shape == (1, 4, 4, 4)
    assert rows["5"].formula == "adaptive 2x2 -> 1x1"
    assert s.layers[-1].output_shape == (1, 4) and s.itemsize == 8
    assert rows["2"].num_params == 4 * 4 * 3 and rows["2"].mult_adds == 9 * 9 * 4 * 4 * 3


def test_too_small_input_names_the_layer_and_formula():
    with pytest.raises(InputTooSmallError) as info:
        mt.summary(lenet(), (1, 1, 12, 12))
    message = str(info.value)
    assert "'3' (Conv2d)" in message and "(4 + 2*0 - 1*(5-1) - 1)//1 + 1 = 0" in message
    with pytest.raises(InputTooSmallError, match="'2' \\(MaxPool2d\\)"):
        mt.summary(lenet(), (1, 1, 5, 5))


def test_other_failures_name_the_layer():
    with pytest.raises(RuntimeError, match="failed in layer '0' \\(Conv2d\\)"):
        mt.summary(lenet(), (1, 3, 32, 32))


def test_summary_has_no_side_effects_and_counts_frozen_and_shared_parameters():
    shared = nn.Linear(8, 8)
    model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.AdaptiveMaxPool2d(1),
                          nn.Flatten(), shared, nn.ReLU(), shared)
    model[0].requires_grad_(False)
    model.train()
    running = model[1].running_mean.array.copy()
    mt.manual_seed(5)
    expected_next = mt.rand(3).numpy()
    mt.manual_seed(5)
    s = mt.summary(model, (4, 3, 6, 6))
    np.testing.assert_array_equal(mt.rand(3).numpy(), expected_next)  # global stream untouched
    np.testing.assert_array_equal(model[1].running_mean.array, running)
    assert model.training and all(not h for h in (model[1]._forward_hooks,
                                                    model[1]._forward_pre_hooks))
    conv, bn, lin = 3 * 8 * 9 + 8, 16, 8 * 8 + 8
    assert s.total_params == conv + bn + lin
    assert s.trainable_params == bn + lin
    rows = [r for r in s.layers if r.name == "4"]
    assert len(rows) == 2  # called twice, counted once in the totals
    assert s.layers[0].trainable == "no" and s.layers[1].trainable == "yes"
