"""Autograd from a scalar graph to tensors: f(X) = WX + b, ReLU, a loss, w <- w - lr dL/dW.

The recap slide of the course, rebuilt on our engine: the forward pass records a graph, the
backward pass walks it in reverse topological order with the chain rule, and gradient descent
uses the result. Then the two traps every autograd must get right (a node used twice, and the
order of visits) and the tool that checks any gradient: gradcheck.

Run: python lessons/00_autograd.py [--smoke] [--out DIR]
"""

# %% [markdown]
# # 00 Autograd
#
# Every deep-learning framework is two things: arrays, and a record of how each array was made
# so that derivatives can flow back. We start with scalars.

# %%
# _common first: it loads minitorch_cv, whose thread settings must precede NumPy
from _common import lesson_setup

# isort: split
import matplotlib.pyplot as plt
import numpy as np

import minitorch_cv as mt
from minitorch_cv import viz
from minitorch_cv.testing import gradcheck
from minitorch_cv.testing.gradcheck import GradcheckError

# %% tags=["parameters"]
# Settings: a notebook runs with these; on the command line, --smoke, --epochs N and
# --seed N override them.
SMOKE = False  # True: tiny data and a few steps; checks that the lesson runs, not a result
EPOCHS = None  # None: the lesson's own default length of training
SEED = 0

# %%
lesson = lesson_setup("00_autograd", __doc__, smoke=SMOKE, epochs=EPOCHS,
                      seed=SEED)

# %% [markdown]
# ## 1. A scalar graph: y = relu(w*x + b), L = (y - t)^2
#
# By hand: dL/dy = 2(y - t); dy/dz = 1 if z > 0; dz/dw = x, dz/db = 1, dz/dx = w.

# %%
x = mt.tensor(2.0)
w = mt.tensor(3.0, requires_grad=True)
b = mt.tensor(1.0, requires_grad=True)
t = mt.tensor(5.0)
z = w * x + b
y = z.relu()
loss = (y - t) ** 2
loss.backward()
by_hand_w = 2 * (7.0 - 5.0) * 1 * 2.0
by_hand_b = 2 * (7.0 - 5.0) * 1
print(f"z = w*x + b = {z.item()}, y = relu(z) = {y.item()}, L = (y - t)^2 = {loss.item()}")
print(f"dL/dw: autograd {w.grad.item()}, by hand {by_hand_w}")
print(f"dL/db: autograd {b.grad.item()}, by hand {by_hand_b}")
assert w.grad.item() == by_hand_w and b.grad.item() == by_hand_b
viz.plot_graph(loss, lesson.figure("graph_scalar"), names={w: "w", b: "b", loss: "L"},
               title="L = (relu(w*x + b) - t)^2: x and t are constants, so not in the graph")

# %% [markdown]
# ## 2. Why a topological order
#
# A node may pass its gradient on only once *all* of its users have sent theirs: otherwise it
# would forward an incomplete sum. Backward therefore visits the nodes in reverse topological
# order (every node after all the nodes that consumed its output).

# %%
a = mt.tensor(1.5, requires_grad=True)
u = a * 2.0          # u is used twice below
v = u.exp()
out = u * v          # d out/du = v + u * v  (two paths through u)
graph = viz.build_graph(out, names={a: "a", out: "out"})
order = [graph[k].label.split("\n")[0] for k in viz.topological_order(graph)]
print("backward visits:", " -> ".join(order))
out.backward()
expected = 2.0 * (np.exp(3.0) + 3.0 * np.exp(3.0))
print(f"d out/da: autograd {a.grad.item():.4f}, by hand 2 (e^u + u e^u) = {expected:.4f}")
assert np.isclose(a.grad.item(), expected, rtol=1e-5)
viz.plot_graph(out, lesson.figure("graph_two_paths"), names={a: "a", out: "out"},
               title="u = 2a feeds both exp and the product: MulBackward must wait for both")

# %% [markdown]
# ## 3. The `a + a` case
#
# `b = a + a` makes one node with the *same* parent twice. Both edges carry a gradient of 1,
# and the leaf must receive their sum, 2 (a dict keyed by parent would keep only one: 1).

# %%
a = mt.tensor([1.0, -2.0, 3.0], requires_grad=True)
b = a + a
b.sum().backward()
print("a + a:  grad of a =", a.grad.tolist(), "(each element used twice -> 2)")
assert a.grad.tolist() == [2.0, 2.0, 2.0]
a.grad = None
(a * a).sum().backward()
print("a * a:  grad of a =", a.grad.tolist(), "(= 2a)")
a2 = mt.tensor([1.0, -2.0, 3.0], requires_grad=True)
viz.plot_graph((a2 + a2).sum(), lesson.figure("graph_a_plus_a"), names={a2: "a"},
               title="b = a + a: one op, the same parent twice (x2): both gradients are added")

