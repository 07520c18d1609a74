"""Ensembles and stochastic weight averaging; SGD against Adam; learning rate against batch size.

Several models that make different mistakes vote better than any one of them (hard voting).
Stochastic weight averaging (Izmailov et al. 2018) gets much of that benefit from one training
run: keep SGD going at a constant learning rate and average the weights it visits. We also
compare SGD and Adam on the same network, and map the learning-rate / batch-size trade-off.
All with MLPs on Fashion-MNIST, so that the lesson runs in minutes.

Run: python lessons/22_ensembles_and_swa.py [--smoke] [--data-dir DIR] [--epochs N] [--out DIR]
"""

# %% [markdown]
# # 22 Ensembles and SWA

# %%
# _common first: it loads minitorch_cv, whose thread settings must precede NumPy
from _common import evaluate, fit, lesson_setup, predict

# isort: split
import numpy as np

import minitorch_cv as mt
from minitorch_cv import nn, optim, viz
from minitorch_cv.optim.swa_utils import AveragedModel, update_bn

plt = viz._figure.plt
lesson = lesson_setup("22_ensembles_and_swa", __doc__)

x_train, y_train, classes = lesson.load("fashion-mnist", train=True, limit=lesson.pick(6000, 128))
x_test, y_test, _ = lesson.load("fashion-mnist", train=False, limit=lesson.pick(1000, 64))
x_train, x_test = x_train.reshape(len(x_train), -1), x_test.reshape(len(x_test), -1)
epochs = lesson.n_epochs(8)
max_steps = lesson.pick(None, 2)


def mlp():
    return nn.Sequential(nn.Linear(784, 256), nn.BatchNorm1d(256), nn.ReLU(), nn.Dropout(0.2),
                         nn.Linear(256, 10))


# %% [markdown]
# ## 1. Hard voting over five models
#
# Five MLPs differing only in their random seed (initialisation, shuffling, dropout). Each
# votes for a class; the majority wins.

# %%
n_models = lesson.pick(5, 3)
votes, single = [], []
for seed in range(n_models):
    mt.manual_seed(seed)
    model = mlp()
    fit(model, optim.Adam(model.parameters(), lr=1e-3), (x_train, y_train), (x_test, y_test),
        epochs, 64, max_steps=max_steps, seed=seed, verbose=False)
    predicted = predict(model, x_test).argmax(axis=1)
    votes.append(predicted)
    single.append(float((predicted == y_test).mean()))
    print(f"model {seed}: test accuracy {single[-1]:.4f}")
votes = np.stack(votes)                                     # (models, N)
counts = np.apply_along_axis(np.bincount, 0, votes, minlength=10)  # (10, N)
ensemble = counts.argmax(axis=0)
ensemble_accuracy = float((ensemble == y_test).mean())
disagree = float((votes != votes[0]).any(axis=0).mean())
print(f"hard-voting ensemble of {n_models}: {ensemble_accuracy:.4f} (best single "
      f"{max(single):.4f}, mean {np.mean(single):.4f}); the models disagree on {disagree:.1%} "
      "of the test images")

# %% [markdown]
# ## 2. Stochastic weight averaging
#
# Train with SGD; from half-way on, hold the learning rate constant and add the weights after
# each epoch to a running average (`AveragedModel`). The averaged weights' batch-norm
# statistics are recomputed with `update_bn` before evaluation.

