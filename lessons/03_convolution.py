"""Convolution: why dense layers do not scale to images, what a filter computes, and how fast.

A dense layer on raw pixels needs a weight per (input pixel, output unit) pair: the curse of
dimensionality. A convolution slides one small filter over the image instead, computing a dot
product at each position. We check the slide's arithmetic, count a filter's parameters, look at
activation maps of hand-made filters on real images, and time four implementations of the same
convolution: naive loops, im2col + GEMM in NumPy, our Numba kernels, and the simulated GPU.

Run: python lessons/03_convolution.py [--smoke] [--data-dir DIR] [--out DIR]
"""

# %% [markdown]
# # 03 Convolution

# %%
import time

# _common first: it loads minitorch_cv, whose thread settings must precede NumPy
from _common import lesson_setup

# isort: split
import matplotlib.pyplot as plt
import numpy as np

import minitorch_cv as mt
import minitorch_cv.functional as F
from minitorch_cv import nn, viz

# %% tags=["parameters"]
# Settings: a notebook runs with these; on the command line, --smoke, --epochs N and
# --seed N override them.
SMOKE = False  # True: tiny data and a few steps; checks that the lesson runs, not a result
EPOCHS = None  # None: the lesson's own default length of training
SEED = 0

# %%
lesson = lesson_setup("03_convolution", __doc__, smoke=SMOKE, epochs=EPOCHS,
                      seed=SEED)

# %% [markdown]
# ## 1. The curse of dimensionality
#
# Flatten a 28x28 image and you have 784 features; a dense layer with as many outputs as
# inputs needs 784^2 = 614,656 weights. The count grows with the fourth power of the side.
# A 3x3 convolution has 9 weights (+1 bias) per filter, whatever the image size.

# %%
print(f"{'image':>9} {'features':>10} {'dense weights':>16} {'float32 memory':>15} "
      f"{'3x3 conv, 1 filter':>19}")
table = []
for side in (28, 32, 64, 100, 224, 400):
    features = side * side
    weights = features * features
    table.append((side, features, weights))
    print(f"{side:>4}x{side:<4} {features:>10,} {weights:>16,} {weights * 4 / 1e9:>12.3f} GB "
          f"{10:>19}")
assert table[0][1:] == (784, 614_656)
assert table[-1][2] == 160_000**2

# %% [markdown]
# ## 2. A filter is a dot product at every position
#
# The slide: the 2x2 patch [[1, 10], [2, 20]] times the filter [[1, 2], [2, 0]], element by
# element and summed: 1*1 + 10*2 + 2*2 + 20*0 = 25. `F.conv2d` on that patch gives the same.

# %%
patch = mt.tensor([[[[1.0, 10.0], [2.0, 20.0]]]])   # (N=1, C=1, 2, 2)
kernel = mt.tensor([[[[1.0, 2.0], [2.0, 0.0]]]])    # (C_out=1, C_in=1, 2, 2)
by_hand = (patch * kernel).sum().item()
by_conv = F.conv2d(patch, kernel).item()
print(f"sum(patch * filter) = {by_hand:g};  F.conv2d(patch, filter) = {by_conv:g}")
assert by_hand == by_conv == 25

# %% [markdown]
# ## 2b. Learning a kernel from examples (d2l's edge detector)
#
# A filter need not be designed: given an image and the output a known kernel produces, plain
# gradient descent on the squared error finds the kernel. The image is black with a white
# band; the target is its vertical-edge map under [[1, -1]]. We start from a random 1x2 kernel.

# %%
canvas = np.ones((1, 1, 6, 8), dtype=np.float32)
canvas[:, :, :, 2:6] = 0.0                                   # a dark band: two vertical edges
true_kernel = mt.tensor([[[[1.0, -1.0]]]])                   # (C_out, C_in, 1, 2)
target = F.conv2d(mt.tensor(canvas), true_kernel)            # (1, 1, 6, 7): +1 / -1 at edges
mt.manual_seed(lesson.seed)
learned = nn.Conv2d(1, 1, kernel_size=(1, 2), bias=False)
for step in range(20):
    loss = ((learned(mt.tensor(canvas)) - target) ** 2).sum()
    learned.zero_grad()
    loss.backward()
    with mt.no_grad():
        learned.weight -= 0.03 * learned.weight.grad          # plain gradient descent
    if (step + 1) % 5 == 0:
        print(f"step {step + 1:2d}: squared error {loss.item():.5f}")
