"""Transfer learning: reuse features learned on one dataset for another with few labels.

We pretrain a CNN on MNIST digits, then move it to Fashion-MNIST with only a small labelled
subset, four ways: training from scratch, feature extraction (freeze the convolutional layers,
train a new classifier), fine-tuning everything at a small learning rate, and unfreezing the
layers one stage at a time, last first. Without --data-dir the embedded Fashion-MNIST stands
in: the source task is then classes 0-4 and the target task classes 5-9.

Run: python lessons/21_transfer_learning.py [--smoke] [--data-dir DIR] [--epochs N] [--out DIR]
"""

# %% [markdown]
# # 21 Transfer learning

# %%
import copy

# _common first: it loads minitorch_cv, whose thread settings must precede NumPy
from _common import count_parameters, evaluate, fit, lesson_setup, seed_summary

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
lesson = lesson_setup("21_transfer_learning", __doc__, smoke=SMOKE, epochs=EPOCHS,
                      seed=SEED)

# %% [markdown]
# ## 1. Source and target tasks
#
# Validation images are held out of both training files: the source one to watch
# pretraining, the target one to choose each method's learning rate. The target test set is
# opened once, in section 4, after every model is trained.

# %%
if lesson.data_dir is not None:
    (xs, ys), (xs_valid, ys_valid), _ = lesson.train_valid(
        "mnist", n_train=lesson.pick(20000, 256), n_valid=lesson.pick(2000, 64))
    (xt_all, yt_all), (xt_valid, yt_valid), target_classes = lesson.train_valid(
        "fashion-mnist", n_valid=lesson.pick(1000, 64))
    source_name, target_name = "MNIST digits", "Fashion-MNIST"
else:
    (x_all, y_all), (x_held, y_held), names = lesson.train_valid(
        "fashion-mnist", n_valid=lesson.pick(2000, 128))
    source, target = y_all < 5, y_all >= 5
    xs, ys = x_all[source][:lesson.pick(None, 256)], y_all[source][:lesson.pick(None, 256)]
    xs_valid, ys_valid = x_held[y_held < 5], y_held[y_held < 5]
    xt_all, yt_all = x_all[target], y_all[target] - 5
    xt_valid, yt_valid = x_held[y_held >= 5], y_held[y_held >= 5] - 5
    target_classes = names[5:]
    source_name, target_name = "Fashion-MNIST classes 0-4", "Fashion-MNIST classes 5-9"
n_labelled = lesson.pick(500, 64)
pick = np.random.default_rng(lesson.seed).permutation(len(xt_all))[:n_labelled]
xt, yt = xt_all[pick], yt_all[pick]
n_classes_source, n_classes_target = int(ys.max()) + 1, len(target_classes)
print(f"source: {source_name}, {len(xs):,} images; target: {target_name}, only {len(xt)} "
      f"labelled training images, {len(xt_valid):,} validation images")


# %%
def make_cnn(num_classes):
    def stage(c_in, c_out):
        return nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1), nn.BatchNorm2d(c_out),
                             nn.ReLU(), nn.MaxPool2d(2))

    model = nn.Sequential()
    model.add_module("stage1", stage(1, 16))
    model.add_module("stage2", stage(16, 32))
    model.add_module("stage3", stage(32, 64))
    model.add_module("head", nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                                           nn.Linear(64, num_classes)))
    return model


# %% [markdown]
# ## 2. Pretrain on the source task

# %%
mt.manual_seed(lesson.seed)
pretrained = make_cnn(n_classes_source)
print(f"pretraining ({count_parameters(pretrained):,} parameters):")
source_history = fit(pretrained, optim.Adam(pretrained.parameters(), lr=2e-3), (xs, ys),
                     (xs_valid, ys_valid), lesson.n_epochs(3), batch_size=64,
                     max_steps=lesson.pick(None, 2), seed=lesson.seed)
print(f"source validation accuracy {source_history['valid_accuracy'][-1]:.4f}")

# %% [markdown]
# ## 3. Four ways to learn the target task from few labels
#
# Each gets the same number of epochs on the same small labelled set. Freezing is done with
# `requires_grad_(False)`: the optimizer then skips those parameters (their `grad` stays
# None), and `eval()` on frozen stages keeps their batch-norm statistics fixed.
#
# A fair comparison gives every method the same chance: each one's learning rate is chosen
# by the same procedure (the best validation accuracy over the same grid, first seed), and
# then each is trained with three seeds (initialisation and batch order), so that the
# difference between methods can be set against the difference between seeds.

# %%
epochs = lesson.n_epochs(15, 1)
max_steps = lesson.pick(None, 1)
lr_grid = lesson.pick([2e-4, 5e-4, 2e-3, 5e-3, 1e-2], [5e-4, 5e-3])
seeds = [lesson.seed + k for k in range(3)]


def transferred():
    model = copy.deepcopy(pretrained)
    model.zero_grad(set_to_none=True)  # no gradients carried over from pretraining
    model.head[2] = nn.Linear(64, n_classes_target)  # a new classifier for the new classes
    return model


