"""Shared start of every lesson: make ``minitorch_cv`` importable from a checkout, parse options,
and the short training loop the architecture lessons use.

``python lessons/NN_name.py`` puts ``lessons/`` (this folder) on ``sys.path``, so every lesson
can ``from _common import lesson_setup``. When the package is not installed (a fresh clone),
the repository root is added to the path so that ``import minitorch_cv`` finds the source tree.
The option parsing and output folder live in ``minitorch_cv.lessons_runner``.

``fit`` is the plain loop of every course: for each batch, forward, loss, ``zero_grad``,
``backward``, ``step``; after each epoch, evaluate on the validation split. Lesson 25 shows the
same with the course library's ``Trainer``.
"""

from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path

if importlib.util.find_spec("minitorch_cv") is None:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

# minitorch_cv before NumPy: it sets thread-pool settings that NumPy's OpenBLAS reads when it
# loads (minitorch_cv/_early.py); lessons import this module first for the same reason
import minitorch_cv as mt  # noqa: E402, I001

import numpy as np  # noqa: E402
import minitorch_cv.functional as F  # noqa: E402
from minitorch_cv.lessons_runner import Lesson, lesson_setup  # noqa: E402


def batches(x: np.ndarray, y: np.ndarray, batch_size: int, shuffle: bool, rng=None):
    """Yield ``(x_batch, y_batch)`` NumPy slices, in a fresh random order when ``shuffle``."""
    order = rng.permutation(len(x)) if shuffle else np.arange(len(x))
    for start in range(0, len(x), batch_size):
        index = order[start:start + batch_size]
        yield x[index], y[index]


def predict(model, x: np.ndarray, batch_size: int = 500, device: str = "cpu") -> np.ndarray:
    """Logits of ``model`` for every row of ``x`` (eval mode, no graph), as NumPy."""
    was_training = model.training
    model.eval()
    outputs = []
    with mt.no_grad():
        for start in range(0, len(x), batch_size):
            batch = mt.tensor(x[start:start + batch_size], device=device)
            outputs.append(model(batch).cpu().numpy())
    model.train(was_training)
    return np.concatenate(outputs)


def evaluate(model, x: np.ndarray, y: np.ndarray, batch_size: int = 500,
             device: str = "cpu") -> tuple[float, float]:
    """``(mean cross-entropy, accuracy)`` of ``model`` on ``(x, y)``."""
    logits = predict(model, x, batch_size, device)
    loss = F.cross_entropy(mt.tensor(logits), mt.tensor(y)).item()
    return loss, float((logits.argmax(axis=1) == y).mean())


def fit(model, optimizer, train: tuple, valid: tuple, epochs: int, batch_size: int = 128,
        scheduler=None, augment=None, loss_fn=F.cross_entropy, max_steps: int | None = None,
        device: str = "cpu", seed: int = 0, name: str = "", verbose: bool = True) -> dict:
    """Train ``model`` and return its history: per-epoch train/valid loss and accuracy.

    Args:
        train, valid: ``(images, labels)`` NumPy arrays.
        scheduler: stepped once per batch if it has ``total_steps`` (OneCycleLR), else per epoch.
        augment: ``augment(x_batch, y_batch) -> (x_batch, y_batch)`` on NumPy arrays, training
            batches only; labels may come back as soft labels ``(N, classes)`` (MixUp).
        max_steps: stop each epoch after this many batches (smoke mode).
    """
    rng = np.random.default_rng(seed)
    history = {"train_loss": [], "valid_loss": [], "train_accuracy": [], "valid_accuracy": [],
               "seconds": []}
    per_batch = scheduler is not None and hasattr(scheduler, "total_steps")
    for epoch in range(epochs):
        model.train()
        start = time.perf_counter()
        total_loss = correct = seen = 0
        for step, (xb, yb) in enumerate(batches(*train, batch_size, True, rng)):
            if max_steps is not None and step >= max_steps:
                break
            if augment is not None:
                xb, yb = augment(xb, yb)
            logits = model(mt.tensor(xb, device=device))
            loss = loss_fn(logits, mt.tensor(yb, device=device))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if per_batch:
                scheduler.step()
            total_loss += loss.item() * len(yb)
            hard = yb.argmax(axis=1) if yb.ndim == 2 else yb
            correct += int((logits.detach().cpu().numpy().argmax(axis=1) == hard).sum())
            seen += len(yb)
        if scheduler is not None and not per_batch:
            scheduler.step()
        valid_loss, valid_accuracy = evaluate(model, *valid, device=device)
        history["train_loss"].append(total_loss / seen)
        history["train_accuracy"].append(correct / seen)
        history["valid_loss"].append(valid_loss)
        history["valid_accuracy"].append(valid_accuracy)
        history["seconds"].append(time.perf_counter() - start)
        if verbose:
            print(f"  {name}epoch {epoch + 1:2d}/{epochs}: train loss {total_loss / seen:.4f} "
                  f"acc {correct / seen:.4f} | valid loss {valid_loss:.4f} "
                  f"acc {valid_accuracy:.4f} | {history['seconds'][-1]:.1f} s")
    return history


