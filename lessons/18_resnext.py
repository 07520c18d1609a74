"""ResNeXt: split-transform-merge with grouped convolutions ("cardinality").

Xie et al. (2016) replaced the 3x3 convolution of a ResNet bottleneck by 32 parallel paths of
4 channels each, written as one grouped convolution: with g groups, each output channel sees
only C_in/g input channels, so the weights shrink g times. At the same parameter budget the
block can be wider, and ResNeXt-50 (32x4d) beats ResNet-50 with about as many parameters.

Run: python lessons/18_resnext.py [--smoke] [--data-dir DIR] [--epochs N] [--out DIR]
"""

# %% [markdown]
# # 18 ResNeXt

# %%
# _common first: it loads minitorch_cv, whose thread settings must precede NumPy
from _common import curves, lesson_setup, paper_check, train_small_variant

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
lesson = lesson_setup("18_resnext", __doc__, smoke=SMOKE, epochs=EPOCHS,
                      seed=SEED)

# %% [markdown]
# ## 1. A grouped convolution is several small convolutions side by side

# %%
groups, c_in, c_out = 4, 16, 16
grouped = nn.Conv2d(c_in, c_out, 3, padding=1, groups=groups, bias=False)
x = mt.randn(1, c_in, 8, 8)
with mt.no_grad():
    together = grouped(x).numpy()
    w = grouped.weight  # (C_out, C_in / groups, 3, 3)
    size_in, size_out = c_in // groups, c_out // groups
    parts = [F.conv2d(x[:, g * size_in:(g + 1) * size_in], w[g * size_out:(g + 1) * size_out],
                      padding=1).numpy() for g in range(groups)]
print(f"Conv2d({c_in}, {c_out}, 3, groups={groups}): weight {tuple(w.shape)}, "
      f"{w.numel()} weights (a dense conv: {c_in * c_out * 9})")
print("equals 4 separate convs on 4 channel slices, concatenated:",
      np.allclose(np.concatenate(parts, axis=1), together, atol=1e-5))
assert np.allclose(np.concatenate(parts, axis=1), together, atol=1e-5)

# %% [markdown]
# ## 2. Same budget, more width: the ResNeXt bottleneck

# %%
print(f"{'groups':>7} {'width':>6} {'3x3 conv weights':>17}")
for g in (1, 2, 4, 8, 32):
    width = 64 if g == 1 else 4 * g  # 32x4d: 32 groups of 4 channels = 128
    print(f"{g:>7} {width:>6} {width * (width // g) * 9:>17,}")
paper_check(lesson, {"resnet50": 25_557_032, "resnext50_32x4d": 25_028_904})

# the whole bottleneck of the first stage (256 channels in and out), built from real layers:
# the 1x1 convolutions that reduce and restore the width hold most of the weights
blocks = {"ResNet-50\n(width 64)": (64, 1), "ResNeXt-50 32x4d\n(width 128, 32 groups)": (128, 32)}
parts = {}
for label, (width, g) in blocks.items():
    layers = {"1x1 reduce 256 -> width": nn.Conv2d(256, width, 1, bias=False),
              "3x3 (grouped)": nn.Conv2d(width, width, 3, padding=1, groups=g, bias=False),
              "1x1 restore width -> 256": nn.Conv2d(width, 256, 1, bias=False)}
    parts[label] = {name: sum(p.numel() for p in layer.parameters())
                    for name, layer in layers.items()}
    print(f"{label.replace(chr(10), ' '):42s} " + ", ".join(
        f"{name}: {n:,}" for name, n in parts[label].items())
          + f"; total {sum(parts[label].values()):,}")
totals = [sum(v.values()) for v in parts.values()]
fig, ax = plt.subplots(figsize=(9.0, 4.0))
bottom = np.zeros(len(parts))
for name, colour in zip(next(iter(parts.values())), ("tab:blue", "tab:purple", "tab:green")):
    values = np.array([v[name] for v in parts.values()])
    ax.bar(list(parts), values, bottom=bottom, color=colour, label=name, width=0.5)
    for i, value in enumerate(values):
        ax.text(i, bottom[i] + value / 2, f"{value:,}", ha="center", va="center",
                color="white", fontsize=9)
    bottom += values
ax.set_ylabel("weights in one bottleneck block")
ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))  # beside the bars
ax.set_title(lesson.title(f"same budget ({totals[0]:,} vs {totals[1]:,} weights), twice the "
                          "width: 32 groups keep the 3x3 small"), fontsize=10)
viz.save_figure(fig, lesson.figure("bottleneck_budget"))

# %% [markdown]
# ## 3. The small ResNeXt on Fashion-MNIST

# %%
model, history, accuracy = train_small_variant(lesson, "resnext_cifar", epochs_full=6,
                                               n_train_full=4000)
viz.plot_training_curves(curves(history), lesson.figure("resnext_small_training"),
                         title=lesson.title(f"ResNeXt (small) on Fashion-MNIST: "
                                            f"test accuracy {accuracy:.1%}"))

# %%
lesson.finish()
