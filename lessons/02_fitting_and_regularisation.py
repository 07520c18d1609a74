"""Fitting and regularisation: under- and overfitting, and the tools that move between them.

On a small slice of real Fashion-MNIST (so that overfitting shows quickly) we train multilayer
perceptrons and watch train against validation loss: a model too small underfits, a large one
trained long overfits. Then the remedies: explicit ones (weight decay, early stopping, dropout)
and implicit ones (batch norm, the noise of small mini-batches), and why inputs are scaled
before gradient descent.

Run: python lessons/02_fitting_and_regularisation.py [--smoke] [--data-dir DIR] [--out DIR]
"""

# %% [markdown]
# # 02 Fitting and regularisation

# %%
# _common first: it loads minitorch_cv, whose thread settings must precede NumPy
from _common import curves, evaluate, fit, lesson_setup, seed_summary

# isort: split
import numpy as np

import minitorch_cv as mt
from minitorch_cv import nn, optim, viz

# %% tags=["parameters"]
# Settings: a notebook runs with these; on the command line, --smoke, --epochs N and
# --seed N override them.
SMOKE = False  # True: tiny data and a few steps; checks that the lesson runs, not a result
EPOCHS = None  # None: the lesson's own default length of training
SEED = 0

# %%
lesson = lesson_setup("02_fitting_and_regularisation", __doc__, smoke=SMOKE, epochs=EPOCHS,
                      seed=SEED)

# validation images are held out of the training file: every choice below (the best epoch,
# early stopping, which regulariser) is made on them; the test set is opened once, at the end
(x_train, y_train), (x_valid, y_valid), classes = lesson.train_valid(
    "fashion-mnist", n_train=lesson.pick(1000, 96), n_valid=lesson.pick(1000, 64))
x_train = x_train.reshape(len(x_train), -1)   # flattened: 784 features
x_valid = x_valid.reshape(len(x_valid), -1)
train, valid = (x_train, y_train), (x_valid, y_valid)
epochs = lesson.n_epochs(40, 2)  # the 2x512 MLP overfits within about 10
max_steps = lesson.pick(None, 1)
seeds = [lesson.seed + k for k in range(3)]
print(f"{len(x_train)} training images (a small slice on purpose), {len(x_valid)} validation")


def mlp(hidden=512, layers=2, dropout=0.0, batch_norm=False):
    modules, width = [], 784
    for _ in range(layers):
        modules.append(nn.Linear(width, hidden))
        if batch_norm:
            modules.append(nn.BatchNorm1d(hidden))
        modules.append(nn.ReLU())
        if dropout:
            modules.append(nn.Dropout(dropout))
        width = hidden
    modules.append(nn.Linear(width, 10))
    return nn.Sequential(*modules)


def run(name, make_model, lr=0.05, weight_decay=0.0, batch_size=64, seed=None,
        verbose=True):
    """Train ``make_model()`` (built after seeding, so the seed decides its initialisation)."""
    seed = lesson.seed if seed is None else seed
    mt.manual_seed(seed)
    model = make_model()
    optimizer = optim.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=weight_decay)
    history = fit(model, optimizer, train, valid, epochs, batch_size, max_steps=max_steps,
                  seed=seed, verbose=False)
    history["model"] = model
    best = int(np.argmin(history["valid_loss"]))
    if verbose:
        print(f"{name:36s} final train loss {history['train_loss'][-1]:.3f} valid loss "
              f"{history['valid_loss'][-1]:.3f} valid acc {history['valid_accuracy'][-1]:.3f} | "
              f"best valid loss {history['valid_loss'][best]:.3f} at epoch {best + 1}")
    return history


# %% [markdown]
# ## 1. Underfitting and overfitting
#
# An MLP squeezed through 2 hidden units cannot fit even the training set well: its *training*
# loss stays high (that is what underfitting means; its validation loss is higher still). A
# 2x512 MLP drives the training loss towards zero while the validation loss turns up after a
# few epochs: it memorises the 1,000 examples. The titles below are computed from the runs.

# %%
under = run("MLP with 2 hidden units (underfits)", lambda: mlp(hidden=2, layers=1), lr=0.01)
over = run("MLP 2x512 (overfits)", mlp)
under_train, over_train = under["train_loss"][-1], over["train_loss"][-1]
print(f"underfitting: the small MLP's final training loss is {under_train:.3f}, "
      f"{under_train / max(over_train, 1e-12):.0f}x the large MLP's {over_train:.3f}")
