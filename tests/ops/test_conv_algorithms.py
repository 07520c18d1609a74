"""The convolution algorithms through F.conv2d (Winograd F(2x2, 3x3), direct, im2col) against
torch and gradcheck, the float32 error of each, and the chooser ``minitorch_cv.backends.conv``
(the default rule, forced algorithms, benchmark mode, the settings' checks)."""

import numpy as np
import pytest
import torch
from hypothesis import example, given, settings
from hypothesis import strategies as st

import minitorch_cv as mt
import minitorch_cv.functional as F
from minitorch_cv.backends import conv as conv_backend
from minitorch_cv.ops import conv_algorithms, conv_schedule
from minitorch_cv.testing import assert_matches_torch, gradcheck
from minitorch_cv.testing.strategies import conv_configs

TF = torch.nn.functional
DTYPES = st.sampled_from([np.float32, np.float64])


@pytest.fixture(autouse=True)
def _default_settings():
    with conv_backend.flags(algorithm="auto", benchmark=False):
        conv_backend.clear_benchmark_results()
        yield
    conv_backend.clear_benchmark_results()


@st.composite
def winograd_configs(draw):
    """3x3, stride 1, dilation 1, one group; padding 0 to 3 (above 2: the input gradient runs
    with negative padding)."""
    ph, pw = draw(st.integers(0, 3)), draw(st.integers(0, 3))
    return dict(N=draw(st.integers(1, 2)), C=draw(st.integers(1, 3)),
                C_out=draw(st.integers(1, 3)), H=draw(st.integers(max(1, 3 - 2 * ph), 7)),
                W=draw(st.integers(max(1, 3 - 2 * pw), 7)), padding=(ph, pw))


def _arrays(shape_x, shape_w, dtype, seed):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(shape_x).astype(dtype), rng.standard_normal(shape_w).astype(dtype),
            rng.standard_normal(shape_w[0]).astype(dtype))


def _algorithm_of(y):
    return y.grad_fn.algorithm.name


@settings(max_examples=15, deadline=None)
@given(cfg=winograd_configs(), dtype=DTYPES, seed=st.integers(0, 99))
# failed once in a full run at f985b59 (23:36) and never again: not reproduced in 5 full runs
# and 100 replays across 1-2 Numba and BLAS threads; kept so that every run tries it
@example(cfg={"N": 1, "C": 1, "C_out": 2, "H": 5, "W": 2, "padding": (3, 1)}, dtype=np.float32,
         seed=51)
def test_winograd_matches_torch(cfg, dtype, seed):
    x, w, b = _arrays((cfg["N"], cfg["C"], cfg["H"], cfg["W"]), (cfg["C_out"], cfg["C"], 3, 3),
                      dtype, seed)
    padding = cfg["padding"]
    before = conv_schedule.FUSED_KERNELS
    try:
        for fused in (True, False):  # the CPU's fused kernels, and the block pipeline
            conv_schedule.FUSED_KERNELS = fused
            with conv_backend.flags(algorithm="winograd"):
                assert _algorithm_of(F.conv2d(mt.Tensor(x, requires_grad=True), mt.Tensor(w),
                                              padding=padding)) == "winograd"
                assert_matches_torch(lambda x, w, b: F.conv2d(x, w, b, padding=padding),
                                     lambda x, w, b: TF.conv2d(x, w, b, padding=padding), x, w,
                                     b, kind="conv")
    finally:
        conv_schedule.FUSED_KERNELS = before


