"""The CPU emulator of CUDA kernels: launch semantics, thread orders, barriers, argument checks,
builds and their cache, and the blind spot the sanitizers exist for."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from minitorch_cv import emulator
from minitorch_cv.emulator import sanitizers
from minitorch_cv.kernels import reference

pytestmark = pytest.mark.skipif(emulator.compiler() is None, reason="no g++: emulator unusable")

# One module (one g++ build) with every small kernel these tests need.
SOURCE = r"""
extern "C" __global__ void visit_order(int* order, int* counter) {
    order[atomicAdd(counter, 1)] = blockIdx.x * blockDim.x + threadIdx.x;
}
extern "C" __global__ void last_writer(int* out) { out[0] = threadIdx.x; }
extern "C" __global__ void reverse_block(const float* in, float* out, int use_barrier) {
    extern __shared__ float tile[];
    const unsigned t = threadIdx.x, n = blockDim.x;
    tile[t] = in[blockIdx.x * n + t];
    if (use_barrier) __syncthreads();
    out[blockIdx.x * n + t] = tile[n - 1 - t];
}
extern "C" __global__ void early_exit(float* out) {
    if (threadIdx.x == 0) return;  // thread 0 skips the barrier: undefined on a GPU
    __syncthreads();
    out[threadIdx.x] = 1.f;
}
extern "C" __global__ void stale_shared(float* out) {
    __shared__ float cell[1];
    if (threadIdx.x == 0) { out[blockIdx.x] = cell[0]; cell[0] = 5.f; }  // read before write
}
extern "C" __global__ void typed(float* out, float a, int b, long long c, double d,
                                 unsigned long long e) {
    out[0] = a; out[1] = (float)b; out[2] = (float)c; out[3] = (float)d; out[4] = (float)e;
}
"""


@pytest.fixture(scope="module")
def module():
    return emulator.RawModule(SOURCE)


def test_parameters_come_from_the_compiler(module):
    params = module.get_function("typed").parameters
    assert [p.name for p in params] == ["out", "a", "b", "c", "d", "e"]
    assert [p.dtype for p in params] == [np.float32, np.float32, np.int32, np.int64, np.float64,
                                         np.uint64]
    assert params[0].is_pointer and not params[1].is_pointer


def test_exact_scalar_types_are_passed_through(module):
    out = emulator.poisoned_empty(5, np.float32)
    module.get_function("typed")((1,), (1,), [out, np.float32(1.5), np.int32(-2), 3, 4.0,
                                               np.uint64(5)])
    np.testing.assert_array_equal(out, [1.5, -2, 3, 4, 5])


@pytest.mark.parametrize("args, message", [
    ((1.5, np.int32(1)), "parameter 'a' is float32 but got float64"),  # Python float for float
    ((np.float32(1), 1), "parameter 'b' is int32 but got int64"),      # Python int for int
    ((np.float64(1), np.int32(1)), "parameter 'a' is float32 but got float64"),
    ((np.zeros(1, np.float32), np.int32(1)), "an array was passed for a float32 scalar"),
])
def test_wrong_scalar_types_are_errors_naming_the_parameter(module, args, message):
    out = np.zeros(5, np.float32)
    with pytest.raises(TypeError, match=message):
        module.get_function("typed")((1,), (1,), [out, *args, 3, 4.0, np.uint64(5)])


def test_wrong_arrays_are_errors(module):
    kernel = module.get_function("typed")
    rest = [np.float32(1), np.int32(1), 3, 4.0, np.uint64(5)]
    with pytest.raises(TypeError, match="float64 array was passed for float32"):
        kernel((1,), (1,), [np.zeros(5), *rest])
    with pytest.raises(TypeError, match="not C-contiguous"):
        kernel((1,), (1,), [np.zeros((5, 2), np.float32)[:, 0], *rest])
    with pytest.raises(TypeError, match="takes 6 arguments"):
        kernel((1,), (1,), [np.zeros(5, np.float32)])


@pytest.mark.parametrize("order", ["forward", "reverse", "shuffled"])
def test_thread_orders(module, order):
    order_out = np.zeros(3 * 8, np.int32)
    module.get_function("visit_order")((3,), (8,), [order_out, np.zeros(1, np.int32)],
                                       order=order, seed=1)
    assert sorted(order_out) == list(range(24))  # every thread ran exactly once
    threads_in_block = [t % 8 for t in order_out[:8]]
    if order == "forward":
        assert list(order_out) == list(range(24))
    elif order == "reverse":
        assert list(order_out) == list(range(24))[::-1]
    else:
        assert threads_in_block != sorted(threads_in_block)


def test_order_from_environment_and_an_order_dependent_kernel(module, monkeypatch):
    out = np.zeros(1, np.int32)
    kernel = module.get_function("last_writer")
    monkeypatch.setenv("MINITORCH_CV_EMULATOR_ORDER", "forward")
    kernel((1,), (16,), [out])
    assert out[0] == 15
    monkeypatch.setenv("MINITORCH_CV_EMULATOR_ORDER", "reverse")
    kernel((1,), (16,), [out])
    assert out[0] == 0  # a kernel whose answer depends on the order is exposed
    monkeypatch.setenv("MINITORCH_CV_EMULATOR_ORDER", "sideways")
    with pytest.raises(ValueError, match="unknown thread order"):
        kernel((1,), (16,), [out])


@pytest.mark.parametrize("order", ["forward", "reverse", "shuffled", "threads"])
def test_syncthreads_is_a_real_barrier(module, order):
    data = np.arange(64, dtype=np.float32)
    out = emulator.poisoned_empty(64, np.float32)
    module.get_function("reverse_block")((2,), (32,), [data, out, np.int32(1)], 32 * 4,
                                         order=order)
    np.testing.assert_array_equal(out, np.concatenate([data[31::-1], data[:31:-1]]))


def test_missing_syncthreads_is_caught_by_some_order(module):
    data = np.arange(64, dtype=np.float32)
    wrong = []
    for order in ("forward", "reverse", "shuffled"):
        out = emulator.poisoned_empty(64, np.float32)
        module.get_function("reverse_block")((2,), (32,), [data, out, np.int32(0)], 32 * 4,
                                             order=order)
        wrong.append(not np.array_equal(out, np.concatenate([data[31::-1], data[:31:-1]])))
    assert any(wrong)


@pytest.mark.parametrize("order", ["forward", "threads"])
def test_static_shared_memory_starts_as_garbage_in_every_block(module, order):
    """Block 1 must not see the value block 0 left behind in a static __shared__ array."""
    out = np.zeros(3, np.float32)
    module.get_function("stale_shared")((3,), (4,), [out], order=order)
    assert np.isnan(out).all()


def test_divergent_barrier_is_counted(module):
    before = module.divergent_barriers
    module.get_function("early_exit")((1,), (8,), [np.zeros(8, np.float32)])
    assert module.divergent_barriers > before


def test_invalid_launches_are_refused(module):
    out = np.zeros(1, np.int32)
    with pytest.raises(RuntimeError, match="invalid launch"):
        module.get_function("last_writer")((1,), (2048,), [out])
    with pytest.raises(RuntimeError, match="48 KiB"):
        module.get_function("last_writer")((1,), (1,), [out], 64 * 1024)
    with pytest.raises(ValueError, match="no kernel named"):
        module.get_function("nothing")


def test_poisoned_empty_marks_every_element():
    assert np.isnan(emulator.poisoned_empty((2, 3), np.float64)).all()
    assert (emulator.poisoned_empty(4, np.int64) == -1).all()
    assert (emulator.poisoned_empty(4, np.uint8) == 255).all()


def test_builds_are_cached_in_the_configured_directory(tmp_path, monkeypatch):
    monkeypatch.setenv("MINITORCH_CV_EMULATOR_CACHE", str(tmp_path))
    source = 'extern "C" __global__ void one(float* x) { x[threadIdx.x] = 1.f; }'
    first = emulator.build(source)
    assert first.parent == tmp_path and first.exists()
    stamp = first.stat().st_mtime_ns
    assert emulator.build(source) == first and first.stat().st_mtime_ns == stamp
    assert Path(str(first).replace(".so", ".cpp")).exists()  # kept for the debugger


@pytest.mark.parametrize("body, complaint", [
    ("x[0] = __shfl_down_sync(0xffffffff, x[0], 1);", "__shfl_down_sync"),
    ("x[0] = NAN;", "NAN"),
])
def test_unsupported_cuda_features_fail_to_build(body, complaint):
    with pytest.raises(emulator.BuildError, match=complaint):
        emulator.build('extern "C" __global__ void k(float* x) { ' + body + " }")


def test_sanitized_module_needs_a_preloaded_runtime():
    if sanitizers.runtime_loaded("thread"):
        pytest.skip("this process runs under ThreadSanitizer")
    with pytest.raises(RuntimeError, match="python -m minitorch_cv.emulator.sanitizers thread"):
        emulator.RawModule(SOURCE, sanitize="thread")


RACY = (Path(__file__).parent / "racy_col2im.cu").read_text()


@pytest.mark.parametrize("order", ["forward", "reverse", "shuffled"])
def test_racy_col2im_passes_every_serial_order(order):
    """The blind spot: a col2im that races on a GPU gives the right sums here, in every serial
    order. test_gpu_sanitizers.py shows ThreadSanitizer catching it."""
    N, C, H, W, k, out = 2, 2, 5, 5, 3, 5
    col = np.random.default_rng(0).standard_normal((N, C, k, k, out, out)).astype(np.float32)
    x = np.zeros((N, C, H, W), np.float32)
    ints = [np.int64(v) for v in (N, C, H, W, k, k, 1, 1, 1, 1, 1, 1, out, out)]
    emulator.RawKernel(RACY, "racy_col2im")((3,), (64,), [col, x, *ints], order=order, seed=3)
    np.testing.assert_allclose(x, reference.col2im(col, H, W, 1, 1, 1, 1, 1, 1), rtol=1e-5,
                               atol=1e-6)


def test_sanitizer_runner_usage_and_environment(capsys):
    assert sanitizers.main([]) == 2
    assert "python -m minitorch_cv.emulator.sanitizers" in capsys.readouterr().out
    if sanitizers.runtime_library("address") is None:
        pytest.skip("no AddressSanitizer runtime for g++")
    env = sanitizers.environment("address", base={})
    assert env["LD_PRELOAD"].endswith(".so") or ".so." in env["LD_PRELOAD"]
    assert env["MINITORCH_CV_EMULATOR_SANITIZE"] == "address"
    assert "detect_leaks=0" in env["ASAN_OPTIONS"]
    assert sanitizers.reports("address", "x\n==1==ERROR: AddressSanitizer: heap-buffer-overflow")
