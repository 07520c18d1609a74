"""Loss functions from likelihoods: MSE, NLL and log-softmax, cross-entropy, BCE, multi-label.

Every standard loss is a negative log-likelihood: pick a distribution for the target given the
network's output, and minimise -log p(target). A Gaussian gives the mean squared error; a
categorical distribution over classes gives cross-entropy (log-softmax + NLL); a Bernoulli per
output gives binary cross-entropy, which is also how multi-label problems are trained.

Run: python lessons/01_losses.py [--smoke] [--out DIR]
"""

# %% [markdown]
# # 01 Losses

# %%
import math

# _common first: it loads minitorch_cv, whose thread settings must precede NumPy
from _common import lesson_setup

# isort: split
import matplotlib.pyplot as plt
import numpy as np

import minitorch_cv as mt
import minitorch_cv.functional as F
from minitorch_cv import nn, viz

# %% tags=["parameters"]
# Settings: a notebook runs with these; on the command line, --smoke, --epochs N and
# --seed N override them.
SMOKE = False  # True: tiny data and a few steps; checks that the lesson runs, not a result
EPOCHS = None  # None: the lesson's own default length of training
SEED = 0

# %%
lesson = lesson_setup("01_losses", __doc__, smoke=SMOKE, epochs=EPOCHS,
                      seed=SEED)

# %% [markdown]
# ## 1. MSE is the negative log-likelihood of a Gaussian
#
# If y ~ N(f(x), sigma^2), then -log p(y | x) = (y - f)^2 / (2 sigma^2) + log(sigma sqrt(2 pi)).
# The second term does not depend on the network: minimising the Gaussian NLL and the MSE
# pick the same f.

# %%
rng = np.random.default_rng(0)
y = mt.tensor(rng.normal(2.0, 1.0, size=200).astype(np.float32))
sigma = 1.0
candidates = np.linspace(-1.0, 5.0, 61)
mse_values, nll_values = [], []
for f in candidates:
    prediction = mt.full((200,), float(f))
    mse_values.append(F.mse_loss(prediction, y).item())
    nll = ((y - prediction) ** 2 / (2 * sigma**2) + math.log(sigma * math.sqrt(2 * math.pi)))
    nll_values.append(nll.mean().item())
best_mse = candidates[int(np.argmin(mse_values))]
best_nll = candidates[int(np.argmin(nll_values))]
print(f"mean of the targets {y.mean().item():.3f}; argmin MSE {best_mse:.2f}; "
      f"argmin Gaussian NLL {best_nll:.2f}")
print(f"NLL - MSE/2 is the constant log(sqrt(2 pi)) = {math.log(math.sqrt(2 * math.pi)):.4f}: "
      f"{nll_values[10] - mse_values[10] / 2:.4f}, {nll_values[40] - mse_values[40] / 2:.4f}")
assert best_mse == best_nll
fig, ax = plt.subplots(figsize=(6, 3.6))
ax.plot(candidates, mse_values, label="MSE")
ax.plot(candidates, nll_values, label="Gaussian NLL (sigma = 1)")
ax.axvline(best_mse, color="0.5", ls=":", label=f"same minimum at f = {best_mse:.1f}")
ax.set_xlabel("constant prediction f")
ax.set_ylabel("loss")
ax.legend()
ax.set_title("MSE and Gaussian NLL differ by a scale and a constant")
viz.save_figure(fig, lesson.figure("mse_vs_gaussian_nll"))

# %% [markdown]
# ## 2. Softmax, log-softmax and NLL
#
# Softmax turns logits into probabilities; log_softmax(z) = z - logsumexp(z) computes their log
# without ever forming exp(1000). NLL picks -log p of the true class.

# %%
logits = mt.tensor([[2.0, 1.0, 0.1], [0.5, 2.5, 0.3]])
target = mt.tensor([0, 2])
log_p = logits - logits.logsumexp(dim=1, keepdim=True)
print("log_softmax by hand:\n", log_p.numpy().round(4))
print("F.log_softmax:\n", F.log_softmax(logits, dim=1).numpy().round(4))
nll_by_hand = -(log_p[0, 0] + log_p[1, 2]) / 2
print(f"NLL by hand {nll_by_hand.item():.4f}, F.nll_loss {F.nll_loss(log_p, target).item():.4f}, "
      f"F.cross_entropy {F.cross_entropy(logits, target).item():.4f}")
assert np.isclose(nll_by_hand.item(), F.cross_entropy(logits, target).item(), atol=1e-6)

big = np.array([1000.0, 0.0], dtype=np.float32)
with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
    naive = np.log(np.exp(big) / np.exp(big).sum())
print(f"naive log(softmax([1000, 0])) = {naive}  (exp overflows)")
print("F.log_softmax([1000, 0])      =", F.log_softmax(mt.tensor(big), dim=0).tolist())

# %% [markdown]
# ## 3. Cross-entropy and its gradient: softmax - one_hot
#
# The gradient of cross-entropy with respect to the logits is the predicted distribution minus
# the true one: errors are pushed back in proportion to how wrong the probabilities are.

# %%
z = mt.tensor([[2.0, 1.0, 0.1]], requires_grad=True)
loss = F.cross_entropy(z, mt.tensor([1]))
loss.backward()
expected = z.detach().softmax(dim=1).numpy() - np.array([[0.0, 1.0, 0.0]])
print("d CE / d logits, autograd:     ", z.grad.numpy().round(4))
print("softmax(z) - one_hot(target):  ", expected.round(4))
assert np.allclose(z.grad.numpy(), expected, atol=1e-6)

