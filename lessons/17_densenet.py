"""DenseNet: every layer sees the feature maps of every layer before it in its block.

Huang et al. (2016) concatenate instead of add: layer l of a dense block receives
k0 + (l - 1) * k channels (the growth rate k), so features are reused and each layer can be
thin. Transition layers (1x1 conv + 2x2 average pooling) halve the channels between blocks.
We follow the channel count through a block, count the connections, compare parameters with
ResNet, and train the small DenseNet-BC.

Run: python lessons/17_densenet.py [--smoke] [--data-dir DIR] [--epochs N] [--out DIR]
"""

# %% [markdown]
# # 17 DenseNet

# %%
# _common first: it loads minitorch_cv, whose thread settings must precede NumPy
from _common import curves, lesson_setup, paper_check, train_small_variant

# isort: split
import matplotlib.pyplot as plt
import numpy as np

import minitorch_cv as mt
from minitorch_cv import models, viz
from minitorch_cv.summary import summary

# %% tags=["parameters"]
# Settings: a notebook runs with these; on the command line, --smoke, --epochs N and
# --seed N override them.
SMOKE = False  # True: tiny data and a few steps; checks that the lesson runs, not a result
EPOCHS = None  # None: the lesson's own default length of training
SEED = 0

# %%
lesson = lesson_setup("17_densenet", __doc__, smoke=SMOKE, epochs=EPOCHS,
                      seed=SEED)

# %% [markdown]
# ## 1. Channels grow linearly inside a dense block

# %%
k0, k, layers = 24, 12, 6
print(f"dense block with k0 = {k0} input channels, growth rate k = {k}, {layers} layers:")
for layer in range(1, layers + 1):
    print(f"  layer {layer}: input {k0 + (layer - 1) * k:3d} channels -> adds {k}")
print(f"  block output: {k0 + layers * k} channels; direct connections L(L+1)/2 = "
      f"{(layers + 1) * (layers + 2) // 2} (counting the input) against {layers + 1} in a chain")
model_small = models.get("densenet_cifar", in_channels=1)
table = summary(model_small, (1, 1, 32, 32))
dense_rows = [row for row in table.layers if row.name.endswith("denseblock1")]
print(f"summary: denseblock1 of densenet_cifar outputs {dense_rows[0].output_shape} "
      f"(24 + 6 * 12 = 96 channels)")
assert dense_rows[0].output_shape[1] == 96

# %% [markdown]
# ## 2. Parameters against the paper and against ResNet

# %%
paper_check(lesson, {"densenet121": 7_978_856, "resnet50": 25_557_032})
print("DenseNet-121 reaches ResNet-50's ImageNet accuracy with under a third of the parameters.")

# %% [markdown]
# ## 3. The small DenseNet-BC on Fashion-MNIST

# %%
model, history, accuracy = train_small_variant(lesson, "densenet_cifar", epochs_full=5,
                                               n_train_full=3000)
viz.plot_training_curves(curves(history), lesson.figure("densenet_small_training"),
                         title=f"DenseNet-BC (small) on Fashion-MNIST: test accuracy "
                               f"{accuracy:.1%}")
x_test, y_test, classes = lesson.final_test("fashion-mnist", limit=lesson.pick(100, 8))

# %% [markdown]
# ## 4. Dense connectivity: what each layer draws on
#
# Layer l of a dense block reads the block input and the maps of *every* earlier layer, through
# its 1x1 bottleneck conv. The mean |weight| that conv puts on each source's channels says how
# much the layer uses it (the DenseNet paper's figure 5): if only the newest maps mattered,
# the matrix would be a diagonal; mass away from the diagonal is reuse of early features.

# %%
block = model.features.denseblock1
n_layers = len(block)
k0 = block["denselayer1"].conv1.in_channels
k = block["denselayer1"].conv2.out_channels
use = np.full((n_layers, n_layers), np.nan)  # (target layer, source: input, layer 1, ...)
for target, layer in enumerate(block.values()):
    per_channel = np.abs(layer.conv1.weight.detach().numpy()).mean(axis=(0, 2, 3))
    sources = [per_channel[:k0]] + [per_channel[k0 + (s - 1) * k:k0 + s * k]
                                    for s in range(1, target + 1)]
    use[target, :target + 1] = [float(src.mean()) for src in sources]
    use[target] /= np.nanmax(use[target])
off_diagonal = np.nanmean([use[t, s] for t in range(n_layers) for s in range(t)]) \
    if n_layers > 1 else float("nan")
print(f"dense block 1: mean |w| of each layer's 1x1 conv per source (row max = 1); on the older "
      f"sources it is on average {off_diagonal:.2f} of the largest: early features are "
      f"{'reused' if off_diagonal > 0.5 else 'used less'}"
      + (" (smoke run: barely trained)" if lesson.smoke else ""))
fig, ax = plt.subplots(figsize=(6.4, 5.0))
image = ax.imshow(use, cmap="viridis", vmin=0, vmax=1)
for t in range(n_layers):
    for s_ in range(t + 1):
        ax.text(s_, t, f"{use[t, s_]:.2f}", ha="center", va="center", fontsize=8,
                color=viz.text_colour(use[t, s_], 0, 1, "viridis"))
ax.set_xticks(range(n_layers), ["block input"] + [f"layer {i}" for i in range(1, n_layers)],
              rotation=30, ha="right")
ax.set_yticks(range(n_layers), [f"layer {i}" for i in range(1, n_layers + 1)])
ax.set_xlabel("source of the input channels")
ax.set_ylabel("dense layer (reader)")
fig.colorbar(image, ax=ax, label="mean |1x1 weight| (row max = 1)")
ax.set_title(lesson.title("dense block 1: every layer reads every earlier output"),
             fontsize=10)
viz.save_figure(fig, lesson.figure("dense_connectivity"))

x_one = mt.tensor(np.pad(x_test[:1], ((0, 0), (0, 0), (2, 2), (2, 2)),
                         constant_values=x_test.min()))
viz.plot_feature_maps(model, "features.denseblock1", x_one,
                      lesson.figure("densenet_block1_maps"), max_maps=15,
                      title="dense block 1 output: the first 15 of 96 concatenated maps "
                            "(the first 24 are the stem's)")

# %%
lesson.finish()
