"""LayerNorm and GroupNorm create and reset their scale and shift as torch's layers do."""

import numpy as np
import pytest
import torch

import minitorch_cv as mt


@pytest.mark.parametrize("build", [
    lambda lib: lib.nn.LayerNorm(4),
    lambda lib: lib.nn.LayerNorm((2, 3), bias=False),
    lambda lib: lib.nn.LayerNorm(5, elementwise_affine=False),
    lambda lib: lib.nn.GroupNorm(2, 4),
    lambda lib: lib.nn.GroupNorm(2, 4, affine=False),
])
def test_parameters_and_reset_match_torch(build):
    ours, theirs = build(mt), build(torch)
    for layer in (ours, theirs):
        if layer.weight is not None:
            with (mt.no_grad() if layer is ours else torch.no_grad()):
                layer.weight.mul_(3.0)
        layer.reset_parameters()
    ours_state, theirs_state = ours.state_dict(), theirs.state_dict()
    assert list(ours_state) == list(theirs_state)
    for key in ours_state:
        np.testing.assert_array_equal(ours_state[key].numpy(), theirs_state[key].numpy())
