"""Stride, padding and pooling: the output-size formula, 1x1 convs, max/average/global pooling.

Every conv and pool layer maps a size to a new size with one formula,
out = (size + 2*padding - dilation*(kernel - 1) - 1) // stride + 1. We build a shape calculator
on it and check it against the layers, use 1x1 convolutions to cut channels (a per-pixel
linear layer), and compare max, average and global pooling on real images, including where
each sends its gradient.

Run: python lessons/04_stride_padding_pooling.py [--smoke] [--data-dir DIR] [--out DIR]
"""

# %% [markdown]
# # 04 Stride, padding, pooling

# %%
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
lesson = lesson_setup("04_stride_padding_pooling", __doc__, smoke=SMOKE, epochs=EPOCHS,
                      seed=SEED)

# %% [markdown]
# ## 1. The output-size formula, as a shape calculator
#
# `out = (size + 2p - d(k - 1) - 1) // s + 1`. With k = 3, p = 1, s = 1 the size is kept
# ("same"); stride 2 halves it (rounding down); a 2x2 pool with stride 2 halves it too.


# %%
def out_size(size, kernel, stride=1, padding=0, dilation=1):
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


configs = [  # (input size, kernel, stride, padding, dilation)
    (28, 5, 1, 0, 1), (28, 3, 1, 1, 1), (28, 3, 2, 1, 1), (32, 5, 1, 2, 1), (224, 7, 2, 3, 1),
    (224, 11, 4, 2, 1), (13, 3, 1, 1, 2), (7, 3, 2, 0, 1),
]
print(f"{'size':>5} {'k':>3} {'s':>3} {'p':>3} {'d':>3} | {'formula':>8} {'F.conv2d':>9}")
for size, k, s, p, d in configs:
    predicted = out_size(size, k, s, p, d)
    actual = F.conv2d(mt.zeros(1, 1, size, size), mt.zeros(1, 1, k, k), stride=s, padding=p,
                      dilation=d).shape[-1]
    print(f"{size:>5} {k:>3} {s:>3} {p:>3} {d:>3} | {predicted:>8} {actual:>9}")
    assert predicted == actual

# %% [markdown]
# A shape trace of a small network, computed by the formula and checked by running it.

# %%
net = nn.Sequential(
    nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(16, 32, 3, stride=2, padding=1), nn.ReLU(),
    nn.Conv2d(32, 10, 1), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
)
x = mt.zeros(1, 1, 28, 28)
size = 28
print(f"\n{'layer':45s} {'formula':>8} {'actual shape':>18}")
for layer in net:
    x = layer(x)
    if isinstance(layer, nn.Conv2d):
        size = out_size(size, layer.kernel_size[0], layer.stride[0], layer.padding[0])
    elif isinstance(layer, nn.MaxPool2d):
        size = out_size(size, layer.kernel_size, layer.stride)
    elif isinstance(layer, nn.AdaptiveAvgPool2d):
        size = 1
    text = f"{size}x{size}" if x.ndim == 4 else "-"
    name = type(layer).__name__
    if isinstance(layer, nn.Conv2d):
        name += (f"({layer.in_channels}->{layer.out_channels}, k={layer.kernel_size[0]}, "
                 f"s={layer.stride[0]}, p={layer.padding[0]})")
    elif isinstance(layer, nn.MaxPool2d):
        name += f"(k={layer.kernel_size}, s={layer.stride})"
    print(f"{name:45s} {text:>8} {str(tuple(x.shape)):>18}")
    if x.ndim == 4:
        assert x.shape[-1] == size

viz.plot_im2col(lesson.figure("stride2_padding1_windows"), H=5, W=5, kernel_size=3, stride=2,
                padding=1)
print("\nwith stride 2 and padding 1, windows overlap less: col2im counts per pixel")
print(viz.overlap_counts(5, 5, 3, stride=2, padding=1).astype(int))

# %% [markdown]
# ## 2. 1x1 convolutions: a linear layer applied at every pixel
#
# A 1x1 conv mixes channels and leaves space alone: 256 -> 64 channels costs 256*64 weights,
# and it is exactly `Linear(256, 64)` applied to the channel vector of each pixel. Placed
# before a 3x3 conv (a "bottleneck"), it cuts the multiplications.

# %%
reduce = nn.Conv2d(256, 64, kernel_size=1)
linear = nn.Linear(256, 64)
with mt.no_grad():
    linear.weight.copy_(reduce.weight.reshape(64, 256))
    linear.bias.copy_(reduce.bias)
features = mt.randn(2, 256, 7, 7)
by_conv = reduce(features)
by_linear = linear(features.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)  # channels last, back
gap = np.abs(by_conv.detach().numpy() - by_linear.detach().numpy()).max()
print(f"1x1 conv vs Linear per pixel: max difference {gap:.1e}; "
      f"{reduce.weight.numel():,} weights")
assert gap < 1e-4
H = W = 28
direct = H * W * 256 * 256 * 9
bottleneck = H * W * (256 * 64 + 64 * 64 * 9 + 64 * 256)
print(f"3x3 conv 256->256 on 28x28: {direct:,} multiplications")
print(f"1x1 256->64, 3x3 64->64, 1x1 64->256: {bottleneck:,} ({direct / bottleneck:.1f}x fewer)")