viz.plot_training_curves(curves(under), lesson.figure("underfitting"), title=lesson.title(
    f"2 hidden units: training loss stays at {under_train:.2f} (2x512 MLP: {over_train:.3f})"))
over_best = int(np.argmin(over["valid_loss"]))
over_rise = over["valid_loss"][-1] - over["valid_loss"][over_best]
viz.plot_training_curves(curves(over), lesson.figure("overfitting"), title=lesson.title(
    f"MLP 2x512 on {len(x_train):,} images: train loss -> {over_train:.3f}, valid loss "
    f"{'rises' if over_rise > 0 else 'changes'} by {over_rise:+.2f} after epoch {over_best + 1}"))

# %% [markdown]
# ## 2. Explicit regularisation: weight decay, early stopping, dropout
#
# Weight decay adds lambda/2 * |w|^2 to the loss (SGD's `weight_decay=lambda`); early stopping
# keeps the weights of the epoch with the best validation loss; dropout zeroes half the hidden
# units at random in training (and scales the rest by 2), so no unit can rely on another.
#
# Which regulariser helps, and with what? One seed cannot say: each setting is trained with
# three seeds, and we compare the final validation loss (how confident the wrong answers are)
# and the final validation accuracy (how many answers are right) as mean +- spread. On 1,000
# images regularisation mostly tames the validation loss; whether accuracy also gains is what
# the numbers say, and the lesson prints it either way.

# %%
decay = run("MLP + weight decay 5e-3", mlp, weight_decay=5e-3)
dropout = run("MLP + dropout 0.5", lambda: mlp(dropout=0.5))
settings = {"no regularisation": {}, "weight decay 5e-3": {"weight_decay": 5e-3},
            "dropout 0.5": {"dropout": 0.5}}
final_loss = {name: [] for name in settings}
final_accuracy = {name: [] for name in settings}
for seed in seeds:
    for name, setting in settings.items():
        history = {"no regularisation": over, "weight decay 5e-3": decay,
                   "dropout 0.5": dropout}[name] if seed == lesson.seed else run(
            name, lambda s=setting: mlp(dropout=s.get("dropout", 0.0)),
            weight_decay=setting.get("weight_decay", 0.0), seed=seed, verbose=False)
        final_loss[name].append(history["valid_loss"][-1])
        final_accuracy[name].append(history["valid_accuracy"][-1])
print(f"after {epochs} epochs:")
seed_summary(final_loss, "final valid loss", lesson.smoke, higher_is_better=False, seeds=seeds)
seed_summary(final_accuracy, "final valid accuracy", lesson.smoke)


def early_stopping(valid_losses, patience):
    """The epoch training stops at, and the best epoch kept, as EarlyStopping does."""
    best, best_epoch = float("inf"), 0
    for epoch, loss in enumerate(valid_losses):
        if loss < best:
            best, best_epoch = loss, epoch
        elif epoch - best_epoch >= patience:
            return epoch, best_epoch
    return len(valid_losses) - 1, best_epoch


stop_epoch, kept = early_stopping(over["valid_loss"], patience=5)
print(f"early stopping (patience 5) on the plain MLP stops after epoch {stop_epoch + 1} of "
      f"{epochs} and keeps epoch {kept + 1}: valid loss {over['valid_loss'][kept]:.3f} instead "
      f"of {over['valid_loss'][-1]:.3f}, valid accuracy {over['valid_accuracy'][kept]:.3f} "
      f"instead of {over['valid_accuracy'][-1]:.3f}")
viz.plot_curve_comparison({"no regularisation": over["valid_loss"],
                           "weight decay 5e-3": decay["valid_loss"],
                           "dropout 0.5": dropout["valid_loss"]},
                          lesson.figure("explicit_regularisation_valid_loss"),
                          ylabel="validation loss", title=lesson.title(
                              "validation loss with and without regularisation (seed "
                              f"{lesson.seed})"))

# %% [markdown]
# ## 3. Implicit regularisation: batch norm and mini-batch noise
#
# Batch norm normalises each unit over the batch: training is faster at the same learning
# rate, and each example's output depends a little on its random batch mates. Small batches
# give noisy gradients; for the same number of epochs they also take more, smaller steps.

