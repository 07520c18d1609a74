"""Winograd F(2x2, 3x3) on the GPU side: the CUDA C transforms and their adjoints (winograd.cu)
equal the reference on hypothesis-drawn shapes in three thread orders, and F.conv2d with the
Winograd algorithm on "cuda-sim" equals "cpu", forward and both gradients. (Direct convolution
has no GPU kernels: a forced "direct" runs im2col there.)"""

from __future__ import annotations

import numpy as np
import pytest
from gpu_devices import DEVICES, host, kernels_for, on, tolerance
from hypothesis import given, settings
from hypothesis import strategies as st

import minitorch_cv as mt
import minitorch_cv.functional as F
from minitorch_cv import emulator
from minitorch_cv.kernels import cpu, reference

DTYPES = st.sampled_from([np.float32, np.float64])


@st.composite
def winograd_cases(draw):
    ph, pw = draw(st.integers(-2, 3)), draw(st.integers(-2, 3))
    H = draw(st.integers(max(1, 3 - 2 * ph), 7))
    W = draw(st.integers(max(1, 3 - 2 * pw), 7))
    return dict(N=draw(st.integers(1, 2)), C=draw(st.integers(1, 3)),
                C_out=draw(st.integers(1, 3)), H=H, W=W, ph=ph, pw=pw)


@pytest.mark.parametrize("device", DEVICES)
@settings(max_examples=8, deadline=None)
@given(case=winograd_cases(), dtype=DTYPES, seed=st.integers(0, 2**16))
def test_winograd_transforms(device, case, dtype, seed):
    K = kernels_for(device)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((case["N"], case["C"], case["H"], case["W"])).astype(dtype)
    w = rng.standard_normal((case["C_out"], case["C"], 3, 3)).astype(dtype)
    out_h, out_w = case["H"] + 2 * case["ph"] - 2, case["W"] + 2 * case["pw"] - 2
    tiles = (-(-out_h // 2), -(-out_w // 2))
    U = host(K.winograd_filter_transform(on(device, w)))
    np.testing.assert_allclose(U, reference.winograd_filter_transform(w), **tolerance(dtype))
    V = host(K.winograd_input_transform(on(device, x), case["ph"], case["pw"], *tiles))
    np.testing.assert_array_equal(V, reference.winograd_input_transform(x, case["ph"],
                                                                        case["pw"], *tiles))
    np.testing.assert_array_equal(V, cpu.winograd_input_transform(x, case["ph"], case["pw"],
                                                                  *tiles))
    M = rng.standard_normal((4, 4, case["C_out"], case["N"], *tiles)).astype(dtype)
    y = host(K.winograd_output_transform(on(device, M), out_h, out_w))
    assert y.shape == (case["N"], case["C_out"], out_h, out_w) and y.dtype == dtype
    np.testing.assert_allclose(y, reference.winograd_output_transform(M, out_h, out_w),
                               **tolerance(dtype))
    # the weight gradient's adjoint transforms
    g = rng.standard_normal(y.shape).astype(dtype)
    dM = host(K.winograd_grad_output_transform(on(device, g), *tiles))
    np.testing.assert_array_equal(dM, reference.winograd_grad_output_transform(g, *tiles))
    grad_U = rng.standard_normal(U.shape).astype(dtype)
    grad_w = host(K.winograd_grad_filter_transform(on(device, grad_U)))
    assert grad_w.shape == w.shape and grad_w.dtype == dtype
    np.testing.assert_allclose(grad_w, reference.winograd_grad_filter_transform(grad_U),
                               **tolerance(dtype))


def test_filter_transform_refuses_other_filter_sizes():
    K = kernels_for("cuda-sim:forward")
    with pytest.raises(ValueError, match="3x3 filters"):
        K.winograd_filter_transform(np.zeros((2, 2, 5, 5), np.float32))


@pytest.mark.skipif(emulator.compiler() is None, reason="no g++: no 'cuda-sim'")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("padding", [1, (0, 3)])
def test_conv2d_winograd_on_cuda_sim_equals_cpu(dtype, padding):
    rng = np.random.default_rng(4)
    arrays = [rng.standard_normal(s).astype(dtype) for s in ((2, 3, 6, 5), (4, 3, 3, 3), (4,))]
    upstream = None
    results = {}
    with mt.backends.conv.flags(algorithm="winograd"):
        for device in ("cpu", "cuda-sim"):
            x, w, b = (mt.tensor(a, requires_grad=True).to(device) for a in arrays)
            for t in (x, w, b):
                t.retain_grad()
            y = F.conv2d(x, w, b, padding=padding)
            assert y.grad_fn.algorithm.name == "winograd"
            if upstream is None:
                upstream = rng.standard_normal(y.shape).astype(dtype)
            y.backward(mt.tensor(upstream).to(device))
            results[device] = [t.detach().to("cpu").numpy() for t in (y, x.grad, w.grad, b.grad)]
    for ours, theirs in zip(results["cuda-sim"], results["cpu"]):
        np.testing.assert_allclose(ours, theirs, **tolerance(dtype))
    with mt.backends.conv.flags(algorithm="direct"):  # no direct kernels on the GPU
        x = mt.tensor(arrays[0], requires_grad=True).to("cuda-sim")
        assert F.conv2d(x, mt.tensor(arrays[1]).to("cuda-sim")).grad_fn.algorithm.name == "im2col"
