"""Invariance and augmentation: what convolution guarantees, and what data must teach.

A convolution is shift-equivariant: shift the input and the output shifts with it, exactly.
It is not rotation- or scale-equivariant. We check both numerically, then measure how a
trained CNN's accuracy falls as test images are shifted, rotated and scaled, and how training
with augmentation (random crops, flips, rotations, and MixUp) changes that.

Run: python lessons/05_invariance_and_augmentation.py [--smoke] [--data-dir DIR] [--out DIR]
"""

# %% [markdown]
# # 05 Invariance and augmentation

# %%
# _common first: it loads minitorch_cv, whose thread settings must precede NumPy
from _common import fit, lesson_setup, one_cycle, predict

# isort: split
import matplotlib.pyplot as plt
import numpy as np

import minitorch_cv as mt
import minitorch_cv.functional as F
from minitorch_cv import nn, optim, viz
from minitorch_cv.data import RandomCrop, RandomHorizontalFlip, RandomRotation, mixup
from minitorch_cv.data.geometric import resize, rotate

# %% tags=["parameters"]
# Settings: a notebook runs with these; on the command line, --smoke, --epochs N and
# --seed N override them.
SMOKE = False  # True: tiny data and a few steps; checks that the lesson runs, not a result
EPOCHS = None  # None: the lesson's own default length of training
SEED = 0

# %%
lesson = lesson_setup("05_invariance_and_augmentation", __doc__, smoke=SMOKE, epochs=EPOCHS,
                      seed=SEED)

# %% [markdown]
# ## 1. Shift-equivariance, numerically
#
# conv(shift(x)) = shift(conv(x)) as long as nothing crosses the border. A rotation by 90
# degrees does not commute with a random filter; it does with a filter that is itself
# rotation-symmetric. Rescaling does not commute either.

# %%
(x_train, y_train), (x_valid, y_valid), classes = lesson.train_valid(
    "fashion-mnist", n_train=lesson.pick(6000, 128), n_valid=lesson.pick(1000, 64))
rng = np.random.default_rng(0)
image = np.zeros((1, 1, 40, 40), dtype=np.float32)
image[:, :, 6:34, 6:34] = x_train[:1] - x_train[:1].min()  # a garment with a zero margin
weight = mt.tensor(rng.normal(size=(4, 1, 5, 5)).astype(np.float32))


def conv(a):
    return F.conv2d(mt.tensor(np.ascontiguousarray(a)), weight, padding=2).numpy()


shifted = np.roll(image, (3, -2), axis=(2, 3))
shift_gap = np.abs(conv(shifted) - np.roll(conv(image), (3, -2), axis=(2, 3))).max()
scale = np.abs(conv(image)).max()
rot_gap = np.abs(conv(np.rot90(image, 1, (2, 3))) - np.rot90(conv(image), 1, (2, 3))).max()
symmetric = mt.tensor(np.array([[[[0, 1, 0], [1, -4, 1], [0, 1, 0]]]], dtype=np.float32))
sym_conv = (F.conv2d(mt.tensor(np.ascontiguousarray(np.rot90(image, 1, (2, 3)))), symmetric,
                     padding=1).numpy(),
            np.rot90(F.conv2d(mt.tensor(image), symmetric, padding=1).numpy(), 1, (2, 3)))
sym_gap = np.abs(sym_conv[0] - sym_conv[1]).max()
small = resize(image, (20, 20))
scale_gap = np.abs(resize(conv(image), (20, 20)) - conv(small)).max()
print(f"largest output value {scale:.1f}; largest difference:")
print(f"  shift by (3, -2):       conv(shift x) vs shift(conv x)   {shift_gap:.1e}  (equal)")
print(f"  rotate 90, random 5x5:  conv(rot x)  vs rot(conv x)      {rot_gap:.1f}")
print(f"  rotate 90, Laplacian:   (a rotation-symmetric filter)    {sym_gap:.1e}")
print(f"  half size:              conv(resize x) vs resize(conv x) {scale_gap:.1f}")
assert shift_gap < 1e-4 and rot_gap > 0.1 * scale and sym_gap < 1e-4

# %% [markdown]
# ## 2. Three models: no augmentation, geometric augmentation, MixUp
#
# Same small CNN (three conv-BN-ReLU stages, global average pooling, linear), same steps.
# Geometric augmentation: a random crop after 3 pixels of padding (shifts up to 3), a
# horizontal flip, a rotation up to 20 degrees. MixUp blends two images and their labels.


# %%
def make_cnn():
    def stage(c_in, c_out):
        return [nn.Conv2d(c_in, c_out, 3, padding=1), nn.BatchNorm2d(c_out), nn.ReLU()]

    return nn.Sequential(*stage(1, 16), nn.MaxPool2d(2), *stage(16, 32), nn.MaxPool2d(2),
                         *stage(32, 64), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                         nn.Linear(64, 10))


background = float(x_train.min())  # the normalised value of a black pixel
geometric = [RandomCrop(28, padding=3, fill=background), RandomHorizontalFlip(),
             RandomRotation(20, fill=background)]


def augment_geometric(xb, yb):
    for transform in geometric:
        xb = transform.batch(xb)
    return xb.astype(np.float32), yb


def augment_mixup(xb, yb):
    return mixup(xb, yb, alpha=0.4, num_classes=10)