def curves(history: dict) -> dict:
    """The history without its timing entry, for ``viz.plot_training_curves``."""
    return {k: v for k, v in history.items() if k != "seconds"}


def count_parameters(model) -> int:
    return sum(p.numel() for p in model.parameters())


def paper_check(counts: dict[str, int], build=None) -> None:
    """Print each model's parameter count against the published one (and check they match).

    ``counts`` maps registry names to the count in the paper / torchvision; ``build`` makes a
    model from a name (default ``models.get``).
    """
    from minitorch_cv import models  # noqa: PLC0415

    build = build or models.get
    for name, paper in counts.items():
        ours = count_parameters(build(name))
        mark = "matches" if ours == paper else f"differs by {ours - paper:+,}"
        print(f"  {name:20s} ours {ours:>12,}   paper / torchvision {paper:>12,}   {mark}")


def train_small_variant(lesson: Lesson, name: str, epochs_full: int = 3,
                        n_train_full: int = 10000, lr: float = 2e-3,
                        **model_kwargs) -> tuple[object, dict, float]:
    """Train the registry's small variant ``name`` on Fashion-MNIST and report test accuracy.

    Images are zero-padded from 28x28 to 32x32 when the variant's natural input is 32x32
    (the CIFAR-sized ones). Returns ``(model, history, test_accuracy)``.
    """
    from minitorch_cv import models, optim  # noqa: PLC0415

    mt.manual_seed(lesson.seed)
    model = models.get(name, in_channels=1, **model_kwargs)
    size = models.registry.entry(name).input_size[-1]
    x_train, y_train, _ = lesson.load("fashion-mnist", train=True,
                                      limit=lesson.pick(n_train_full, 128))
    x_test, y_test, _ = lesson.load("fashion-mnist", train=False, limit=lesson.pick(1000, 64))
    if size > 28:
        pad = (size - 28) // 2
        widths = ((0, 0), (0, 0), (pad, size - 28 - pad), (pad, size - 28 - pad))
        x_train = np.pad(x_train, widths, constant_values=x_train.min())
        x_test = np.pad(x_test, widths, constant_values=x_test.min())
    epochs = lesson.n_epochs(epochs_full)
    max_steps = lesson.pick(None, 1)
    batch_size = 64
    steps = epochs * (min(max_steps, -(-len(x_train) // batch_size)) if max_steps
                      else -(-len(x_train) // batch_size))
    optimizer = optim.Adam(model.parameters(), lr=lr, weight_decay=1e-4)
    scheduler = optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=steps)
    print(f"training {name} ({count_parameters(model):,} parameters) on {len(x_train):,} "
          f"Fashion-MNIST images ({size}x{size}) for {epochs} epoch(s):")
    history = fit(model, optimizer, (x_train, y_train), (x_test, y_test), epochs, batch_size,
                  scheduler=scheduler, max_steps=max_steps, seed=lesson.seed)
    accuracy = history["valid_accuracy"][-1]
    print(f"{name}: test accuracy {accuracy:.4f} on {len(x_test):,} test images, "
          f"{sum(history['seconds']):.0f} s of training")
    return model, history, accuracy


__all__ = ["Lesson", "batches", "count_parameters", "curves", "evaluate", "fit", "lesson_setup",
           "paper_check", "predict", "train_small_variant"]
