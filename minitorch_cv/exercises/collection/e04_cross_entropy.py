"""Exercise 04: stable log-softmax + cross-entropy, forward and backward."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from ...autograd.function import Function
from ...functional.loss import cross_entropy as engine_cross_entropy
from ..core import Example, Exercise
from ..gradients import GradProblem
from . import _data, _engine

DOC = '''Cross-entropy of logits: a stable log-softmax, then the mean negative log-likelihood.

Lecture 01 (Losses), "Softmax, log-softmax and NLL" and "Cross-entropy and its gradient:
softmax - one_hot". The network outputs logits z (N, K); softmax turns them into class
probabilities and the loss is the mean over the batch of -log p[n, target[n]].

Shapes:
    logits (N, K) float, target (N,) integer class indices in [0, K)
    loss: a Python float or 0-d array (the mean over N);  grad: (N, K)

Formulas (subtract the row maximum m first: exp(1000) overflows, exp(1000 - 1000) does not):
    log_softmax(z)[n, k] = z[n, k] - m[n] - log(sum_j exp(z[n, j] - m[n]))
    loss = -(1/N) * sum_n log_softmax(z)[n, target[n]]
    dloss/dz[n, k] = (softmax(z)[n, k] - onehot[n, k]) / N      (times the upstream grad_loss)

Worked example: z = [[0, 0]], target = [1]: softmax = [0.5, 0.5], loss = -log 0.5 = log 2
= 0.6931..., gradient = [[0.5, -0.5]]. With z = [[1000, 0]] and target [0] the loss is
0.0000... (about 0): without the max shift you get nan.
'''

HINTS = (
    "Forward: take m = logits.max(axis=1, keepdims=True) and work with logits - m.",
    "log_softmax = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True)); pick "
    "log_softmax[np.arange(N), target] and take minus the mean.",
    "Backward: softmax = np.exp(log_softmax); subtract 1 at [np.arange(N), target]; divide "
    "by N; multiply by grad_loss (a scalar).",
)


def cross_entropy_forward(logits, target):
    return _engine.value(engine_cross_entropy, logits, target)


def cross_entropy_backward(grad_loss, logits, target):
    return _engine.grads(engine_cross_entropy, grad_loss, logits, target)[0]


def examples():
    return [
        Example("cross_entropy_forward", dict(logits=np.zeros((1, 2)), target=np.array([1])),
                np.log(2.0), "z = [[0, 0]]: softmax [0.5, 0.5], loss = log 2"),
        Example("cross_entropy_forward", dict(logits=np.array([[1000.0, 0.0]]),
                                              target=np.array([0])), 0.0,
                "z = [[1000, 0]], target 0: the loss is exp(-1000) ~ 0 (nan without the max "
                "shift)"),
        Example("cross_entropy_forward", dict(logits=np.array([[0.0, 0.0], [2.0, 0.0]]),
                                              target=np.array([0, 1])),
                (np.log(2.0) + 2.0 + np.log1p(np.exp(-2.0))) / 2,
                "two rows: (log 2 + (2 + log(1 + e^-2))) / 2: the MEAN over the batch"),
        Example("cross_entropy_backward", dict(grad_loss=np.array(1.0), logits=np.zeros((1, 2)),
                                               target=np.array([1])), np.array([[0.5, -0.5]]),
                "z = [[0, 0]], target 1: softmax - onehot = [[0.5, -0.5]]"),
    ]


@st.composite
def configs(draw):
    return dict(N=draw(st.integers(1, 5)), K=draw(st.integers(1, 6)),
                big=draw(st.booleans()), seed=draw(st.integers(0, 2**16)))


def _inputs(g):
    logits = _data.values(g["seed"], (g["N"], g["K"]))
    if g.get("big"):
        logits = logits * 400.0
    target = np.random.default_rng(g["seed"] + 1).integers(0, g["K"], g["N"])
    return logits, target


def cases(g):
    logits, target = _inputs(g)
    return [("cross_entropy_forward", dict(logits=logits, target=target)),
            ("cross_entropy_backward", dict(grad_loss=np.array(1.5), logits=logits,
                                            target=target))]


def grad_problems(g, student):
    logits, target = _inputs(dict(g, big=False))
    return [GradProblem(
        "cross_entropy_backward", lambda z, target: cross_entropy_forward(z, target),
        lambda up, z, target: (student["cross_entropy_backward"](up, z, target),),
        dict(logits=logits), dict(target=target),
        lambda up, a: dict(grad_loss=up, logits=a["logits"], target=target),
        lambda up, z, target: (cross_entropy_backward(up, z, target),))]


def torch_check(student, seed):
    import torch  # noqa: PLC0415

    from ..calls import compare  # noqa: PLC0415

    rng = np.random.default_rng(seed)
    logits, target = rng.standard_normal((7, 5)) * 3, rng.integers(0, 5, 7)
    z = torch.from_numpy(logits.copy()).requires_grad_()
    loss = torch.nn.functional.cross_entropy(z, torch.from_numpy(target))
    loss.backward()
    compare(student["cross_entropy_forward"](logits, target), loss.item(), 1e-10, 1e-12,
            what="loss vs torch")
    compare(student["cross_entropy_backward"](np.array(1.0), logits, target), z.grad.numpy(),
            1e-10, 1e-12, what="gradient vs torch")
    return "loss and gradient equal torch.nn.functional.cross_entropy's"


def plugin(student):
    """``F.cross_entropy`` with the student's forward and backward; the small CNN trains."""
    from ... import functional  # noqa: PLC0415
    from ..plugin import compare_training  # noqa: PLC0415

    class StudentCrossEntropy(Function):
        @staticmethod
        def forward(ctx, logits, target):
            ctx.save_for_backward(logits, target)
            return np.asarray(student["cross_entropy_forward"](logits, target), logits.dtype)

        @staticmethod
        def backward(ctx, grad_output):
            logits, target = ctx.saved_tensors
            grad = student["cross_entropy_backward"](grad_output, logits, target)
            return np.asarray(grad, logits.dtype), None

    def cross_entropy(input, target, weight=None, ignore_index=-100,  # noqa: A002
                      reduction="mean", label_smoothing=0.0):
        if weight is not None or reduction != "mean" or label_smoothing:
            raise ValueError("the plugged-in cross_entropy has no weight, reduction or "
                             "label_smoothing")
        return StudentCrossEntropy.apply(input, target)

    return compare_training(functional, "cross_entropy", cross_entropy, "cross-entropy")


EXERCISE = Exercise(
    name="cross_entropy", order=4, lecture="01 Losses", lesson="01_losses",
    title="stable log-softmax + cross-entropy, forward and backward",
    functions={"cross_entropy_forward": "logits, target",
               "cross_entropy_backward": "grad_loss, logits, target"},
    doc=DOC, hints=HINTS,
    solution={"cross_entropy_forward": cross_entropy_forward,
              "cross_entropy_backward": cross_entropy_backward},
    examples=examples, strategy=configs, cases=cases, grad_strategy=configs,
    grad_problems=grad_problems, torch_check=torch_check, plugin=plugin,
)
