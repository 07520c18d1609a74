"""Convolution algorithms: direct loops, im2col + GEMM, Winograd, and a chooser like cuDNN's.

One convolution, three ways to compute it. The direct loops are the definition. im2col copies
every window into a column so that one matrix product (BLAS) does all the arithmetic. Winograd
F(2x2, 3x3) (Lavin and Gray, 2015) computes a 2x2 output tile of a 3x3 convolution with 16
multiplications instead of 36. Which is fastest depends on the layer's shape, which is why
cuDNN has several algorithms and `torch.backends.cudnn.benchmark`; minitorch_cv has
`minitorch_cv.backends.conv`.

Run: python lessons/26_conv_algorithms.py [--smoke] [--out DIR]
"""

# %% [markdown]
# # 26 Convolution algorithms

# %%
# _common first: it loads minitorch_cv, whose thread settings must precede NumPy
from _common import lesson_setup

# isort: split
import time

import matplotlib.pyplot as plt
import numpy as np

import minitorch_cv as mt
import minitorch_cv.functional as F
from minitorch_cv import models, viz
from minitorch_cv.kernels import reference
from minitorch_cv.summary import summary

# %% tags=["parameters"]
# Settings: a notebook runs with these; on the command line, --smoke, --epochs N and
# --seed N override them.
SMOKE = False  # True: tiny sizes and few repeats; checks that the lesson runs, not a result
EPOCHS = None  # unused: nothing is trained here
SEED = 0

# %%
lesson = lesson_setup("26_conv_algorithms", __doc__, smoke=SMOKE, epochs=EPOCHS, seed=SEED)
rng = np.random.default_rng(lesson.seed)

# %% [markdown]
# ## 1. Direct loops: the definition
#
# `out[n, co, oh, ow] = sum over c, i, j of weight[co, c, i, j] * x[n, c, oh + i - p, ow + j - p]`:
# `N * C_out * out_h * out_w * C * kh * kw` multiplications.

# %%
x = rng.standard_normal((2, 3, 6, 6))
w = rng.standard_normal((4, 3, 3, 3))
direct = reference.conv2d_direct_forward(x, w, 1, 1, 1, 1, 1, 1, 1, 6, 6)
print(f"direct: output {direct.shape}, {2 * 4 * 6 * 6 * 3 * 3 * 3:,} multiplications")

# %% [markdown]
# ## 2. im2col + one GEMM
#
# The same multiplications, but arranged as one matrix product `weight (C_out, C*kh*kw) @
# columns (C*kh*kw, N*out_h*out_w)` that BLAS runs near the machine's peak. The price: the
# column buffer holds every input pixel `kh*kw` times.

# %%
col = reference.im2col(x, 3, 3, 1, 1, 1, 1, 1, 1, 6, 6)  # (N, C, kh, kw, out_h, out_w)
gemm = np.einsum("ok,nkl->nol", w.reshape(4, -1), col.reshape(2, 27, 36)).reshape(2, 4, 6, 6)
print("im2col + GEMM equals the direct loops:", np.allclose(gemm, direct),
      f"(columns: {col.size:,} values for an input of {x.size:,})")
assert np.allclose(gemm, direct)

# %% [markdown]
# ## 3. Winograd F(2x2, 3x3): 16 multiplications where the definition needs 36
#
# A 2x2 output tile needs a 4x4 input tile `d`. With the fixed matrices `B^T`, `G`, `A^T`:
# `Y = A^T [(G g G^T) * (B^T d B)] A`, where `*` is elementwise: 16 products. The filter
# transform `G g G^T` is done once per filter; `B^T` and `A^T` hold only 0, 1 and -1, so their
# products are additions. Summed over input channels, each of the 16 positions becomes a GEMM.

