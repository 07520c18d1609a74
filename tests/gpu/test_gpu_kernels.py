"""Every GPU kernel equals the reference (and the CPU twin) on hypothesis-drawn configurations.

Data-movement results (im2col, max-pool values and argmax, dropout masks) must be identical;
arithmetic results agree within rtol 1e-5. Each test runs on the simulated GPU in three thread
orders and, where there is one, on a real GPU.
"""

from __future__ import annotations

import numpy as np
import pytest
from gpu_devices import DEVICES, host, kernels_for, on, tolerance
from hypothesis import given, settings
from hypothesis import strategies as st

from minitorch_cv.kernels import cpu, reference
from minitorch_cv.testing.strategies import conv_configs

SETTINGS = settings(max_examples=15, deadline=None)
DTYPES = st.sampled_from([np.float32, np.float64])


def _data(seed, shape, dtype, ties=False):
    values = np.random.default_rng(seed).standard_normal(shape)
    if ties:  # coarse values: equal maxima inside a window are common
        values = np.round(values * 2) / 2
    return values.astype(dtype)


def _window(cfg):
    return (cfg["kh"], cfg["kw"], cfg["sh"], cfg["sw"], cfg["ph"], cfg["pw"], cfg["dh"],
            cfg["dw"])


@pytest.mark.parametrize("device", DEVICES)
@SETTINGS
@given(cfg=conv_configs(), dtype=DTYPES, seed=st.integers(0, 2**16))
def test_im2col_col2im(device, cfg, dtype, seed):
    K = kernels_for(device)
    x = _data(seed, (cfg["N"], cfg["C"], cfg["H"], cfg["W"]), dtype)
    args = (*_window(cfg), cfg["out_h"], cfg["out_w"])
    col = host(K.im2col(on(device, x), *args))
    expected = reference.im2col(x, *args)
    assert col.dtype == expected.dtype
    np.testing.assert_array_equal(col, expected)
    np.testing.assert_array_equal(col, cpu.im2col(x, *args))

    grad_col = _data(seed + 1, col.shape, dtype)
    geometry = (cfg["H"], cfg["W"], cfg["sh"], cfg["sw"], cfg["ph"], cfg["pw"], cfg["dh"],
                cfg["dw"])
    grad_x = host(K.col2im(on(device, grad_col), *geometry))
    np.testing.assert_allclose(grad_x, reference.col2im(grad_col, *geometry), **tolerance(dtype))
    np.testing.assert_allclose(grad_x, cpu.col2im(grad_col, *geometry), **tolerance(dtype))

    # the GEMM layout (C, kh, kw, N, out_h, out_w): same values, batch moved inside
    col_bi = host(K.im2col_batch_inner(on(device, x), *args))
    np.testing.assert_array_equal(col_bi, expected.transpose(1, 2, 3, 0, 4, 5))
    np.testing.assert_array_equal(col_bi, cpu.im2col_batch_inner(x, *args))
    grad_col_bi = np.ascontiguousarray(grad_col.transpose(1, 2, 3, 0, 4, 5))
    grad_x_bi = host(K.col2im_batch_inner(on(device, grad_col_bi), *geometry))
    np.testing.assert_array_equal(grad_x_bi, grad_x)  # the same sums in the same order


@pytest.mark.parametrize("device", DEVICES)
@SETTINGS
@given(cfg=conv_configs(max_size=6), dtype=DTYPES, seed=st.integers(0, 2**16))
def test_max_pool2d(device, cfg, dtype, seed):
    K = kernels_for(device)
    x = _data(seed, (cfg["N"], cfg["C"], cfg["H"], cfg["W"]), dtype, ties=True)
    args = (*_window(cfg), cfg["out_h"], cfg["out_w"])
    out, argmax = (host(a) for a in K.max_pool2d_forward(on(device, x), *args))
    expected_out, expected_argmax = reference.max_pool2d_forward(x, *args)
    assert argmax.dtype == np.int64 and out.dtype == x.dtype
    np.testing.assert_array_equal(out, expected_out)
    np.testing.assert_array_equal(argmax, expected_argmax)  # same tie rule: first maximum
    cpu_out, cpu_argmax = cpu.max_pool2d_forward(x, *args)
    np.testing.assert_array_equal(out, cpu_out)
    np.testing.assert_array_equal(argmax, cpu_argmax)

    grad_out = _data(seed + 1, out.shape, dtype)
    grad_x = host(K.max_pool2d_backward(on(device, grad_out), on(device, argmax), cfg["H"],
                                        cfg["W"]))
    expected = reference.max_pool2d_backward(grad_out, expected_argmax, cfg["H"], cfg["W"])
    np.testing.assert_allclose(grad_x, expected, **tolerance(dtype))


