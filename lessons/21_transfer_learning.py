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
from _common import count_parameters, fit, lesson_setup

# isort: split
import numpy as np

import minitorch_cv as mt
from minitorch_cv import nn, optim, viz

lesson = lesson_setup("21_transfer_learning", __doc__)

# %% [markdown]
# ## 1. Source and target tasks

# %%
if lesson.data_dir is not None:
    xs, ys, _ = lesson.load("mnist", train=True, limit=lesson.pick(20000, 256))
    xs_test, ys_test, _ = lesson.load("mnist", train=False, limit=lesson.pick(2000, 64))
    xt_all, yt_all, target_classes = lesson.load("fashion-mnist", train=True)
    xt_test, yt_test, _ = lesson.load("fashion-mnist", train=False,
                                      limit=lesson.pick(None, 64))
    source_name, target_name = "MNIST digits", "Fashion-MNIST"
else:
    x_all, y_all, names = lesson.load("fashion-mnist", train=True)
    x_test_all, y_test_all, _ = lesson.load("fashion-mnist", train=False)
    source, target = y_all < 5, y_all >= 5
    xs, ys = x_all[source][:lesson.pick(None, 256)], y_all[source][:lesson.pick(None, 256)]
    xs_test, ys_test = x_test_all[y_test_all < 5], y_test_all[y_test_all < 5]
    xt_all, yt_all = x_all[target], y_all[target] - 5
    xt_test, yt_test = x_test_all[y_test_all >= 5], y_test_all[y_test_all >= 5] - 5
    target_classes = names[5:]
    source_name, target_name = "Fashion-MNIST classes 0-4", "Fashion-MNIST classes 5-9"
n_labelled = lesson.pick(500, 64)
pick = np.random.default_rng(lesson.seed).permutation(len(xt_all))[:n_labelled]
xt, yt = xt_all[pick], yt_all[pick]
n_classes_source, n_classes_target = int(ys.max()) + 1, len(target_classes)
print(f"source: {source_name}, {len(xs):,} images; target: {target_name}, only {len(xt)} "
      f"labelled training images, {len(xt_test):,} test images")


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
                     (xs_test, ys_test), lesson.n_epochs(3), batch_size=64,
                     max_steps=lesson.pick(None, 2), seed=lesson.seed)
print(f"source test accuracy {source_history['valid_accuracy'][-1]:.4f}")

# %% [markdown]
# ## 3. Four ways to learn the target task from few labels
#
# Each gets the same number of epochs on the same small labelled set. Freezing is done with
# `requires_grad_(False)`: the optimizer then skips those parameters (their `grad` stays
# None), and `eval()` on frozen stages keeps their batch-norm statistics fixed.

# %%
epochs = lesson.n_epochs(15, 1)
max_steps = lesson.pick(None, 1)


def transferred():
    model = copy.deepcopy(pretrained)
    model.zero_grad(set_to_none=True)  # no gradients carried over from pretraining
    model.head[2] = nn.Linear(64, n_classes_target)  # a new classifier for the new classes
    return model


def train(model, parameters, lr, n_epochs=epochs, frozen=()):
    original_train = model.train

    def train_keeping_frozen_in_eval(mode=True):  # frozen stages keep their BN statistics
        original_train(mode)
        for stage in frozen:
            stage.eval()
        return model

    model.train = train_keeping_frozen_in_eval
    history = fit(model, optim.Adam(parameters, lr=lr), (xt, yt), (xt_test, yt_test),
                  n_epochs, batch_size=32, max_steps=max_steps, seed=lesson.seed, verbose=False)
    model.train = original_train
    return history


results = {}
mt.manual_seed(lesson.seed)
scratch = make_cnn(n_classes_target)
results["from scratch"] = train(scratch, scratch.parameters(), lr=2e-3)

extractor = transferred()
extractor.requires_grad_(False)
extractor.head.requires_grad_(True)
frozen = [extractor.stage1, extractor.stage2, extractor.stage3]
results["feature extraction (frozen)"] = train(extractor, extractor.head.parameters(), lr=5e-3,
                                               frozen=frozen)
assert extractor.stage1[0].weight.grad is None

finetuned = transferred()
results["fine-tuning (all layers)"] = train(finetuned, finetuned.parameters(), lr=5e-4)

gradual = transferred()
gradual.requires_grad_(False)
history = {"train_loss": [], "valid_loss": [], "train_accuracy": [], "valid_accuracy": [],
           "seconds": []}
stages = [gradual.head, gradual.stage3, gradual.stage2, gradual.stage1]
per_phase = max(1, epochs // len(stages))
for phase, stage in enumerate(stages):
    stage.requires_grad_(True)
    trainable = [p for p in gradual.parameters() if p.requires_grad]
    still_frozen = stages[phase + 1:]
    n_epochs = per_phase if phase < len(stages) - 1 else max(1, epochs - per_phase * phase)
    part = train(gradual, trainable, lr=5e-4 if phase else 5e-3, n_epochs=n_epochs,
                 frozen=still_frozen)
    for key in history:
        history[key] += part[key]
results["unfreezing stage by stage"] = history

print(f"\n{'method':30s} {'target test accuracy':>21}")
for name, h in results.items():
    print(f"{name:30s} {h['valid_accuracy'][-1]:21.4f}")
best_transfer = max(results["fine-tuning (all layers)"]["valid_accuracy"][-1],
                    results["unfreezing stage by stage"]["valid_accuracy"][-1])
gain = best_transfer - results["from scratch"]["valid_accuracy"][-1]
print(f"best fine-tuned model minus training from scratch: {gain:+.4f} with {len(xt)} labels "
      f"({'transfer helps' if gain > 0 else 'no gain in this run'})")
viz.plot_curve_comparison({k: v["valid_accuracy"] for k, v in results.items()},
                          lesson.figure("transfer_test_accuracy"), ylabel="target test accuracy",
                          title=f"{target_name} from {len(xt)} labels: pretrained vs scratch")
viz.plot_curve_comparison({k: v["train_loss"] for k, v in results.items()},
                          lesson.figure("transfer_train_loss"), ylabel="training loss", log=True,
                          title="training loss on the small target set")

# %%
lesson.finish()
