"""F.conv2d with algorithm "im2col" (the other algorithms and the chooser:
test_conv_algorithms.py): gradcheck in float64, forward and every gradient against torch in
float32 and float64 (hypothesis-drawn configurations, groups, dilation, non-square kernels,
non-contiguous inputs), 'same'/'valid', batch chunking, and the error messages."""

import contextlib
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import minitorch_cv as mt
import minitorch_cv.functional as F
from minitorch_cv.backends import conv as conv_backend
from minitorch_cv.kernels import cpu as cpu_kernels
from minitorch_cv.ops import conv as conv_op
from minitorch_cv.ops import conv_schedule as schedule
from minitorch_cv.testing import assert_matches_torch, gradcheck
from minitorch_cv.testing.strategies import conv_configs

TF = torch.nn.functional


@pytest.fixture(autouse=True)
def _im2col():
    with mt.backends.conv.flags(algorithm="im2col"):
        yield


def _arrays(cfg, dtype, seed, bias=True):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((cfg["N"], cfg["C"], cfg["H"], cfg["W"])).astype(dtype)
    w = rng.standard_normal((cfg["C_out"], cfg["C"] // cfg["groups"], cfg["kh"], cfg["kw"]))
    b = rng.standard_normal(cfg["C_out"]).astype(dtype)
    return (x, w.astype(dtype), b) if bias else (x, w.astype(dtype))


def _kwargs(cfg):
    return dict(stride=(cfg["sh"], cfg["sw"]), padding=(cfg["ph"], cfg["pw"]),
                dilation=(cfg["dh"], cfg["dw"]), groups=cfg["groups"])


@contextlib.contextmanager
def _fused(on):
    """The CPU's fused kernels on (the default for these small shapes) or off (the block
    pipeline); a context manager, as hypothesis tests take no function-scoped fixtures."""
    before = schedule.FUSED_KERNELS
    schedule.FUSED_KERNELS = on
    try:
        yield
    finally:
        schedule.FUSED_KERNELS = before


@settings(max_examples=25, deadline=None)
@given(cfg=conv_configs(), dtype=st.sampled_from([np.float32, np.float64]),
       seed=st.integers(0, 99), fused=st.booleans())
def test_conv2d_matches_torch(cfg, dtype, seed, fused):
    kw = _kwargs(cfg)
    with _fused(fused):
        assert_matches_torch(lambda x, w, b: F.conv2d(x, w, b, **kw),
                             lambda x, w, b: TF.conv2d(x, w, b, **kw),
                             *_arrays(cfg, dtype, seed), kind="conv")


@settings(max_examples=10, deadline=None)
@given(cfg=conv_configs(max_batch=1), seed=st.integers(0, 99))
def test_conv2d_non_contiguous_input_matches_torch(cfg, seed):
    # the input is a transposed view (H and W swapped): not C-contiguous
    kw = _kwargs(cfg)
    x, w, b = _arrays(cfg, np.float32, seed)
    x_t = np.ascontiguousarray(x.transpose(0, 1, 3, 2))
    assert_matches_torch(lambda x, w, b: F.conv2d(x.transpose(2, 3), w, b, **kw),
                         lambda x, w, b: TF.conv2d(x.transpose(2, 3), w, b, **kw),
                         x_t, w, b, kind="conv")


CONFIGS = [
    dict(N=2, C=2, H=5, W=4, C_out=3, kh=3, kw=2, sh=1, sw=2, ph=1, pw=0, dh=1, dw=1, groups=1),
    dict(N=1, C=4, H=6, W=5, C_out=2, kh=2, kw=3, sh=2, sw=1, ph=0, pw=2, dh=2, dw=1, groups=2),
    dict(N=2, C=3, H=4, W=4, C_out=3, kh=1, kw=1, sh=1, sw=1, ph=0, pw=0, dh=1, dw=1, groups=3),
]


@pytest.mark.parametrize("cfg", CONFIGS)
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("fused", [True, False])
def test_conv2d_gradcheck(cfg, bias, fused):
    arrays = _arrays(cfg, np.float64, 0, bias=bias)
    tensors = [mt.Tensor(a, requires_grad=True) for a in arrays]
    kw = _kwargs(cfg)
    with _fused(fused):
        gradcheck(lambda *t: F.conv2d(*t, **kw), *tensors)


@pytest.mark.parametrize("kernel,dilation", [((3, 3), (1, 1)), ((4, 2), (1, 1)),
                                             ((2, 3), (2, 1)), ((5, 4), (1, 2))])
@pytest.mark.parametrize("padding", ["same", "valid"])
@pytest.mark.filterwarnings("ignore:Using padding='same'")
def test_conv2d_string_padding_matches_torch(kernel, dilation, padding):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 3, 7, 8))
    w = rng.standard_normal((2, 3, *kernel))
    for dtype in (np.float32, np.float64):
        assert_matches_torch(
            lambda x, w: F.conv2d(x, w, padding=padding, dilation=dilation),
            lambda x, w: TF.conv2d(x, w, padding=padding, dilation=dilation),
            x.astype(dtype), w.astype(dtype), kind="conv")


