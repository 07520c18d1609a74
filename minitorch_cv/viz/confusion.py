"""Confusion matrices: counts of (true class, predicted class) pairs."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ._figure import plt, save, text_colour, to_numpy


def confusion_matrix(y_true, y_pred, num_classes: int | None = None) -> np.ndarray:
    """``matrix[t, p]`` = how many examples of class ``t`` were predicted as ``p``.

    ``y_pred`` may be class indices (N,) or scores/logits (N, classes), then argmax is taken.
    """
    y_true = to_numpy(y_true).astype(np.int64).ravel()
    y_pred = to_numpy(y_pred)
    if y_pred.ndim == 2:
        y_pred = y_pred.argmax(axis=1)
    y_pred = y_pred.astype(np.int64).ravel()
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true has {y_true.size} labels but y_pred has {y_pred.size}")
    if num_classes is None:
        num_classes = int(max(y_true.max(initial=0), y_pred.max(initial=0))) + 1
    matrix = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(matrix, (y_true, y_pred), 1)
    return matrix


def plot_confusion_matrix(matrix, path, class_names: Sequence[str] | None = None,
                          normalize: bool = False, title: str | None = None):
    """Draw a confusion matrix with its counts (or row fractions when ``normalize``)."""
    matrix = np.asarray(matrix)
    k = matrix.shape[0]
    names = list(class_names) if class_names is not None else [str(i) for i in range(k)]
    shown = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1) if normalize else matrix
    size = max(4.5, 0.55 * k + 2.0)
    fig, ax = plt.subplots(figsize=(size + 1, size))
    image = ax.imshow(shown, cmap="Blues")
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    ax.set_xticks(range(k), names, rotation=45, ha="right")
    ax.set_yticks(range(k), names)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    low, high = float(shown.min()), float(shown.max())
    for t in range(k):
        for p in range(k):
            text = f"{shown[t, p]:.2f}" if normalize else f"{int(shown[t, p])}"
            ax.text(p, t, text, ha="center", va="center", fontsize=8,
                    color=text_colour(shown[t, p], low, high, "Blues"))
    accuracy = np.trace(matrix) / max(matrix.sum(), 1)
    ax.set_title(title or f"confusion matrix (accuracy {accuracy:.1%})")
    return save(fig, path)
