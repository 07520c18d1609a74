"""Shared start of every lesson: make ``minitorch_cv`` importable from a checkout, parse options,
and the short training loop the architecture lessons use.

``python lessons/NN_name.py`` puts ``lessons/`` (this folder) on ``sys.path``, so every lesson
can ``from _common import lesson_setup``. When the package is not installed (a fresh clone),
the repository root is added to the path so that ``import minitorch_cv`` finds the source tree.
The option parsing and output folder live in ``minitorch_cv.lessons_runner``.

``fit`` is the plain loop of every course: for each batch, forward, loss, ``zero_grad``,
``backward``, ``step``; after each epoch, evaluate on the validation split. Lesson 25 shows the
same with the course library's ``Trainer``. ``fit`` refuses to run once the lesson has opened
its test set (``lesson.final_test``): every choice is made on the validation split.
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
from minitorch_cv.lessons_runner import Lesson, check_test_sealed, lesson_setup  # noqa: E402


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
    check_test_sealed("training")
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
    """The per-epoch losses and accuracies of a history, for ``viz.plot_training_curves``."""
    return {k: v for k, v in history.items() if k.startswith(("train_", "valid_"))}


def count_parameters(model) -> int:
    return sum(p.numel() for p in model.parameters())


def paper_check(lesson: Lesson, counts: dict[str, int], build=None) -> None:
    """Print each full-size model's parameter count against the published one.

    ``counts`` maps registry names of the papers' models to the count in the paper /
    torchvision; ``build`` makes a model from a name (default ``models.get``). Smoke mode skips
    it (the full-size models take seconds and hundreds of MB to build) and says so: a small
    variant is never compared with a paper.
    """
    from minitorch_cv import models  # noqa: PLC0415

    if lesson.smoke:
        print("  (smoke run: the full-size models are not built; a full run compares "
              + ", ".join(counts) + " with the paper / torchvision)")
        return
    build = build or models.get
    for name, paper in counts.items():
        ours = count_parameters(build(name))
        mark = "matches" if ours == paper else f"differs by {ours - paper:+,}"
        print(f"  {name:20s} ours {ours:>12,}   paper / torchvision {paper:>12,}   {mark}")


def seed_summary(results: dict[str, list[float]], what: str = "validation accuracy",
                 smoke: bool = False, higher_is_better: bool = True,
                 seeds: list[int] | None = None, unit: str = "seeds") -> str:
    """Print each arm's mean, spread and range over seeds, and what the numbers say.

    ``results`` maps an arm's name to one number per seed (the same seeds, in the same order,
    for every arm). The sentence is computed from the numbers: the best arm, on how many seeds
    it wins against each other arm, and whether the mean difference exceeds the seed-to-seed
    spread; a surprise is said as plainly as a confirmation. ``seeds`` (printed as
    ``seeds [...]`` for scripts/lesson_results.py) and ``unit`` name what was repeated.
    Returns the sentence.
    """
    names = list(results)
    values = {n: np.asarray(results[n], dtype=np.float64) for n in names}
    n_seeds = len(values[names[0]])
    if seeds is not None:
        print(f"  over {n_seeds} {unit}, seeds {list(seeds)}:")
    for name in names:
        v = values[name]
        print(f"  {name:34s} {what} {v.mean():.4f} +- {v.std(ddof=1) if len(v) > 1 else 0:.4f} "
              f"(min {v.min():.4f}, max {v.max():.4f}, {len(v)} {unit})")
    sign = 1 if higher_is_better else -1
    best = max(names, key=lambda n: sign * values[n].mean())
    parts = []
    for other in names:
        if other == best:
            continue
        diff = sign * (values[best] - values[other])
        wins = int((diff > 0).sum())
        spread = diff.std(ddof=1) if n_seeds > 1 else float("inf")
        clear = n_seeds > 1 and diff.mean() > 2 * spread / np.sqrt(n_seeds)
        verdict = (f"a difference these {unit} show" if clear else
                   f"smaller than the noise between {unit}: these {unit} show no difference")
        parts.append(f"is ahead of {other} on {wins} of {n_seeds} {unit}, by {diff.mean():+.4f} "
                     f"on average ({verdict}; standard error {spread / np.sqrt(n_seeds):.4f})")
    sentence = f"{best} has the best mean {what}; it " + "; it ".join(parts) + "."
    if smoke:
        sentence = "(smoke run: noise from a few steps, not a result) " + sentence
    print("  -> " + sentence)
    return sentence


def overfit_one_batch(model, x: np.ndarray, y: np.ndarray, steps: int = 100,
                      lr: float = 1e-2) -> list[float]:
    """The sanity check before training: can the model drive the loss on one small batch to
    nearly zero? If not, something is wrong (a bug in the model, the loss or the labels, or
    a learning rate far off) and a long run would only hide it. Returns the loss per step."""
    from minitorch_cv import optim  # noqa: PLC0415

    check_test_sealed("training")
    model.train()
    optimizer = optim.Adam(model.parameters(), lr=lr)
    xb, yb = mt.tensor(x), mt.tensor(y)
    losses = []
    for _ in range(steps):
        loss = F.cross_entropy(model(xb), yb)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    print(f"  overfitting one batch of {len(y)} images: loss {losses[0]:.3f} -> {losses[-1]:.4f} "
          f"in {steps} steps (chance level: {np.log(10):.3f})")
    return losses


def one_cycle(optimizer, max_lr: float, epochs: int, n_train: int, batch_size: int,
              max_steps: int | None = None):
    """``OneCycleLR`` over the batches ``fit`` will run: ``epochs`` times the batches of one
    epoch (``ceil(n_train / batch_size)``, at most ``max_steps``), stepped once per batch."""
    from minitorch_cv import optim  # noqa: PLC0415

    per_epoch = -(-n_train // batch_size)
    if max_steps is not None:
        per_epoch = min(per_epoch, max_steps)
    return optim.lr_scheduler.OneCycleLR(optimizer, max_lr=max_lr, total_steps=epochs * per_epoch)


def train_small_variant(lesson: Lesson, name: str, epochs_full: int = 3,
                        n_train_full: int = 10000, lr: float = 2e-3,
                        **model_kwargs) -> tuple[object, dict, float]:
    """Train the registry's small variant ``name`` on Fashion-MNIST and report test accuracy.

    Trains on ``n_train_full`` images, validates on 1,000 held-out training images each epoch,
    then opens the test set once for the final accuracy. Images are zero-padded from 28x28 to
    32x32 when the variant's natural input is 32x32 (the CIFAR-sized ones). Returns
    ``(model, history, test_accuracy)``.
    """
    from minitorch_cv import models, optim  # noqa: PLC0415

    mt.manual_seed(lesson.seed)
    model = models.get(name, in_channels=1, **model_kwargs)
    size = models.registry.entry(name).input_size[-1]
    (x_train, y_train), (x_valid, y_valid), _ = lesson.train_valid(
        "fashion-mnist", n_train=lesson.pick(n_train_full, 128), n_valid=lesson.pick(1000, 64))
    pad = pad_to(size)
    epochs = lesson.n_epochs(epochs_full)
    max_steps = lesson.pick(None, 1)
    batch_size = 64
    optimizer = optim.Adam(model.parameters(), lr=lr, weight_decay=1e-4)
    scheduler = one_cycle(optimizer, lr, epochs, len(x_train), batch_size, max_steps)
    print(f"training {name} ({count_parameters(model):,} parameters) on {len(x_train):,} "
          f"Fashion-MNIST images ({size}x{size}) for {epochs} epoch(s), validating on "
          f"{len(x_valid):,} held-out training images:")
    history = fit(model, optimizer, (pad(x_train), y_train), (pad(x_valid), y_valid), epochs,
                  batch_size, scheduler=scheduler, max_steps=max_steps, seed=lesson.seed)
    x_test, y_test, _ = lesson.final_test("fashion-mnist", limit=lesson.pick(None, 64))
    _, accuracy = evaluate(model, pad(x_test), y_test)
    print(f"{name}: test accuracy {accuracy:.4f} on {len(x_test):,} test images (seen once, "
          f"after training), {sum(history['seconds']):.0f} s of training")
    return model, history, accuracy


def pad_to(size: int):
    """A function that zero-pads (N, C, 28, 28) images to ``size`` x ``size`` (identity for 28)."""
    def pad(x: np.ndarray) -> np.ndarray:
        if size <= 28:
            return x
        before = (size - 28) // 2
        widths = ((0, 0), (0, 0), (before, size - 28 - before), (before, size - 28 - before))
        return np.pad(x, widths, constant_values=x.min())
    return pad


__all__ = ["Lesson", "batches", "check_test_sealed", "count_parameters", "curves", "evaluate",
           "fit", "lesson_setup", "one_cycle", "overfit_one_batch", "pad_to", "paper_check",
           "predict", "seed_summary", "train_small_variant"]
