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
from _common import count_parameters, evaluate, fit, lesson_setup

# isort: split
import matplotlib.pyplot as plt
import numpy as np

import minitorch_cv as mt
from minitorch_cv import models, nn, optim, viz
from minitorch_cv.summary import summary

# %% tags=["parameters"]
# Settings: a notebook runs with these; on the command line, --smoke, --epochs N and
# --seed N override them.
SMOKE = False  # True: tiny data and a few steps; checks that the lesson runs, not a result
EPOCHS = None  # None: the lesson's own default length of training
SEED = 0

# %%
lesson = lesson_setup("15_resnet", __doc__, smoke=SMOKE, epochs=EPOCHS,
                      seed=SEED)

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
# ## 2. The degradation experiment, over three seeds
#
# Four networks: plain and residual, each shallow (n = 1: 8 layers) and deep (n = 5:
# 32 layers). Same data, same optimiser (SGD with momentum, lr 0.05), same number of steps.
# The question is about *optimisation*, so we compare the training loss; one seed can tip a
# small gap either way, so each network is trained with three seeds and the gap "deep minus
# shallow final training loss" is given as mean +- spread. Validation images (held out of the
# training file) are watched during training; the test set is opened once, at the end.
#
# For the first seed we also record, after every epoch, two statistics per block on a fixed
# probe batch: the standard deviation of the block's output (are activations exploding or
# dying?) and the norm of the gradient of its first conv's weight (does the signal reach the
# early layers?). Watching these per layer during training is the first diagnostic when a
# deep net trains badly.

# %%
(x_train, y_train), (x_valid, y_valid), classes = lesson.train_valid(
    "fashion-mnist", n_train=lesson.pick(4000, 128), n_valid=lesson.pick(1000, 64))
epochs = lesson.n_epochs(6)
max_steps = lesson.pick(None, 1)
shallow_n, deep_n = lesson.pick((1, 5), (1, 2))
seeds = [lesson.seed + k for k in range(3)]
probe_x, probe_y = mt.tensor(x_train[:64]), mt.tensor(y_train[:64])


def block_statistics(model):
    """Per block: the std of its output, and the gradient norm of its first conv's weight, on
    the probe batch, in training mode (the weights, batch-norm statistics and mode are left as
    they were)."""
    blocks = [m for m in model if isinstance(m, Block)]
    saved = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
    outputs = []
    handles = [b.register_forward_hook(
        lambda _m, _i, out: outputs.append(float(out.detach().numpy().std()))) for b in blocks]
    was_training = model.training
    model.train()
    model.zero_grad()
    nn.CrossEntropyLoss()(model(probe_x), probe_y).backward()
    grads = [float(np.sqrt((b.conv1.weight.grad.numpy() ** 2).sum())) for b in blocks]
    model.zero_grad()
    model.load_state_dict({k: mt.tensor(v) for k, v in saved.items()})
    model.train(was_training)
    for handle in handles:
        handle.remove()
    return np.array(outputs), np.array(grads)


results = {}            # name -> history of the first seed
final_train_loss = {}   # name -> final training loss per seed
statistics = {}         # name -> (activation std, gradient norm), each (epochs + 1, blocks)
for seed in seeds:
    for residual in (False, True):
        for n in (shallow_n, deep_n):
            name = f"{'residual' if residual else 'plain'}-{6 * n + 2}"
            mt.manual_seed(seed)
            model = make_net(n, residual)
            optimizer = optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-4)
            if seed == lesson.seed:
                print(f"{name}: {count_parameters(model):,} parameters")
            if seed == lesson.seed and n == deep_n:
                # one epoch at a time, to read the per-block statistics in between
                stats = [block_statistics(model)]
                history = {}
                for epoch in range(epochs):
                    one = fit(model, optimizer, (x_train, y_train), (x_valid, y_valid), 1,
                              batch_size=64, max_steps=max_steps, seed=seed + 1000 * epoch,
                              name=f"{name} epoch {epoch + 1}: ")
                    for key, values in one.items():
                        history.setdefault(key, []).extend(values)
                    stats.append(block_statistics(model))
                statistics[name] = tuple(np.array(s) for s in zip(*stats))
            else:
                history = fit(model, optimizer, (x_train, y_train), (x_valid, y_valid), epochs,
                              batch_size=64, max_steps=max_steps, seed=seed,
                              verbose=seed == lesson.seed, name=f"{name} ")
            if seed == lesson.seed:
                results[name] = history | {"model": model}
            final_train_loss.setdefault(name, []).append(history["train_loss"][-1])

print(f"\n{'network':14s} {'final train loss':>17} {'train acc':>10} {'valid acc':>10} "
      f"(seed {lesson.seed})")
for name, history in results.items():
    print(f"{name:14s} {history['train_loss'][-1]:17.4f} {history['train_accuracy'][-1]:10.4f} "
          f"{history['valid_accuracy'][-1]:10.4f}")
deep, shallow = 6 * deep_n + 2, 6 * shallow_n + 2
gaps = {kind: np.subtract(final_train_loss[f"{kind}-{deep}"],
                          final_train_loss[f"{kind}-{shallow}"]) for kind in ("plain", "residual")}
print(f"\ndeep ({deep} layers) minus shallow ({shallow}) final training loss, seeds {seeds}:")
for kind, gap in gaps.items():
    worse = int((gap > 0).sum())
    print(f"  {kind:8s} {gap.mean():+.4f} +- {gap.std(ddof=1):.4f} (per seed: "
          f"{' '.join(f'{g:+.4f}' for g in gap)}); the deep net fits worse on {worse} of "
          f"{len(gap)} seeds")