p = np.linspace(0.01, 1.0, 100)
fig, ax = plt.subplots(figsize=(6, 3.6))
ax.plot(p, -np.log(p))
ax.set_xlabel("probability given to the true class")
ax.set_ylabel("cross-entropy  -log p")
ax.set_title("confident mistakes cost a lot; a correct answer at p = 1 costs 0")
ax.grid(alpha=0.3)
viz.save_figure(fig, lesson.figure("cross_entropy_curve"))

# %% [markdown]
# ## 4. Binary cross-entropy: take the logits, not the probabilities
#
# BCE(p, y) = -[y log p + (1 - y) log(1 - p)] with p = sigmoid(z). For a large logit, sigmoid
# rounds to exactly 1.0 in float32 and log(1 - p) = log(0): torch (and we) clamp the log at
# -100, so the loss saturates at 100 and the gradient vanishes. `binary_cross_entropy_with_logits`
# uses log(1 + e^z) - y z and stays exact.

# %%
for logit in (2.0, 20.0, 200.0):
    z = mt.tensor([logit])
    t0 = mt.tensor([0.0])
    naive_loss = F.binary_cross_entropy(z.sigmoid(), t0).item()
    stable_loss = F.binary_cross_entropy_with_logits(z, t0).item()
    print(f"logit {logit:6.1f}, target 0: BCE(sigmoid(z)) = {naive_loss:8.3f}, "
          f"BCE with logits = {stable_loss:8.3f}")
assert F.binary_cross_entropy_with_logits(mt.tensor([200.0]), mt.tensor([0.0])).item() > 199

zs = np.linspace(-8, 8, 161, dtype=np.float32)
fig, ax = plt.subplots(figsize=(6, 3.6))
for target_value in (1.0, 0.0):
    values = F.binary_cross_entropy_with_logits(
        mt.tensor(zs), mt.full((len(zs),), target_value), reduction="none").numpy()
    ax.plot(zs, values, label=f"target {target_value:g}")
ax.set_xlabel("logit z")
ax.set_ylabel("BCE with logits")
ax.legend()
ax.grid(alpha=0.3)
ax.set_title("BCE: linear for confident mistakes, 0 for confident right answers")
viz.save_figure(fig, lesson.figure("bce_with_logits"))

# %% [markdown]
# ## 5. Multi-label: several classes can be true at once
#
# Softmax forces the class probabilities to sum to 1, so one label must win. For tags ("has a
# cat", "has a dog", "outdoors"), each output gets its own sigmoid and BCE, independent of the
# others. We train a linear layer on synthetic data whose labels are rules of the features.

# %%
n_train = lesson.pick(2000, 64)
features = rng.normal(size=(n_train, 4)).astype(np.float32)
labels = np.stack([features[:, 0] > 0, features[:, 1] + features[:, 2] > 0,
                   features[:, 3] > 0.5], axis=1).astype(np.float32)
X, Y = mt.tensor(features), mt.tensor(labels)
model = nn.Linear(4, 3)
criterion = nn.BCEWithLogitsLoss()
history = {"train_loss": [], "train_exact_match": []}
steps = lesson.pick(300, 2)
for _step in range(steps):
    loss = criterion(model(X), Y)
    model.zero_grad()
    loss.backward()
    with mt.no_grad():
        for parameter in model.parameters():
            parameter -= 0.5 * parameter.grad
    with mt.no_grad():
        predicted = (model(X).sigmoid() > 0.5).float()
    history["train_loss"].append(loss.item())
    history["train_exact_match"].append((predicted == Y).float().min(dim=1)[0].mean().item())
with mt.no_grad():
    probabilities = model(X[:4]).sigmoid().numpy()
per_label = (predicted == Y).float().mean(dim=0).numpy()
print("label combinations in the data (how many examples have k labels):",
      np.bincount(labels.sum(axis=1).astype(int), minlength=4).tolist())
print(f"after {steps} steps: per-label accuracy {[round(float(v), 3) for v in per_label]}, "
      f"all three labels right: {history['train_exact_match'][-1]:.3f}")
print("first four examples, targets vs predicted probabilities:")
for target_row, probability_row in zip(labels[:4], probabilities):
    print("  ", target_row.astype(int).tolist(), [round(float(v), 2) for v in probability_row],
          f"(sum {probability_row.sum():.2f}: need not be 1)")
if not lesson.smoke:
    assert per_label.min() > 0.9
viz.plot_training_curves(history, lesson.figure("multilabel_training"),
                         title="multi-label: one sigmoid + BCE per label", xlabel="step")

# %%
lesson.finish()

# %% [markdown]
# ## Build it yourself
#
# The workbench checks your own version of what this lesson used, stage by stage
# (worked examples, property tests with the smallest failing case, gradcheck,
# PyTorch, then your code plugged into a network). Exercises for this lesson:
# `cross_entropy`, `mse_loss`, `bce_with_logits`.
#
# In a terminal: `minitorch-cv exercise start NAME` writes the template,
# `minitorch-cv exercise check NAME` checks it, `minitorch-cv exercise hint NAME`
# gives the next hint. From a notebook: `from minitorch_cv import exercises`, then
# `exercises.start(NAME)` and `exercises.check(NAME, your_function)`. See
# `docs/exercises/index.md`.