# %% [markdown]
# ## 3. Max, average and global pooling
#
# Pooling summarises each window with one number and has no parameters. Max keeps the
# strongest response (a feature is present somewhere in the window); average smooths; global
# average pooling keeps one number per channel, whatever the image size, which is what lets a
# network end without a huge dense layer.

# %%
images, labels, classes = lesson.load("fashion-mnist", limit=lesson.pick(64, 8))
image = mt.tensor(images[:1])
pools = {
    "max 2x2": F.max_pool2d(image, 2),
    "avg 2x2": F.avg_pool2d(image, 2),
    "max 4x4": F.max_pool2d(image, 4),
    "avg 4x4": F.avg_pool2d(image, 4),
}
fig, axes = plt.subplots(1, len(pools) + 1, figsize=(3 * (len(pools) + 1), 3.3))
axes[0].imshow(images[0, 0], cmap="gray")
axes[0].set_title(f"input 28x28 ({classes[labels[0]]})", fontsize=9)
for ax, (name, pooled) in zip(axes[1:], pools.items()):
    ax.imshow(pooled.numpy()[0, 0], cmap="gray")
    ax.set_title(f"{name}: {pooled.shape[-2]}x{pooled.shape[-1]}", fontsize=9)
for ax in axes:
    ax.axis("off")
fig.suptitle("max pooling keeps the brightest pixel of each window, average pooling blurs")
fig.tight_layout()
viz.save_figure(fig, lesson.figure("max_vs_average_pooling"))

global_avg = nn.AdaptiveAvgPool2d(1)
for side in (28, 56, 100):
    print(f"global average pool of a 16x{side}x{side} map -> "
          f"{tuple(global_avg(mt.randn(1, 16, side, side)).shape)}")

# %% [markdown]
# ### Small shifts, and where the gradient goes
#
# Shift the image by one pixel: the 2x2 max-pooled maps change less than the raw pixels
# (within a window the maximum often stays the same). In the backward pass max pooling sends
# each window's gradient to its maximum only; average pooling spreads it evenly.

# %%
shifted = np.roll(images, 1, axis=3)
raw_change = np.abs(shifted - images).mean()
pooled = F.max_pool2d(mt.tensor(images), 2).numpy()
pooled_shifted = F.max_pool2d(mt.tensor(shifted), 2).numpy()
pooled_change = np.abs(pooled_shifted - pooled).mean()
same = (pooled_shifted == pooled).mean()
print(f"1-pixel shift: mean |change| of pixels {raw_change:.3f}, of 2x2 max-pooled maps "
      f"{pooled_change:.3f}; {same:.0%} of pooled values unchanged")

patch = mt.tensor([[[[1.0, 3.0, 0.0, 2.0], [4.0, 2.0, 1.0, 1.0], [0.0, 1.0, 5.0, 0.0],
                     [2.0, 2.0, 1.0, 3.0]]]], requires_grad=True)
F.max_pool2d(patch, 2).sum().backward()
max_grad = patch.grad.numpy()[0, 0]
patch.grad = None
F.avg_pool2d(patch, 2).sum().backward()
avg_grad = patch.grad.numpy()[0, 0]
print("gradient of sum(max_pool2d(x, 2)):\n", max_grad)
print("gradient of sum(avg_pool2d(x, 2)):\n", avg_grad)
assert max_grad.sum() == 4 and np.allclose(avg_grad, 0.25)
fig, axes = plt.subplots(1, 3, figsize=(9, 3.2))
for ax, data, title in zip(axes, [patch.detach().numpy()[0, 0], max_grad, avg_grad],
                           ["input x (4x4)", "d sum(maxpool) / dx", "d sum(avgpool) / dx"]):
    ax.imshow(data, cmap="Blues")
    for r in range(4):
        for c in range(4):
            ax.text(c, r, f"{data[r, c]:g}", ha="center", va="center",
                    color=viz.text_colour(data[r, c], data.min(), data.max(), "Blues"))
    ax.axhline(1.5, color="k")
    ax.axvline(1.5, color="k")
    ax.set_title(title, fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])
fig.suptitle("2x2 windows: max pooling routes the gradient to each window's maximum")
fig.tight_layout()
viz.save_figure(fig, lesson.figure("pooling_gradients"))

# %%
lesson.finish()

# %% [markdown]
# ## Build it yourself
#
# The workbench checks your own version of what this lesson used, stage by stage
# (worked examples, property tests with the smallest failing case, gradcheck,
# PyTorch, then your code plugged into a network). Exercises for this lesson:
# `max_pool`, `avg_pool`, `conv1x1`, `numba_max_pool`.
#
# In a terminal: `minitorch-cv exercise start NAME` writes the template,
# `minitorch-cv exercise check NAME` checks it, `minitorch-cv exercise hint NAME`
# gives the next hint. From a notebook: `from minitorch_cv import exercises`, then
# `exercises.start(NAME)` and `exercises.check(NAME, your_function)`. See
# `docs/exercises/index.md`.
