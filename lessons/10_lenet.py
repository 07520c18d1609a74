"""LeNet-5, 1998 against modern: tanh + average pooling + SGD versus ReLU + max pooling + Adam.

LeCun et al. (1998) read digits with two conv/pool stages and three dense layers, about 60,000
parameters. We build both forms from `minitorch_cv.models`, trace their shapes, count their
parameters against the paper, train them on MNIST (pass --data-dir; without it the embedded
Fashion-MNIST subset stands in) and compare: curves, test accuracy, learned filters and the
confusion matrix. The paper reports 99.05% on the MNIST test set (0.95% error).

Run: python lessons/10_lenet.py [--smoke] [--data-dir DIR] [--epochs N] [--forms 1998|modern]
[--out DIR] (8 epochs of each form by default, about 3 minutes on 2 cores with MNIST)
"""

# %% [markdown]
# # 10 LeNet-5: 1998 vs modern

# %%
# _common first: it loads minitorch_cv, whose thread settings must precede NumPy
from _common import (
    count_parameters,
    curves,
    fit,
    lesson_setup,
    one_cycle,
    overfit_one_batch,
    predict,
)

# isort: split
import numpy as np

import minitorch_cv as mt
from minitorch_cv import models, optim, viz
from minitorch_cv.summary import summary

# %% tags=["parameters"]
# Settings: a notebook runs with these; on the command line, --smoke, --epochs N and
# --seed N override them.
SMOKE = False  # True: tiny data and a few steps; checks that the lesson runs, not a result
EPOCHS = None  # None: the lesson's own default length of training
SEED = 0

# %%
lesson = lesson_setup("10_lenet", __doc__, smoke=SMOKE, epochs=EPOCHS, seed=SEED,
                      extra_options=lambda parser: parser.add_argument(
    "--forms", default="1998,modern", help="which forms to train: 1998, modern or both"))
forms = lesson.options.forms.split(",")

# %% [markdown]
# ## 1. The two networks
#
# The 1998 form takes 32x32 inputs (MNIST digits padded by 2), uses tanh and 2x2 average
# pooling, and C5 is a 5x5 conv on 5x5 maps (so a dense layer). The modern form keeps the
# 28x28 input with padding 2 in the first conv, and uses ReLU and max pooling. Same
# layer sizes, so the same parameter count.

# %%
lenet_1998 = models.get("lenet5_1998")
lenet_modern = models.get("lenet5")
print("modern LeNet-5:")
print(summary(lenet_modern, (1, 1, 28, 28)))
print("\n1998 LeNet-5:")
print(summary(lenet_1998, (1, 1, 32, 32)))
n_params = count_parameters(lenet_modern)
print(f"\nparameters: ours {n_params:,} (both forms); the paper's LeNet-5: 60,000 trainable "
      "parameters. The difference: C3 in the paper connects each of its 16 maps to a subset "
      "of S2's 6 maps (a table that saves weights); we, like most textbooks, connect all.")
assert n_params == count_parameters(lenet_1998) == 61_706

# %% [markdown]
# ## 2. Data
#
# MNIST (60,000 train / 10,000 test digits) from --data-dir; 5,000 training images are held
# out for validation (watching training, choosing the schedule); the test set is opened once,
# after training. Pixels are normalised to mean 0, std 1.

# %%
(x_train, y_train), (x_valid, y_valid), classes = lesson.train_valid(
    "mnist", n_train=lesson.pick(None, 256), n_valid=lesson.pick(5000, 64))
print(f"train {len(x_train):,}, valid {len(x_valid):,} images (the test set stays sealed until "
      "section 4)")


def pad32(x):
    return np.pad(x, ((0, 0), (0, 0), (2, 2), (2, 2)), constant_values=x.min())


# %% [markdown]
# ## 2b. Sanity check before training: overfit one small batch
#
# Before a long run, check that the model *can* learn: on a single batch of 32 images, a
# working model, loss and optimiser drive the training loss close to zero within a few dozen
# steps (cs231n, Karpathy's "Recipe for training neural networks"). If it cannot, there is a
# bug (labels shuffled apart from images, a wrong loss, a detached graph, a learning rate far
# off), and hours of training would only hide it. A fresh copy is used, so that the real run
# below starts from its own initialisation.

# %%
mt.manual_seed(lesson.seed)
probe_losses = overfit_one_batch(models.get("lenet5"), x_train[:32], y_train[:32],
                                 steps=lesson.pick(100, 40), lr=1e-2)
assert probe_losses[-1] < 0.25 * probe_losses[0], "LeNet cannot overfit one batch: a bug?"

