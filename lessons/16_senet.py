"""Squeeze-and-Excitation: a block that learns how much each channel matters for each image.

Hu et al. (2017) added a small gate to ResNet blocks: squeeze each channel to one number
(global average pooling), pass the vector through a two-layer bottleneck MLP with a sigmoid,
and multiply each channel by its gate. It costs about 10% more parameters (ResNet-50: 25.6M ->
28.1M) and won ImageNet 2017. We run one SE block by hand, count its cost, and train the small
SE-ResNet on Fashion-MNIST, then look at the gates it learned per class.

Run: python lessons/16_senet.py [--smoke] [--data-dir DIR] [--epochs N] [--out DIR]
"""

# %% [markdown]
# # 16 SENet

# %%
# _common first: it loads minitorch_cv, whose thread settings must precede NumPy
from _common import count_parameters, curves, lesson_setup, paper_check, train_small_variant

# isort: split
import matplotlib.pyplot as plt
import numpy as np

import minitorch_cv as mt
from minitorch_cv import viz
from minitorch_cv.models import SEBlock

# %% tags=["parameters"]
# Settings: a notebook runs with these; on the command line, --smoke, --epochs N and
# --seed N override them.
SMOKE = False  # True: tiny data and a few steps; checks that the lesson runs, not a result
EPOCHS = None  # None: the lesson's own default length of training
SEED = 0

# %%
lesson = lesson_setup("16_senet", __doc__, smoke=SMOKE, epochs=EPOCHS,
                      seed=SEED)

# %% [markdown]
# ## 1. One SE block by hand: squeeze, excite, scale

# %%
block = SEBlock(64, reduction=16)
x = mt.randn(2, 64, 8, 8)
with mt.no_grad():
    out = block(x).numpy()
    squeezed = x.numpy().mean(axis=(2, 3))                                # (N, C)
    w1, b1 = block.fc1.weight.detach().numpy(), block.fc1.bias.detach().numpy()
    w2, b2 = block.fc2.weight.detach().numpy(), block.fc2.bias.detach().numpy()
    hidden = np.maximum(squeezed @ w1.T + b1, 0)
    gate = 1 / (1 + np.exp(-(hidden @ w2.T + b2)))
manual = x.numpy() * gate[:, :, None, None]
print(f"squeeze {squeezed.shape} -> hidden {hidden.shape} (C/r = 64/16) -> gate {gate.shape}; "
      f"matches the block: {np.allclose(manual, out, atol=1e-5)}")
assert np.allclose(manual, out, atol=1e-5)
print(f"SE block on 64 channels: {count_parameters(block):,} parameters "
      f"(2 C^2 / r + C / r + C = {2 * 64 * 64 // 16 + 64 // 16 + 64})")

# %% [markdown]
# ## 2. The cost on ResNet-50

# %%
print("parameter counts against the papers / torchvision:")
paper_check(lesson, {"resnet50": 25_557_032, "se_resnet50": 28_088_024})
if not lesson.smoke:
    extra = 28_088_024 / 25_557_032 - 1
    print(f"SE adds {extra:.1%} parameters to ResNet-50")

# %% [markdown]
# ## 3. The small SE-ResNet on Fashion-MNIST, and its gates per class

# %%
model, history, accuracy = train_small_variant(lesson, "se_resnet_cifar", epochs_full=6,
                                               n_train_full=4000)
viz.plot_training_curves(curves(history), lesson.figure("se_resnet_small_training"),
                         title=lesson.title(f"SE-ResNet (small) on Fashion-MNIST: "
                                            f"test accuracy {accuracy:.1%}"))
se_blocks = [(n, m) for n, m in model.named_modules() if isinstance(m, SEBlock)]
name, last_se = se_blocks[-1]
gates = {}
last_se.gate.register_forward_hook(lambda _m, _i, output: gates.update(value=output))
x_test, y_test, classes = lesson.final_test("fashion-mnist", limit=lesson.pick(1000, 64))
x_test = np.pad(x_test, ((0, 0), (0, 0), (2, 2), (2, 2)), constant_values=x_test.min())
model.eval()
per_class = []
with mt.no_grad():
    for c in range(10):
        images = x_test[y_test == c][:50]
        if len(images) == 0:
            per_class.append(np.full(last_se.channels, np.nan))
            continue
        model(mt.tensor(images))
        per_class.append(gates["value"].numpy().mean(axis=0))
per_class = np.array(per_class)
spread = np.nanstd(per_class, axis=0).mean()
print(f"gates of the last SE block ({name}): {per_class.shape[1]} channels; mean spread across "
      f"classes {spread:.3f} (0 would mean the gates ignore the image)")
deviation = per_class - np.nanmean(per_class, axis=0)  # what is specific to each class
# sort the channels: grouped by the class that opens them most, strongest first, so that
# class-specific channels form blocks instead of a barcode
favourite = np.nanargmax(np.nan_to_num(deviation, nan=-np.inf), axis=0)
strength = np.nanmax(deviation, axis=0)
order = np.lexsort((-strength, favourite))
limit = float(np.nanmax(np.abs(deviation))) or 1.0
fig, ax = plt.subplots(figsize=(10, 4))
image = ax.imshow(deviation[:, order], aspect="auto", cmap="bwr", vmin=-limit, vmax=limit,
                  interpolation="nearest")
ax.set_yticks(range(10), classes)
ax.set_xlabel("channel, sorted by the class whose images open its gate most")
ax.set_title(lesson.title(f"SE gate per class minus the channel's mean over classes ({name}; "
                          f"gates average {np.nanmean(per_class):.2f})"), fontsize=10)
fig.colorbar(image, ax=ax, label="gate - channel mean")
viz.save_figure(fig, lesson.figure("se_gates_per_class"))

# %%
lesson.finish()

# %% [markdown]
# ## Build it yourself
#
# The workbench checks your own version of what this lesson used, stage by stage
# (worked examples, property tests with the smallest failing case, gradcheck,
# PyTorch, then your code plugged into a network). Exercises for this lesson:
# `se_block`.
#
# In a terminal: `minitorch-cv exercise start NAME` writes the template,
# `minitorch-cv exercise check NAME` checks it, `minitorch-cv exercise hint NAME`
# gives the next hint. From a notebook: `from minitorch_cv import exercises`, then
# `exercises.start(NAME)` and `exercises.check(NAME, your_function)`. See
# `docs/exercises/index.md`.
