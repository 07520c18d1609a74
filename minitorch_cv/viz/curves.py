"""Training curves: loss and metrics per epoch, train against validation."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.ticker import MaxNLocator

from ._figure import plt, save


def _split_history(history: Mapping[str, Sequence[float]]) -> dict[str, dict[str, list]]:
    """Group ``{"train_loss": [...], "valid_loss": [...], "accuracy": [...]}`` by quantity.

    Keys ``train_X`` / ``valid_X`` (also ``val_X``, ``test_X``) go to the panel of ``X``; any
    other key is a panel of its own.
    """
    panels: dict[str, dict[str, list]] = {}
    for key, values in history.items():
        values = [float(v) for v in values]
        if not values:
            continue
        split, _, quantity = key.partition("_")
        if split in ("train", "valid", "val", "test") and quantity:
            panels.setdefault(quantity, {})[split] = values
        else:
            panels.setdefault(key, {})[key] = values
    return panels


def _epoch_axis(ax, count: int) -> None:
    """Whole-number ticks, and a sensible range even for a single epoch (not 0.945..1.05):
    every epoch up to 12, at most 6 ticks for longer runs (1,500 steps: labels like 1350
    would run into each other)."""
    if count <= 1:  # one epoch: one tick (MaxNLocator would put 0.6 and 1.2 on it)
        ax.set_xticks([1])
    else:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=count if count <= 12 else 6))
    ax.set_xlim(0.5, max(count, 1) + 0.5)


def _split_label(label: str) -> tuple[str, str | None]:
    """``"plain: train"`` -> ``("plain", "train")``: the run, and which split it names."""
    words = label.replace(":", " ").split()
    for split in ("train", "valid", "val", "test"):
        if split in words:
            return " ".join(w for w in words if w != split), split
    return label, None


def plot_training_curves(history: Mapping[str, Sequence[float]], path, title: str | None = None,
                         log_loss: bool = False, xlabel: str = "epoch"):
    """One panel per quantity (loss, accuracy, ...), train and validation curves together.

    Args:
        history: ``{"train_loss": [...], "valid_loss": [...], "valid_accuracy": [...]}``:
            one value per epoch (or per evaluation).
        path: the PNG to write.
        log_loss: draw loss panels on a log scale.

    The epoch with the lowest validation loss is marked: where validation loss turns up while
    training loss keeps falling, the model starts to overfit.
    """
    panels = _split_history(history)
    if not panels:
        raise ValueError("empty history: nothing to plot")
    fig, axes = plt.subplots(1, len(panels), figsize=(4.6 * len(panels), 3.6), squeeze=False)
    for ax, (quantity, curves) in zip(axes[0], panels.items()):
        for split, values in curves.items():
            epochs = np.arange(1, len(values) + 1)
            style = "--" if split == "train" else "-"
            marker = "o" if len(values) <= 60 else None
            ax.plot(epochs, values, style, marker=marker, markersize=3, label=split)
        valid = curves.get("valid") or curves.get("val")
        if "loss" in quantity and valid is not None and len(valid) > 1:
            best = int(np.argmin(valid))
            ax.axvline(best + 1, color="0.6", lw=1, ls=":")
            ax.annotate(f"best valid\n{xlabel} {best + 1}", (best + 1, valid[best]),
                        textcoords="offset points", xytext=(6, 12), fontsize=8)
        if "loss" in quantity and log_loss:
            ax.set_yscale("log")
        ax.set_xlabel(xlabel)
        _epoch_axis(ax, max(len(v) for v in curves.values()))
        ax.set_ylabel(quantity)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return save(fig, path)


def plot_curve_comparison(runs: Mapping[str, Sequence[float]], path, ylabel: str,
                          title: str | None = None, xlabel: str = "epoch", log: bool = False):
    """Several runs' curves of one quantity on one axis (e.g. validation loss per setting).

    Labels that name a split (``"plain: train"``, ``"1998 valid loss"``) are drawn so that a
    run keeps one colour and the split has its own line style: training dashed, validation
    solid.
    """
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    colours: dict[str, str] = {}
    cycle = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for label, values in runs.items():
        values = [float(v) for v in values]
        marker = "o" if len(values) <= 60 else None
        run, split = _split_label(label)
        colour = colours.setdefault(run, cycle[len(colours) % len(cycle)])
        style = "--" if split == "train" else "-"
        ax.plot(np.arange(1, len(values) + 1), values, style, color=colour, marker=marker,
                markersize=3, label=label)
    ax.set_xlabel(xlabel)
    _epoch_axis(ax, max((len(v) for v in runs.values()), default=1))
    ax.set_ylabel(ylabel)
    if log:
        ax.set_yscale("log")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title)
    return save(fig, path)