def train(model, parameters, lr, seed, n_epochs=epochs, frozen=()):
    original_train = model.train

    def train_keeping_frozen_in_eval(mode=True):  # frozen stages keep their BN statistics
        original_train(mode)
        for stage in frozen:
            stage.eval()
        return model

    model.train = train_keeping_frozen_in_eval
    history = fit(model, optim.Adam(parameters, lr=lr), (xt, yt), (xt_valid, yt_valid),
                  n_epochs, batch_size=32, max_steps=max_steps, seed=seed, verbose=False)
    model.train = original_train
    return history


def from_scratch(lr, seed):
    mt.manual_seed(seed)
    model = make_cnn(n_classes_target)
    return model, train(model, model.parameters(), lr, seed)


def feature_extraction(lr, seed):
    mt.manual_seed(seed)
    model = transferred()
    model.requires_grad_(False)
    model.head.requires_grad_(True)
    history = train(model, model.head.parameters(), lr, seed,
                    frozen=[model.stage1, model.stage2, model.stage3])
    assert model.stage1[0].weight.grad is None
    return model, history


def fine_tuning(lr, seed):
    mt.manual_seed(seed)
    model = transferred()
    return model, train(model, model.parameters(), lr, seed)


def gradual_unfreezing(lr, seed):
    mt.manual_seed(seed)
    model = transferred()
    model.requires_grad_(False)
    history = {}
    stages = [model.head, model.stage3, model.stage2, model.stage1]
    per_phase = max(1, epochs // len(stages))
    for phase, stage in enumerate(stages):
        stage.requires_grad_(True)
        trainable = [p for p in model.parameters() if p.requires_grad]
        n_epochs = per_phase if phase < len(stages) - 1 else max(1, epochs - per_phase * phase)
        part = train(model, trainable, lr, seed + phase, n_epochs=n_epochs,
                     frozen=stages[phase + 1:])
        for key, values in part.items():
            history.setdefault(key, []).extend(values)
    return model, history


methods = {"from scratch": from_scratch, "feature extraction (frozen)": feature_extraction,
           "fine-tuning (all layers)": fine_tuning, "unfreezing stage by stage": gradual_unfreezing}
chosen_lr, runs = {}, {}
for name, method in methods.items():
    scores = {lr: method(lr, seeds[0]) for lr in lr_grid}
    chosen_lr[name] = max(lr_grid, key=lambda lr: scores[lr][1]["valid_accuracy"][-1])
    print(f"{name:30s} validation accuracy per lr: " + ", ".join(
        f"{lr:g}: {scores[lr][1]['valid_accuracy'][-1]:.3f}" for lr in lr_grid)
        + f" -> lr {chosen_lr[name]:g}"
        + (" (at the edge of the grid: a wider grid might do better)"
           if chosen_lr[name] in (lr_grid[0], lr_grid[-1]) else ""))
    runs[name] = [scores[chosen_lr[name]]] + [method(chosen_lr[name], seed) for seed in seeds[1:]]

viz.plot_curve_comparison({k: v[0][1]["valid_accuracy"] for k, v in runs.items()},
                          lesson.figure("transfer_valid_accuracy"),
                          ylabel="target validation accuracy",
                          title=lesson.title(f"{target_name} from {len(xt)} labels: pretrained "
                                             f"vs scratch (seed {seeds[0]})"))
viz.plot_curve_comparison({k: v[0][1]["train_loss"] for k, v in runs.items()},
                          lesson.figure("transfer_train_loss"), ylabel="training loss", log=True,
                          title=lesson.title("training loss on the small target set"))

# %% [markdown]
# ## 4. The target test set, once
#
# Every model is trained and every learning rate chosen; now each method's three models are
# evaluated on the target test set, and the numbers say whether transfer beat scratch by
# more than the seeds disagree.

# %%
if lesson.data_dir is not None:
    xt_test, yt_test, _ = lesson.final_test("fashion-mnist", limit=lesson.pick(None, 64))
else:
    x_test_all, y_test_all, _ = lesson.final_test("fashion-mnist")
    keep = np.flatnonzero(y_test_all >= 5)[:lesson.pick(None, 64)]
    xt_test, yt_test = x_test_all[keep], y_test_all[keep] - 5
test_accuracy = {name: [evaluate(model, xt_test, yt_test)[1] for model, _ in models_]
                 for name, models_ in runs.items()}
print(f"target test accuracy on {len(yt_test):,} images, each method at its chosen lr, "
      f"seeds {seeds}:")
seed_summary(test_accuracy, "test accuracy", lesson.smoke, seeds=seeds)
best_transfer = max((n for n in test_accuracy if n != "from scratch"),
                    key=lambda n: np.mean(test_accuracy[n]))
gain = np.subtract(test_accuracy[best_transfer], test_accuracy["from scratch"])
verdict = "helps on every seed" if (gain > 0).all() else (
    f"helps on {int((gain > 0).sum())} of {len(gain)} seeds only")
print(f"{best_transfer} minus from scratch, per seed: {' '.join(f'{g:+.4f}' for g in gain)} "
      f"(mean {gain.mean():+.4f}): transfer {verdict} with {len(xt)} labels"
      + (" (smoke run: not a result)" if lesson.smoke else ""))

# %%
lesson.finish()