def test_conv2d_same_output_keeps_size():
    x = mt.randn(1, 2, 7, 6)
    assert F.conv2d(x, mt.randn(3, 2, 4, 3), padding="same").shape == (1, 3, 7, 6)


def test_conv2d_in_chunks_equals_one_batch(monkeypatch):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((5, 3, 6, 6)).astype(np.float32)
    w = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    b = rng.standard_normal(4).astype(np.float32)
    per_sample = 3 * 9 * 36 * 4
    monkeypatch.setattr(schedule, "IM2COL_BUDGET_BYTES", 2 * per_sample)  # chunks of 2, 2, 1
    assert schedule.batch_chunk(5, per_sample) == 2
    assert_matches_torch(lambda x, w, b: F.conv2d(x, w, b, padding=1),
                         lambda x, w, b: TF.conv2d(x, w, b, padding=1), x, w, b, kind="conv")
    monkeypatch.setattr(schedule, "IM2COL_BUDGET_BYTES", 1)  # still one sample at a time
    assert schedule.batch_chunk(5, per_sample) == 1
    assert_matches_torch(lambda x, w, b: F.conv2d(x, w, b, stride=2),
                         lambda x, w, b: TF.conv2d(x, w, b, stride=2), x, w, b, kind="conv")


def test_conv2d_in_cache_blocks_with_saved_columns(monkeypatch):
    # GEMM blocks of 2, 2, 1 samples while the whole batch fits the budget: the columns of
    # every block are kept for backward and matched to their block there
    rng = np.random.default_rng(12)
    x = rng.standard_normal((5, 3, 6, 7)).astype(np.float32)
    w = rng.standard_normal((4, 3, 3, 2)).astype(np.float32)
    b = rng.standard_normal(4).astype(np.float32)
    per_sample = 3 * 3 * 2 * 6 * 6 * 4
    monkeypatch.setattr(schedule, "GEMM_BLOCK_BYTES", 2 * per_sample)
    monkeypatch.setattr(schedule, "FUSED_KERNELS", False)  # the block pipeline
    monkeypatch.setattr(cpu_kernels, "num_threads", lambda: 1)  # GEMM_BLOCK_BYTES per thread
    saved = []
    forward = conv_op.Conv2d.forward

    def spy(ctx, *args, **kwargs):
        out = forward(ctx, *args, **kwargs)
        saved.append(ctx.saved_tensors[2][1])  # (chunk, columns)
        return out

    monkeypatch.setattr(conv_op.Conv2d, "forward", staticmethod(spy))
    assert_matches_torch(lambda x, w, b: F.conv2d(x, w, b, padding=(1, 0)),
                         lambda x, w, b: TF.conv2d(x, w, b, padding=(1, 0)), x, w, b, kind="conv")
    assert saved and all(len(cols) == 3 for cols in saved)