found = learned.weight.detach().numpy().ravel()
print(f"learned kernel {np.round(found, 3)} (the one that made the targets: [1, -1])")
assert np.allclose(found, [1.0, -1.0], atol=0.05), found

# %% [markdown]
# ## 3. A 5x5 filter on a colour image has 5*5*3 = 75 weights
#
# A filter spans all input channels; a layer of 6 such filters has 6 * (75 + 1) = 456
# parameters, and its output has 6 channels: one activation map per filter.

# %%
one_filter = nn.Conv2d(3, 1, kernel_size=5, bias=False)
layer = nn.Conv2d(3, 6, kernel_size=5)
print(f"one 5x5x3 filter: weight shape {one_filter.weight.shape}, "
      f"{one_filter.weight.numel()} parameters")
n_layer = sum(p.numel() for p in layer.parameters())
print(f"Conv2d(3, 6, 5): {n_layer} parameters (6 filters x 75 weights + 6 biases)")
print(f"on a 32x32x3 image it gives {tuple(layer(mt.randn(1, 3, 32, 32)).shape)}: "
      "6 activation maps of 28x28")
assert one_filter.weight.numel() == 75 and n_layer == 456

# %% [markdown]
# ## 4. Activation maps of hand-made filters
#
# Edge detectors and a blur, written by hand, applied to real images: each output channel is
# high where the image looks like its filter.

# %%
images, labels, classes = lesson.load("fashion-mnist", limit=lesson.pick(64, 8))
filters = {
    "vertical edge": [[1, 0, -1], [2, 0, -2], [1, 0, -1]],
    "horizontal edge": [[1, 2, 1], [0, 0, 0], [-1, -2, -1]],
    "diagonal edge": [[0, 1, 2], [-1, 0, 1], [-2, -1, 0]],
    "blur": [[1 / 9] * 3] * 3,
    "sharpen": [[0, -1, 0], [-1, 5, -1], [0, -1, 0]],
    "Laplacian": [[0, 1, 0], [1, -4, 1], [0, 1, 0]],
}
edges = nn.Conv2d(1, len(filters), kernel_size=3, padding=1, bias=False)
with mt.no_grad():
    edges.weight.copy_(mt.tensor(np.array(list(filters.values()), dtype=np.float32)[:, None]))
x = mt.tensor(images[:1])
print(f"activation maps of {classes[labels[0]]!r}: filters in order:", ", ".join(filters))
viz.plot_filters(edges, lesson.figure("hand_made_filters"),
                 title="hand-made 3x3 filters (" + ", ".join(filters) + ")")
viz.plot_feature_maps(nn.Sequential(edges), "0", x, lesson.figure("activation_maps"),
                      title="activation maps: " + ", ".join(filters))

# %% [markdown]
# ## 5. How convolution is computed: im2col and one matrix product
#
# Copy every window into a column, multiply by the weights reshaped to a matrix: one GEMM does
# all positions and all filters. In the backward pass, col2im adds the columns back, and each
# pixel receives the sum over every window that covers it.

# %%
viz.plot_im2col(lesson.figure("im2col"), H=5, W=5, kernel_size=3)
counts = viz.overlap_counts(5, 5, 3)
print("col2im overlap counts for a 5x5 input and 3x3 windows (the centre is in 9 windows):")
print(counts.astype(int))

# %% [markdown]
# ## 6. Four implementations, timed side by side
#
# - **naive loops**: one dot product per (image, filter, output pixel), in Python.
# - **im2col + GEMM (NumPy)**: windows gathered with `sliding_window_view`, one `matmul`.
# - **Numba CPU**: `F.conv2d` on device `"cpu"`: our compiled im2col kernel + BLAS.
# - **simulated GPU**: `F.conv2d` on `"cuda-sim"`: the CUDA C kernels compiled for the CPU and
#   run thread by thread: it checks the GPU code, it is not meant to be fast.


# %%
def conv_naive(x, w):
    N, C, H, W = x.shape
    C_out, _, kh, kw = w.shape
    out_h, out_w = H - kh + 1, W - kw + 1
    out = np.zeros((N, C_out, out_h, out_w), dtype=x.dtype)
    for n in range(N):
        for o in range(C_out):
            for i in range(out_h):
                for j in range(out_w):
                    out[n, o, i, j] = np.sum(x[n, :, i:i + kh, j:j + kw] * w[o])
    return out


