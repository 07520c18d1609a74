"""Kernel benchmark: our ops vs PyTorch CPU (same thread count) vs a naive NumPy im2col.

Convolution: "ours" is the default (``backends.conv.algorithm = "auto"``, the algorithm named
in the "auto" column); the columns "im2col", "winograd" and "direct" time each algorithm forced
(``-`` where it does not apply). At the end, the chooser's choice for every conv layer of
ResNet-20 and LeNet-5 (batch 128). ``--quick`` runs tiny shapes once, to check the script.

Run (the OPENBLAS_* overrides some shells set would pin OpenBLAS to a slow kernel)::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_kernels.py

Prints the machine, BLAS and commit, then for each shape: forward+backward time (median of
several runs after a warm-up), GFLOP/s and the ratio to torch (ours / torch: < 1 is faster).
Float32 throughout. The naive NumPy baseline is the textbook im2col: one strided slice per
kernel tap into a 6-D column array, ``tensordot`` for the GEMMs, and a tap-by-tap ``+=`` col2im.

The "BLAS floor" is the time of the three GEMMs of im2col convolution alone (forward, grad
weight, grad columns), on ready-made matrices, with the BLAS NumPy uses: whole batch or one
sample at a time, whichever is faster. No im2col + BLAS design (ours or the naive one) can run a
shape faster than its floor, so ``floor / torch`` is the best ratio this design can reach on the
machine, and ``naive / floor`` the most it can gain over the naive baseline.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# minitorch_cv first: it sets OMP_WAIT_POLICY=PASSIVE and OPENBLAS_THREAD_TIMEOUT=16 unless they
# are set (minitorch_cv/_early.py), and both are read once, when NumPy loads OpenBLAS and torch
# loads libgomp. Without them idle workers spin and hold the cores the other library wants: a
# LeNet step measured 57 ms instead of 16 ms at 2 threads with torch imported first, and our
# conv2d 2x slower right after a NumPy GEMM (the naive baseline's). torch runs under the same
# settings (PASSIVE slows it a little; it does not use OpenBLAS).
import minitorch_cv as mt  # noqa: I001  (before numpy and torch, on purpose)
import minitorch_cv.functional as F

import numba  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

# (N, C_in, H, W, C_out, k, stride, pad), from issue 4
CONV_SHAPES = [(128, 1, 28, 28, 6, 5, 1, 2), (128, 6, 14, 14, 16, 5, 1, 0),
               (128, 16, 32, 32, 16, 3, 1, 1), (128, 64, 8, 8, 64, 3, 1, 1),
               (32, 64, 56, 56, 64, 3, 1, 1), (128, 16, 32, 32, 32, 3, 2, 1)]
POOL_BN_SHAPE = (128, 16, 32, 32)


QUICK = False  # --quick: one run of each, tiny shapes (checks that the script works)


def time_interleaved(fns, min_runs: int = 6, budget: float = 6.0, streak: int = 3) -> list[float]:
    """Median wall time of each function. The functions take turns (ours, torch, naive, ours,
    ...) so that load from other processes falls on all of them alike, and each turn is a
    streak of ``streak`` timed runs after an untimed one, as training steps follow each other.
    Why streaks: what ran just before changes a run's time by up to 2x here, more than the
    kernels differ (a virtual machine's idle core is slow to come back: a conv2d after 0.2 s
    of idling took twice as long, ours and torch's alike; and our conv2d right after torch's
    and the naive baseline's took 7 ms instead of 4)."""
    if QUICK:
        min_runs, budget, streak = 1, 0.0, 1
    times: list[list[float]] = [[] for _ in fns]
    start = time.perf_counter()
    while len(times[0]) < min_runs or (time.perf_counter() - start < budget
                                       and len(times[0]) < 15):
        for fn, bucket in zip(fns, times):
            fn()
            for _ in range(streak):
                t0 = time.perf_counter()
                fn()
                bucket.append(time.perf_counter() - t0)
    return [statistics.median(bucket) for bucket in times]


# ----------------------------------------------------------------------------- naive NumPy
def naive_conv_fwd_bwd(x, w, b, stride, pad, g):
    N, C, H, W = x.shape
    C_out, _, kh, kw = w.shape
    out_h = (H + 2 * pad - kh) // stride + 1
    out_w = (W + 2 * pad - kw) // stride + 1
    img = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    col = np.zeros((N, C, kh, kw, out_h, out_w), dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            col[:, :, i, j] = img[:, :, i:i + stride * out_h:stride, j:j + stride * out_w:stride]
    y = np.tensordot(col, w, ((1, 2, 3), (1, 2, 3)))  # (N, out_h, out_w, C_out)
    y = y.transpose(0, 3, 1, 2) + b.reshape(1, -1, 1, 1)
    grad_w = np.tensordot(g, col, ((0, 2, 3), (0, 4, 5)))
    grad_b = g.sum(axis=(0, 2, 3))
    grad_col = np.tensordot(w, g, (0, 1))  # (C, kh, kw, N, out_h, out_w)
    grad_col = np.rollaxis(grad_col, 3)
    grad_img = np.zeros_like(img)
    for i in range(kh):
        for j in range(kw):
            grad_img[:, :, i:i + stride * out_h:stride, j:j + stride * out_w:stride] += (
                grad_col[:, :, i, j])
    return y, grad_w, grad_b, grad_img[:, :, pad:pad + H, pad:pad + W]


# ----------------------------------------------------------------------------- cases
def conv_case(shape, rng):
    N, C, H, W, C_out, k, stride, pad = shape
    x = rng.standard_normal((N, C, H, W)).astype(np.float32)
    w = (rng.standard_normal((C_out, C, k, k)) * 0.1).astype(np.float32)
    b = rng.standard_normal(C_out).astype(np.float32)
    out_h, out_w = (H + 2 * pad - k) // stride + 1, (W + 2 * pad - k) // stride + 1
    g = rng.standard_normal((N, C_out, out_h, out_w)).astype(np.float32)
    flops = 3 * 2 * N * C_out * out_h * out_w * C * k * k  # forward, grad_x, grad_w GEMMs

    xm, wm, bm = (mt.Tensor(a, requires_grad=True) for a in (x, w, b))
    gm = mt.Tensor(g)

    def ours():
        xm.grad = wm.grad = bm.grad = None
        F.conv2d(xm, wm, bm, stride=stride, padding=pad).backward(gm)

    xt, wt, bt = (torch.from_numpy(a).requires_grad_(True) for a in (x, w, b))
    gt = torch.from_numpy(g)

    def theirs():
        xt.grad = wt.grad = bt.grad = None
        torch.nn.functional.conv2d(xt, wt, bt, stride=stride, padding=pad).backward(gt)

    def naive():
        naive_conv_fwd_bwd(x, w, b, stride, pad, g)

    def forced(algorithm):
        def run():
            with mt.backends.conv.flags(algorithm=algorithm):
                ours()
        return run

    applicable = [a for a in mt.backends.conv.ALGORITHMS
                  if mt.backends.conv.applies(a, conv_shape(shape))]
    algorithms = {a: forced(a) for a in applicable}
    name = f"conv {N}x{C}x{H}x{W} -> {C_out} k{k} s{stride} p{pad}"
    return (name, flops, ours, theirs, naive,
            blas_floor(N, C * k * k, out_h * out_w, C_out, rng), algorithms)


def conv_shape(shape):
    """The chooser's key of a lecture shape (float32, CPU)."""
    N, C, H, W, C_out, k, stride, pad = shape
    return mt.backends.conv.ConvShape("cpu", "float32", N, C, H, W, C_out, k, k, stride, stride,
                                      pad, pad, 1, 1, 1)


def blas_floor(N, K, L, C_out, rng):
    """The three GEMMs of an im2col convolution alone, on random matrices of its shapes:
    out = w @ col, grad_w = g @ col^T, grad_col = w^T @ g (col is K x N*L). Returns the faster
    of a whole-batch call and one call per sample (cache-sized blocks, as ours uses)."""
    col = rng.standard_normal((K, N * L)).astype(np.float32)
    w = rng.standard_normal((C_out, K)).astype(np.float32)
    w_t = np.ascontiguousarray(w.T)
    g = rng.standard_normal((C_out, N * L)).astype(np.float32)
    col_s, g_s = np.ascontiguousarray(col[:, :L]), np.ascontiguousarray(g[:, :L])

    def whole():
        w @ col, col @ g.T, w_t @ g

    def per_sample():
        for _ in range(N):  # same matrices each time: an optimistic floor (cache-warm)
            w @ col_s, col_s @ g_s.T, w_t @ g_s

    return min(time_interleaved([whole], min_runs=3, budget=1.0, streak=1)[0],
               time_interleaved([per_sample], min_runs=3, budget=1.0, streak=1)[0])


def pool_case(rng):
    x = rng.standard_normal(POOL_BN_SHAPE).astype(np.float32)
    g = rng.standard_normal((128, 16, 16, 16)).astype(np.float32)
    xm, gm = mt.Tensor(x, requires_grad=True), mt.Tensor(g)
    xt, gt = torch.from_numpy(x).requires_grad_(True), torch.from_numpy(g)

    def ours():
        xm.grad = None
        F.max_pool2d(xm, 2, 2).backward(gm)

    def theirs():
        xt.grad = None
        torch.nn.functional.max_pool2d(xt, 2, 2).backward(gt)

    return "max_pool2d 2x2/2 (128,16,32,32)", x.size * 1.0, ours, theirs, None, None, {}


def bn_case(rng):
    x = rng.standard_normal(POOL_BN_SHAPE).astype(np.float32)
    g = rng.standard_normal(POOL_BN_SHAPE).astype(np.float32)
    w, b = np.ones(16, np.float32), np.zeros(16, np.float32)
    xm, wm, bm, gm = (mt.Tensor(x, requires_grad=True), mt.Tensor(w, requires_grad=True),
                      mt.Tensor(b, requires_grad=True), mt.Tensor(g))
    rm, rv = mt.zeros(16), mt.ones(16)
    xt, wt, bt = (torch.from_numpy(a.copy()).requires_grad_(True) for a in (x, w, b))
    trm, trv, gt = torch.zeros(16), torch.ones(16), torch.from_numpy(g)

    def ours():
        xm.grad = wm.grad = bm.grad = None
        F.batch_norm(xm, rm, rv, wm, bm, training=True).backward(gm)

    def theirs():
        xt.grad = wt.grad = bt.grad = None
        torch.nn.functional.batch_norm(xt, trm, trv, wt, bt, training=True).backward(gt)

    return "batch_norm train (128,16,32,32)", x.size * 1.0, ours, theirs, None, None, {}


# ----------------------------------------------------------------------------- report
def vector_extension() -> str:
    """"AVX-512", "AVX2" or what else the CPU offers (the targets differ between them)."""
    try:
        with open("/proc/cpuinfo") as f:
            flags = next((line.split(":", 1)[1].split() for line in f
                          if line.startswith("flags")), [])
    except OSError:
        return "vector extensions unknown"
    if "avx512f" in flags:
        return "AVX-512"
    return "AVX2" if "avx2" in flags else "no AVX2"


def chooser_table(batch: int = 128) -> list[str]:
    """The algorithm ``auto`` picks for every conv layer of ResNet-20 and LeNet-5."""
    from minitorch_cv import models

    lines = []
    for model_name, model, size in (("ResNet-20", models.resnet20(), (batch, 3, 32, 32)),
                                    ("LeNet-5", models.lenet5(), (batch, 1, 28, 28))):
        table = mt.summary(model, size)
        lines.append(f"chooser ({mt.backends.conv.algorithm}"
                     f"{', benchmark' if mt.backends.conv.benchmark else ''}), {model_name}, "
                     f"input {list(size)}:")
        for r in table.layers:
            if r.kind == "Conv2d":
                lines.append(f"  {r.name:28s} {str(list(r.input_shape)):20s} -> "
                             f"{str(list(r.output_shape)):20s} {r.algorithm}")
    return lines


def header(threads: int) -> list[str]:
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, cwd=os.path.dirname(__file__)).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "minitorch_cv/kernels",
                                "minitorch_cv/ops", "benchmarks"], capture_output=True,
                               text=True, cwd=os.path.dirname(__file__)).stdout.strip()
    except OSError:
        commit, dirty = "unknown", ""
    cpu = platform.processor() or "?"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if "model name" in line)
    except (OSError, StopIteration):
        pass
    lines = [f"machine: {platform.machine()} {cpu} ({vector_extension()}), {os.cpu_count()} "
             f"logical cores, {platform.system()} {platform.release()}",
             f"python {platform.python_version()}, numpy {np.__version__}, numba "
             f"{numba.__version__}, torch {torch.__version__}",
             f"threads: numba {numba.get_num_threads()}, torch {torch.get_num_threads()}; "
             f"load average at start {os.getloadavg()[0]:.1f} (other processes share the cores: "
             "compare ratios, not absolute times)",
             f"commit: {commit}{' (+ uncommitted changes)' if dirty else ''}"]
    try:
        from threadpoolctl import threadpool_info

        for info in threadpool_info():
            library = os.path.basename(info["filepath"])
            lines.append(f"BLAS/OpenMP: {info.get('user_api')} {info.get('internal_api')} "
                         f"{info.get('version')} {info.get('architecture', '')} "
                         f"{info.get('num_threads')} threads ({library})")
    except ImportError:
        lines.append("BLAS: threadpoolctl not installed")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=numba.config.NUMBA_NUM_THREADS,
                        help="threads for numba, torch and BLAS alike (default: all cores); "
                             "1 gives steadier ratios on a machine shared with other jobs")
    parser.add_argument("--quick", action="store_true",
                        help="tiny shapes, one run each: checks the script, measures nothing")
    args = parser.parse_args()
    global QUICK, CONV_SHAPES
    if args.quick:
        QUICK = True
        CONV_SHAPES = [(2, *shape[1:]) for shape in CONV_SHAPES]
    threads = args.threads
    numba.set_num_threads(threads)
    torch.set_num_threads(threads)
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(threads, user_api="blas")
    except ImportError:
        pass
    print("\n".join(header(threads)))
    print("float32, forward + backward, median wall time of interleaved runs; "
          "ratio = ours / torch (lower is better)")
    rng = np.random.default_rng(0)
    cases = [conv_case(s, rng) for s in CONV_SHAPES] + [pool_case(rng), bn_case(rng)]
    algorithms = mt.backends.conv.ALGORITHMS
    title = (f"{'case':44s} {'ours ms':>9s} {'auto':>8s} "
             + " ".join(f"{a + ' ms':>11s}" for a in algorithms)
             + f" {'torch ms':>9s} {'naive ms':>9s} {'ours GF/s':>9s} {'torch GF/s':>10s} "
             f"{'vs torch':>8s} {'best/torch':>10s} {'naive/ours':>10s} {'floor ms':>9s} "
             f"{'floor/torch':>11s} {'naive/floor':>11s}")
    print(title)
    print("-" * len(title))
    conv_ratios, best_ratios, floor_ratios = [], [], []
    for (name, flops, ours, theirs, naive, floor, forced), shape in zip(
            cases, CONV_SHAPES + [None, None]):
        extra = list(forced.values())
        if naive:
            t_ours, t_torch, t_naive, *t_forced = time_interleaved([ours, theirs, naive, *extra])
        else:
            (t_ours, t_torch), t_naive = time_interleaved([ours, theirs]), float("nan")
            t_forced = []
        by_algorithm = dict(zip(forced, t_forced))
        is_conv = name.startswith("conv")

        def rate(t, flops=flops, is_conv=is_conv):
            return f"{flops / t / 1e9:9.1f}" if is_conv else f"{'-':>9s}"

        ratio = t_ours / t_torch
        auto = mt.backends.conv.default_rule(conv_shape(shape)) if is_conv else "-"
        columns = " ".join(f"{by_algorithm[a] * 1e3:11.2f}" if a in by_algorithm else f"{'-':>11s}"
                           for a in algorithms)
        line = (f"{name:44s} {t_ours * 1e3:9.2f} {auto:>8s} {columns} {t_torch * 1e3:9.2f} "
                f"{t_naive * 1e3:9.2f} {rate(t_ours)} {rate(t_torch):>10s} {ratio:8.2f} ")
        if is_conv:
            best = min(by_algorithm.values()) / t_torch
            conv_ratios.append(ratio)
            best_ratios.append(best)
            floor_ratios.append(floor / t_torch)
            line += (f"{best:10.2f} {t_naive / t_ours:10.2f} {floor * 1e3:9.2f} "
                     f"{floor / t_torch:11.2f} {t_naive / floor:11.2f}")
        else:
            line += f"{'-':>10s}"
        print(line)

    def geomean(values):
        return float(np.exp(np.mean(np.log(values))))

    print(f"conv geometric mean ours/torch: {geomean(conv_ratios):.2f} (targets, 2 threads: "
          "<= 1.0 on AVX2, <= 1.25 on AVX-512; each shape <= 1.5)")
    print(f"conv geometric mean best algorithm/torch: {geomean(best_ratios):.2f} (what a "
          "perfect chooser would reach)")
    print(f"conv geometric mean BLAS floor/torch: {geomean(floor_ratios):.2f} (the best any "
          "im2col + this BLAS can reach)")
    print("\n".join(chooser_table(2 if QUICK else 128)))
    print(f"load average at end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