def test_conv2d_block_sizes(monkeypatch):
    # GEMM_BLOCK_BYTES of columns per block on the CPU, never above the budget; on a namespace
    # without num_threads (GPU) the whole budget chunk
    monkeypatch.setattr(schedule, "GEMM_BLOCK_BYTES", 100)
    assert schedule.block_samples(cpu_kernels, 128, 10) == 10
    assert schedule.block_samples(cpu_kernels, 128, 1000) == 1  # at least one sample
    monkeypatch.setattr(schedule, "IM2COL_BUDGET_BYTES", 50)
    assert schedule.block_samples(cpu_kernels, 1000, 10) == 5
    assert schedule.block_samples(SimpleNamespace(), 1000, 10) == 5  # GPU: the budget chunk


@pytest.mark.parametrize("keep", [True, False])
def test_conv2d_split_over_threads_matches_torch(monkeypatch, keep):
    # 7 blocks of one sample in parts of 2, 2, 3 blocks (PARTS_PER_THREAD 1, 3 threads), or of
    # one block each (the default 4 per thread), columns kept or rebuilt: forward and every
    # gradient as in one pass
    rng = np.random.default_rng(16)
    x = rng.standard_normal((7, 4, 6, 5)).astype(np.float32)
    w = rng.standard_normal((6, 2, 3, 2)).astype(np.float32)
    b = rng.standard_normal(6).astype(np.float32)
    monkeypatch.setattr(schedule, "GEMM_BLOCK_BYTES", 1)
    monkeypatch.setattr(schedule, "SAVE_COLUMNS_FOR_BACKWARD", keep)
    monkeypatch.setattr(cpu_kernels, "num_threads", lambda: 3)
    calls = []
    run_split = cpu_kernels.run_split

    def spy(fn, ranges, threads):
        calls.append((ranges, threads))
        return run_split(fn, ranges, threads)

    monkeypatch.setattr(cpu_kernels, "run_split", spy)
    for parts_per_thread, ranges in ((1, [(0, 2), (2, 4), (4, 7)]),
                                     (4, [(i, i + 1) for i in range(7)])):
        monkeypatch.setattr(schedule, "PARTS_PER_THREAD", parts_per_thread)
        calls.clear()
        assert_matches_torch(
            lambda x, w, b: F.conv2d(x, w, b, stride=(1, 2), padding=1, groups=2),
            lambda x, w, b: TF.conv2d(x, w, b, stride=(1, 2), padding=1, groups=2),
            x, w, b, kind="conv")
        assert calls and all(call == (ranges, 3) for call in calls)


def test_run_split_shares_the_ranges_between_threads_with_single_threaded_numba():
    import threading

    import numba

    seen = []
    own = numba.get_num_threads()

    def part(lo, hi):
        seen.append((threading.get_ident(), numba.get_num_threads()))
        return hi - lo

    ranges = [(0, 3), (3, 5), (5, 9), (9, 10)]
    assert cpu_kernels.run_split(part, ranges, 2) == [3, 2, 4, 1]  # in the order of ranges
    assert len(seen) == 4 and {threads for _, threads in seen} == {1}
    assert numba.get_num_threads() == own  # this thread's count restored
    assert cpu_kernels.run_split(part, [(0, 4)], 2) == [4]

    def failing(lo, hi):
        raise RuntimeError(f"part {lo}")

    with pytest.raises(RuntimeError, match="part"):
        cpu_kernels.run_split(failing, ranges, 2)
    assert numba.get_num_threads() == own


def test_conv2d_keeps_columns_up_to_the_cpu_limit(monkeypatch):
    monkeypatch.setattr(schedule, "KEEP_COLUMNS_MAX_BYTES", 100)
    assert schedule.keeps_columns(cpu_kernels, 100)
    assert not schedule.keeps_columns(cpu_kernels, 101)  # CPU: rebuilt in backward
    assert schedule.keeps_columns(SimpleNamespace(), 101)  # GPU: up to the im2col budget
    monkeypatch.setattr(schedule, "SAVE_COLUMNS_FOR_BACKWARD", False)
    assert not schedule.keeps_columns(cpu_kernels, 1)


