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
from _common import evaluate, fit, lesson_setup, predict, seed_summary

# isort: split
import matplotlib.pyplot as plt
import numpy as np

import minitorch_cv as mt
from minitorch_cv import nn, optim, viz
from minitorch_cv.optim.swa_utils import AveragedModel, update_bn

# %% tags=["parameters"]
# Settings: a notebook runs with these; on the command line, --smoke, --epochs N and
# --seed N override them.
SMOKE = False  # True: tiny data and a few steps; checks that the lesson runs, not a result
EPOCHS = None  # None: the lesson's own default length of training
SEED = 0

# %%
lesson = lesson_setup("22_ensembles_and_swa", __doc__, smoke=SMOKE, epochs=EPOCHS,
                      seed=SEED)

# every choice (which single model is best, which learning rate) is made on validation images
# held out of the training file; the test set is opened once, in section 5
(x_train, y_train), (x_valid, y_valid), classes = lesson.train_valid(
    "fashion-mnist", n_train=lesson.pick(6000, 128), n_valid=lesson.pick(1000, 64))
x_train, x_valid = x_train.reshape(len(x_train), -1), x_valid.reshape(len(x_valid), -1)
epochs = lesson.n_epochs(8)
max_steps = lesson.pick(None, 2)


def mlp():
    return nn.Sequential(nn.Linear(784, 256), nn.BatchNorm1d(256), nn.ReLU(), nn.Dropout(0.2),
                         nn.Linear(256, 10))


# %% [markdown]
# ## 1. Voting over five models, three times
#
# Five MLPs differing only in their random seed (initialisation, shuffling, dropout). Hard
# voting: each votes for a class and the majority wins; soft voting: their predicted
# probabilities are averaged. The fair rival of an ensemble is the single model one would
# actually keep, the one with the best *validation* accuracy (picking the best on the test set
# would flatter it with a choice made on the test data). One ensemble of five is one draw, so
# the whole experiment is repeated with three disjoint sets of seeds; the test numbers are in
# section 5.

# %%
n_models = lesson.pick(5, 3)
n_repeats = 3
ensembles = []  # per repeat: the members and their validation accuracies
for repeat in range(n_repeats):
    members, valid_accuracy = [], []
    for member in range(n_models):
        seed = lesson.seed + 100 * repeat + member
        mt.manual_seed(seed)
        model = mlp()
        fit(model, optim.Adam(model.parameters(), lr=1e-3), (x_train, y_train),
            (x_valid, y_valid), epochs, 64, max_steps=max_steps, seed=seed, verbose=False)
        members.append(model)
        valid_accuracy.append(evaluate(model, x_valid, y_valid)[1])
    ensembles.append((members, valid_accuracy))
    print(f"repeat {repeat + 1}: validation accuracy of the {n_models} members "
          + " ".join(f"{a:.4f}" for a in valid_accuracy)
          + f"; the one we would keep: member {int(np.argmax(valid_accuracy)) + 1}")


def vote(members, x):
    """Hard and soft voting: the predicted classes of the majority and of the mean
    probability, and how often the members disagree."""
    logits = np.stack([predict(m, x) for m in members])             # (models, N, 10)
    votes = logits.argmax(axis=2)                                    # (models, N)
    counts = np.apply_along_axis(np.bincount, 0, votes, minlength=10)  # (10, N)
    shifted = np.exp(logits - logits.max(axis=2, keepdims=True))
    probabilities = shifted / shifted.sum(axis=2, keepdims=True)
    disagree = float((votes != votes[0]).any(axis=0).mean())
    return counts.argmax(axis=0), probabilities.mean(axis=0).argmax(axis=1), disagree


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
    fit(model, sgd, (x_train, y_train), (x_valid, y_valid), 1, 64, max_steps=max_steps,
        seed=lesson.seed + epoch, verbose=False)
    sgd_curve.append(evaluate(model, x_valid, y_valid)[1])
    if epoch + 1 >= swa_start:
        swa.update_parameters(model)
        update_bn([mt.tensor(x_train[i:i + 256]) for i in range(0, len(x_train), 256)], swa)
        swa_curve.append(evaluate(swa, x_valid, y_valid)[1])
    else:
        swa_curve.append(float("nan"))
