"""ResNet: the degradation problem, and how a skip connection removes it.

He et al. (2015) saw that a plain 56-layer network reaches a *higher training error* than a
20-layer one: not overfitting (training error is worse too) but an optimisation problem. A
residual block computes relu(F(x) + x): if the identity is what a block should do, F only has
to go to zero. We repeat the experiment at lesson scale: plain and residual networks of the
same shapes, shallow and deep, trained the same way on Fashion-MNIST, and compare their
training loss. Then the library's ResNets: summary and parameter counts against the paper.

Run: python lessons/15_resnet.py [--smoke] [--data-dir DIR] [--epochs N] [--out DIR]
"""

# %% [markdown]
# # 15 ResNet and the degradation experiment

# %%
# _common first: it loads minitorch_cv, whose thread settings must precede NumPy
from _common import count_parameters, fit, lesson_setup

# isort: split
import numpy as np

import minitorch_cv as mt
from minitorch_cv import models, nn, optim, viz
from minitorch_cv.summary import summary

lesson = lesson_setup("15_resnet", __doc__)

# %% [markdown]
# ## 1. One block, two wirings
#
# Both blocks are conv-BN-ReLU-conv-BN. The plain block ends with a ReLU; the residual block
# adds its input first (through a 1x1 conv where the shape changes): out = relu(F(x) + x).


# %%
class Block(nn.Module):
    def __init__(self, in_channels, out_channels, stride, residual):
        super().__init__()
        self.residual = residual
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU()
        self.shortcut = nn.Identity()
        if residual and (stride != 1 or in_channels != out_channels):
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),
                nn.BatchNorm2d(out_channels))

    def forward(self, x):
        out = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
        if self.residual:
            out = out + self.shortcut(x)
        return self.relu(out)


def make_net(blocks_per_stage, residual, widths=(8, 16, 32), num_classes=10):
    """6n + 2 layers as the paper's CIFAR nets: a stem conv, 3 stages of n blocks, a linear."""
    layers = [nn.AvgPool2d(2),  # 28x28 -> 14x14: keeps the lesson within minutes on a laptop
              nn.Conv2d(1, widths[0], 3, padding=1, bias=False), nn.BatchNorm2d(widths[0]),
              nn.ReLU()]
    in_channels = widths[0]
    for stage, width in enumerate(widths):
        for block in range(blocks_per_stage):
            stride = 2 if stage > 0 and block == 0 else 1
            layers.append(Block(in_channels, width, stride, residual))
            in_channels = width
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(in_channels, num_classes)]
    return nn.Sequential(*layers)


# %% [markdown]
# ## 2. The degradation experiment
#
# Four networks: plain and residual, each shallow (n = 1: 8 layers) and deep (n = 5:
# 32 layers). Same data, same optimiser (SGD with momentum, lr 0.05), same number of steps.
# The question is about *optimisation*, so we watch the training loss.

# %%
x_train, y_train, classes = lesson.load("fashion-mnist", train=True,
                                        limit=lesson.pick(4000, 128))
x_test, y_test, _ = lesson.load("fashion-mnist", train=False, limit=lesson.pick(1000, 64))
epochs = lesson.n_epochs(6)
max_steps = lesson.pick(None, 1)
shallow_n, deep_n = lesson.pick((1, 5), (1, 2))
results = {}
for residual in (False, True):
    for n in (shallow_n, deep_n):
        name = f"{'residual' if residual else 'plain'}-{6 * n + 2}"
        mt.manual_seed(lesson.seed)
        model = make_net(n, residual)
        optimizer = optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-4)
        print(f"{name}: {count_parameters(model):,} parameters")
        history = fit(model, optimizer, (x_train, y_train), (x_test, y_test), epochs,
                      batch_size=64, max_steps=max_steps, seed=lesson.seed, name=f"{name} ")
        results[name] = history

print(f"\n{'network':14s} {'final train loss':>17} {'train acc':>10} {'test acc':>9}")
for name, history in results.items():
    print(f"{name:14s} {history['train_loss'][-1]:17.4f} {history['train_accuracy'][-1]:10.4f} "
          f"{history['valid_accuracy'][-1]:9.4f}")