@settings(max_examples=15, deadline=None)
@given(cfg=conv_configs(), dtype=DTYPES, seed=st.integers(0, 99))
def test_direct_matches_torch(cfg, dtype, seed):
    x, w, b = _arrays((cfg["N"], cfg["C"], cfg["H"], cfg["W"]),
                      (cfg["C_out"], cfg["C"] // cfg["groups"], cfg["kh"], cfg["kw"]), dtype, seed)
    kw = dict(stride=(cfg["sh"], cfg["sw"]), padding=(cfg["ph"], cfg["pw"]),
              dilation=(cfg["dh"], cfg["dw"]), groups=cfg["groups"])
    with conv_backend.flags(algorithm="direct"):
        assert _algorithm_of(F.conv2d(mt.Tensor(x), mt.Tensor(w, requires_grad=True),
                                      **kw)) == "direct"
        assert_matches_torch(lambda x, w, b: F.conv2d(x, w, b, **kw),
                             lambda x, w, b: TF.conv2d(x, w, b, **kw), x, w, b, kind="conv")


@pytest.mark.parametrize("algorithm, kw", [
    ("winograd", dict(padding=1)), ("winograd", dict(padding=(0, 3))),
    ("direct", dict(stride=(2, 1), padding=(1, 2), dilation=(1, 2), groups=2)),
    # stride 1, dilation 1: the direct kernels' whole-plane ("flat") loops
    ("direct", dict(padding=(1, 2), groups=2)), ("direct", dict(padding=0)),
])
def test_algorithms_pass_gradcheck(algorithm, kw):
    groups = kw.get("groups", 1)
    x, w, b = _arrays((2, 4, 5, 6), (4, 4 // groups, 3, 3), np.float64, 1)
    tensors = [mt.Tensor(a, requires_grad=True) for a in (x, w, b)]
    with conv_backend.flags(algorithm=algorithm):
        assert _algorithm_of(F.conv2d(*tensors, **kw)) == algorithm
        gradcheck(lambda *t: F.conv2d(*t, **kw), *tensors)


@pytest.mark.parametrize("algorithm", ["im2col", "winograd", "direct"])
def test_float32_error_against_float64_is_within_the_conv_tolerance(algorithm):
    # Winograd's transforms add and subtract tile values (B^T, A^T) and halve filter values
    # (G), so its float32 result rounds differently from a plain dot product: measured here
    # at the size of im2col's error (relative to the largest output, 2e-7 to 6e-7 on ResNet
    # shapes); asserted at 1e-5, well inside the torch-comparison tolerance (1e-4)
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 32, 8, 8))
    w = rng.standard_normal((32, 32, 3, 3)) * np.sqrt(2 / (9 * 32))
    g = rng.standard_normal((2, 32, 8, 8))
    with conv_backend.flags(algorithm=algorithm):
        results = []
        for dtype in (np.float64, np.float32):
            xt = mt.Tensor(x.astype(dtype), requires_grad=True)
            wt = mt.Tensor(w.astype(dtype), requires_grad=True)
            y = F.conv2d(xt, wt, padding=1)
            y.backward(mt.Tensor(g.astype(dtype)))
            results.append((y.array, xt.grad.array, wt.grad.array))
    for exact, rounded in zip(*results):
        assert rounded.dtype == np.float32
        assert np.abs(rounded - exact).max() / np.abs(exact).max() < 1e-5


# ----------------------------------------------------------------------------- chooser
def _shape(C, C_out, k=3, stride=1, groups=1, device="cpu", H=32, N=4):
    return conv_backend.ConvShape(device, "float32", N, C, H, H, C_out, k, k, stride, stride,
                                  k // 2, k // 2, 1, 1, groups)


@pytest.mark.parametrize("shape, expected", [
    (_shape(16, 16, N=16), "winograd"),  # 16 * 256 tiles * 16 channels = 65536
    (_shape(16, 16, N=8), "im2col"),  # half of that: too small a call
    (_shape(64, 64), "winograd"), (_shape(16, 32, N=16), "winograd"),
    (_shape(32, 32, H=16, N=64), "winograd"),  # ResNet-20's second stage
    (_shape(32, 32, H=16, N=8), "im2col"),  # 8 * 64 tiles * 32 < 65536
    (_shape(64, 64, H=8, N=128), "winograd"),  # ResNet-20's third: 128 * 16 * 64 = 131072
    (_shape(64, 64, H=8, N=32), "im2col"),  # a quarter of that
    (_shape(128, 128, H=8, N=32), "winograd"),
    (_shape(32, 32, H=8, N=128), "im2col"),  # 32 * 8 < 512: too little work per row of tiles
    (_shape(16, 16, H=16, N=128), "im2col"),  # 16 * 16 < 512
    (_shape(256, 256, H=14, N=32), "winograd"), (_shape(256, 256, H=14), "im2col"),  # N=4
    (_shape(256, 256, H=7, N=32), "im2col"),  # narrower than 8 pixels
    (_shape(3, 16, N=128), "im2col"),  # too few input channels for the transforms to pay
    (_shape(16, 32, stride=2, N=128), "im2col"), (_shape(16, 32, k=1, N=128), "im2col"),
    (_shape(32, 32, groups=2, N=128), "im2col"),
    (_shape(1, 6, k=5, N=128), "im2col"),  # LeNet-5's first layer: never direct by the rule
    (_shape(1, 8, N=128), "im2col"),
    (_shape(16, 16, N=16, device="cuda"), "winograd"),  # the same rule on the GPU
])
def test_default_rule(shape, expected):
    available = conv_backend.ALGORITHMS if shape.device == "cpu" else ("im2col", "winograd")
    assert conv_backend.default_rule(shape, available) == expected
    assert conv_backend.choose(shape, available) == expected  # "auto" without benchmark: the rule


def test_auto_runs_the_rules_choice():
    x, w = mt.randn(16, 16, 32, 32), mt.randn(16, 16, 3, 3)  # 16 * 256 tiles * 16 = 65536
    assert _algorithm_of(F.conv2d(x.requires_grad_(True), w, padding=1)) == "winograd"
    assert _algorithm_of(F.conv2d(x[:4], w, padding=1)) == "im2col"  # a quarter of that
    assert _algorithm_of(F.conv2d(x, w, padding=1, stride=2)) == "im2col"


def test_forced_algorithm_applies_where_it_can_else_im2col():
    x, w = mt.randn(2, 4, 6, 6, requires_grad=True), mt.randn(4, 4, 3, 3)
    with conv_backend.flags(algorithm="winograd"):
        assert _algorithm_of(F.conv2d(x, w, padding=1)) == "winograd"  # despite 4 channels
        assert _algorithm_of(F.conv2d(x, w, stride=2)) == "im2col"
    with conv_backend.flags(algorithm="direct"):
        assert _algorithm_of(F.conv2d(x, w, stride=2)) == "direct"
        assert conv_backend.choose(_shape(4, 4, device="cuda-sim"), ("im2col", "winograd")) \
            == "im2col"  # no direct kernels on the GPU
    with conv_backend.flags(algorithm="im2col"):
        assert _algorithm_of(F.conv2d(x, w, padding=1)) == "im2col"


def test_benchmark_times_each_candidate_once_per_shape_and_keeps_the_winner():
    timed = []
    times = {"im2col": 3.0, "winograd": 2.0, "direct": 1.0}

    def timer(name):
        timed.append(name)
        return times[name]

    shape = _shape(16, 16, N=16)
    with conv_backend.flags(benchmark=True):
        assert conv_backend.choose(shape, timer=timer) == "direct"
        assert sorted(timed) == ["direct", "im2col", "winograd"]
        times["im2col"] = 0.0  # no second timing: the winner is remembered
        assert conv_backend.choose(shape, timer=timer) == "direct" and len(timed) == 3
        assert conv_backend.choose(_shape(16, 16, stride=2), timer=timer) == "im2col"
        assert timed[3:] == ["im2col", "direct"]  # Winograd does not apply to stride 2
    assert conv_backend.benchmark_results() == {shape: "direct",
                                                _shape(16, 16, stride=2): "im2col"}
    assert conv_backend.choose(shape, timer=timer) == "winograd"  # benchmark off: the rule
    with conv_backend.flags(benchmark=True, algorithm="im2col"):
        assert conv_backend.choose(shape, timer=timer) == "im2col"  # a forced choice wins


def test_benchmark_mode_through_conv2d_runs_every_candidate_once(monkeypatch):
    calls = []
    for algorithm in conv_algorithms.ALGORITHMS.values():
        forward = algorithm.forward

        def spy(*args, _forward=forward, _name=algorithm.name, **kwargs):
            calls.append(_name)
            return _forward(*args, **kwargs)

        monkeypatch.setattr(algorithm, "forward", staticmethod(spy))
    x, w = mt.randn(2, 3, 6, 6, requires_grad=True), mt.randn(4, 3, 3, 3)
    with conv_backend.flags(benchmark=True):
        y = F.conv2d(x, w, padding=1)
        assert sorted(calls[:-1]) == sorted(2 * ["im2col", "winograd", "direct"])  # warm, timed
        assert calls[-1] == _algorithm_of(y)  # then the winner computes the result
        calls.clear()
        F.conv2d(x, w, padding=1)
        assert len(calls) == 1
    assert list(conv_backend.benchmark_results().values()) == [_algorithm_of(y)]


def test_settings_are_checked_when_set():
    with pytest.raises(ValueError, match="must be one of .*'winograd'.*got 'fft'"):
        conv_backend.algorithm = "fft"
    with pytest.raises(TypeError, match="True or False"):
        conv_backend.benchmark = 1
    assert conv_backend.algorithm == "auto" and conv_backend.benchmark is False
    assert mt.backends.conv is conv_backend


def test_summary_names_the_algorithm_of_each_conv_layer():
    net = mt.nn.Sequential(mt.nn.Conv2d(3, 16, 3, padding=1), mt.nn.ReLU(),
                           mt.nn.Conv2d(16, 16, 3, padding=1), mt.nn.Conv2d(16, 32, 3, stride=2))
    rows = {r.name: r for r in mt.summary(net, (16, 3, 32, 32)).layers}
    assert [rows[n].algorithm for n in ("0", "1", "2", "3")] == ["im2col", "", "winograd",
                                                                  "im2col"]
    with conv_backend.flags(algorithm="direct"):
        table = mt.summary(net, (1, 3, 32, 32))
    assert [r.algorithm for r in table.layers if r.kind == "Conv2d"] == ["direct"] * 3
    assert "Algorithm" in str(table) and "direct" in str(table)
    with conv_backend.flags(benchmark=True):
        table = mt.summary(net, (2, 3, 8, 8))  # the timed winners, whichever they are
    chosen = [r.algorithm for r in table.layers if r.kind == "Conv2d"]
    winners = conv_backend.benchmark_results()  # one per layer shape, in call order
    assert len(winners) == 3 and chosen == list(winners.values())


@pytest.mark.parametrize("keep", [True, False])
def test_winograd_in_blocks_split_over_threads_matches_torch(monkeypatch, keep):
    # one sample per block (GEMM_BLOCK_BYTES 1), blocks shared out over 3 threads by
    # run_split, for the forward, the input gradient and the weight gradient alike; the
    # transformed input kept from forward for the weight gradient, or transformed again
    from minitorch_cv.kernels import cpu as cpu_kernels
    from minitorch_cv.ops import conv_schedule

    monkeypatch.setattr(conv_schedule, "GEMM_BLOCK_BYTES", 1)
    monkeypatch.setattr(conv_schedule, "SAVE_COLUMNS_FOR_BACKWARD", keep)
    monkeypatch.setattr(cpu_kernels, "num_threads", lambda: 3)
    transforms = []
    transform = cpu_kernels.winograd_input_transform
    monkeypatch.setattr(cpu_kernels, "winograd_input_transform",
                        lambda *args: transforms.append(args[0].shape) or transform(*args))
    calls = []
    run_split = cpu_kernels.run_split

    def spy(fn, ranges, threads):
        calls.append(ranges)
        return run_split(fn, ranges, threads)

    monkeypatch.setattr(cpu_kernels, "run_split", spy)
    x, w, b = _arrays((5, 3, 6, 7), (4, 3, 3, 3), np.float32, 9)
    with conv_backend.flags(algorithm="winograd"):
        assert_matches_torch(lambda x, w, b: F.conv2d(x, w, b, padding=1),
                             lambda x, w, b: TF.conv2d(x, w, b, padding=1), x, w, b,
                             kind="conv")
    assert len(calls) == 3 and all(ranges == [(i, i + 1) for i in range(5)] for ranges in calls)
    # per sample: forward's x and backward's grad_out, and x again unless it was kept
    assert len(transforms) == (10 if keep else 15)


def test_winograd_runs_fused_per_group_of_samples_over_threads(monkeypatch):
    # where one sample's V and M fit GEMM_BLOCK_BYTES, the CPU runs the fused kernels: forward,
    # input gradient and weight gradient each in calls of whole groups shared out over threads,
    # and the result is torch's; the block pipeline's transforms are not called
    from minitorch_cv.kernels import cpu as cpu_kernels
    from minitorch_cv.ops import conv_schedule

    per_sample = 16 * (3 + 4) * 3 * 4 * 4  # V and M of one sample: 6x7 output, 3x4 tiles
    monkeypatch.setattr(conv_schedule, "GEMM_BLOCK_BYTES", 8 * per_sample)  # groups of 4
    monkeypatch.setattr(cpu_kernels, "num_threads", lambda: 2)
    calls = []
    for name in ("winograd_fused_conv", "winograd_fused_grad_filter"):
        kernel = getattr(cpu_kernels, name)
        monkeypatch.setattr(cpu_kernels, name, lambda *a, _k=kernel, _n=name: calls.append(
            (_n, a[-4:-1] if _n.endswith('conv') else a[-3:])) or _k(*a))
    monkeypatch.setattr(cpu_kernels, "winograd_input_transform", None)  # the block pipeline's
    x, w, b = _arrays((19, 3, 6, 7), (4, 3, 3, 3), np.float32, 5)
    with conv_backend.flags(algorithm="winograd"):
        assert_matches_torch(lambda x, w, b: F.conv2d(x, w, b, padding=1),
                             lambda x, w, b: TF.conv2d(x, w, b, padding=1), x, w, b,
                             kind="conv")
    convs = [args for name, args in calls if name == "winograd_fused_conv"]
    grads = [args for name, args in calls if name == "winograd_fused_grad_filter"]
    # 19 samples, groups of 4, 2 threads x 4 parts: every call but the last covers whole
    # groups, and the calls cover the batch once, in order
    for found, group in ((convs[:len(convs) // 2], 4), (convs[len(convs) // 2:], 4),
                         (grads, 4)):
        assert all(g == group for _, _, g in found)
        assert [(lo, hi) for lo, hi, _ in found] == [
            (lo, min(19, lo + found[0][1])) for lo in range(0, 19, found[0][1])]
        assert found[0][1] % group == 0 and len(found) > 1


def test_winograd_group_sizes_and_where_the_block_pipeline_runs(monkeypatch):
    from minitorch_cv.kernels import cpu as cpu_kernels
    from minitorch_cv.ops import conv_schedule

    monkeypatch.setattr(conv_schedule, "GEMM_BLOCK_BYTES", 2**21)
    per_sample = 16 * (16 + 16) * 256 * 4  # 16 channels at 32x32: 512 KiB
    monkeypatch.setattr(cpu_kernels, "num_threads", lambda: 2)
    assert conv_schedule.fused_group(cpu_kernels, "winograd_conv", per_sample, 128) == 2
    assert conv_schedule.fused_group(cpu_kernels, "winograd_grad_filter", per_sample, 128) == 2
    assert conv_schedule.fused_group(cpu_kernels, "winograd_conv", per_sample // 4, 128) == 8
    assert conv_schedule.fused_group(cpu_kernels, "winograd_conv", per_sample // 4, 9) == 5
    assert conv_schedule.fused_group(cpu_kernels, "winograd_conv", per_sample // 4, 1) == 1
    assert conv_schedule.fused_group(cpu_kernels, "im2col", 2**16, 128) == 4
    assert conv_schedule.fused_group(cpu_kernels, "winograd_conv", 2**21 + 1, 128) == 0
    assert conv_schedule.fused_group(cpu_kernels, "im2col", 2**21 + 1, 128) == 0  # beyond L2
    monkeypatch.setattr(conv_schedule, "FUSED_KERNELS", False)
    assert conv_schedule.fused_group(cpu_kernels, "im2col", 2**16, 128) == 0

    class GPU:  # a namespace without the fused kernels
        winograd_input_transform = None

    assert conv_schedule.fused_group(GPU, "winograd_conv", 1024, 128) == 0
    assert conv_schedule.fused_group(GPU, "im2col", 1024, 128) == 0


def test_fused_winograd_runs_scipys_blas_on_one_thread():
    # the fused kernels' GEMMs go through SciPy's BLAS (Numba's np.dot); where SciPy brings its
    # own OpenBLAS, it is set to one thread (the kernels run side by side on their own threads)
    threadpoolctl = pytest.importorskip("threadpoolctl")
    from minitorch_cv.kernels import cpu as cpu_kernels

    x = np.ones((1, 2, 4, 4), np.float32)
    cpu_kernels.winograd_fused_conv(x, np.ones((16, 2, 2), np.float32), 1, 1,
                                    np.empty((1, 2, 4, 4), np.float32), 0, 1, 1)
    scipys = [lib for lib in threadpoolctl.threadpool_info()
              if lib["user_api"] == "blas" and "scipy.libs" in lib["filepath"]]
    if not scipys:
        pytest.skip("SciPy shares NumPy's BLAS here: nothing of its own to limit")
    assert all(lib["num_threads"] == 1 for lib in scipys)