# %%
mt.manual_seed(lesson.seed)
model = mlp()
sgd = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
swa = AveragedModel(model)
swa_start = max(1, epochs // 2)
sgd_curve, swa_curve = [], []
for epoch in range(epochs):
    fit(model, sgd, (x_train, y_train), (x_test, y_test), 1, 64, max_steps=max_steps,
        seed=lesson.seed + epoch, verbose=False)
    sgd_curve.append(evaluate(model, x_test, y_test)[1])
    if epoch + 1 >= swa_start:
        swa.update_parameters(model)
        update_bn([mt.tensor(x_train[i:i + 256]) for i in range(0, len(x_train), 256)], swa)
        swa_curve.append(evaluate(swa, x_test, y_test)[1])
    else:
        swa_curve.append(float("nan"))
print(f"SGD final weights: test accuracy {sgd_curve[-1]:.4f}; SWA average of "
      f"{int(swa.n_averaged.item())} epochs: {swa_curve[-1]:.4f}")
fig, ax = plt.subplots(figsize=(6.4, 3.6))
ax.plot(range(1, epochs + 1), sgd_curve, marker="o", label="SGD (current weights)")
ax.plot(range(1, epochs + 1), swa_curve, marker="s", label="SWA (averaged weights)")
ax.axvline(swa_start, color="0.6", ls=":")
ax.set_xlabel("epoch")
ax.set_ylabel("test accuracy")
ax.legend()
ax.grid(alpha=0.3)
ax.set_title("stochastic weight averaging from epoch " + str(swa_start))
viz._figure.save(fig, lesson.figure("swa"))

# %% [markdown]
# ## 3. SGD against Adam

# %%
histories = {}
for name, make in (("SGD lr 0.05, momentum 0.9",
                    lambda p: optim.SGD(p, lr=0.05, momentum=0.9)),
                   ("SGD lr 0.05, no momentum", lambda p: optim.SGD(p, lr=0.05)),
                   ("Adam lr 1e-3", lambda p: optim.Adam(p, lr=1e-3))):
    mt.manual_seed(lesson.seed)
    model = mlp()
    histories[name] = fit(model, make(model.parameters()), (x_train, y_train), (x_test, y_test),
                          epochs, 64, max_steps=max_steps, seed=lesson.seed, verbose=False)
    print(f"{name:28s} train loss {histories[name]['train_loss'][-1]:.4f}, "
          f"test accuracy {histories[name]['valid_accuracy'][-1]:.4f}")
viz.plot_curve_comparison({k: v["train_loss"] for k, v in histories.items()},
                          lesson.figure("sgd_vs_adam"), ylabel="training loss", log=True,
                          title="the same MLP with three optimizers")

# %% [markdown]
# ## 4. Learning rate against batch size
#
# Larger batches average more examples per step: the gradient is less noisy but there are
# fewer steps per epoch, so a larger learning rate is needed (the "linear scaling rule").

# %%
lrs = lesson.pick([0.003, 0.01, 0.03, 0.1, 0.3], [0.01, 0.1])
batch_sizes = lesson.pick([16, 64, 256, 1024], [16, 64])
grid = np.zeros((len(batch_sizes), len(lrs)))
short = lesson.n_epochs(3)
for i, batch_size in enumerate(batch_sizes):
    for j, lr in enumerate(lrs):
        mt.manual_seed(lesson.seed)
        model = mlp()
        history = fit(model, optim.SGD(model.parameters(), lr=lr), (x_train, y_train),
                      (x_test, y_test), short, batch_size, max_steps=max_steps,
                      seed=lesson.seed, verbose=False)
        grid[i, j] = history["valid_accuracy"][-1]
    best = lrs[int(grid[i].argmax())]
    print(f"batch {batch_size:5d}: " + "  ".join(f"lr {lr}: {a:.3f}" for lr, a in
                                                 zip(lrs, grid[i])) + f"  -> best lr {best}")
fig, ax = plt.subplots(figsize=(7, 4))
image = ax.imshow(grid, cmap="viridis")
ax.set_xticks(range(len(lrs)), [str(lr) for lr in lrs])
ax.set_yticks(range(len(batch_sizes)), [str(b) for b in batch_sizes])
for i in range(len(batch_sizes)):
    for j in range(len(lrs)):
        ax.text(j, i, f"{grid[i, j]:.3f}", ha="center", va="center",
                color="white" if grid[i, j] < grid.max() - 0.1 else "black")
ax.set_xlabel("learning rate (plain SGD)")
ax.set_ylabel("batch size")
fig.colorbar(image, ax=ax, label="test accuracy")
ax.set_title(f"test accuracy after {short} epochs: bigger batches want bigger steps")
viz._figure.save(fig, lesson.figure("lr_vs_batch_size"))

# %%
lesson.finish()