# %%
BT, G, AT = reference.WINOGRAD_BT, reference.WINOGRAD_G, reference.WINOGRAD_AT
print("B^T =\n", BT, "\nG =\n", G, "\nA^T =\n", AT)
d, g = x[0, 0, :4, :4], w[0, 0]
tile = AT @ ((G @ g @ G.T) * (BT @ d @ BT.T)) @ AT.T  # one channel pair, 16 products
by_definition = np.array([[np.sum(d[r:r + 3, s:s + 3] * g) for s in range(2)] for r in range(2)])
print("one 2x2 tile by Winograd equals the definition:", np.allclose(tile, by_definition))
assert np.allclose(tile, by_definition)
print(f"multiplications per tile and channel pair: definition {4 * 9}, Winograd 16: "
      f"{4 * 9 / 16:.2f}x fewer")

# %% [markdown]
# ## 4. The numerical error of each, against float64
#
# Winograd's transforms add and subtract tile values and halve filter values before the
# products, so float32 rounds differently from a dot product. How much, on a ResNet-sized
# layer (He-initialised filters)?

# %%
x64 = rng.standard_normal((lesson.pick(8, 2), 64, 8, 8))
w64 = rng.standard_normal((64, 64, 3, 3)) * np.sqrt(2 / (9 * 64))
exact = F.conv2d(mt.tensor(x64), mt.tensor(w64), padding=1).numpy()
errors = {}
for algorithm in mt.backends.conv.ALGORITHMS:
    with mt.backends.conv.flags(algorithm=algorithm):
        y32 = F.conv2d(mt.tensor(x64.astype(np.float32)), mt.tensor(w64.astype(np.float32)),
                       padding=1).numpy()
    errors[algorithm] = np.abs(y32 - exact).max() / np.abs(exact).max()
    print(f"{algorithm:9s} float32 error, relative to the largest output: {errors[algorithm]:.1e}")
assert max(errors.values()) < 1e-5  # all far inside the 1e-4 we allow against torch

# %% [markdown]
# ## 5. Measured on this machine: forward + backward per algorithm
#
# Layers of ResNet-20 (3x3) and LeNet-5's first layer (5x5: no Winograd). Times change with
# the machine, the BLAS and the load: read them as a comparison, not as absolute numbers.

# %%
batch = lesson.pick(64, 4)
layers = {"ResNet-20 16ch 32x32": (16, 32, 16, 3), "ResNet-20 32ch 16x16": (32, 16, 32, 3),
          "ResNet-20 64ch 8x8": (64, 8, 64, 3), "LeNet-5 conv1 1ch 28x28": (1, 28, 6, 5)}
