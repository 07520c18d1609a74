"""Winograd F(2x2, 3x3) and direct-convolution kernels (CPU) against their naive references, and
the references against the definition (a convolution computed tap by tap)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minitorch_cv.kernels import cpu
from minitorch_cv.kernels import reference as ref
from minitorch_cv.testing.strategies import conv_configs

SETTINGS = settings(max_examples=15, deadline=None)
DTYPES = st.sampled_from([np.float32, np.float64])


def _tol(dtype):
    return dict(rtol=1e-5, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)


@st.composite
def winograd_cases(draw):
    """A batch, channels, an image and a padding from -2 to 3 (negative: the input gradient of
    a convolution with padding above 2); the output is at least 1x1."""
    ph, pw = draw(st.integers(-2, 3)), draw(st.integers(-2, 3))
    H = draw(st.integers(max(1, 3 - 2 * ph), 8))
    W = draw(st.integers(max(1, 3 - 2 * pw), 8))
    return dict(N=draw(st.integers(1, 2)), C=draw(st.integers(1, 3)),
                C_out=draw(st.integers(1, 3)), H=H, W=W, ph=ph, pw=pw,
                out_h=H + 2 * ph - 2, out_w=W + 2 * pw - 2)


def _cut_padding(x, ph, pw):
    """(x with negative padding) as x cropped by -p and padding 0, for the definition."""
    return x[:, :, max(0, -ph):x.shape[2] - max(0, -ph), max(0, -pw):x.shape[3] - max(0, -pw)]


@SETTINGS
@given(case=winograd_cases(), dtype=DTYPES, seed=st.integers(0, 99))
def test_winograd_transforms_match_reference_and_compose_to_the_convolution(case, dtype, seed):
    rng = np.random.default_rng(seed)
    N, C, C_out, ph, pw = case["N"], case["C"], case["C_out"], case["ph"], case["pw"]
    out_h, out_w = case["out_h"], case["out_w"]
    x = rng.standard_normal((N, C, case["H"], case["W"])).astype(dtype)
    w = rng.standard_normal((C_out, C, 3, 3)).astype(dtype)
    tiles_h, tiles_w = -(-out_h // 2), -(-out_w // 2)
    U = cpu.winograd_filter_transform(w)
    V = cpu.winograd_input_transform(x, ph, pw, tiles_h, tiles_w)
    assert U.shape == (4, 4, C_out, C) and V.shape == (4, 4, C, N, tiles_h, tiles_w)
    assert U.dtype == V.dtype == dtype
    np.testing.assert_allclose(U, ref.winograd_filter_transform(w), **_tol(dtype))
    np.testing.assert_array_equal(V, ref.winograd_input_transform(x, ph, pw, tiles_h, tiles_w))
    M = np.matmul(U.reshape(16, C_out, C), V.reshape(16, C, -1))
    M = M.reshape(4, 4, C_out, N, tiles_h, tiles_w)
    y = cpu.winograd_output_transform(M, out_h, out_w)
    assert y.shape == (N, C_out, out_h, out_w) and y.dtype == dtype
    np.testing.assert_allclose(y, ref.winograd_output_transform(M, out_h, out_w), **_tol(dtype))
    # the three transforms around the 16 GEMMs are the convolution (float64 reference)
    x64 = _cut_padding(x.astype(np.float64), ph, pw)
    definition = ref.conv2d_direct_forward(x64, w.astype(np.float64), 1, 1, max(ph, 0),
                                           max(pw, 0), 1, 1, 1, out_h, out_w)
    np.testing.assert_allclose(y, definition, rtol=1e-4 if dtype == np.float32 else 1e-11,
                               atol=1e-4 if dtype == np.float32 else 1e-11)


@SETTINGS
@given(case=winograd_cases(), dtype=DTYPES, seed=st.integers(0, 99))
def test_winograd_weight_gradient_transforms_match_reference_and_are_adjoints(case, dtype, seed):
    # <output_transform(M), g> == <M, grad_output_transform(g)>, and the same for the filter
    # transform: the weight gradient of the Winograd computation is the adjoint of its forward
    rng = np.random.default_rng(seed)
    N, C, C_out = case["N"], case["C"], case["C_out"]
    out_h, out_w = case["out_h"], case["out_w"]
    tiles = (-(-out_h // 2), -(-out_w // 2))
    g = rng.standard_normal((N, C_out, out_h, out_w)).astype(dtype)
    dM = cpu.winograd_grad_output_transform(g, *tiles)
    assert dM.shape == (4, 4, C_out, N, *tiles) and dM.dtype == dtype
    np.testing.assert_allclose(dM, ref.winograd_grad_output_transform(g, *tiles), **_tol(dtype))
    M = rng.standard_normal(dM.shape)
    np.testing.assert_allclose(np.sum(ref.winograd_output_transform(M, out_h, out_w) * g),
                               np.sum(M * ref.winograd_grad_output_transform(g, *tiles)),
                               rtol=1e-4 if dtype == np.float32 else 1e-12, atol=1e-4)
    grad_U = rng.standard_normal((4, 4, C_out, C)).astype(dtype)
    grad_w = cpu.winograd_grad_filter_transform(grad_U)
    assert grad_w.shape == (C_out, C, 3, 3) and grad_w.dtype == dtype
    np.testing.assert_allclose(grad_w, ref.winograd_grad_filter_transform(grad_U), **_tol(dtype))
    w = rng.standard_normal((C_out, C, 3, 3))
    np.testing.assert_allclose(np.sum(ref.winograd_filter_transform(w) * grad_U),
                               np.sum(w * ref.winograd_grad_filter_transform(grad_U)),
                               rtol=1e-4 if dtype == np.float32 else 1e-12, atol=1e-4)


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("shape", [(3, 16, 32, 32, 8), (2, 5, 31, 9, 4), (1, 64, 8, 8, 64)])
def test_winograd_cpu_layouts_at_layer_sizes(shape, threads):
    # layer-sized planes (the hypothesis cases are at most 8x8), split over 1 and 2 threads;
    # V and dM come back as views of staggered slabs (gaps between the 16 slabs), which the
    # GEMMs and the output transform read in place; the output transform also writes one
    # block of samples straight into a larger output, and refuses an output it cannot fill
    import numba

    N, C, H, W, C_out = shape
    rng = np.random.default_rng(sum(shape))
    x = rng.standard_normal((N, C, H, W)).astype(np.float32)
    w = rng.standard_normal((C_out, C, 3, 3)).astype(np.float32)
    tiles = (-(-H // 2), -(-W // 2))
    own = numba.get_num_threads()
    numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    try:
        V = cpu.winograd_input_transform(x, 1, 1, *tiles)
        np.testing.assert_array_equal(V, ref.winograd_input_transform(x, 1, 1, *tiles))
        assert not V.flags.c_contiguous and V.strides[1] > V[0, 0].nbytes  # staggered slabs
        U = cpu.winograd_filter_transform(w).reshape(16, C_out, C)
        M = np.matmul(U, V.reshape(16, C, -1)).reshape(4, 4, C_out, N, *tiles)
        expected = ref.winograd_output_transform(M, H, W)
        np.testing.assert_allclose(cpu.winograd_output_transform(M, H, W), expected,
                                   rtol=1e-5, atol=1e-5)
        gapped = np.zeros((16, M[0, 0].size + 3 * tiles[1]), np.float32)
        M_gapped = gapped[:, :M[0, 0].size].reshape(M.shape)
        M_gapped[...] = M
        whole = np.full((N + 2, C_out, H, W), np.nan, np.float32)
        cpu.winograd_output_transform_into(M_gapped, whole[1:N + 1])
        np.testing.assert_allclose(whole[1:N + 1], expected, rtol=1e-5, atol=1e-5)
        assert np.isnan(whole[0]).all() and np.isnan(whole[-1]).all()  # nothing outside
        with pytest.raises(ValueError, match="C-contiguous"):
            cpu.winograd_output_transform_into(M, whole[:N, :, :, ::2])
        g = rng.standard_normal((N, C_out, H, W)).astype(np.float32)
        dM = cpu.winograd_grad_output_transform(g, *tiles)
        np.testing.assert_allclose(dM, ref.winograd_grad_output_transform(g, *tiles),
                                   rtol=1e-5, atol=1e-5)
    finally:
        numba.set_num_threads(own)


@SETTINGS
@given(case=winograd_cases(), dtype=DTYPES, seed=st.integers(0, 99), extra=st.integers(0, 3),
       group=st.integers(1, 4), data=st.data())
def test_winograd_fused_kernels_match_the_reference_transforms(case, dtype, seed, extra, group,
                                                               data):
    # the fused kernels (transforms and 16 GEMMs per group of samples) against the naive
    # transforms around NumPy GEMMs, on a range lo..hi of a batch, groups that do not divide it,
    # and negative padding; nothing outside y[lo:hi] is written
    rng = np.random.default_rng(seed)
    N, C, C_out, ph, pw = case["N"] + extra, case["C"], case["C_out"], case["ph"], case["pw"]
    out_h, out_w = case["out_h"], case["out_w"]
    lo = data.draw(st.integers(0, N - 1))
    hi = data.draw(st.integers(lo + 1, N))
    x = rng.standard_normal((N, C, case["H"], case["W"])).astype(dtype)
    w = rng.standard_normal((C_out, C, 3, 3)).astype(dtype)
    tiles = (-(-out_h // 2), -(-out_w // 2))
    U = ref.winograd_filter_transform(w).astype(dtype).reshape(16, C_out, C)
    V = ref.winograd_input_transform(x[lo:hi], ph, pw, *tiles).reshape(16, C, -1)
    M = np.matmul(U, V).reshape(4, 4, C_out, hi - lo, *tiles)
    y = np.full((N, C_out, out_h, out_w), np.nan, dtype)
    bias = rng.standard_normal(C_out).astype(dtype) if extra % 2 else None  # with or without
    assert cpu.winograd_fused_conv(x, U, ph, pw, y, lo, hi, group, bias) is y
    expected = ref.winograd_output_transform(M, out_h, out_w)
    np.testing.assert_allclose(y[lo:hi], expected if bias is None else
                               expected + bias.reshape(1, -1, 1, 1), **_tol(dtype))
    assert np.isnan(y[:lo]).all() and np.isnan(y[hi:]).all()
    g = rng.standard_normal((N, C_out, out_h, out_w)).astype(dtype)
    dM = ref.winograd_grad_output_transform(g[lo:hi], *tiles).reshape(16, C_out, -1)
    grad_U = cpu.winograd_fused_grad_filter(x, g, ph, pw, lo, hi, group)
    assert grad_U.shape == (16, C_out, C) and grad_U.dtype == dtype
    np.testing.assert_allclose(grad_U, np.matmul(dM, V.transpose(0, 2, 1)),
                               rtol=1e-4 if dtype == np.float32 else 1e-11,
                               atol=1e-4 if dtype == np.float32 else 1e-11)


@pytest.mark.parametrize("shape", [(5, 16, 32, 32, 16), (9, 64, 8, 8, 32), (3, 7, 13, 10, 5)])
def test_winograd_fused_kernels_at_layer_sizes(shape):
    # layer-sized planes, several groups per call and a last group cut short: the fused kernels
    # give the block pipeline's numbers (the same sums; the GEMMs' blocking may round apart)
    N, C, H, W, C_out = shape
    rng = np.random.default_rng(sum(shape))
    x = rng.standard_normal((N, C, H, W)).astype(np.float32)
    w = rng.standard_normal((C_out, C, 3, 3)).astype(np.float32)
    tiles = (-(-H // 2), -(-W // 2))
    U = cpu.winograd_filter_transform(w).reshape(16, C_out, C)
    V = cpu.winograd_input_transform(x, 1, 1, *tiles)
    M = np.matmul(U, V.reshape(16, C, -1)).reshape(4, 4, C_out, N, *tiles)
    y = np.empty((N, C_out, H, W), np.float32)
    cpu.winograd_fused_conv(x, U, 1, 1, y, 0, N, 2)
    np.testing.assert_allclose(y, cpu.winograd_output_transform(M, H, W), rtol=1e-5, atol=1e-4)
    g = rng.standard_normal((N, C_out, H, W)).astype(np.float32)
    dM = cpu.winograd_grad_output_transform(g, *tiles).reshape(16, C_out, -1)
    expected = np.matmul(dM, V.reshape(16, C, -1).transpose(0, 2, 1))
    np.testing.assert_allclose(cpu.winograd_fused_grad_filter(x, g, 1, 1, 0, N, 2), expected,
                               rtol=1e-4, atol=1e-3)


def test_winograd_fused_kernels_refuse_what_they_cannot_compute():
    x = np.zeros((4, 3, 6, 6), np.float32)
    U = np.zeros((16, 5, 3), np.float32)
    y = np.zeros((4, 5, 6, 6), np.float32)
    with pytest.raises(ValueError, match=r"need 0 <= lo <= hi <= N = 4 and group >= 1"):
        cpu.winograd_fused_conv(x, U, 1, 1, y, 2, 5, 1)
    with pytest.raises(ValueError, match="group >= 1"):
        cpu.winograd_fused_grad_filter(x, y, 1, 1, 0, 4, 0)
    with pytest.raises(ValueError, match=r"U must be \(16, C_out, C=3\)"):
        cpu.winograd_fused_conv(x, U[:, :, :2], 1, 1, y, 0, 4, 1)
    with pytest.raises(ValueError, match="C-contiguous"):
        cpu.winograd_fused_conv(x, U, 1, 1, np.zeros((4, 5, 6, 12), np.float32)[..., ::2], 0,
                                4, 1)
    with pytest.raises(ValueError, match="one batch size and dtype"):
        cpu.winograd_fused_conv(x, U.astype(np.float64), 1, 1, y.astype(np.float64), 0, 4, 1)
    with pytest.raises(ValueError, match="one batch size and dtype"):
        cpu.winograd_fused_grad_filter(x, y[:3], 1, 1, 0, 3, 1)
    with pytest.raises(ValueError, match=r"bias must be a float32 array of shape \(5,\)"):
        cpu.winograd_fused_conv(x, U, 1, 1, y, 0, 4, 1, np.zeros((5, 1), np.float32))


def test_winograd_multiplies_16_times_per_tile_and_channel_pair():
    # the elementwise product of the 4x4 transformed tiles: a 2x2 output tile per 16 products
    # (the definition: 4 outputs x 9 taps = 36), so 36 / 16 = 2.25x fewer
    U, V = np.ones((4, 4, 1, 1)), np.ones((4, 4, 1, 1, 1, 1))
    assert U.size == 16 and V[:, :, 0, 0].size == 16 and 4 * 9 / 16 == 2.25
    d = np.arange(16.0).reshape(1, 1, 4, 4)
    g = np.arange(9.0).reshape(1, 1, 3, 3)
    tile = ref.winograd_output_transform(
        (ref.winograd_filter_transform(g)[:, :, :, :, None, None]
         * ref.winograd_input_transform(d, 0, 0, 1, 1)[:, :, :, :, :, :]), 2, 2)
    np.testing.assert_allclose(tile, ref.conv2d_direct_forward(d, g, 1, 1, 0, 0, 1, 1, 1, 2, 2))


def _geometry(cfg):
    return (cfg["sh"], cfg["sw"], cfg["ph"], cfg["pw"], cfg["dh"], cfg["dw"], cfg["groups"])


@SETTINGS
@given(cfg=conv_configs(), dtype=DTYPES, seed=st.integers(0, 99))
def test_direct_kernels_match_reference(cfg, dtype, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((cfg["N"], cfg["C"], cfg["H"], cfg["W"])).astype(dtype)
    w = rng.standard_normal((cfg["C_out"], cfg["C"] // cfg["groups"], cfg["kh"], cfg["kw"]))
    w = w.astype(dtype)
    geo = _geometry(cfg)
    out = cpu.conv2d_direct_forward(x, w, *geo, cfg["out_h"], cfg["out_w"])
    assert out.shape == (cfg["N"], cfg["C_out"], cfg["out_h"], cfg["out_w"])
    assert out.dtype == dtype
    np.testing.assert_allclose(out, ref.conv2d_direct_forward(x, w, *geo, cfg["out_h"],
                                                              cfg["out_w"]), **_tol(dtype))
    g = rng.standard_normal(out.shape).astype(dtype)
    grad_x = cpu.conv2d_direct_grad_input(g, w, cfg["H"], cfg["W"], *geo)
    assert grad_x.shape == x.shape and grad_x.dtype == dtype
    np.testing.assert_allclose(grad_x, ref.conv2d_direct_grad_input(g, w, cfg["H"], cfg["W"],
                                                                     *geo), **_tol(dtype))
    grad_w = cpu.conv2d_direct_grad_weight(x, g, cfg["kh"], cfg["kw"], *geo)
    assert grad_w.shape == w.shape and grad_w.dtype == dtype
    np.testing.assert_allclose(grad_w, ref.conv2d_direct_grad_weight(x, g, cfg["kh"], cfg["kw"],
                                                                      *geo), **_tol(dtype))


@pytest.mark.parametrize("stride", [1, 2])
def test_direct_reference_is_the_im2col_reference(stride):
    # two independent oracles of the same convolution: direct loops and im2col + a product
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal((2, 4, 7, 6)), rng.standard_normal((6, 2, 3, 2))
    out_h, out_w = (7 + 2 - 2 * 2 - 1) // stride + 1, (6 + 0 - 1 - 1) // stride + 1
    col = ref.im2col(x, 3, 2, stride, stride, 1, 0, 2, 1, out_h, out_w)  # (N, C, kh, kw, L)
    col = col.reshape(2, 2, 2 * 3 * 2, out_h * out_w)  # (N, groups, Cg*kh*kw, L)
    expected = np.einsum("gok,ngkl->ngol", w.reshape(2, 3, -1), col).reshape(2, 6, out_h, out_w)
    np.testing.assert_allclose(ref.conv2d_direct_forward(x, w, stride, stride, 1, 0, 2, 1, 2,
                                                         out_h, out_w), expected, rtol=1e-12)
