"""Numba CPU kernels against the naive reference loops, on hypothesis-drawn configurations.

Also: im2col/col2im adjointness, overlap counts computed independently, the dropout hash against
a known SplitMix64 value, the dispatcher, and a run with NUMBA_DISABLE_JIT=1.
"""

import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minitorch_cv import kernels
from minitorch_cv.kernels import cpu
from minitorch_cv.kernels import reference as ref
from minitorch_cv.ops.pool import pool_output_size
from minitorch_cv.testing.strategies import conv_configs

SETTINGS = settings(max_examples=25, deadline=None)
DTYPES = st.sampled_from([np.float32, np.float64])
KERNEL_NAMES = ["im2col", "col2im", "max_pool2d_forward", "max_pool2d_backward",
                "avg_pool2d_forward", "avg_pool2d_backward", "batch_norm_stats",
                "batch_norm_forward", "batch_norm_backward", "dropout_mask"]


def _input(cfg, dtype, seed, contiguous=True):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((cfg["N"], cfg["C"], cfg["H"], cfg["W"])).astype(dtype)
    if not contiguous:  # same values, Fortran-ordered strides: the kernel must copy
        x = np.asfortranarray(x)
        assert not x.flags.c_contiguous or x.size <= 1 or 1 in x.shape
    return x


def _geometry(cfg):
    return tuple(cfg[k] for k in ("kh", "kw", "sh", "sw", "ph", "pw", "dh", "dw", "out_h",
                                  "out_w"))


@SETTINGS
@given(cfg=conv_configs(), dtype=DTYPES, contiguous=st.booleans(), seed=st.integers(0, 99))
def test_im2col_col2im_match_reference(cfg, dtype, contiguous, seed):
    x = _input(cfg, dtype, seed, contiguous)
    col = cpu.im2col(x, *_geometry(cfg))
    expected = ref.im2col(x, *_geometry(cfg))
    assert col.shape == (cfg["N"], cfg["C"], cfg["kh"], cfg["kw"], cfg["out_h"], cfg["out_w"])
    assert col.dtype == dtype
    np.testing.assert_array_equal(col, expected)
    c = np.random.default_rng(seed + 1).standard_normal(col.shape).astype(dtype)
    args = (cfg["H"], cfg["W"], cfg["sh"], cfg["sw"], cfg["ph"], cfg["pw"], cfg["dh"], cfg["dw"])
    got = cpu.col2im(c, *args)
    assert got.shape == x.shape and got.dtype == dtype
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(got, ref.col2im(c, *args), rtol=tol, atol=tol)


@SETTINGS
@given(cfg=conv_configs(max_batch=5), dtype=DTYPES, seed=st.integers(0, 99),
       group=st.integers(1, 3), need_w=st.booleans(), data=st.data())