plain_shallow, plain_deep = (results[f"plain-{6 * n + 2}"] for n in (shallow_n, deep_n))
res_shallow, res_deep = (results[f"residual-{6 * n + 2}"] for n in (shallow_n, deep_n))
gap_plain = plain_deep["train_loss"][-1] - plain_shallow["train_loss"][-1]
gap_residual = res_deep["train_loss"][-1] - res_shallow["train_loss"][-1]
print(f"\ndeep minus shallow final training loss: plain {gap_plain:+.4f}, "
      f"residual {gap_residual:+.4f}")
if gap_plain > 0 and gap_residual < gap_plain:
    print(f"degradation: the deeper plain net fits its own training data worse than the "
          f"shallow one; with skip connections the gap is {gap_plain / max(gap_residual, 1e-9):.1f}"
          "x smaller" + (" (here: gone)." if gap_residual <= 0 else "."))
else:
    print("no degradation gap in this run (try more --epochs or the full data): at this scale "
          "the effect depends on the run.")

viz.plot_curve_comparison({k: v["train_loss"] for k, v in results.items()},
                          lesson.figure("degradation_train_loss"), ylabel="training loss",
                          title="plain vs residual, shallow vs deep: training loss per epoch")
viz.plot_curve_comparison({k: v["valid_accuracy"] for k, v in results.items()},
                          lesson.figure("degradation_test_accuracy"), ylabel="test accuracy",
                          title="plain vs residual, shallow vs deep: test accuracy per epoch")

# %% [markdown]
# ## 3. Is it vanishing gradients? No: batch norm keeps them alive in both nets
#
# The gradient of the loss with respect to each block's first conv, in the deep plain and
# residual nets at initialisation. He et al. checked the same: with batch norm the plain
# net's gradients do not vanish, so its higher training error is an optimisation difficulty
# (a stack of non-linear layers finds it hard to approximate an identity), which the
# shortcut removes by making the identity the default.

# %%
mt.manual_seed(lesson.seed)
probe_x, probe_y = mt.tensor(x_train[:64]), mt.tensor(y_train[:64])
norms = {}
for residual in (False, True):
    model = make_net(deep_n, residual)
    loss = nn.CrossEntropyLoss()(model(probe_x), probe_y)
    loss.backward()
    grads = [float(np.sqrt((block.conv1.weight.grad.numpy() ** 2).sum()))
             for block in model if isinstance(block, Block)]
    norms["residual" if residual else "plain"] = grads
    print(f"{'residual' if residual else 'plain':8s} at init: |dL/dW| of each block's first conv "
          f"(input side first): {' '.join(f'{g:.3f}' for g in grads)}")
fig, ax = viz._figure.plt.subplots(figsize=(6.4, 3.6))
for name, grads in norms.items():
    ax.plot(range(1, len(grads) + 1), grads, marker="o", label=name)
ax.set_yscale("log")
ax.set_xlabel("block (1 = nearest the input)")
ax.set_ylabel("gradient norm of conv1 weight")
ax.set_title(f"{6 * deep_n + 2}-layer nets at initialisation: no vanishing gradient in either")
ax.legend()
ax.grid(alpha=0.3)
viz._figure.save(fig, lesson.figure("gradient_norm_per_block"))

# %% [markdown]
# ## 4. The library's ResNets against the paper
#
# `models.resnet18` is the ImageNet ResNet-18 (11.7M parameters in the paper and
# torchvision); `models.resnet20` the CIFAR net of section 4.2 (0.27M).

# %%
checks = (("resnet18", 11_689_512), ("resnet20", 269_722), ("resnet56", 853_018))
for name, paper in lesson.pick(checks, checks[1:2]):  # smoke: skip building the 11.7M model
    model = models.get(name)
    print(f"{name}: {count_parameters(model):,} parameters (paper / torchvision: {paper:,})")
    assert count_parameters(model) == paper
print()
print(summary(models.get("resnet20"), (1, 3, 32, 32)))

# %%
lesson.finish()