@pytest.mark.parametrize("sw, pw, dw", [(1, 2, 1), (1, 0, 2), (2, 1, 1), (3, 4, 2)])
def test_im2col_col2im_wide_rows_match_reference(sw, pw, dw):
    # hypothesis draws small images; a 40-pixel-wide one gives rows long enough for the
    # vectorised row copy's main loop and remainder, with padding on both sides
    from minitorch_cv.kernels import reference

    rng = np.random.default_rng(14)
    x = rng.standard_normal((2, 3, 5, 40)).astype(np.float32)
    kh, kw, sh, ph, dh = 2, 3, 1, 1, 1
    out_h = conv_op.conv_output_size(5, kh, sh, ph, dh)
    out_w = conv_op.conv_output_size(40, kw, sw, pw, dw)
    geometry = (kh, kw, sh, sw, ph, pw, dh, dw, out_h, out_w)
    expected = reference.im2col(x, *geometry)
    np.testing.assert_array_equal(cpu_kernels.im2col(x, *geometry), expected)
    c = rng.standard_normal(expected.shape).astype(np.float32)
    np.testing.assert_allclose(cpu_kernels.col2im(c, 5, 40, sh, sw, ph, pw, dh, dw),
                               reference.col2im(c, 5, 40, sh, sw, ph, pw, dh, dw), rtol=1e-5,
                               atol=1e-5)
    batch_inner = np.ascontiguousarray(c.transpose(1, 2, 3, 0, 4, 5))
    np.testing.assert_allclose(cpu_kernels.col2im_batch_inner(batch_inner, 5, 40, sh, sw, ph, pw,
                                                              dh, dw),
                               reference.col2im(c, 5, 40, sh, sw, ph, pw, dh, dw), rtol=1e-5,
                               atol=1e-5)


def test_im2col_taps_entirely_in_padding_match_reference():
    # taps whose every window reads padding (no column or no row inside the image), with
    # strides larger than one: the empty-copy edge of the 2-D copy
    from minitorch_cv.kernels import reference

    rng = np.random.default_rng(15)
    for H, W, k, s, p in [(2, 2, 5, 2, 2), (3, 3, 5, 3, 2), (4, 2, 5, 2, 2), (2, 4, 5, 4, 2)]:
        x = rng.standard_normal((2, 2, H, W)).astype(np.float32)
        out_h, out_w = (conv_op.conv_output_size(n, k, s, p, 1) for n in (H, W))
        geometry = (k, k, s, s, p, p, 1, 1, out_h, out_w)
        np.testing.assert_array_equal(cpu_kernels.im2col(x, *geometry),
                                      reference.im2col(x, *geometry))


def test_conv2d_without_saved_columns(monkeypatch):
    monkeypatch.setattr(schedule, "SAVE_COLUMNS_FOR_BACKWARD", False)  # backward rebuilds them
    rng = np.random.default_rng(7)
    x, w = rng.standard_normal((2, 3, 5, 6)), rng.standard_normal((4, 3, 2, 3))
    assert_matches_torch(lambda x, w: F.conv2d(x, w, padding=(1, 0)),
                         lambda x, w: TF.conv2d(x, w, padding=(1, 0)), x, w, kind="conv")


def test_conv2d_with_only_the_contract_kernels(monkeypatch):
    # a namespace without the CPU-only GEMM-layout kernels (as the GPU one): the op transposes
    contract = SimpleNamespace(im2col=cpu_kernels.im2col, col2im=cpu_kernels.col2im)
    monkeypatch.setattr(conv_op.kernels, "for_device", lambda device: contract)
    rng = np.random.default_rng(6)
    x, w, b = (rng.standard_normal(s) for s in ((3, 4, 6, 5), (6, 2, 3, 2), (6,)))
    kw = dict(stride=(2, 1), padding=1, dilation=(1, 2), groups=2)
    assert_matches_torch(lambda x, w, b: F.conv2d(x, w, b, **kw),
                         lambda x, w, b: TF.conv2d(x, w, b, **kw), x, w, b, kind="conv")