# %% [markdown]
# ## 3. Training: SGD for 1998, Adam with a one-cycle schedule for modern

# %%
epochs = lesson.n_epochs(8)
max_steps = lesson.pick(None, 2)
batch_size = 128

histories = {}
if "1998" in forms:
    mt.manual_seed(lesson.seed)
    sgd = optim.SGD(lenet_1998.parameters(), lr=0.05, momentum=0.9)
    print("1998 LeNet-5 (tanh, average pooling, SGD with momentum):")
    histories["1998"] = fit(lenet_1998, sgd, (pad32(x_train), y_train),
                            (pad32(x_valid), y_valid), epochs, batch_size, max_steps=max_steps,
                            seed=lesson.seed, name="1998 ")
if "modern" in forms:
    mt.manual_seed(lesson.seed)
    adam = optim.Adam(lenet_modern.parameters(), lr=1e-3)
    schedule = one_cycle(adam, 3e-3, epochs, len(x_train), batch_size, max_steps)
    print("modern LeNet-5 (ReLU, max pooling, Adam, one-cycle learning rate):")
    histories["modern"] = fit(lenet_modern, adam, (x_train, y_train), (x_valid, y_valid),
                              epochs, batch_size, scheduler=schedule, max_steps=max_steps,
                              seed=lesson.seed, name="modern ")

# %% [markdown]
# ## 4. Test accuracy: the test set, opened once

# %%
x_test, y_test, _ = lesson.final_test("mnist", limit=lesson.pick(None, 128))
results = {}
for name, model, x in (("1998", lenet_1998, pad32(x_test)), ("modern", lenet_modern, x_test)):
    if name not in histories:
        continue
    logits = predict(model, x)
    results[name] = (logits, float((logits.argmax(axis=1) == y_test).mean()))
    print(f"{name:6s} LeNet-5: test accuracy {results[name][1]:.4f} "
          f"(error {1 - results[name][1]:.2%}) after {epochs} epochs, "
          f"{sum(histories[name]['seconds']):.0f} s of training")
print("LeCun et al. 1998 report 0.95% test error for LeNet-5 (99.05% accuracy)"
      + (" (a smoke run trains two steps: not comparable)." if lesson.smoke else "."))

comparison = {}
for name, history in histories.items():
    comparison[f"{name} train loss"] = history["train_loss"]
    comparison[f"{name} valid loss"] = history["valid_loss"]
descriptions = {"1998": "1998 (tanh, avg pool, SGD)", "modern": "modern (ReLU, max pool, Adam)"}
viz.plot_curve_comparison(comparison, lesson.figure("loss_1998_vs_modern"), ylabel="cross-entropy",
                          log=True, title="LeNet-5: " + " vs ".join(descriptions[f]
                                                                    for f in histories))
for name, model in (("modern", lenet_modern), ("1998", lenet_1998)):
    if name not in histories:
        continue
    viz.plot_training_curves(curves(histories[name]), lesson.figure(f"{name}_training_curves"),
                             title=f"{name} LeNet-5")
    viz.plot_filters(model.features[0], lesson.figure(f"{name}_conv1_filters"),
                     title=f"{name} LeNet-5: the six 5x5 filters of the first layer "
                           "(blue < 0 < red)")
    matrix = viz.confusion_matrix(y_test, results[name][0], len(classes))
    viz.plot_confusion_matrix(matrix, lesson.figure(f"{name}_confusion_matrix"),
                              class_names=classes, title=f"{name} LeNet-5 on the test set "
                                                         f"(accuracy {results[name][1]:.2%})")
if "modern" in histories:
    viz.plot_feature_maps(lenet_modern, "features.1", mt.tensor(x_test[:1]),
                          lesson.figure("modern_feature_maps"),
                          title="modern LeNet-5: the six maps after conv1 + ReLU")

# %%
lesson.finish()

# %% [markdown]
# ## Build it yourself
#
# The workbench checks your own version of what this lesson used, stage by stage
# (worked examples, property tests with the smallest failing case, gradcheck,
# PyTorch, then your code plugged into a network). Exercises for this lesson:
# `adam`.
#
# In a terminal: `minitorch-cv exercise start NAME` writes the template,
# `minitorch-cv exercise check NAME` checks it, `minitorch-cv exercise hint NAME`
# gives the next hint. From a notebook: `from minitorch_cv import exercises`, then
# `exercises.start(NAME)` and `exercises.check(NAME, your_function)`. See
# `docs/exercises/index.md`.
