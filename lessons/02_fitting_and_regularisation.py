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
from _common import curves, fit, lesson_setup

# isort: split
import numpy as np

import minitorch_cv as mt
from minitorch_cv import nn, optim, viz

lesson = lesson_setup("02_fitting_and_regularisation", __doc__)

x_all, y_all, classes = lesson.load("fashion-mnist", train=True, limit=lesson.pick(1000, 96))
x_valid, y_valid, _ = lesson.load("fashion-mnist", train=False, limit=lesson.pick(1000, 64))
x_train, y_train = x_all.reshape(len(x_all), -1), y_all       # flattened: 784 features
x_valid = x_valid.reshape(len(x_valid), -1)
train, valid = (x_train, y_train), (x_valid, y_valid)
epochs = lesson.n_epochs(60, 2)
max_steps = lesson.pick(None, 1)
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


def run(name, model, lr=0.05, weight_decay=0.0, batch_size=64, data=train, n_epochs=epochs):
    mt.manual_seed(lesson.seed)
    optimizer = optim.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=weight_decay)
    history = fit(model, optimizer, data, valid, n_epochs, batch_size, max_steps=max_steps,
                  seed=lesson.seed, verbose=False)
    best = int(np.argmin(history["valid_loss"]))
    print(f"{name:36s} final train loss {history['train_loss'][-1]:.3f} valid loss "
          f"{history['valid_loss'][-1]:.3f} valid acc {history['valid_accuracy'][-1]:.3f} | "
          f"best valid loss {history['valid_loss'][best]:.3f} at epoch {best + 1}")
    return history


# %% [markdown]
# ## 1. Underfitting and overfitting
#
# An MLP squeezed through 2 hidden units cannot fit even the training set well: train and
# validation loss stay high together. A 2x512 MLP drives the training loss towards zero while the
# validation loss turns up after a few epochs: it memorises the 1,000 examples.

# %%
mt.manual_seed(lesson.seed)
under = run("MLP with 2 hidden units (underfits)", mlp(hidden=2, layers=1), lr=0.01)
over = run("MLP 2x512 (overfits)", mlp())
viz.plot_training_curves(curves(under), lesson.figure("underfitting"),
                         title="2 hidden units: train and valid loss stay high together")
viz.plot_training_curves(curves(over), lesson.figure("overfitting"),
                         title="MLP 2x512 on 1,000 images: train loss -> 0, valid loss turns up")

# %% [markdown]
# ## 2. Explicit regularisation: weight decay, early stopping, dropout
#
# Weight decay adds lambda/2 * |w|^2 to the loss (SGD's `weight_decay=lambda`); early stopping
# keeps the weights of the epoch with the best validation loss; dropout zeroes half the hidden
# units at random in training (and scales the rest by 2), so no unit can rely on another.

# %%
decay = run("MLP + weight decay 5e-3", mlp(), weight_decay=5e-3)
dropout = run("MLP + dropout 0.5", mlp(dropout=0.5))


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
                          ylabel="validation loss",
                          title="explicit regularisation keeps the validation loss down")

# %% [markdown]
# ## 3. Implicit regularisation: batch norm and mini-batch noise
#
# Batch norm normalises each unit over the batch: training is faster at the same learning
# rate, and each example's output depends a little on its random batch mates. Small batches
# give noisy gradients; for the same number of epochs they also take more, smaller steps.

# %%
bn = run("MLP + batch norm", mlp(batch_norm=True))
noise = {}
for batch_size in lesson.pick((16, 64, 1000), (16, 64)):
    noise[f"batch {batch_size}"] = run(f"MLP, batch size {batch_size}", mlp(), lr=0.02,
                                       batch_size=batch_size)
viz.plot_curve_comparison({"plain: train": over["train_loss"], "batch norm: train":
                           bn["train_loss"], "plain: valid": over["valid_loss"],
                           "batch norm: valid": bn["valid_loss"]},
                          lesson.figure("batch_norm"), ylabel="loss", log=True,
                          title="batch norm: same lr, faster fit")
viz.plot_curve_comparison({f"{k}: valid": v["valid_loss"] for k, v in noise.items()}
                          | {f"{k}: train": v["train_loss"] for k, v in noise.items()},
                          lesson.figure("batch_size_noise"), ylabel="loss", log=True,
                          title="mini-batch size: small batches, noisy steps")

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
                          title="logistic regression: standardised inputs train fastest")

# %%
lesson.finish()
