"""Plug-in: the student's function replaces the engine's, and a small network trains with it.

``plugged(module, "name", replacement)`` swaps one attribute for the duration of a ``with``
block and always puts the original back (even when the student's code raises), so nothing is
left behind. ``compare_training`` trains the same small network twice from the same weights on
the same batches of the embedded Fashion-MNIST subset, once with the built-in code and once
plugged, and prints the losses side by side.
"""

from __future__ import annotations

import contextlib

import numpy as np

from .core import StageFailure

STEPS = 6
BATCH = 32


@contextlib.contextmanager
def plugged(module, attribute: str, replacement):
    """Replace ``module.attribute`` inside the block; the original is restored on exit."""
    original = getattr(module, attribute)
    setattr(module, attribute, replacement)
    try:
        yield original
    finally:
        setattr(module, attribute, original)


def _batches(steps: int, batch: int):
    from ..data.vision import load_embedded  # noqa: PLC0415

    images, labels = load_embedded(train=True)
    # a fixed, class-mixed slice: every 37th image (the subset is sorted by nothing in
    # particular, but a stride keeps the check independent of any ordering)
    index = (np.arange(steps * batch) * 37) % len(images)
    x = (images[index].astype(np.float64) / 255.0 - 0.2860) / 0.3530
    return [(x[k * batch:(k + 1) * batch, None], labels[index][k * batch:(k + 1) * batch])
            for k in range(steps)]


def small_cnn(seed: int = 0):
    """conv 3x3 (1->4, padding 1) -> ReLU -> max-pool 2 -> conv 3x3 (4->6, stride 2,
    dilation 1) -> ReLU -> flatten -> linear (6*7*7 -> 10), float64."""
    from .. import manual_seed, nn  # noqa: PLC0415

    manual_seed(seed)
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(4, 6, 3, stride=2, padding=1), nn.ReLU(), nn.Flatten(),
                          nn.Linear(6 * 7 * 7, 10))
    return model.double()


def train_losses(model_factory=small_cnn, steps: int = STEPS, lr: float = 0.1) -> list[float]:
    from .. import functional as F  # noqa: PLC0415
    from .. import optim  # noqa: PLC0415
    from ..autograd.tensor import Tensor  # noqa: PLC0415

    model = model_factory()
    optimizer = optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    losses = []
    for x, y in _batches(steps, BATCH):
        optimizer.zero_grad()
        loss = F.cross_entropy(model(Tensor(x)), Tensor(y))
        loss.backward()
        optimizer.step()
        losses.append(float(loss.item()))
    return losses


def compare_training(module, attribute: str, replacement, what: str,
                     rtol: float = 1e-7) -> str:
    """Train with the built-in code and plugged in; StageFailure when the losses differ."""
    builtin = train_losses()
    with plugged(module, attribute, replacement):
        try:
            yours = train_losses()
        except StageFailure:
            raise
        except Exception as exc:  # noqa: BLE001
            from .checker import student_error  # noqa: PLC0415

            raise student_error(exc, f"training with your {what} plugged in") from None
    lines = [f"{'step':>4}  {'built-in loss':>16}  {'with yours':>16}  {'difference':>10}"]
    worst = 0.0
    for step, (a, b) in enumerate(zip(builtin, yours), 1):
        diff = abs(a - b)
        worst = max(worst, diff / max(1.0, abs(a))) if np.isfinite(b) else np.inf
        lines.append(f"{step:>4}  {a:16.10f}  {b:16.10f}  {diff:10.2e}")
    table = "\n".join(lines)
    if not worst <= rtol:
        raise StageFailure(f"with your {what} plugged in, the small network trains to other "
                           f"losses than with the built-in one:\n{table}")
    return (f"with your {what} plugged in, the small network's {len(builtin)} training losses "
            f"equal the built-in's (largest relative difference {worst:.1e}):\n{table}")