epochs = lesson.n_epochs(8)
max_steps = lesson.pick(None, 2)
models = {}
for name, augment in (("no augmentation", None), ("crop + flip + rotate", augment_geometric),
                      ("MixUp", augment_mixup)):
    mt.manual_seed(lesson.seed)
    model = make_cnn()
    optimizer = optim.Adam(model.parameters(), lr=2e-3)
    # the same one-cycle schedule for all three (at a fixed rate the validation accuracy of
    # these batch-norm CNNs jumped by several points between epochs)
    scheduler = one_cycle(optimizer, 2e-3, epochs, len(x_train), 64, max_steps)
    print(f"{name}:")
    fit(model, optimizer, (x_train, y_train), (x_valid, y_valid), epochs, batch_size=64,
        augment=augment, scheduler=scheduler, max_steps=max_steps, seed=lesson.seed)
    models[name] = model

examples = augment_geometric(x_train[:8].copy(), y_train[:8])[0]
mixed, soft = augment_mixup(x_train[:8].copy(), y_train[:8])
titles = [f"{classes[y]}" for y in y_train[:8]]
titles += ["crop+flip+rot"] * 8
titles += [f"{soft[i].max():.2f} {classes[soft[i].argmax()]}" for i in range(8)]
viz.plot_image_grid(list(x_train[:8]) + list(examples) + list(mixed),
                    lesson.figure("augmented_examples"), titles, cols=8,
                    title=lesson.title("originals; crop + flip + rotate; MixUp (largest "
                                       "label weight)"))

# %% [markdown]
# ## 3. Accuracy as test images are shifted, rotated and scaled
#
# Training is over (each model was watched on held-out validation images); the test set is
# opened now, once, to measure how each model's accuracy falls as its images are transformed.


# %%
def shift(x, pixels):
    return np.roll(np.pad(x, ((0, 0), (0, 0), (8, 8), (8, 8)), constant_values=background),
                   pixels, axis=3)[:, :, 8:36, 8:36]


def rescale(x, factor):
    size = max(4, int(round(28 * factor)))
    scaled = resize(x, (size, size)).astype(np.float32)
    if size >= 28:
        start = (size - 28) // 2
        return scaled[:, :, start:start + 28, start:start + 28]
    before = (28 - size) // 2
    return np.pad(scaled, ((0, 0), (0, 0), (before, 28 - size - before),
                           (before, 28 - size - before)), constant_values=background)


x_test, y_test, _ = lesson.final_test("fashion-mnist", limit=lesson.pick(2000, 64))
sweeps = {
    "shift (pixels)": (lesson.pick([0, 1, 2, 3, 4, 6, 8], [0, 4]), shift),
    "rotation (degrees)": (lesson.pick([0, 10, 20, 30, 45, 60, 90], [0, 45]),
                           lambda x, d: rotate(x, np.full(len(x), float(d)), background)),
    "scale (factor)": (lesson.pick([0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.25, 1.4], [0.8, 1.0]),
                       rescale),
}
fig, axes = plt.subplots(1, 3, figsize=(15, 4))
measured = {}  # (sweep, model) -> {value: accuracy}
for ax, (label, (values, transform)) in zip(axes, sweeps.items()):
    for name, model in models.items():
        accuracies = [float((predict(model, transform(x_test, v).astype(np.float32))
                             .argmax(axis=1) == y_test).mean()) for v in values]
        measured[label, name] = dict(zip(values, accuracies))
        ax.plot(values, accuracies, marker="o", label=name)
        print(f"{name:22s} {label:20s} " + " ".join(f"{v}:{a:.2f}" for v, a in
                                                    zip(values, accuracies)))
    ax.set_xlabel(label)
    ax.set_ylabel("test accuracy")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
fig.suptitle(lesson.title("how test accuracy falls under transformations the model was "
                          "(not) trained on"))
fig.tight_layout()
viz.save_figure(fig, lesson.figure("robustness_curves"))

# %% [markdown]
# What the numbers say: accuracy on the untransformed images, then how much each model loses
# at a shift of 8 pixels, a rotation of 20 degrees (the augmentation's largest) and a scale of
# 0.8.

# %%
clean = {name: measured["shift (pixels)", name][0] for name in models}
ranked = sorted(clean, key=clean.get, reverse=True)
if clean[ranked[0]] == clean[ranked[-1]]:
    verdict = "all equal"
elif ranked[0] == "no augmentation":
    verdict = ("best: no augmentation (the augmented models lose clean accuracy: their training "
               "task is harder, see their train accuracy above)")
else:
    verdict = f"best: {ranked[0]}"
print("-> untransformed test images: "
      + ", ".join(f"{n} {a:.3f}" for n, a in clean.items()) + f"; {verdict}")
for label, value in (("shift (pixels)", 8), ("rotation (degrees)", 20), ("scale (factor)", 0.8)):
    if all(value in measured[label, name] for name in models):
        drops = {name: clean[name] - measured[label, name][value] for name in models}
        steadiest = min(drops, key=drops.get)
        tie = sum(drops[n] == drops[steadiest] for n in models) > 1
        print(f"-> {label.split()[0]} {value}: " + ", ".join(
            f"{n} {measured[label, n][value]:.3f} ({-drops[n]:+.3f})" for n in models)
            + ("; the same loss for all" if tie else f"; smallest loss: {steadiest}"))

# %%
lesson.finish()