@st.composite
def avg_pool_configs(draw):
    """Average pooling: no dilation, padding at most half the window (PyTorch's rule)."""
    cfg = draw(conv_configs(max_size=6))
    cfg.update(dh=1, dw=1, ph=min(cfg["ph"], cfg["kh"] // 2), pw=min(cfg["pw"], cfg["kw"] // 2))
    cfg["H"] = max(cfg["H"], cfg["kh"] - 2 * cfg["ph"])
    cfg["W"] = max(cfg["W"], cfg["kw"] - 2 * cfg["pw"])
    cfg["out_h"] = (cfg["H"] + 2 * cfg["ph"] - cfg["kh"]) // cfg["sh"] + 1
    cfg["out_w"] = (cfg["W"] + 2 * cfg["pw"] - cfg["kw"]) // cfg["sw"] + 1
    cfg["count_include_pad"] = draw(st.booleans())
    return cfg


@pytest.mark.parametrize("device", DEVICES)
@SETTINGS
@given(cfg=avg_pool_configs(), dtype=DTYPES, seed=st.integers(0, 2**16))
def test_avg_pool2d(device, cfg, dtype, seed):
    K = kernels_for(device)
    x = _data(seed, (cfg["N"], cfg["C"], cfg["H"], cfg["W"]), dtype)
    window = (cfg["kh"], cfg["kw"], cfg["sh"], cfg["sw"], cfg["ph"], cfg["pw"])
    include = cfg["count_include_pad"]
    out = host(K.avg_pool2d_forward(on(device, x), *window, cfg["out_h"], cfg["out_w"], include))
    expected = reference.avg_pool2d_forward(x, *window, cfg["out_h"], cfg["out_w"], include)
    np.testing.assert_allclose(out, expected, **tolerance(dtype))
    np.testing.assert_allclose(
        out, cpu.avg_pool2d_forward(x, *window, cfg["out_h"], cfg["out_w"], include),
        **tolerance(dtype))

    grad_out = _data(seed + 1, out.shape, dtype)
    grad_x = host(K.avg_pool2d_backward(on(device, grad_out), cfg["H"], cfg["W"], *window,
                                        include))
    expected = reference.avg_pool2d_backward(grad_out, cfg["H"], cfg["W"], *window, include)
    np.testing.assert_allclose(grad_x, expected, **tolerance(dtype))
    np.testing.assert_allclose(
        grad_x, cpu.avg_pool2d_backward(grad_out, cfg["H"], cfg["W"], *window, include),
        **tolerance(dtype))


@pytest.mark.parametrize("device", DEVICES)
@SETTINGS
@given(shape=st.tuples(st.integers(1, 4), st.integers(1, 5), st.integers(1, 40)),
       dtype=DTYPES, seed=st.integers(0, 2**16), spatial=st.booleans())
def test_batch_norm(device, shape, dtype, seed, spatial):
    K = kernels_for(device)
    N, C, L = shape
    if spatial:  # (N, C, H, W) images as well as (N, C, L)
        shape = (N, C, 1, L)
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal(shape) * 3 + rng.standard_normal((1, C) + (1,) * (len(shape) - 2))
         ).astype(dtype)
    mean, var = (host(a) for a in K.batch_norm_stats(on(device, x)))
    expected_mean, expected_var = reference.batch_norm_stats(x)
    assert mean.shape == var.shape == (C,) and mean.dtype == var.dtype == x.dtype
    np.testing.assert_allclose(mean, expected_mean, **tolerance(dtype))
    np.testing.assert_allclose(var, expected_var, **tolerance(dtype))
    cpu_mean, cpu_var = cpu.batch_norm_stats(x)
    np.testing.assert_allclose(mean, cpu_mean, **tolerance(dtype))
    np.testing.assert_allclose(var, cpu_var, **tolerance(dtype))

    invstd = (1 / np.sqrt(expected_var + 1e-5)).astype(dtype)
    weight, bias = (rng.standard_normal(C).astype(dtype) for _ in range(2))
    params = (expected_mean, invstd, weight, bias)
    y = host(K.batch_norm_forward(on(device, x), *(on(device, p) for p in params)))
    assert y.shape == x.shape
    np.testing.assert_allclose(y, reference.batch_norm_forward(x, *params), **tolerance(dtype))
    np.testing.assert_allclose(y, cpu.batch_norm_forward(x, *params), **tolerance(dtype))

    grad_y = rng.standard_normal(shape).astype(dtype)
    params = (expected_mean, invstd, weight)
    got = K.batch_norm_backward(on(device, grad_y), on(device, x), *(on(device, p) for p in params))
    if device != "cuda":  # every thread of a block reached every barrier
        assert K.seam._modules[("batch_norm", np.dtype(dtype))].divergent_barriers == 0
    for name, ours, ref, twin in zip(("grad_x", "grad_weight", "grad_bias"), got,
                                     reference.batch_norm_backward(grad_y, x, *params),
                                     cpu.batch_norm_backward(grad_y, x, *params)):
        ours = host(ours)
        assert ours.shape == ref.shape and ours.dtype == ref.dtype, name
        np.testing.assert_allclose(ours, ref, **tolerance(dtype), err_msg=name)
        np.testing.assert_allclose(ours, twin, **tolerance(dtype), err_msg=name)


def _numpy_hash_mask(n, p, seed):
    """The dropout hash written out once more, independently of kernels/reference.py."""
    with np.errstate(over="ignore"):
        z = np.uint64(seed) + (np.arange(n, dtype=np.uint64) + np.uint64(1)) * np.uint64(
            0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return ((z >> np.uint64(40)).astype(np.float64) * 2.0**-24 >= p).astype(np.uint8)


@pytest.mark.parametrize("device", DEVICES)
@SETTINGS
@given(n=st.integers(0, 3000), p=st.floats(0, 1), seed=st.integers(0, 2**64 - 1))
def test_dropout_mask_bit_exact(device, n, p, seed):
    keep = host(kernels_for(device).dropout_mask(n, p, seed))
    assert keep.dtype == np.uint8 and keep.shape == (n,)
    np.testing.assert_array_equal(keep, _numpy_hash_mask(n, p, seed))
    np.testing.assert_array_equal(keep, reference.dropout_mask(n, p, seed))
    np.testing.assert_array_equal(keep, cpu.dropout_mask(n, p, seed))


@pytest.mark.parametrize("device", DEVICES)
def test_dropout_mask_keeps_one_minus_p(device):
    keep = host(kernels_for(device).dropout_mask(20000, 0.3, 1234))
    assert abs(keep.mean() - 0.7) < 0.02
    other = host(kernels_for(device).dropout_mask(20000, 0.3, 1235))
    assert (keep != other).mean() > 0.3  # a different seed gives a different mask


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_max_pool2d_ties_nan_and_padding_only_windows(device, dtype):
    K = kernels_for(device)
    x = np.array([[[[1, 3, 3], [3, 2, np.nan], [0, 0, 0]]]], dtype)
    # 2x2 windows, stride 1, padding 1, dilation 2: corner windows read padding only at times
    args = (2, 2, 1, 1, 1, 1, 2, 2, 3, 3)
    out, argmax = (host(a) for a in K.max_pool2d_forward(on(device, x), *args))
    expected_out, expected_argmax = reference.max_pool2d_forward(x, *args)
    np.testing.assert_array_equal(out, expected_out)
    np.testing.assert_array_equal(argmax, expected_argmax)
    out, argmax = (host(a) for a in K.max_pool2d_forward(on(device, x), 2, 2, 1, 1, 0, 0, 1, 1,
                                                         2, 2))
    # window (0, 0) holds 1, 3, 3, 2: the first 3 (index 1) wins; windows with the NaN give NaN
    assert argmax[0, 0, 0, 0] == 1 and out[0, 0, 0, 0] == 3
    assert np.isnan(out[0, 0, 0, 1]) and argmax[0, 0, 0, 1] == 5


@pytest.mark.parametrize("device", DEVICES)
def test_non_contiguous_inputs_and_unsupported_dtypes(device):
    K = kernels_for(device)
    x = np.random.default_rng(0).standard_normal((2, 3, 5, 4)).astype(np.float32)
    strided = np.ascontiguousarray(x.transpose(0, 1, 3, 2)).transpose(0, 1, 3, 2)
    np.testing.assert_array_equal(host(K.im2col(on(device, strided), 3, 3, 1, 1, 1, 1, 1, 1, 5,
                                                4)),
                                  reference.im2col(x, 3, 3, 1, 1, 1, 1, 1, 1, 5, 4))
    with pytest.raises(TypeError, match="float32 and float64"):
        K.im2col(on(device, x.astype(np.int32)), 3, 3, 1, 1, 1, 1, 1, 1, 5, 4)
