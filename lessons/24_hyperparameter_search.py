"""Hyperparameter search: a grid and a random search with the Trainer, and Ray Tune.

Hyperparameters (learning rate, width, depth, ...) are chosen on validation data, never on
the test set. We run a grid search over the learning rate and the width of the course's
CNNblocks with the course `Trainer`, draw the results as a heat map, run a random search with
log-uniform learning rates over the same budget, and show the same search on Ray Tune
(`minitorch_cv.train.tune_search`) when Ray is installed.

Run: python lessons/24_hyperparameter_search.py [--smoke] [--data-dir DIR] [--out DIR]
"""

# %% [markdown]
# # 24 Hyperparameter search

# %%
import importlib.util
import itertools

# _common first: it loads minitorch_cv, whose thread settings must precede NumPy
from _common import check_test_sealed, lesson_setup, predict

# isort: split
import matplotlib.pyplot as plt
import numpy as np

import minitorch_cv as mt
from minitorch_cv import nn, optim, viz
from minitorch_cv.data import DataLoader, TensorDataset
from minitorch_cv.models import CNNblocks, CNNConfig
from minitorch_cv.train import Accuracy, ReportTypes, Trainer, TrainerSettings

# %% tags=["parameters"]
# Settings: a notebook runs with these; on the command line, --smoke, --epochs N and
# --seed N override them.
SMOKE = False  # True: tiny data and a few steps; checks that the lesson runs, not a result
EPOCHS = None  # None: the lesson's own default length of training
SEED = 0

# %%
lesson = lesson_setup("24_hyperparameter_search", __doc__, smoke=SMOKE, epochs=EPOCHS,
                      seed=SEED)

# %% [markdown]
# ## 1. Train / validation / test
#
# The search looks only at the validation split (cut from the training images); the test set
# is used once, for the configuration the search picked.

# %%
(x_train, y_train), (x_valid, y_valid), classes = lesson.train_valid(
    "fashion-mnist", n_train=lesson.pick(2400, 128), n_valid=lesson.pick(600, 32))
print(f"train {len(x_train)}, validation {len(x_valid)}; the test set stays sealed until "
      "section 5")
epochs = lesson.n_epochs(2)


def run(config: dict) -> tuple[float, object]:
    """Train CNNblocks with ``config`` (lr, hidden) using the Trainer; its validation accuracy
    and the model."""
    check_test_sealed("a search run")
    mt.manual_seed(lesson.seed)
    model = CNNblocks(CNNConfig(hidden=config["hidden"], num_layers=2))
    trainloader = DataLoader(TensorDataset(x_train, y_train), batch_size=64, shuffle=True)
    validloader = DataLoader(TensorDataset(x_valid, y_valid), batch_size=256)
    settings = TrainerSettings(
        epochs=epochs, metrics=[Accuracy()], logdir=lesson.out / "runs",
        train_steps=lesson.pick(len(trainloader), 1), valid_steps=len(validloader),
        reporttypes=[ReportTypes.TOML], optimizer_kwargs={"lr": config["lr"]},
        scheduler_kwargs=None, earlystop_kwargs=None)
    trainer = Trainer(model, settings, nn.CrossEntropyLoss(), optim.Adam, trainloader,
                      validloader, scheduler=None, quiet=True, progress_bar=False)
    trainer.loop()
    return trainer.history[-1][repr(Accuracy())], model


# %% [markdown]
# ## 2. Grid search: every combination

# %%
lrs = lesson.pick([3e-4, 1e-3, 3e-3, 1e-2], [1e-3, 1e-2])
hiddens = lesson.pick([8, 16, 32], [8])
grid = np.zeros((len(hiddens), len(lrs)))
for (i, hidden), (j, lr) in itertools.product(enumerate(hiddens), enumerate(lrs)):
    grid[i, j], _ = run({"lr": lr, "hidden": hidden})
    print(f"hidden {hidden:3d}, lr {lr:.0e}: validation accuracy {grid[i, j]:.4f}")
best_i, best_j = np.unravel_index(grid.argmax(), grid.shape)
best = {"lr": lrs[best_j], "hidden": hiddens[best_i]}
print(f"grid search: best {best} with validation accuracy {grid.max():.4f} "
      f"({grid.size} runs)")
chance = 1 / len(classes)
for i, hidden in enumerate(hiddens):  # say what the grid shows, also where it surprises
    if grid[i].max() < chance + 0.05:
        print(f"-> hidden {hidden}: every learning rate left it near chance "
              f"({grid[i].min():.3f} to {grid[i].max():.3f}) after {epochs} epoch(s) on "
              f"{len(x_train):,} images: within this budget it never started to learn. A search "
              "ranks what its budget shows; a longer budget may rank the settings differently.")
diverged = [f"hidden {h}, lr {lr:.0e}" for (i, h), (j, lr)
            in itertools.product(enumerate(hiddens), enumerate(lrs))
            if grid[i, j] < chance + 0.05 and grid[i].max() >= chance + 0.05]
if diverged:
    print(f"-> near chance although the same width learns at another rate: "
          f"{', '.join(diverged)}")