def test_conv2d_unbatched_input():
    rng = np.random.default_rng(3)
    assert_matches_torch(lambda x, w: F.conv2d(x, w, padding=1),
                         lambda x, w: TF.conv2d(x, w, padding=1),
                         rng.standard_normal((2, 5, 5)), rng.standard_normal((3, 2, 3, 3)),
                         kind="conv")


def test_conv2d_only_some_inputs_need_grad():
    x = mt.randn(2, 3, 5, 5)
    w = mt.randn(2, 3, 3, 3, requires_grad=True)
    F.conv2d(x, w).sum().backward()
    assert w.grad is not None and x.grad is None
    x.requires_grad_(True)
    w2 = mt.randn(2, 3, 3, 3)
    F.conv2d(x, w2).sum().backward()
    assert x.grad.shape == x.shape and w2.grad is None


@pytest.mark.parametrize("make,match", [
    (lambda: F.conv2d(mt.randn(3, 5), mt.randn(2, 3, 3, 3)),
     r"expected 4-D input \(N, C, H, W\).*got shape \(3, 5\)"),
    (lambda: F.conv2d(mt.randn(1, 3, 5, 5), mt.randn(2, 3, 3)), r"4-D weight.*\(2, 3, 3\)"),
    (lambda: F.conv2d(mt.randn(1, 3, 5, 5), mt.randn(2, 2, 3, 3)),
     r"weight of shape \(2, 2, 3, 3\).*input of shape \(1, 3, 5, 5\)"),
    (lambda: F.conv2d(mt.randn(1, 4, 5, 5), mt.randn(3, 2, 3, 3), groups=2),
     r"groups=2 must divide.*output channels \(3\)"),
    (lambda: F.conv2d(mt.randn(1, 3, 5, 5), mt.randn(3, 1, 3, 3), groups=2),
     r"groups=2 must divide both the input channels \(3\)"),
    (lambda: F.conv2d(mt.randn(1, 3, 2, 2), mt.randn(2, 3, 3, 3)),
     r"output height would be 0 < 1.*\(2 \+ 2\*0 - 1\*\(3 - 1\) - 1\) // 1 \+ 1"),
    (lambda: F.conv2d(mt.randn(1, 3, 5, 5), mt.randn(2, 3, 3, 3, dtype=mt.float64)),
     r"input is float32 but weight is float64"),
    (lambda: F.conv2d(mt.randn(1, 3, 5, 5), mt.randn(2, 3, 3, 3), stride=0),
     r"stride must be >= 1"),
    (lambda: F.conv2d(mt.randn(1, 3, 5, 5), mt.randn(2, 3, 3, 3), dilation=(1, 0)),
     r"dilation must be >= 1"),
    (lambda: F.conv2d(mt.randn(1, 3, 5, 5), mt.randn(2, 3, 3, 3), padding="same", stride=2),
     r"padding='same' needs stride 1"),
    (lambda: F.conv2d(mt.randn(1, 3, 5, 5), mt.randn(2, 3, 3, 3), mt.randn(3)),
     r"bias must have shape \(2,\)"),
])
def test_conv2d_errors_name_the_problem(make, match):
    with pytest.raises((ValueError, TypeError), match=match):
        make()


def test_early_thread_settings_keep_the_users_and_say_when_too_late():
    # minitorch_cv/_early.py: set before NumPy loads OpenBLAS, unless the user chose a value
    from minitorch_cv import _early

    state = list(_early._set_by_us), list(_early._loaded_before)
    try:
        env = {"OMP_WAIT_POLICY": "ACTIVE"}
        assert _early.apply(env, modules={}) == ["OPENBLAS_THREAD_TIMEOUT"]
        assert env == {"OMP_WAIT_POLICY": "ACTIVE", "OPENBLAS_THREAD_TIMEOUT": "16"}
        assert _early.late_settings() == []  # nothing loaded before us
        env = {}
        assert _early.apply(env, modules={"numpy": None}) == ["OMP_WAIT_POLICY",
                                                             "OPENBLAS_THREAD_TIMEOUT"]
        late = _early.late_settings()  # OpenBLAS started already; libgomp (torch's) did not
        assert len(late) == 1 and late[0].startswith("OPENBLAS_THREAD_TIMEOUT=16 was set after "
                                                     "numpy had been imported")
        _early.apply({}, modules={"numpy": None, "torch": None})
        assert [line.split("=")[0] for line in _early.late_settings()] == [
            "OMP_WAIT_POLICY", "OPENBLAS_THREAD_TIMEOUT"]
        assert "export OMP_WAIT_POLICY=PASSIVE" in _early.late_settings()[0]
    finally:
        _early._set_by_us[:], _early._loaded_before[:] = state