# %%
bn = run("MLP + batch norm", lambda: mlp(batch_norm=True))
noise = {}
for batch_size in lesson.pick((16, 64, 1000), (16, 64)):
    noise[f"batch {batch_size}"] = run(f"MLP, batch size {batch_size}", mlp, lr=0.02,
                                       batch_size=batch_size)
viz.plot_curve_comparison({"plain: train": over["train_loss"], "batch norm: train":
                           bn["train_loss"], "plain: valid": over["valid_loss"],
                           "batch norm: valid": bn["valid_loss"]},
                          lesson.figure("batch_norm"), ylabel="loss", log=True,
                          title=lesson.title("batch norm: same learning rate, faster fit"))
viz.plot_curve_comparison({f"{k}: valid": v["valid_loss"] for k, v in noise.items()}
                          | {f"{k}: train": v["train_loss"] for k, v in noise.items()},
                          lesson.figure("batch_size_noise"), ylabel="loss", log=True,
                          title=lesson.title("mini-batch size: small batches, noisy steps"))

# %% [markdown]
# ## 4. Input scaling and gradient descent
#
# Raw pixels are 0..255. With such inputs the loss surface is stretched along the weight
# directions of large features: a learning rate small enough not to diverge is far too small
# elsewhere. Standardising (mean 0, std 1) makes one learning rate fit all directions.

# %%
raw = (x_train * 0.3530 + 0.2860) * 255.0      # undo the normalisation: back to 0..255
raw_valid = (x_valid * 0.3530 + 0.2860) * 255.0
gd_epochs = lesson.n_epochs(30, 2)
scaled_histories = {}
for name, data_train, data_valid, lr in (("pixels 0..255, lr 1e-5", raw, raw_valid, 1e-5),
                                         ("pixels 0..255, lr 1e-6", raw, raw_valid, 1e-6),
                                         ("standardised, lr 0.01", x_train, x_valid, 0.01)):
    mt.manual_seed(lesson.seed)
    model = nn.Sequential(nn.Linear(784, 10))
    optimizer = optim.SGD(model.parameters(), lr=lr)
    history = fit(model, optimizer, (data_train, y_train), (data_valid, y_valid), gd_epochs,
                  batch_size=len(data_train), max_steps=max_steps, verbose=False)
    scaled_histories[name] = history["train_loss"]
    print(f"full-batch gradient descent, {name:24s}: train loss {history['train_loss'][0]:.3f}"
          f" -> {history['train_loss'][-1]:.3f}")
print("feature scales: raw pixel std", f"{raw.std():.1f}", "vs standardised",
      f"{x_train.std():.2f}")
viz.plot_curve_comparison(scaled_histories, lesson.figure("input_scaling"), log=True,
                          ylabel="training loss", xlabel="gradient-descent step",
                          title=lesson.title("logistic regression: standardised inputs "
                                             "train fastest"))

# %% [markdown]
# ## 5. The test set, once
#
# Everything above was chosen on the validation split. Only now, with the choice made (the
# setting with the best mean validation accuracy over the seeds), do we look at the test set,
# once, to report how that choice does on data no decision has seen.

# %%
chosen = max(final_accuracy, key=lambda name: np.mean(final_accuracy[name]))
chosen_model = {"no regularisation": over, "weight decay 5e-3": decay,
                "dropout 0.5": dropout}[chosen]["model"]
x_test, y_test, _ = lesson.final_test("fashion-mnist", limit=lesson.pick(None, 64))
_, test_accuracy = evaluate(chosen_model, x_test.reshape(len(x_test), -1), y_test)
print(f"chosen on validation: {chosen}; test accuracy {test_accuracy:.4f} on {len(x_test):,} "
      f"test images (validation accuracy {final_accuracy[chosen][0]:.4f}, seed {lesson.seed})")

# %%
lesson.finish()

# %% [markdown]
# ## Build it yourself
#
# The workbench checks your own version of what this lesson used, stage by stage
# (worked examples, property tests with the smallest failing case, gradcheck,
# PyTorch, then your code plugged into a network). Exercises for this lesson:
# `sgd_momentum`, `adam`, `dropout`, `batch_norm_forward`, `batch_norm_backward`.
#
# In a terminal: `minitorch-cv exercise start NAME` writes the template,
# `minitorch-cv exercise check NAME` checks it, `minitorch-cv exercise hint NAME`
# gives the next hint. From a notebook: `from minitorch_cv import exercises`, then
# `exercises.start(NAME)` and `exercises.check(NAME, your_function)`. See
# `docs/exercises/index.md`.