fig, ax = plt.subplots(figsize=(6.5, 3.8))
image = ax.imshow(grid, cmap="viridis")
ax.set_xticks(range(len(lrs)), [f"{lr:.0e}" for lr in lrs])
ax.set_yticks(range(len(hiddens)), [str(h) for h in hiddens])
for i, j in itertools.product(range(len(hiddens)), range(len(lrs))):
    ax.text(j, i, f"{grid[i, j]:.3f}", ha="center", va="center",
            color=viz.text_colour(grid[i, j], grid.min(), grid.max(), "viridis"))
ax.add_patch(plt.Rectangle((best_j - 0.5, best_i - 0.5), 1, 1, fill=False, ec="red", lw=2))
ax.set_xlabel("learning rate (Adam)")
ax.set_ylabel("hidden channels")
fig.colorbar(image, ax=ax, label="validation accuracy")
ax.set_title("grid search: validation accuracy of CNNblocks")
viz.save_figure(fig, lesson.figure("grid_search_heatmap"))

# %% [markdown]
# ## 3. Random search: the same budget, drawn at random
#
# Drawing the learning rate log-uniformly tries a new value in every run, where a grid
# repeats each value once per width (Bergstra and Bengio 2012).

# %%
rng = np.random.default_rng(lesson.seed)
random_results = []
for _ in range(grid.size):
    config = {"lr": float(10 ** rng.uniform(-3.7, -2)), "hidden": int(rng.choice(hiddens))}
    accuracy, _ = run(config)
    random_results.append((config, accuracy))
    print(f"random: hidden {config['hidden']:3d}, lr {config['lr']:.1e}: {accuracy:.4f}")
best_random = max(random_results, key=lambda r: r[1])
print(f"random search: best {best_random[0]} with {best_random[1]:.4f}")
fig, ax = plt.subplots(figsize=(8.0, 3.6))
for hidden in hiddens:
    points = [(c["lr"], a) for c, a in random_results if c["hidden"] == hidden]
    if points:
        ax.scatter(*zip(*points), label=f"random, hidden {hidden}")
    ax.plot(lrs, grid[hiddens.index(hidden)], ls="--", marker="x", label=f"grid, hidden {hidden}")
ax.set_xscale("log")
ax.set_xlabel("learning rate")
ax.set_ylabel("validation accuracy")
ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))  # beside the points
ax.grid(alpha=0.3)
ax.set_title(lesson.title("grid (crosses) and random search (dots), same number of runs"))
viz.save_figure(fig, lesson.figure("random_search"))

# %% [markdown]
# ## 4. The same search on Ray Tune
#
# `tune_search(train_fn, search_space, num_samples)` runs trials in parallel; each trial
# trains with a Trainer that reports through `ReportTypes.RAY`.

# %%
if importlib.util.find_spec("ray") is None:
    print("Ray is not installed (pip install 'minitorch_cv[ray]'); with it, this cell runs\n"
          "  tune_search(train_fn, {'lr': tune.loguniform(2e-4, 1e-2), 'hidden': "
          "tune.choice([8, 16, 32])}, num_samples=12, metric='Accuracy', mode='max')")
else:
    from ray import tune  # noqa: PLC0415

    from minitorch_cv.train import tune_search  # noqa: PLC0415

    def train_fn(config):
        model = CNNblocks(CNNConfig(hidden=config["hidden"], num_layers=2))
        trainloader = DataLoader(TensorDataset(x_train, y_train), batch_size=64, shuffle=True)
        validloader = DataLoader(TensorDataset(x_valid, y_valid), batch_size=256)
        settings = TrainerSettings(
            epochs=epochs, metrics=[Accuracy()], logdir=lesson.out / "ray",
            train_steps=lesson.pick(len(trainloader), 1), valid_steps=len(validloader),
            reporttypes=[ReportTypes.RAY], optimizer_kwargs={"lr": config["lr"]},
            scheduler_kwargs=None, earlystop_kwargs=None)
        Trainer(model, settings, nn.CrossEntropyLoss(), optim.Adam, trainloader, validloader,
                scheduler=None, quiet=True).loop()

    results = tune_search(train_fn, {"lr": tune.loguniform(2e-4, 1e-2),
                                     "hidden": tune.choice(hiddens)},
                          num_samples=lesson.pick(grid.size, 2), metric="Accuracy", mode="max",
                          resources_per_trial={"cpu": 1},
                          storage_path=str(lesson.out.resolve() / "ray_results"), verbose=0)
    best_result = results.get_best_result()
    print(f"Ray Tune: best {best_result.config} with accuracy "
          f"{best_result.metrics['Accuracy']:.4f}")

# %% [markdown]
# ## 5. The chosen configuration on the test set, once

# %%
winner = best if grid.max() >= best_random[1] else best_random[0]
winner_valid, winner_model = run(winner)  # trained and watched on validation, as in the search
x_test, y_test, _ = lesson.final_test("fashion-mnist", limit=lesson.pick(1000, 64))
test_accuracy = float((predict(winner_model, x_test).argmax(axis=1) == y_test).mean())
print(f"chosen {winner}: validation accuracy {winner_valid:.4f}, test accuracy "
      f"{test_accuracy:.4f} (the test set's only use)")

# %%
lesson.finish()