def test_fused_im2col_kernels_match_reference_columns_and_gemms(cfg, dtype, seed, group, need_w,
                                                                data):
    # the fused kernels (im2col, GEMM and col2im per group of samples) against the reference
    # im2col/col2im around NumPy GEMMs, per group of channels, on a range lo..hi of the batch
    # with groups that need not divide it; nothing outside [lo, hi) is written
    N, C, C_out, G = cfg["N"], cfg["C"], cfg["C_out"], cfg["groups"]
    geo = _geometry(cfg)
    kh, kw, out_h, out_w = geo[0], geo[1], geo[8], geo[9]
    lo = data.draw(st.integers(0, N - 1))
    hi = data.draw(st.integers(lo + 1, N))
    rng = np.random.default_rng(seed)
    x = _input(cfg, dtype, seed)
    w = rng.standard_normal((G, C_out // G, C // G * kh * kw)).astype(dtype)
    g = rng.standard_normal((N, C_out, out_h, out_w)).astype(dtype)
    col = ref.im2col(x[lo:hi], *geo).reshape(hi - lo, G, -1, out_h * out_w)  # (n, G, Kg, L)
    expected = np.einsum("gok,ngkl->ngol", w.astype(np.float64), col).reshape(
        hi - lo, C_out, out_h, out_w)
    y = np.full((N, C_out, out_h, out_w), np.nan, dtype)
    bias = rng.standard_normal(C_out).astype(dtype) if need_w else None  # with or without
    assert cpu.im2col_fused_forward(x, w, *geo[:8], y, lo, hi, group, bias) is y
    if bias is not None:
        expected = expected + bias.reshape(1, -1, 1, 1)
    tol = dict(rtol=1e-4, atol=1e-4) if dtype == np.float32 else dict(rtol=1e-11, atol=1e-11)
    np.testing.assert_allclose(y[lo:hi], expected, **tol)
    assert np.isnan(y[:lo]).all() and np.isnan(y[hi:]).all()
    gl = g[lo:hi].reshape(hi - lo, G, C_out // G, -1).astype(np.float64)  # (n, G, Cog, L)
    grad_col = np.einsum("gok,ngol->ngkl", w.astype(np.float64), gl)
    grad_x = np.full(x.shape, np.nan, dtype)
    grad_wt = cpu.im2col_fused_backward(x, np.ascontiguousarray(w.transpose(0, 2, 1)), g,
                                        *geo[:8], grad_x, need_w, lo, hi, group)
    np.testing.assert_allclose(grad_x[lo:hi], ref.col2im(grad_col.reshape(
        hi - lo, C, kh, kw, out_h, out_w), cfg["H"], cfg["W"], *geo[2:8]), **tol)
    assert np.isnan(grad_x[:lo]).all() and np.isnan(grad_x[hi:]).all()
    if need_w:
        np.testing.assert_allclose(grad_wt, np.einsum("ngkl,ngol->gko", col, gl), **tol)
    else:
        assert grad_wt is None
    assert cpu.im2col_fused_backward(x, np.ascontiguousarray(w.transpose(0, 2, 1)), g,
                                     *geo[:8], None, True, lo, hi, group).shape == (
        G, C // G * kh * kw, C_out // G)  # the weight gradient alone


def test_fused_im2col_kernels_refuse_what_they_cannot_compute():
    x = np.zeros((4, 4, 6, 6), np.float32)
    w = np.zeros((2, 3, 18), np.float32)  # 2 groups, 3 filters each, 2 channels x 3x3
    y = np.zeros((4, 6, 4, 4), np.float32)
    geo = (3, 3, 1, 1, 0, 0, 1, 1)
    cpu.im2col_fused_forward(x, w, *geo, y, 0, 4, 2)
    with pytest.raises(ValueError, match=r"need 0 <= lo <= hi <= N = 4 and group >= 1"):
        cpu.im2col_fused_forward(x, w, *geo, y, 3, 2, 1)
    with pytest.raises(ValueError, match=r"weight must be \(groups, C_out/groups"):
        cpu.im2col_fused_forward(x, w[:, :, :9], *geo, y, 0, 4, 1)
    with pytest.raises(ValueError, match="share the batch size and dtype"):
        cpu.im2col_fused_forward(x, w.astype(np.float64), *geo, y, 0, 4, 1)
    with pytest.raises(ValueError, match=r"bias must be a float32 array of shape \(6,\)"):
        cpu.im2col_fused_forward(x, w, *geo, y, 0, 4, 1, np.zeros(5, np.float32))
    with pytest.raises(ValueError, match="do not fit"):  # 5x5 outputs from 6x6 with 3x3
        cpu.im2col_fused_forward(x, w, *geo, np.zeros((4, 6, 5, 5), np.float32), 0, 4, 1)
    w_t = np.ascontiguousarray(w.transpose(0, 2, 1))
    with pytest.raises(ValueError, match="grad_x must be a C-contiguous float32 array"):
        cpu.im2col_fused_backward(x, w_t, y, *geo, np.zeros((4, 4, 6, 5), np.float32), True,
                                  0, 4, 1)
    with pytest.raises(ValueError, match=r"weight_t must be \(groups, C/groups\*kh\*kw"):
        cpu.im2col_fused_backward(x, w, y, *geo, None, True, 0, 4, 1)


@SETTINGS
@given(cfg=conv_configs(), dtype=DTYPES, seed=st.integers(0, 99))
def test_batch_inner_layout_is_a_transpose_of_the_contract_layout(cfg, dtype, seed):
    x = _input(cfg, dtype, seed)
    col = cpu.im2col_batch_inner(x, *_geometry(cfg))
    np.testing.assert_array_equal(col, ref.im2col(x, *_geometry(cfg)).transpose(1, 2, 3, 0, 4, 5))
    c = np.random.default_rng(seed).standard_normal(col.shape).astype(dtype)
    args = (cfg["H"], cfg["W"], cfg["sh"], cfg["sw"], cfg["ph"], cfg["pw"], cfg["dh"], cfg["dw"])
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(cpu.col2im_batch_inner(c, *args),
                               ref.col2im(np.ascontiguousarray(c.transpose(3, 0, 1, 2, 4, 5)),
                                          *args), rtol=tol, atol=tol)


@SETTINGS
@given(cfg=conv_configs(), seed=st.integers(0, 99))
def test_im2col_col2im_are_adjoint(cfg, seed):
    rng = np.random.default_rng(seed)
    x = _input(cfg, np.float64, seed)
    col_shape = (cfg["N"], cfg["C"], cfg["kh"], cfg["kw"], cfg["out_h"], cfg["out_w"])
    c = rng.standard_normal(col_shape)
    lhs = np.vdot(cpu.im2col(x, *_geometry(cfg)), c)
    rhs = np.vdot(x, cpu.col2im(c, cfg["H"], cfg["W"], cfg["sh"], cfg["sw"], cfg["ph"],
                                cfg["pw"], cfg["dh"], cfg["dw"]))
    np.testing.assert_allclose(lhs, rhs, rtol=1e-10, atol=1e-10)


def _coverage(size, k, s, p, d, out):
    """How many (tap, output) pairs read each input index, counted without the kernels."""
    counts = np.zeros(size)
    for i in range(k):
        for o in range(out):
            position = o * s - p + i * d
            if 0 <= position < size:
                counts[position] += 1
    return counts


@SETTINGS
@given(cfg=conv_configs(), seed=st.integers(0, 99))
def test_col2im_of_im2col_is_x_times_overlap_counts(cfg, seed):
    x = _input(cfg, np.float64, seed)
    back = cpu.col2im(cpu.im2col(x, *_geometry(cfg)), cfg["H"], cfg["W"], cfg["sh"], cfg["sw"],
                      cfg["ph"], cfg["pw"], cfg["dh"], cfg["dw"])
    counts = np.outer(
        _coverage(cfg["H"], cfg["kh"], cfg["sh"], cfg["ph"], cfg["dh"], cfg["out_h"]),
        _coverage(cfg["W"], cfg["kw"], cfg["sw"], cfg["pw"], cfg["dw"], cfg["out_w"]))
    np.testing.assert_allclose(back, x * counts, rtol=1e-12, atol=1e-12)


@st.composite
def pool_configs(draw):
    """Valid pooling configs (padding <= k // 2, as torch), with and without ceil_mode."""
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    sh, sw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    ph, pw = draw(st.integers(0, kh // 2)), draw(st.integers(0, kw // 2))
    dh, dw = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    ceil_mode = draw(st.booleans())
    H = draw(st.integers(max(1, dh * (kh - 1) + 1 - 2 * ph), 7))
    W = draw(st.integers(max(1, dw * (kw - 1) + 1 - 2 * pw), 7))
    out_h = pool_output_size(H, kh, sh, ph, dh, ceil_mode)
    out_w = pool_output_size(W, kw, sw, pw, dw, ceil_mode)
    return dict(N=draw(st.integers(1, 2)), C=draw(st.integers(1, 3)), H=H, W=W, kh=kh, kw=kw,
                sh=sh, sw=sw, ph=ph, pw=pw, dh=dh, dw=dw, out_h=out_h, out_w=out_w)


@SETTINGS
@given(cfg=pool_configs(), dtype=DTYPES, contiguous=st.booleans(), seed=st.integers(0, 99))
def test_max_pool_matches_reference_with_ties(cfg, dtype, contiguous, seed):
    rng = np.random.default_rng(seed)
    # values from a tiny set: many ties, so the first-maximum rule is exercised
    x = rng.integers(-2, 3, (cfg["N"], cfg["C"], cfg["H"], cfg["W"])).astype(dtype)
    if not contiguous:
        x = np.asfortranarray(x)
    out, argmax = cpu.max_pool2d_forward(x, *_geometry(cfg))
    out_ref, argmax_ref = ref.max_pool2d_forward(x, *_geometry(cfg))
    assert argmax.dtype == np.int64 and out.dtype == dtype
    np.testing.assert_array_equal(out, out_ref)
    np.testing.assert_array_equal(argmax, argmax_ref)
    g = rng.standard_normal(out.shape).astype(dtype)
    np.testing.assert_allclose(cpu.max_pool2d_backward(g, argmax, cfg["H"], cfg["W"]),
                               ref.max_pool2d_backward(g, argmax_ref, cfg["H"], cfg["W"]),
                               rtol=1e-6)


@SETTINGS
@given(cfg=pool_configs(), dtype=DTYPES, include_pad=st.booleans(), seed=st.integers(0, 99))
def test_avg_pool_matches_reference(cfg, dtype, include_pad, seed):
    x = _input(cfg, dtype, seed, contiguous=seed % 2 == 0)
    args = (cfg["kh"], cfg["kw"], cfg["sh"], cfg["sw"], cfg["ph"], cfg["pw"])
    out = cpu.avg_pool2d_forward(x, *args, cfg["out_h"], cfg["out_w"], include_pad)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(
        out, ref.avg_pool2d_forward(x, *args, cfg["out_h"], cfg["out_w"], include_pad),
        rtol=tol, atol=tol)
    assert out.dtype == dtype
    g = np.random.default_rng(seed).standard_normal(out.shape).astype(dtype)
    np.testing.assert_allclose(
        cpu.avg_pool2d_backward(g, cfg["H"], cfg["W"], *args, include_pad),
        ref.avg_pool2d_backward(g, cfg["H"], cfg["W"], *args, include_pad), rtol=tol, atol=tol)


@SETTINGS
@given(shape=st.sampled_from([(2, 3), (1, 2, 5), (3, 2, 4), (2, 3, 3, 2), (1, 1, 1, 7)]),
       dtype=DTYPES, seed=st.integers(0, 99))
def test_batch_norm_kernels_match_reference(shape, dtype, seed):
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal(shape) * 2 + 3).astype(dtype)
    C = shape[1]
    mean, var = cpu.batch_norm_stats(x)
    mean_ref, var_ref = ref.batch_norm_stats(x)
    assert mean.shape == (C,) and mean.dtype == dtype and var.dtype == dtype
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(mean, mean_ref, rtol=tol, atol=tol)
    np.testing.assert_allclose(var, var_ref, rtol=tol, atol=tol)
    invstd = (1 / np.sqrt(var_ref.astype(np.float64) + 1e-5)).astype(dtype)
    weight, bias = rng.standard_normal(C).astype(dtype), rng.standard_normal(C).astype(dtype)
    y = cpu.batch_norm_forward(x, mean_ref, invstd, weight, bias)
    assert y.shape == x.shape and y.dtype == dtype
    np.testing.assert_allclose(y, ref.batch_norm_forward(x, mean_ref, invstd, weight, bias),
                               rtol=tol * 10, atol=tol * 10)
    g = rng.standard_normal(shape).astype(dtype)
    got = cpu.batch_norm_backward(g, x, mean_ref, invstd, weight)
    want = ref.batch_norm_backward(g, x, mean_ref, invstd, weight)
    for a, b in zip(got, want):
        assert a.shape == b.shape and a.dtype == dtype
        np.testing.assert_allclose(a, b, rtol=tol * 100, atol=tol * 100)


def test_dropout_hash_known_answer_and_reference():
    # z for seed 0, i = 0 is SplitMix64's first output from state 0: 0xE220A8397B1DCDAF
    assert ref.hash_uniform(0, [0])[0] == (0xE220A8397B1DCDAF >> 40) * 2.0**-24
    for seed in (0, 12345, 2**63 - 1):
        for p in (0.0, 0.1, 0.5, 0.9, 1.0):
            keep = cpu.dropout_mask(1000, p, seed)
            assert keep.shape == (1000,) and keep.dtype == np.uint8
            np.testing.assert_array_equal(keep, ref.dropout_mask(1000, p, seed))
    keep = cpu.dropout_mask(200_000, 0.3, 7)
    assert abs(keep.mean() - 0.7) < 0.005
    assert not np.array_equal(cpu.dropout_mask(64, 0.5, 1), cpu.dropout_mask(64, 0.5, 2))


def test_dropout_threshold_is_exact_at_the_boundary():
    # an element whose u equals p exactly is kept (u >= p), one just below is dropped
    u = ref.hash_uniform(99, np.arange(50))
    for i in range(5):
        assert cpu.dropout_mask(50, u[i], 99)[i] == 1
        assert cpu.dropout_mask(50, u[i] + 2.0**-25, 99)[i] == 0


def test_dispatcher():
    assert kernels.for_device("cpu") is cpu
    for name in KERNEL_NAMES:
        assert callable(getattr(cpu, name)), name
    with pytest.raises(ValueError, match="no kernels for device"):
        kernels.for_device("tpu")


def test_gpu_namespace_has_the_same_names():
    sim = kernels.for_device("cuda-sim")
    missing = [name for name in KERNEL_NAMES if not callable(getattr(sim, name, None))]
    assert not missing, f"GPU kernels lack {missing}"


def test_kernels_run_as_python_with_numba_disabled():
    code = (
        "import numpy as np, warnings\n"
        "warnings.simplefilter('error')\n"
        "from minitorch_cv.kernels import cpu, reference as ref\n"
        "x = np.random.default_rng(0).standard_normal((1, 2, 5, 4))\n"
        "g = (3, 2, 2, 1, 1, 0, 1, 2, 3, 2)\n"
        "assert np.array_equal(cpu.im2col(x, *g), ref.im2col(x, *g))\n"
        "c = ref.im2col(x, *g)\n"
        "assert np.allclose(cpu.col2im(c, 5, 4, 2, 1, 1, 0, 1, 2), "
        "ref.col2im(c, 5, 4, 2, 1, 1, 0, 1, 2))\n"
        "assert np.array_equal(cpu.im2col_batch_inner(x, *g), c.transpose(1, 2, 3, 0, 4, 5))\n"
        "a = cpu.avg_pool2d_forward(x, 3, 2, 2, 1, 1, 0, 3, 3, False)\n"
        "assert np.allclose(a, ref.avg_pool2d_forward(x, 3, 2, 2, 1, 1, 0, 3, 3, False))\n"
        "assert np.array_equal(cpu.max_pool2d_forward(x, *g)[1], "
        "ref.max_pool2d_forward(x, *g)[1])\n"
        "assert np.array_equal(cpu.dropout_mask(100, 0.5, 2**62), ref.dropout_mask(100, 0.5, "
        "2**62))\n"
        "assert np.allclose(cpu.batch_norm_stats(x)[1], ref.batch_norm_stats(x)[1])\n"
        "import numba; assert numba.config.DISABLE_JIT\n"
        "print('ok')\n"
    )
    env = dict(os.environ, NUMBA_DISABLE_JIT="1")
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_batch_norm_forward_keeps_precision_when_invstd_is_large():
    # one value per channel: variance 0, invstd = 1/sqrt(eps) ~ 316. Folding the mean into the
    # shift (x*scale + (bias - mean*scale)) loses ~1e-4 in float32 here; (x - mean)*scale does not.
    from minitorch_cv.kernels import cpu as cpu_kernels
    from minitorch_cv.kernels import reference as ref_kernels

    x = np.array([[[2.718]], [[-3.14]]], dtype=np.float32).reshape(1, 2, 1)
    mean, var = ref_kernels.batch_norm_stats(x)
    invstd = (1 / np.sqrt(var + 1e-5)).astype(np.float32)
    weight = np.array([1.7, -0.9], dtype=np.float32)
    bias = np.array([0.0284, 0.5467], dtype=np.float32)
    got = cpu_kernels.batch_norm_forward(x, mean, invstd, weight, bias)
    want = ref_kernels.batch_norm_forward(x, mean, invstd, weight, bias)
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("H, W, ceil_mode", [(8, 8, False), (7, 9, False), (28, 28, False),
                                             (7, 9, True), (1, 4, False)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_max_pool_2x2_fast_path_matches_reference(H, W, ceil_mode, dtype):
    # the 2x2 stride-2 loops (and, with ceil_mode's partial windows, the general ones): the
    # reference's values and indices with many ties and NaNs, odd sizes leaving a row or
    # column in no window, and the backward that writes every pixel once
    rng = np.random.default_rng(H * W)
    x = rng.integers(-2, 3, (2, 3, H, W)).astype(dtype)
    x.reshape(-1)[::7] = np.nan
    out_h = pool_output_size(H, 2, 2, 0, 1, ceil_mode)
    out_w = pool_output_size(W, 2, 2, 0, 1, ceil_mode)
    geometry = (2, 2, 2, 2, 0, 0, 1, 1, out_h, out_w)
    out, argmax = cpu.max_pool2d_forward(x, *geometry)
    out_ref, argmax_ref = ref.max_pool2d_forward(x, *geometry)
    np.testing.assert_array_equal(out, out_ref)
    np.testing.assert_array_equal(argmax, argmax_ref)
    g = rng.standard_normal(out.shape).astype(dtype)
    expected = ref.max_pool2d_backward(g, argmax_ref, H, W)
    np.testing.assert_allclose(cpu.max_pool2d_backward(g, argmax, H, W), expected, rtol=1e-6)
    if 2 * out_h <= H and 2 * out_w <= W:
        np.testing.assert_array_equal(cpu.max_pool2d_backward_2x2(g, argmax, H, W), expected)
    else:
        with pytest.raises(ValueError, match="do not fit"):
            cpu.max_pool2d_backward_2x2(g, argmax, H, W)