def test_cpu_im2col_col2im_refuse_an_output_size_that_reads_outside_the_padded_input():
    # the CPU loops read without bounds checks: a wrong out_h would read other memory
    x = np.zeros((1, 2, 5, 5), np.float32)
    cpu_kernels.im2col(x, 3, 3, 1, 1, 1, 1, 1, 1, 5, 5)  # the formula's size: fine
    for fn in (cpu_kernels.im2col, cpu_kernels.im2col_batch_inner):
        with pytest.raises(ValueError, match="6 output rows do not fit 5 input rows.*= 5"):
            fn(x, 3, 3, 1, 1, 1, 1, 1, 1, 6, 5)
    col = np.zeros((1, 2, 3, 3, 5, 6), np.float32)
    with pytest.raises(ValueError, match="6 output columns do not fit 5 input columns"):
        cpu_kernels.col2im(col, 5, 5, 1, 1, 1, 1, 1, 1)
    with pytest.raises(ValueError, match="output columns"):
        cpu_kernels.col2im_batch_inner(col.transpose(1, 2, 3, 0, 4, 5), 5, 5, 1, 1, 1, 1, 1, 1)


def test_block_size_follows_the_l2_cache(tmp_path):
    # GEMM_BLOCK_BYTES is one core's L2 size from sysfs, clamped to 1-4 MiB, 1 MiB if unknown
    def cache(index, level, kind, size):
        d = tmp_path / f"index{index}"
        d.mkdir()
        for name, value in (("level", level), ("type", kind), ("size", size)):
            (d / name).write_text(value + "\n")

    assert schedule.l2_cache_bytes(str(tmp_path)) is None
    cache(0, "1", "Data", "48K")
    cache(1, "1", "Instruction", "64K")
    assert schedule.l2_cache_bytes(str(tmp_path)) is None
    cache(2, "2", "Unified", "2048K")
    cache(3, "3", "Unified", "491520K")
    assert schedule.l2_cache_bytes(str(tmp_path)) == 2 * 2**20
    assert schedule.default_block_bytes(2 * 2**20) == 2 * 2**20
    assert schedule.default_block_bytes(None) == 2**20
    assert schedule.default_block_bytes(256 * 2**10) == 2**20
    assert schedule.default_block_bytes(32 * 2**20) == 4 * 2**20
    (tmp_path / "index2" / "size").write_text("garbled\n")
    assert schedule.l2_cache_bytes(str(tmp_path)) is None


def test_conv2d_weight_gradient_alone_runs_block_after_block(monkeypatch):
    # a first layer (the input needs no gradient) with kept columns: its backward is GEMMs
    # only and runs on this thread block after block (forward still shares the blocks out);
    # the weight and bias gradients equal torch's, and also when the columns are rebuilt
    rng = np.random.default_rng(5)
    x = rng.standard_normal((7, 3, 6, 5)).astype(np.float32)
    w = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    g = rng.standard_normal((7, 4, 6, 5)).astype(np.float32)
    monkeypatch.setattr(schedule, "GEMM_BLOCK_BYTES", 1)
    monkeypatch.setattr(cpu_kernels, "num_threads", lambda: 3)
    splits = []
    run_split = cpu_kernels.run_split
    monkeypatch.setattr(cpu_kernels, "run_split",
                        lambda fn, ranges, threads: splits.append(1) or run_split(fn, ranges,
                                                                                   threads))
    tw = torch.tensor(w, requires_grad=True)
    tb = torch.zeros(4, requires_grad=True)
    TF.conv2d(torch.tensor(x), tw, tb, padding=1).backward(torch.tensor(g))
    with conv_backend.flags(algorithm="im2col"):
        for keep, expected_splits in ((True, 1), (False, 2)):
            monkeypatch.setattr(schedule, "SAVE_COLUMNS_FOR_BACKWARD", keep)
            splits.clear()
            mw = mt.Tensor(w, requires_grad=True)
            mb = mt.zeros(4, requires_grad=True)
            F.conv2d(mt.Tensor(x), mw, mb, padding=1).backward(mt.Tensor(g))
            assert len(splits) == expected_splits
            np.testing.assert_allclose(mw.grad.array, tw.grad.numpy(), rtol=1e-4, atol=1e-4)
            np.testing.assert_allclose(mb.grad.array, tb.grad.numpy(), rtol=1e-4, atol=1e-4)