times = {}
for name, (C, size, C_out, k) in layers.items():
    xt = mt.randn(batch, C, size, size, requires_grad=True)
    wt = mt.randn(C_out, C, k, k, requires_grad=True)
    for algorithm in mt.backends.conv.ALGORITHMS:
        with mt.backends.conv.flags(algorithm=algorithm):
            best = float("inf")
            for _ in range(lesson.pick(4, 2)):  # the first run compiles or loads the kernels
                start = time.perf_counter()
                y = F.conv2d(xt, wt, padding=k // 2)
                y.backward(mt.ones(*y.shape))
                best = min(best, time.perf_counter() - start)
            ran = y.grad_fn.algorithm.name
        times[name, algorithm] = best if ran == algorithm else float("nan")
    print(f"{name:25s} " + "  ".join(f"{a} {times[name, a] * 1e3:7.1f} ms"
                                     for a in mt.backends.conv.ALGORITHMS))

fig, ax = plt.subplots(figsize=(8, 4))
for i, algorithm in enumerate(mt.backends.conv.ALGORITHMS):
    ax.bar(np.arange(len(layers)) + 0.27 * (i - 1),
           [times[name, algorithm] * 1e3 for name in layers], width=0.27, label=algorithm)
ax.set_xticks(np.arange(len(layers)), list(layers), fontsize=8)
ax.set_yscale("log")  # direct loops are an order of magnitude off on wide layers
ax.set_ylabel("forward + backward, ms (log scale)")
ax.set_title(f"conv2d algorithms, batch {batch} (missing bar: does not apply)")
ax.legend()
fig.tight_layout()
viz.save_figure(fig, lesson.figure("conv_algorithm_times"))
plt.close(fig)

# %% [markdown]
# ### The same arithmetic, another schedule: the cache
#
# On the CPU, im2col and Winograd each run two ways. The block pipeline is the textbook's steps
# called from Python on blocks of samples: build the columns (or Winograd's transformed tiles)
# for a block, multiply, write the output; the buffers are megabytes and leave the L2 cache
# between the steps. The fused kernels run the same steps for a group of one to a few samples
# inside one compiled loop, so every buffer is still in the L2 cache when the next step reads
# it. Same products, same sums: only where the data sits changes, and the time with it.
# (`minitorch_cv.ops.conv_schedule.FUSED_KERNELS` switches between them.)

# %%
from minitorch_cv.ops import conv_schedule  # noqa: E402

xt = mt.randn(batch, 16, 32, 32, requires_grad=True)
wt = mt.randn(16, 16, 3, 3, requires_grad=True)
schedule_times = {}
for algorithm in ("im2col", "winograd"):
    for fused in (False, True):
        conv_schedule.FUSED_KERNELS = fused
        with mt.backends.conv.flags(algorithm=algorithm):
            best = float("inf")
            for _ in range(lesson.pick(4, 2)):
                start = time.perf_counter()
                y = F.conv2d(xt, wt, padding=1)
                y.backward(mt.ones(*y.shape))
                best = min(best, time.perf_counter() - start)
        schedule_times[algorithm, fused] = best
conv_schedule.FUSED_KERNELS = True
for algorithm in ("im2col", "winograd"):
    blocks, fused = schedule_times[algorithm, False], schedule_times[algorithm, True]
    print(f"{algorithm:9s} 16ch 32x32, batch {batch}: block pipeline {blocks * 1e3:6.1f} ms, "
          f"fused {fused * 1e3:6.1f} ms ({blocks / fused:.2f}x)")

# %% [markdown]
# ## 6. The chooser: which algorithm each layer of ResNet-20 gets
#
# `algorithm = "auto"` (the default) decides by a rule on the shape, never by timing, so a run
# is repeatable: Winograd for 3x3 stride-1 layers with at least 16 channels in and out, enough
# work per row of tiles (`min(C, C_out) * out_w >= 512`: with less, its transforms cost what
# it saves) and a call large enough to share out over threads (`N * tiles * min(C, C_out) >=
# 65536`), im2col otherwise (direct loops only when forced: im2col's fused CPU kernels beat them
# even on a first layer with one input channel). `benchmark = True` (like
# `torch.backends.cudnn.benchmark`) times every candidate once per shape and keeps the winner.
# `summary()` names the algorithm per layer.

# %%
resnet = models.resnet20()
size = (lesson.pick(32, 2), 3, 32, 32)
convs = [r for r in summary(resnet, size).layers if r.kind == "Conv2d"]
names, rule = [r.name for r in convs], [r.algorithm for r in convs]
with mt.backends.conv.flags(benchmark=True):
    timed = [r.algorithm for r in summary(resnet, size).layers if r.kind == "Conv2d"]
print(f"{'layer':18s} {'auto (rule)':12s} benchmark=True")
for name, by_rule, by_time in zip(names, rule, timed):
    print(f"{name:18s} {by_rule:12s} {by_time}")
print(f"the rule picks Winograd for {rule.count('winograd')} of {len(rule)} conv layers")
# at batch 32 the 3x3 stride-1 layers of the first two stages (16 channels at 32x32, 32 at
# 16x16); im2col for the stem, the two strided layers and the third stage (64 channels at 8x8:
# 32 * 16 tiles * 64 is half the call the rule asks for). The smoke run's batch of 2 makes every
# call too small: all im2col
assert rule.count("winograd") == lesson.pick(11, 0)

# %%
lesson.finish()
