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
from _common import count_parameters, curves, lesson_setup, paper_check, train_small_variant

# isort: split
import numpy as np

import minitorch_cv as mt
import minitorch_cv.functional as F
from minitorch_cv import models, nn, viz

plt = viz._figure.plt
lesson = lesson_setup("18_resnext", __doc__)

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
widths = {}
for g in (1, 2, 4, 8, 32):
    width = 64 if g == 1 else 4 * g  # 32x4d: 32 groups of 4 channels = 128
    widths[g] = width * (width // g) * 9
    print(f"{g:>7} {width:>6} {widths[g]:>17,}")
paper_check(lesson.pick({"resnet50": 25_557_032, "resnext50_32x4d": 25_028_904},
                        {"resnext_cifar": count_parameters(models.get("resnext_cifar"))}))
fig, ax = plt.subplots(figsize=(6.4, 3.4))
ax.bar([str(g) for g in widths], [widths[g] for g in widths], color="tab:purple")
ax.set_xlabel("groups (cardinality)")
ax.set_ylabel("3x3 conv weights")
ax.set_title("a 3x3 conv of width 4g in g groups: width grows, weights stay small")
viz._figure.save(fig, lesson.figure("grouped_conv_weights"))

# %% [markdown]
# ## 3. The small ResNeXt on Fashion-MNIST

# %%
model, history, accuracy = train_small_variant(lesson, "resnext_cifar", epochs_full=2,
                                               n_train_full=4000)
viz.plot_training_curves(curves(history), lesson.figure("resnext_small_training"),
                         title=f"ResNeXt (small) on Fashion-MNIST: test accuracy {accuracy:.1%}")

# %%
lesson.finish()
