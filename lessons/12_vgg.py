"""VGG: why stacks of 3x3 convolutions, and where the parameters really are.

Simonyan and Zisserman (2014) used only 3x3 convolutions: two of them see a 5x5 window, three
see 7x7, with fewer weights and more non-linearities than one big filter. We compute the
receptive fields and parameter counts, count VGG-16's parameters layer by layer (the three
fully connected layers hold 103M, 17M and 4M of its 138M), and train the small VGG-11 variant.

Run: python lessons/12_vgg.py [--smoke] [--data-dir DIR] [--epochs N] [--out DIR]
"""

# %% [markdown]
# # 12 VGG

# %%
from _common import count_parameters, curves, lesson_setup, paper_check, train_small_variant

# isort: split
import matplotlib.pyplot as plt

from minitorch_cv import models, nn, viz
from minitorch_cv.summary import summary

# %% tags=["parameters"]
# Settings: a notebook runs with these; on the command line, --smoke, --epochs N and
# --seed N override them.
SMOKE = False  # True: tiny data and a few steps; checks that the lesson runs, not a result
EPOCHS = None  # None: the lesson's own default length of training
SEED = 0

# %%
lesson = lesson_setup("12_vgg", __doc__, smoke=SMOKE, epochs=EPOCHS,
                      seed=SEED)

# %% [markdown]
# ## 1. Why 3x3: receptive field and parameters of a stack
#
# n stacked 3x3 convolutions (stride 1) see a (2n + 1) x (2n + 1) window. With C channels in
# and out, they cost n * 9C^2 weights against (2n + 1)^2 C^2 for one big filter.

# %%
C = 256
print(f"{'stack':>12} {'receptive field':>16} {'3x3 stack weights':>18} "
      f"{'one big filter':>15} {'ratio':>6}")
for n in (1, 2, 3, 4):
    field = 2 * n + 1
    stack, big = n * 9 * C * C, field * field * C * C
    print(f"{n} x 3x3 {'':>4} {field:>9}x{field:<6} {stack:>18,} {big:>15,} {big / stack:6.2f}")
rf = nn.Sequential(nn.Conv2d(1, 1, 3, padding=1), nn.Conv2d(1, 1, 3, padding=1),
                   nn.Conv2d(1, 1, 3, padding=1))
table = summary(rf, (1, 1, 15, 15))
print(table)

# %% [markdown]
# ## 2. VGG-16: 138M parameters, 124M of them in three dense layers

# %%
vgg16 = models.get("vgg16") if not lesson.smoke else None
fc_sizes = [(512 * 7 * 7, 4096), (4096, 4096), (4096, 1000)]
fc_params = [i * o + o for i, o in fc_sizes]
conv_total = 138_357_544 - sum(fc_params)
for (i, o), p in zip(fc_sizes, fc_params):
    print(f"Linear({i:,} -> {o:,}): {p:,} parameters")
print(f"all 13 conv layers together: {conv_total:,}")
if vgg16 is not None:
    linears = [m for m in vgg16.modules() if isinstance(m, nn.Linear)]
    assert [count_parameters(m) for m in linears] == fc_params
    convs = [m for m in vgg16.modules() if isinstance(m, nn.Conv2d)]
    assert sum(count_parameters(m) for m in convs) == conv_total
    per_layer = [count_parameters(m) for m in convs + linears]
    labels = [f"conv{i + 1}" for i in range(len(convs))] + ["fc6", "fc7", "fc8"]
    fig, ax = plt.subplots(figsize=(9, 3.6))
    ax.bar(labels, [p / 1e6 for p in per_layer],
           color=["tab:blue"] * len(convs) + ["tab:red"] * 3)
    ax.set_ylabel("parameters (millions)")
    ax.set_title("VGG-16 parameters per layer: fc6 alone holds 103M of 138M")
    ax.tick_params(axis="x", rotation=60)
    viz.save_figure(fig, lesson.figure("vgg16_parameters_per_layer"))
print("parameter counts against the paper / torchvision:")
paper_check(lesson, {"vgg11": 132_863_336, "vgg16": 138_357_544,
                     "vgg19": 143_667_240})

# %% [markdown]
# ## 3. The small VGG-11 on Fashion-MNIST

# %%
print(summary(models.get("vgg11_small"), (1, 1, 28, 28)))
model, history, accuracy = train_small_variant(lesson, "vgg11_small", epochs_full=10,
                                               n_train_full=6000)
viz.plot_training_curves(curves(history), lesson.figure("vgg11_small_training"),
                         title=lesson.title(f"VGG-11 (small) on Fashion-MNIST: "
                                            f"test accuracy {accuracy:.1%}"))
viz.plot_filters(model.features[0], lesson.figure("vgg11_small_conv1_filters"),
                 title="VGG-11 (small): first-layer 3x3 filters")

# %%
lesson.finish()