def conv_im2col_numpy(x, w):
    C_out, C, kh, kw = w.shape
    windows = np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(2, 3))
    # windows: (N, C, out_h, out_w, kh, kw) -> col (N, out_h, out_w, C*kh*kw)
    col = windows.transpose(0, 2, 3, 1, 4, 5).reshape(*windows.shape[:1], *windows.shape[2:4], -1)
    out = col @ w.reshape(C_out, -1).T  # one GEMM: (N, out_h, out_w, C_out)
    return out.transpose(0, 3, 1, 2)


def best_time(fn, repeat):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


N, C, H, W, C_out, k = lesson.pick((16, 3, 32, 32, 16, 5), (1, 3, 8, 8, 2, 3))
rng = np.random.default_rng(0)
x_np = rng.normal(size=(N, C, H, W)).astype(np.float32)
w_np = rng.normal(size=(C_out, C, k, k)).astype(np.float32)
x_cpu, w_cpu = mt.tensor(x_np), mt.tensor(w_np)
x_sim, w_sim = x_cpu.to("cuda-sim"), w_cpu.to("cuda-sim")
F.conv2d(x_cpu, w_cpu)  # compile the Numba kernels once before timing
repeat = lesson.pick(3, 1)
runs = {
    "naive loops": lambda: conv_naive(x_np, w_np),
    "im2col + GEMM (NumPy)": lambda: conv_im2col_numpy(x_np, w_np),
    "Numba CPU (F.conv2d)": lambda: F.conv2d(x_cpu, w_cpu).numpy(),
    "simulated GPU (cuda-sim)": lambda: F.conv2d(x_sim, w_sim).cpu().numpy(),
}
timings = {}
reference = None
print(f"input {N}x{C}x{H}x{W}, {C_out} filters of {k}x{k}: "
      f"{N * C_out * (H - k + 1) * (W - k + 1) * C * k * k:,} multiply-adds")
for name, fn in runs.items():
    seconds, result = best_time(fn, 1 if name == "naive loops" else repeat)
    timings[name] = seconds
    if reference is None:
        reference = result
    error = np.abs(result - reference).max()
    print(f"  {name:26s} {seconds * 1e3:10.2f} ms   max |difference| to naive {error:.1e}")
    assert error < 1e-3, name
fastest = min(timings.values())
print(f"fastest here: {min(timings, key=timings.get)}; naive loops are "
      f"{timings['naive loops'] / fastest:.0f}x slower. NumPy's sliding_window_view + matmul and "
      "our Numba im2col + BLAS are both compiled code, so their order depends on the machine "
      "(cores, BLAS, load); the simulated GPU runs the CUDA kernels thread by thread on the CPU "
      "to check them, and is slow on purpose.")
fig, ax = plt.subplots(figsize=(7, 3.4))
names = list(timings)
ax.barh(names, [timings[n] * 1e3 for n in names],
        color=["tab:gray", "tab:blue", "tab:green", "tab:orange"])
for i, name in enumerate(names):
    ratio = timings[name] / fastest
    ax.text(timings[name] * 1e3, i, f"  {timings[name] * 1e3:.2f} ms "
            f"({ratio:.{0 if ratio >= 10 else 1}f}x)", va="center", fontsize=8)
ax.set_xscale("log")
ax.set_xlabel("time (ms, log scale)")
ax.invert_yaxis()
ax.set_xlim(right=max(timings.values()) * 1e3 * 30)
ax.set_title(f"conv2d of {N}x{C}x{H}x{W} with {C_out} {k}x{k} filters: same result, 4 ways")
viz.save_figure(fig, lesson.figure("conv_timings"))

# %%
lesson.finish()

# %% [markdown]
# ## Build it yourself
#
# The workbench checks your own version of what this lesson used, stage by stage
# (worked examples, property tests with the smallest failing case, gradcheck,
# PyTorch, then your code plugged into a network). Exercises for this lesson:
# `conv_naive`, `im2col`, `col2im`, `conv2d`, `cuda_im2col`.
#
# In a terminal: `minitorch-cv exercise start NAME` writes the template,
# `minitorch-cv exercise check NAME` checks it, `minitorch-cv exercise hint NAME`
# gives the next hint. From a notebook: `from minitorch_cv import exercises`, then
# `exercises.start(NAME)` and `exercises.check(NAME, your_function)`. See
# `docs/exercises/index.md`.