degradation = gaps["plain"].mean() > 0 and (gaps["plain"] > 0).all()
helped = (gaps["residual"] < gaps["plain"]).all()
if lesson.smoke:
    print("  -> (smoke run: a step or two of training; these gaps are noise, not a result)")
elif degradation and helped:
    print("  -> degradation on every seed: the deeper plain net fits its own training data "
          "worse than the shallow one, and with skip connections the gap is smaller on every "
          f"seed ({gaps['residual'].mean():+.4f} against {gaps['plain'].mean():+.4f}).")
else:
    print(f"  -> these runs do not show the effect on every seed (plain gap worse on "
          f"{int((gaps['plain'] > 0).sum())} of {len(seeds)}, residual gap below plain on "
          f"{int((gaps['residual'] < gaps['plain']).sum())} of {len(seeds)}): at this scale the "
          "effect depends on the run; more --epochs make it clearer.")

viz.plot_curve_comparison({k: v["train_loss"] for k, v in results.items()},
                          lesson.figure("degradation_train_loss"), ylabel="training loss",
                          title=lesson.title(f"plain vs residual, shallow vs deep: training "
                                             f"loss (seed {lesson.seed})"))
viz.plot_curve_comparison({k: v["valid_accuracy"] for k, v in results.items()},
                          lesson.figure("degradation_valid_accuracy"),
                          ylabel="validation accuracy",
                          title=lesson.title("plain vs residual, shallow vs deep: validation "
                                             "accuracy"))
fig, axes = plt.subplots(2, 2, figsize=(11, 6.4), sharex=True)
for column, (name, (activation_std, grad_norm)) in enumerate(statistics.items()):
    for row, (values, label) in enumerate(((activation_std, "output std"),
                                           (grad_norm, "|dL/dW| of conv1"))):
        ax = axes[row, column]
        both = np.log10(np.concatenate([s[row].ravel() for s in statistics.values()]) + 1e-12)
        image = ax.imshow(np.log10(values.T + 1e-12), aspect="auto", cmap="magma",
                          origin="lower", vmin=both.min(), vmax=both.max())  # one scale a row
        ax.set_title(f"{name}: log10 {label}", fontsize=10)
        ax.set_ylabel("block (1 = input side)")
        ax.set_yticks(range(values.shape[1]), [str(b + 1) for b in range(values.shape[1])])
        fig.colorbar(image, ax=ax)
for ax in axes[1]:
    ax.set_xlabel("epoch (0 = initialisation)")
    ax.set_xticks(range(epochs + 1))
fig.suptitle(lesson.title("per-block statistics during training, on a fixed probe batch"))
fig.tight_layout()
viz.save_figure(fig, lesson.figure("block_statistics_during_training"))

# %% [markdown]
# ## 3. Is it vanishing gradients? No, but the plain net's gradients are not even either
#
# The gradient of the loss with respect to each block's first conv, in the deep plain and
# residual nets at initialisation (epoch 0 of the statistics above). With batch norm the
# plain net's gradient does not vanish toward the input; the numbers below say how much it
# changes from the output side to the input side. He et al. concluded the same: the plain
# net's higher training error is an optimisation difficulty (a stack of non-linear layers
# finds it hard to approximate an identity), not a signal that fails to arrive. The shortcut
# makes the identity the default, and its gradients stay much more even across blocks.

# %%
norms = {name.split("-")[0]: grads[0] for name, (_, grads) in statistics.items()}
ratios = {}
for name, grads in norms.items():
    ratios[name] = grads[0] / grads[-1]
    direction = "grows" if ratios[name] > 1 else "shrinks"
    factor = max(ratios[name], 1 / ratios[name])
    print(f"{name:8s} at init: |dL/dW| of each block's first conv (input side first): "
          f"{' '.join(f'{g:.3f}' for g in grads)}; toward the input it {direction} "
          f"{factor:.1f}x")
fig, ax = plt.subplots(figsize=(6.4, 3.6))
for name, grads in norms.items():
    ax.plot(range(1, len(grads) + 1), grads, marker="o",
            label=f"{name} (first / last block: {ratios[name]:.1f}x)")
ax.set_yscale("log")
ax.set_xlabel("block (1 = nearest the input)")
ax.set_ylabel("gradient norm of conv1 weight")
ax.set_title(lesson.title(f"{deep}-layer nets at initialisation: gradient norm per block"))
ax.legend()
ax.grid(alpha=0.3)
viz.save_figure(fig, lesson.figure("gradient_norm_per_block"))

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

# %% [markdown]
# ## 5. The test set, once
#
# All four networks of the first seed, on the test set, after every choice was made.

# %%
x_test, y_test, _ = lesson.final_test("fashion-mnist", limit=lesson.pick(None, 64))
for name, history in results.items():
    print(f"{name:14s} test accuracy {evaluate(history['model'], x_test, y_test)[1]:.4f}")

# %%
lesson.finish()

# %% [markdown]
# ## Build it yourself
#
# The workbench checks your own version of what this lesson used, stage by stage
# (worked examples, property tests with the smallest failing case, gradcheck,
# PyTorch, then your code plugged into a network). Exercises for this lesson:
# `residual_block`.
#
# In a terminal: `minitorch-cv exercise start NAME` writes the template,
# `minitorch-cv exercise check NAME` checks it, `minitorch-cv exercise hint NAME`
# gives the next hint. From a notebook: `from minitorch_cv import exercises`, then
# `exercises.start(NAME)` and `exercises.check(NAME, your_function)`. See
# `docs/exercises/index.md`.
