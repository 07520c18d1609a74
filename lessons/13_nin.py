"""Network in Network: mlpconv layers (1x1 convolutions) and global average pooling.

Lin, Chen and Yan (2013) replaced each convolution by a tiny MLP slid over the image (a conv
followed by two 1x1 convs) and dropped the dense layers: the last block outputs one channel
per class and global average pooling turns each into a score. No fully connected layer means
far fewer parameters and an output that is a spatial map per class.

Run: python lessons/13_nin.py [--smoke] [--data-dir DIR] [--epochs N] [--out DIR]
"""

# %% [markdown]
# # 13 Network in Network

# %%
# _common first: it loads minitorch_cv, whose thread settings must precede NumPy
from _common import count_parameters, curves, lesson_setup, train_small_variant

# isort: split
import matplotlib.pyplot as plt
import numpy as np

import minitorch_cv as mt
from minitorch_cv import models, nn, viz
from minitorch_cv.models import nin_block
from minitorch_cv.summary import summary

# %% tags=["parameters"]
# Settings: a notebook runs with these; on the command line, --smoke, --epochs N and
# --seed N override them.
SMOKE = False  # True: tiny data and a few steps; checks that the lesson runs, not a result
EPOCHS = None  # None: the lesson's own default length of training
SEED = 0

# %%
lesson = lesson_setup("13_nin", __doc__, smoke=SMOKE, epochs=EPOCHS,
                      seed=SEED)

# %% [markdown]
# ## 1. An mlpconv block: the 1x1 convolutions are a per-pixel MLP

# %%
block = nin_block(1, 8, kernel_size=3, padding=1)
x = mt.randn(1, 1, 6, 6)
with mt.no_grad():
    out = block(x).numpy()
    first = block[1](block[0](x))  # after the 3x3 conv and ReLU: (1, 8, 6, 6)
    pixel = first.numpy()[0, :, 2, 3]  # the 8 features of one pixel
    w1, b1 = block[2].weight.detach().numpy()[:, :, 0, 0], block[2].bias.detach().numpy()
    w2, b2 = block[4].weight.detach().numpy()[:, :, 0, 0], block[4].bias.detach().numpy()
    mlp = np.maximum(w2 @ np.maximum(w1 @ pixel + b1, 0) + b2, 0)
print("one pixel through the two 1x1 convs == a 2-layer MLP on its 8 channels:",
      np.allclose(mlp, out[0, :, 2, 3], atol=1e-5))
assert np.allclose(mlp, out[0, :, 2, 3], atol=1e-5)

# %% [markdown]
# ## 2. Global average pooling instead of dense layers

# %%
nin = models.get("nin")
alexnet_dense = 9216 * 4096 + 4096 + 4096 * 4096 + 4096 + 4096 * 1000 + 1000
print(f"NiN (ImageNet): {count_parameters(nin):,} parameters in total; AlexNet's three dense "
      f"layers alone: {alexnet_dense:,}")
final = [m for m in nin.modules() if isinstance(m, nn.Conv2d)][-1]
print(f"NiN's last conv gives {final.out_channels} channels, one per class; global average "
      "pooling makes them the logits: no Linear layer at all:",
      not any(isinstance(m, nn.Linear) for m in nin.modules()))

# %% [markdown]
# ## 3. The small NiN on Fashion-MNIST, and its per-class maps

# %% [markdown]
# NiN has no batch norm, and the ReLU after its last block can close a class's score map for
# good: where the pre-activation is negative everywhere, no gradient reaches that class. With
# ``Conv2d``'s default initialisation several class maps start closed; the library's NiN starts
# every convolution from He (Kaiming) normal weights instead, as torchvision does for VGG and
# ResNet. Count the closed maps on a random batch, both ways, over ten initialisations:

# %%
probe = mt.randn(64, 1, 28, 28)
for label, reset in (("Conv2d's default initialisation", True), ("He initialisation", False)):
    closed, spread = [], []
    for init_seed in range(lesson.pick(10, 2)):
        mt.manual_seed(1000 + init_seed)
        candidate = models.get("nin_small")
        if reset:
            for module in candidate.modules():
                if isinstance(module, nn.Conv2d):
                    module.reset_parameters()
        with mt.no_grad():
            scores = candidate.eval()(probe).numpy()
        closed.append(int((scores.max(axis=0) == 0).sum()))
        spread.append(float(scores.std()))
    print(f"{label:34s}: class scores that are 0 for all 64 random images: {closed} "
          f"(mean {np.mean(closed):.1f} of 10); score std {np.mean(spread):.3f}")

# %%
print(summary(models.get("nin_small"), (1, 1, 28, 28)))
model, history, accuracy = train_small_variant(lesson, "nin_small", epochs_full=10,
                                               n_train_full=6000)
viz.plot_training_curves(curves(history), lesson.figure("nin_small_training"),
                         title=lesson.title(f"NiN (small) on Fashion-MNIST: "
                                            f"test accuracy {accuracy:.1%}"))
x_test, y_test, classes = lesson.final_test("fashion-mnist", limit=lesson.pick(100, 8))
layer_name, _ = viz.find_feature_layer(model, mt.tensor(x_test[:1]))
maps = viz.feature_maps(model, layer_name, mt.tensor(x_test[:1]))[0]
print(f"the last feature maps ({layer_name}): {maps.shape[0]} maps of {maps.shape[1]}x"
      f"{maps.shape[2]}, one per class; the largest mean is class "
      f"{classes[int(maps.mean(axis=(1, 2)).argmax())]} (true: {classes[y_test[0]]})")
# the maps are small (6x6: nin_small pools twice, not three times): upsample each to the
# image and lay it over the garment, as CAM does, with one colour scale for all ten so that
# they can be compared
image = x_test[0, 0]
upsampled = [viz.upsample(m, image.shape) for m in maps]
low, high = min(u.min() for u in upsampled), max(u.max() for u in upsampled)
means = maps.mean(axis=(1, 2))
fig, axes = plt.subplots(2, 6, figsize=(13, 4.8))
axes[0, 0].imshow(image, cmap="gray")
axes[0, 0].set_title(f"input: {classes[y_test[0]]}", fontsize=9)
for index, ax in enumerate(axes.ravel()[1:11]):
    ax.imshow(image, cmap="gray")
    overlay = ax.imshow(upsampled[index], cmap="jet", alpha=0.5, vmin=low, vmax=high)
    ax.set_title(f"{classes[index]}\nmean {means[index]:.2f}", fontsize=8,
                 fontweight="bold" if index == int(means.argmax()) else "normal")
for ax in axes.ravel():
    ax.axis("off")
fig.colorbar(overlay, ax=axes.ravel().tolist(), fraction=0.02)
fig.suptitle(lesson.title(f"NiN: the last block's 10 maps ({maps.shape[1]}x{maps.shape[2]}, "
                          "upsampled), one per class; their means are the logits"))
viz.save_figure(fig, lesson.figure("nin_class_maps"))

# %%
lesson.finish()

# %% [markdown]
# ## Build it yourself
#
# The workbench checks your own version of what this lesson used, stage by stage
# (worked examples, property tests with the smallest failing case, gradcheck,
# PyTorch, then your code plugged into a network). Exercises for this lesson:
# `global_avg_pool`, `conv1x1`.
#
# In a terminal: `minitorch-cv exercise start NAME` writes the template,
# `minitorch-cv exercise check NAME` checks it, `minitorch-cv exercise hint NAME`
# gives the next hint. From a notebook: `from minitorch_cv import exercises`, then
# `exercises.start(NAME)` and `exercises.check(NAME, your_function)`. See
# `docs/exercises/index.md`.
