"""Started by test_gpu_sanitizers.py in a process with a sanitizer runtime preloaded.

    python sanitizer_workload.py project   # every project kernel, compared with the reference
    python sanitizer_workload.py racy      # the deliberately racy col2im (racy_col2im.cu)
    python sanitizer_workload.py overflow  # im2col whose bounds check is off by one

Kernels run with thread order "threads" (one OS thread per CUDA thread) so that
ThreadSanitizer sees the threads of a block run at the same time.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from minitorch_cv import emulator
from minitorch_cv.kernels import gpu, reference

ORDER = "threads"


def project() -> None:
    K = gpu.simulated(ORDER, block=32, max_blocks=2)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 6, 5)).astype(np.float32)
    window = (3, 2, 2, 1, 1, 1, 1, 2)
    col = K.im2col(x, *window, 3, 3)
    assert np.array_equal(col, reference.im2col(x, *window, 3, 3))
    np.testing.assert_allclose(K.col2im(col, 6, 5, 2, 1, 1, 1, 1, 2),
                               reference.col2im(col, 6, 5, 2, 1, 1, 1, 1, 2), rtol=1e-5)
    col_bi = K.im2col_batch_inner(x, *window, 3, 3)
    assert np.array_equal(col_bi, col.transpose(1, 2, 3, 0, 4, 5))
    np.testing.assert_allclose(K.col2im_batch_inner(col_bi, 6, 5, 2, 1, 1, 1, 1, 2),
                               reference.col2im(col, 6, 5, 2, 1, 1, 1, 1, 2), rtol=1e-5)
    out, argmax = K.max_pool2d_forward(x, 2, 2, 1, 1, 0, 0, 1, 1, 5, 4)
    expected, expected_argmax = reference.max_pool2d_forward(x, 2, 2, 1, 1, 0, 0, 1, 1, 5, 4)
    assert np.array_equal(out, expected) and np.array_equal(argmax, expected_argmax)
    grad = rng.standard_normal(out.shape).astype(np.float32)
    np.testing.assert_allclose(K.max_pool2d_backward(grad, argmax, 6, 5),
                               reference.max_pool2d_backward(grad, argmax, 6, 5), rtol=1e-5)
    np.testing.assert_allclose(K.avg_pool2d_forward(x, 3, 3, 2, 2, 1, 1, 3, 3, False),
                               reference.avg_pool2d_forward(x, 3, 3, 2, 2, 1, 1, 3, 3, False),
                               rtol=1e-5)
    grad = rng.standard_normal((2, 3, 3, 3)).astype(np.float32)
    np.testing.assert_allclose(K.avg_pool2d_backward(grad, 6, 5, 3, 3, 2, 2, 1, 1, True),
                               reference.avg_pool2d_backward(grad, 6, 5, 3, 3, 2, 2, 1, 1, True),
                               rtol=1e-5)
    flat = x.reshape(2, 3, -1)
    mean, var = K.batch_norm_stats(flat)
    np.testing.assert_allclose(mean, reference.batch_norm_stats(flat)[0], rtol=1e-5, atol=1e-6)
    invstd = (1 / np.sqrt(var + 1e-5)).astype(np.float32)
    weight, bias = np.ones(3, np.float32) * 2, np.ones(3, np.float32)
    np.testing.assert_allclose(K.batch_norm_forward(flat, mean, invstd, weight, bias),
                               reference.batch_norm_forward(flat, mean, invstd, weight, bias),
                               rtol=1e-5, atol=1e-6)
    grad_y = rng.standard_normal(flat.shape).astype(np.float32)
    for ours, ref in zip(K.batch_norm_backward(grad_y, flat, mean, invstd, weight),
                         reference.batch_norm_backward(grad_y, flat, mean, invstd, weight)):
        np.testing.assert_allclose(ours, ref, rtol=1e-5, atol=1e-5)
    assert np.array_equal(K.dropout_mask(500, 0.5, 99), reference.dropout_mask(500, 0.5, 99))
    print("all project kernels match the reference")


def racy() -> None:
    path = Path(__file__).parent / "racy_col2im.cu"
    source = f'#line 1 "{path}"\n' + path.read_text()  # reports name the .cu file
    col = np.random.default_rng(0).standard_normal((1, 1, 3, 3, 4, 4)).astype(np.float32)
    x = np.zeros((1, 1, 4, 4), np.float32)
    ints = [np.int64(v) for v in (1, 1, 4, 4, 3, 3, 1, 1, 1, 1, 1, 1, 4, 4)]
    emulator.RawKernel(source, "racy_col2im")((1,), (64,), [col, x, *ints], order=ORDER)
    print("racy col2im finished")


def overflow() -> None:
    source = gpu.source("conv", np.float32).replace("index < total;", "index <= total;")
    x = np.random.default_rng(0).standard_normal((1, 2, 8, 8)).astype(np.float32)
    col = np.empty((1, 2, 3, 3, 8, 8), np.float32)
    ints = [np.int64(v) for v in (1, 2, 8, 8, 3, 3, 1, 1, 1, 1, 1, 1, 8, 8, 0)]
    emulator.RawModule(source).get_function("im2col")((2,), (64,), [x, col, *ints],
                                                      order="forward")
    print("overflowing im2col finished")


if __name__ == "__main__":
    {"project": project, "racy": racy, "overflow": overflow}[sys.argv[1]]()
