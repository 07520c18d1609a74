"""The conv/pool/norm/dropout ops on device "cuda-sim": the same op code on the GPU kernels
(run on the CPU by the emulator), against torch; dropout draws the CPU's mask bit for bit."""

import shutil

import numpy as np
import pytest
import torch

import minitorch_cv as mt
import minitorch_cv.functional as F
from minitorch_cv.testing import assert_matches_torch

TF = torch.nn.functional
pytestmark = pytest.mark.skipif(shutil.which("g++") is None, reason="cuda-sim needs g++")


def test_ops_on_simulated_gpu_match_torch():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 4, 6, 5)).astype(np.float32)
    w = rng.standard_normal((6, 2, 3, 2)).astype(np.float32)
    b = rng.standard_normal(6).astype(np.float32)
    kw = dict(stride=(2, 1), padding=1, dilation=(1, 2), groups=2)
    assert_matches_torch(lambda x, w, b: F.conv2d(x, w, b, **kw),
                         lambda x, w, b: TF.conv2d(x, w, b, **kw), x, w, b, kind="conv",
                         device="cuda-sim")
    pool = dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)
    assert_matches_torch(lambda x: F.max_pool2d(x, **pool, return_indices=True),
                         lambda x: TF.max_pool2d(x, **pool, return_indices=True), x,
                         device="cuda-sim")
    assert_matches_torch(lambda x: F.avg_pool2d(x, **pool, count_include_pad=False),
                         lambda x: TF.avg_pool2d(x, **pool, count_include_pad=False), x,
                         device="cuda-sim")
    assert_matches_torch(lambda x, g, b: F.batch_norm(x, None, None, g, b, training=True),
                         lambda x, g, b: TF.batch_norm(x, None, None, g, b, training=True),
                         x, b[:4], b[2:], kind="norm", device="cuda-sim")


def test_dropout_mask_is_the_same_on_cpu_and_simulated_gpu():
    mt.manual_seed(3)
    on_cpu = F.dropout(mt.ones(2, 3, 4, 4), 0.5).numpy()
    mt.manual_seed(3)
    on_sim = F.dropout(mt.ones(2, 3, 4, 4, device="cuda-sim"), 0.5).numpy()
    np.testing.assert_array_equal(on_cpu, on_sim)
    assert 0 < (on_cpu == 0).sum() < on_cpu.size