swa_model, sgd_model = swa, model
print(f"SGD final weights: validation accuracy {sgd_curve[-1]:.4f}; SWA average of "
      f"{int(swa.n_averaged.item())} epochs: {swa_curve[-1]:.4f}")
fig, ax = plt.subplots(figsize=(6.4, 3.6))
ax.plot(range(1, epochs + 1), sgd_curve, marker="o", label="SGD (current weights)")
ax.plot(range(1, epochs + 1), swa_curve, marker="s", label="SWA (averaged weights)")
ax.axvline(swa_start, color="0.6", ls=":")
ax.set_xlabel("epoch")
ax.set_xticks(range(1, epochs + 1, max(1, epochs // 10)))  # whole epochs
ax.set_ylabel("validation accuracy")
ax.legend()
ax.grid(alpha=0.3)
ax.set_title(lesson.title(f"stochastic weight averaging from epoch {swa_start}"))
viz.save_figure(fig, lesson.figure("swa"))

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
    histories[name] = fit(model, make(model.parameters()), (x_train, y_train),
                          (x_valid, y_valid), epochs, 64, max_steps=max_steps, seed=lesson.seed,
                          verbose=False)
    print(f"{name:28s} train loss {histories[name]['train_loss'][-1]:.4f}, "
          f"validation accuracy {histories[name]['valid_accuracy'][-1]:.4f}")
viz.plot_curve_comparison({k: v["train_loss"] for k, v in histories.items()},
                          lesson.figure("sgd_vs_adam"), ylabel="training loss", log=True,
                          title=lesson.title("the same MLP with three optimizers"))

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
                      (x_valid, y_valid), short, batch_size, max_steps=max_steps,
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
                color=viz.text_colour(grid[i, j], grid.min(), grid.max(), "viridis"))
ax.set_xlabel("learning rate (plain SGD)")
ax.set_ylabel("batch size")
fig.colorbar(image, ax=ax, label="validation accuracy")
best_lr = [lrs[int(row.argmax())] for row in grid]
trend = ("the best learning rate grows with the batch size" if best_lr == sorted(best_lr)
         and best_lr[0] != best_lr[-1] else "best learning rate per batch size: "
         + ", ".join(f"{b}: {lr}" for b, lr in zip(batch_sizes, best_lr)))
ax.set_title(lesson.title(f"validation accuracy after {short} epochs: {trend}"), fontsize=10)
viz.save_figure(fig, lesson.figure("lr_vs_batch_size"))

# %% [markdown]
# ## 5. The test set, once: ensembles against the single model we would keep
#
# All training and every choice are done. Each repeat's ensemble (hard and soft voting) is
# compared with the member that had the best validation accuracy, and with the average
# member; then SWA against plain SGD.

# %%
x_test, y_test, _ = lesson.final_test("fashion-mnist", limit=lesson.pick(None, 64))
x_test = x_test.reshape(len(x_test), -1)
outcome = {"hard voting": [], "soft voting (mean probability)": [],
           "single model chosen on validation": [], "average single model": []}
for repeat, (members, valid_accuracy) in enumerate(ensembles):
    hard, soft, disagree = vote(members, x_test)
    single = [evaluate(m, x_test, y_test)[1] for m in members]
    outcome["hard voting"].append(float((hard == y_test).mean()))
    outcome["soft voting (mean probability)"].append(float((soft == y_test).mean()))
    outcome["single model chosen on validation"].append(single[int(np.argmax(valid_accuracy))])
    outcome["average single model"].append(float(np.mean(single)))
    print(f"repeat {repeat + 1}: members {' '.join(f'{a:.4f}' for a in single)}; hard vote "
          f"{outcome['hard voting'][-1]:.4f}, soft vote "
          f"{outcome['soft voting (mean probability)'][-1]:.4f}; the members disagree on "
          f"{disagree:.1%} of the test images")
print(f"test accuracy over {n_repeats} ensembles of {n_models}:")
seed_summary(outcome, "test accuracy", lesson.smoke, unit="ensembles",
             seeds=[lesson.seed + 100 * r + m for r in range(n_repeats) for m in range(n_models)])
print(f"SWA: test accuracy {evaluate(swa_model, x_test, y_test)[1]:.4f}; the SGD weights it "
      f"averaged, at the end: {evaluate(sgd_model, x_test, y_test)[1]:.4f}")

# %%
lesson.finish()