# %% [markdown]
# ## 4. From scalars to tensors: f(X) = XW + b, ReLU, MSE, gradient descent
#
# Same graph, arrays instead of numbers. We fit a two-layer network to a noisy curve with the
# update rule of the slide, written out by hand: `w <- w - lr * dL/dW`.

# %%
steps = lesson.pick(1500, 3)
rng = np.random.default_rng(0)
inputs = np.linspace(-3, 3, 128, dtype=np.float32)[:, None]
targets = np.sin(inputs) + 0.1 * rng.normal(size=inputs.shape).astype(np.float32)
X, T = mt.tensor(inputs), mt.tensor(targets)
W1 = (mt.randn(1, 32) * 1.0).requires_grad_()
b1 = mt.zeros(32, requires_grad=True)
W2 = (mt.randn(32, 1) * (1 / 32**0.5)).requires_grad_()
b2 = mt.zeros(1, requires_grad=True)
params = [W1, b1, W2, b2]
lr = 0.05
losses = []
for step in range(steps):
    hidden = (X @ W1 + b1).relu()       # f(X) = XW + b, then ReLU
    prediction = hidden @ W2 + b2
    loss = ((prediction - T) ** 2).mean()  # MSE
    for p in params:
        p.grad = None
    loss.backward()
    with mt.no_grad():                  # the update itself must not be recorded
        for p in params:
            p -= lr * p.grad
    losses.append(loss.item())
    if step % max(1, steps // 8) == 0 or step == steps - 1:
        print(f"step {step:4d}  MSE {loss.item():.4f}")
if not lesson.smoke:
    assert losses[-1] < 0.25 * losses[0], "gradient descent should cut the loss by 4x"
viz.plot_training_curves({"train_loss": losses}, lesson.figure("gradient_descent_loss"),
                         title="gradient descent on a 1-32-1 ReLU network", log_loss=True,
                         xlabel="step")

fig_x = np.linspace(-3, 3, 200, dtype=np.float32)[:, None]
with mt.no_grad():
    fitted = ((mt.tensor(fig_x) @ W1 + b1).relu() @ W2 + b2).numpy()
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.scatter(inputs[:, 0], targets[:, 0], s=8, color="0.5", label="data: sin(x) + noise")
ax.plot(fig_x[:, 0], fitted[:, 0], color="tab:red", lw=2, label=f"network after {steps} steps")
ax.set_xlabel("x")
ax.set_ylabel("y")
ax.legend()
ax.set_title("f(x) = W2 relu(W1 x + b1) + b2, fitted by w <- w - lr dL/dw")
viz.save_figure(fig, lesson.figure("fitted_function"))
viz.plot_graph(loss, lesson.figure("graph_mlp_mse"),
               names={W1: "W1", b1: "b1", W2: "W2", b2: "b2", loss: "MSE"},
               title="the tensor graph: one node per op, whatever the array size")

# %% [markdown]
# ## 5. gradcheck: is backward the derivative of forward?
#
# Central differences in float64 against autograd, with a random upstream gradient. It passes
# for our ops, and it catches an op whose backward is wrong.

# %%
Xd = mt.randn(4, 3, dtype=mt.float64)
Wd = mt.randn(3, 2, dtype=mt.float64, requires_grad=True)
bd = mt.randn(2, dtype=mt.float64, requires_grad=True)
print("gradcheck(relu(XW + b)):", gradcheck(lambda W, bb: (Xd @ W + bb).relu(), Wd, bd))


class WrongSquare(mt.Function):
    """x^2 with a wrong backward (x instead of 2x): gradcheck must catch it."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * x


try:
    gradcheck(WrongSquare.apply, mt.randn(5, dtype=mt.float64, requires_grad=True))
    raise AssertionError("gradcheck missed a wrong backward")
except GradcheckError as error:
    print("gradcheck on a wrong backward fails as it should:", str(error).splitlines()[0])

# %%
lesson.finish()

# %% [markdown]
# ## Build it yourself
#
# The workbench checks your own version of what this lesson used, stage by stage
# (worked examples, property tests with the smallest failing case, gradcheck,
# PyTorch, then your code plugged into a network). Exercises for this lesson:
# `topo_sort`, `sum_to`, `linear`.
#
# In a terminal: `minitorch-cv exercise start NAME` writes the template,
# `minitorch-cv exercise check NAME` checks it, `minitorch-cv exercise hint NAME`
# gives the next hint. From a notebook: `from minitorch_cv import exercises`, then
# `exercises.start(NAME)` and `exercises.check(NAME, your_function)`. See
# `docs/exercises/index.md`.
