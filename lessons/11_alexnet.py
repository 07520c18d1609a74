"""AlexNet: ReLU, dropout, overlapping pooling, and 60 million parameters in 2012.

Krizhevsky, Sutskever and Hinton (2012) won ImageNet with a deep CNN trained on GPUs. Its
ingredients are now standard: ReLU instead of saturating tanh, dropout in the dense layers,
overlapping max pooling, data augmentation. We look at why ReLU trains faster (gradients of
tanh vanish when units saturate), trace the shapes of the ImageNet network (224 -> 55 -> ...),
see where its 61M parameters sit, and train the small AlexNet on Fashion-MNIST.

Run: python lessons/11_alexnet.py [--smoke] [--data-dir DIR] [--epochs N] [--out DIR]
"""

# %% [markdown]
# # 11 AlexNet

# %%
# _common first: it loads minitorch_cv, whose thread settings must precede NumPy
from _common import count_parameters, curves, lesson_setup, paper_check, train_small_variant

# isort: split
import matplotlib.pyplot as plt
import numpy as np

import minitorch_cv as mt
from minitorch_cv import models, nn, viz
from minitorch_cv.summary import summary

# %% tags=["parameters"]
# Settings: a notebook runs with these; on the command line, --smoke, --epochs N and
# --seed N override them.
SMOKE = False  # True: tiny data and a few steps; checks that the lesson runs, not a result
EPOCHS = None  # None: the lesson's own default length of training
SEED = 0

# %%
lesson = lesson_setup("11_alexnet", __doc__, smoke=SMOKE, epochs=EPOCHS,
                      seed=SEED)

# %% [markdown]
# ## 1. ReLU against tanh: the gradient does not vanish for active units

# %%
z = mt.linspace(-6, 6, 241, requires_grad=True)
z.tanh().sum().backward()
tanh_grad = z.grad.numpy().copy()
z.grad = None
z.relu().sum().backward()
relu_grad = z.grad.numpy()
zs = z.detach().numpy()
print(f"d tanh/dz at z = 0, 2, 4: {tanh_grad[120]:.3f}, {tanh_grad[160]:.4f}, "
      f"{tanh_grad[200]:.5f}; d relu/dz for every z > 0: 1")
depth_factor = {k: float(tanh_grad[160] ** k) for k in (1, 5, 10)}
print("a gradient through k tanh units at z = 2 shrinks by 0.07^k: "
      + ", ".join(f"k={k}: {v:.1e}" for k, v in depth_factor.items()))
fig, ax = plt.subplots(figsize=(6.4, 3.6))
ax.plot(zs, tanh_grad, label="d tanh(z)/dz")
ax.plot(zs, relu_grad, label="d relu(z)/dz")
ax.set_xlabel("pre-activation z")
ax.set_ylabel("local gradient")
ax.legend()
ax.grid(alpha=0.3)
ax.set_title("tanh saturates: its gradient vanishes for |z| > 2; ReLU's is 1 for z > 0")
viz.save_figure(fig, lesson.figure("relu_vs_tanh_gradient"))

# %% [markdown]
# ## 2. The ImageNet network: shapes and parameters
#
# conv1 is 96 filters of 11x11 with stride 4: (224 + 2*2 - 11) // 4 + 1 = 55. The three dense
# layers hold most of the parameters.

# %%
print(f"conv1 output size: (224 + 2*2 - 11) // 4 + 1 = {(224 + 4 - 11) // 4 + 1}")
if not lesson.smoke:
    alexnet = models.get("alexnet")
    print(summary(alexnet, (1, 3, 224, 224)))
    dense = sum(count_parameters(m) for m in alexnet.modules() if isinstance(m, nn.Linear))
    print(f"dense layers: {dense:,} of {count_parameters(alexnet):,} parameters "
          f"({dense / count_parameters(alexnet):.0%})")
print("parameter counts against torchvision (the paper: 60 million):")
paper_check(lesson, {"alexnet": 61_100_840})

# %% [markdown]
# ## 3. Dropout: random units off in training, identity in eval

# %%
dropout = nn.Dropout(0.5)
ones = mt.ones(1, 10000)
kept = dropout(ones).numpy()
print(f"training: {np.mean(kept == 0):.1%} of units zeroed, the rest scaled to "
      f"{kept.max():.1f}, mean stays {kept.mean():.3f}")
dropout.eval()
print(f"eval: output equals input: {bool((dropout(ones).numpy() == 1).all())}")

# %% [markdown]
# ## 4. The small AlexNet on Fashion-MNIST

# %%
print(summary(models.get("alexnet_small"), (1, 1, 28, 28)))
model, history, accuracy = train_small_variant(lesson, "alexnet_small", epochs_full=10,
                                               n_train_full=6000)
viz.plot_training_curves(curves(history), lesson.figure("alexnet_small_training"),
                         title=lesson.title(f"AlexNet (small) on Fashion-MNIST: "
                                            f"test accuracy {accuracy:.1%}"))

# %%
lesson.finish()

# %% [markdown]
# ## Build it yourself
#
# The workbench checks your own version of what this lesson used, stage by stage
# (worked examples, property tests with the smallest failing case, gradcheck,
# PyTorch, then your code plugged into a network). Exercises for this lesson:
# `dropout`.
#
# In a terminal: `minitorch-cv exercise start NAME` writes the template,
# `minitorch-cv exercise check NAME` checks it, `minitorch-cv exercise hint NAME`
# gives the next hint. From a notebook: `from minitorch_cv import exercises`, then
# `exercises.start(NAME)` and `exercises.check(NAME, your_function)`. See
# `docs/exercises/index.md`.