def test_conv2d_runs_fused_im2col_per_group_of_samples_over_threads(monkeypatch):
    # where one sample's columns fit GEMM_BLOCK_BYTES, the CPU runs the fused kernels: forward
    # and backward in calls of whole groups shared out over threads, nothing kept from forward
    # (backward rebuilds the columns), the block pipeline's kernels not called; torch's numbers
    rng = np.random.default_rng(21)
    x = rng.standard_normal((11, 4, 7, 6)).astype(np.float32)
    w = rng.standard_normal((6, 2, 3, 2)).astype(np.float32)
    b = rng.standard_normal(6).astype(np.float32)
    per_sample = 4 * 3 * 2 * 4 * 3 * 4  # columns of one sample: stride 2 gives 4x3 outputs
    monkeypatch.setattr(schedule, "GEMM_BLOCK_BYTES", 16 * per_sample)  # groups of 2
    monkeypatch.setattr(cpu_kernels, "num_threads", lambda: 2)
    monkeypatch.setattr(cpu_kernels, "im2col_batch_inner", None)  # the block pipeline's
    calls = []
    for name in ("im2col_fused_forward", "im2col_fused_backward"):
        kernel = getattr(cpu_kernels, name)
        monkeypatch.setattr(cpu_kernels, name, lambda *a, _k=kernel, _n=name: calls.append(
            (_n, a[-4:-1] if _n.endswith('forward') else a[-3:])) or _k(*a))
    kw = dict(stride=2, padding=(1, 0), groups=2)
    with conv_backend.flags(algorithm="im2col"):
        assert_matches_torch(lambda x, w, b: F.conv2d(x, w, b, **kw),
                             lambda x, w, b: TF.conv2d(x, w, b, **kw), x, w, b, kind="conv")
    for name in ("im2col_fused_forward", "im2col_fused_backward"):
        ranges = [args for n, args in calls if n == name]
        assert all(group == 2 for _, _, group in ranges) and len(ranges) > 1
        chunk = ranges[0][1]
        assert chunk % 2 == 0 and [(lo, hi) for lo, hi, _ in ranges] == [
            (lo, min(11, lo + chunk)) for lo in range(0, 11, chunk)]


def test_conv2d_backward_after_the_fused_kernels_are_switched_off(monkeypatch):
    # forward ran the fused kernels; switched off before backward, backward still completes
    # (with the fused kernels, as forward kept nothing for the block pipeline) and matches
    x, w = mt.randn(3, 2, 6, 6, requires_grad=True), mt.randn(4, 2, 3, 3, requires_grad=True)
    with conv_backend.flags(algorithm="im2col"):
        y = F.conv2d(x, w, padding=1, stride=2)
        monkeypatch.setattr(schedule, "FUSED_KERNELS", False)
        y.sum().backward()
        xt = torch.from_numpy(x.detach().numpy()).requires_grad_(True)
        wt = torch.from_numpy(w.detach().numpy()).requires_grad_(True)
        TF.conv2d(xt, wt, padding=1, stride=2).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(w.grad.numpy(), wt.grad.numpy(), rtol=1e-4, atol=1e-4)
