"""GoogLeNet: the Inception block, and the 1x1 bottleneck that makes it affordable.

Szegedy et al. (2014) ran 1x1, 3x3 and 5x5 convolutions and a pooling in parallel and stacked
their outputs along the channels. Done naively, the big filters on many channels cost too
much; a 1x1 convolution first (a "bottleneck") shrinks the channels. We do the arithmetic of
the lecture (a 5x5 conv of 32 filters on 28x28x192 costs 120,422,400 multiplications), check it
with `summary`, run one Inception block (inception 3a), and train the small GoogLeNet.

Run: python lessons/14_googlenet.py [--smoke] [--data-dir DIR] [--epochs N] [--out DIR]
"""

# %% [markdown]
# # 14 GoogLeNet and Inception

# %%
# _common first: it loads minitorch_cv, whose thread settings must precede NumPy
from _common import count_parameters, curves, lesson_setup, paper_check, train_small_variant

# isort: split
import matplotlib.pyplot as plt
import numpy as np

import minitorch_cv as mt
from minitorch_cv import models, nn, viz
from minitorch_cv.models import Inception
from minitorch_cv.summary import summary

# %% tags=["parameters"]
# Settings: a notebook runs with these; on the command line, --smoke, --epochs N and
# --seed N override them.
SMOKE = False  # True: tiny data and a few steps; checks that the lesson runs, not a result
EPOCHS = None  # None: the lesson's own default length of training
SEED = 0

# %%
lesson = lesson_setup("14_googlenet", __doc__, smoke=SMOKE, epochs=EPOCHS,
                      seed=SEED)

# %% [markdown]
# ## 1. The cost of a 5x5 convolution, with and without a 1x1 bottleneck
#
# Multiplications of a conv layer = out_h * out_w * C_out * kh * kw * C_in.

# %%
H = W = 28
direct = H * W * 32 * 5 * 5 * 192
reduce = H * W * 16 * 1 * 1 * 192
after = H * W * 32 * 5 * 5 * 16
print(f"5x5 conv, 192 -> 32 channels on 28x28: {direct:,} multiplications")
print(f"1x1 conv 192 -> 16 first: {reduce:,}; then 5x5 conv 16 -> 32: {after:,}")
print(f"with the bottleneck: {reduce + after:,} ({direct / (reduce + after):.1f}x fewer)")
assert direct == 120_422_400
direct_layer = nn.Sequential(nn.Conv2d(192, 32, 5, padding=2, bias=False))
bottleneck = nn.Sequential(nn.Conv2d(192, 16, 1, bias=False),
                           nn.Conv2d(16, 32, 5, padding=2, bias=False))
for name, layer, expected in (("direct", direct_layer, direct),
                              ("bottleneck", bottleneck, reduce + after)):
    table = summary(layer, (1, 192, 28, 28))
    print(f"summary() of the {name} version: {table.total_mult_adds:,} multiply-adds, "
          f"{table.total_params:,} parameters")
    assert table.total_mult_adds == expected

fig, ax = plt.subplots(figsize=(6.4, 3.2))
ax.barh(["5x5 conv directly", "1x1 to 16, then 5x5"], [direct / 1e6, (reduce + after) / 1e6],
        color=["tab:red", "tab:green"])
for i, value in enumerate([direct, reduce + after]):
    ax.text(value / 1e6, i, f"  {value / 1e6:.1f}M", va="center")
ax.set_xlim(0, direct / 1e6 * 1.25)
ax.set_xlabel("multiplications (millions)")
ax.set_title("28x28x192 -> 28x28x32: the 1x1 bottleneck cuts the cost ~10x")
viz.save_figure(fig, lesson.figure("bottleneck_cost"))

# %% [markdown]
# ## 2. One Inception block (3a): four branches, concatenated
#
# 192 channels in; 64 from the 1x1 branch, 128 from 3x3 (after a 96-channel 1x1), 32 from the
# "5x5" branch (after a 16-channel 1x1; torchvision uses a 3x3 there, so do we), 32 from the
# pooling branch's 1x1: 256 channels out at the same 28x28 size.

# %%
block = Inception(192, 64, 96, 128, 16, 32, 32)
x = mt.randn(1, 192, 28, 28)
with mt.no_grad():
    branches = [block.branch1(x), block.branch2(x), block.branch3(x), block.branch4(x)]
    out = block(x)
for name, branch in zip(("1x1", "1x1 -> 3x3", "1x1 -> 3x3 ('5x5')", "pool -> 1x1"), branches):
    print(f"  branch {name:22s} -> {tuple(branch.shape)}")
print(f"  concatenated             -> {tuple(out.shape)}; {count_parameters(block):,} parameters")
assert out.shape == (1, 256, 28, 28)
assert np.allclose(out.numpy()[:, :64], branches[0].numpy())

# %% [markdown]
# ## 3. The whole network against the paper, and the small variant trained

# %%
print("parameter counts against torchvision's GoogLeNet (no auxiliary heads):")
paper_check(lesson, {"googlenet": 6_624_904})
print(summary(models.get("googlenet_small"), (1, 1, 28, 28)))
model, history, accuracy = train_small_variant(lesson, "googlenet_small", epochs_full=10,
                                               n_train_full=4000)
viz.plot_training_curves(curves(history), lesson.figure("googlenet_small_training"),
                         title=lesson.title(f"GoogLeNet (small) on Fashion-MNIST: "
                                            f"test accuracy {accuracy:.1%}"))

# %%
lesson.finish()

# %% [markdown]
# ## Build it yourself
#
# The workbench checks your own version of what this lesson used, stage by stage
# (worked examples, property tests with the smallest failing case, gradcheck,
# PyTorch, then your code plugged into a network). Exercises for this lesson:
# `inception_block`.
#
# In a terminal: `minitorch-cv exercise start NAME` writes the template,
# `minitorch-cv exercise check NAME` checks it, `minitorch-cv exercise hint NAME`
# gives the next hint. From a notebook: `from minitorch_cv import exercises`, then
# `exercises.start(NAME)` and `exercises.check(NAME, your_function)`. See
# `docs/exercises/index.md`.
