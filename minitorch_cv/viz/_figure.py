"""Matplotlib set-up shared by every figure: saving as PNG, and showing it in a notebook.

Importing this module does not choose a matplotlib backend: a script on a headless machine
gets matplotlib's own fallback (Agg), a Jupyter kernel keeps its inline backend, and a
student's own ``plt.plot`` keeps working. Every figure is written as a PNG file; inside a
Jupyter kernel the same PNG is also displayed as the cell's output.
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

_stamp: str | None = None


def set_figure_stamp(text: str | None) -> None:
    """Write ``text`` in red across the top of every figure saved from now on (``None``: no
    stamp). The lessons use it to mark smoke-mode figures as "not a result"."""
    global _stamp
    _stamp = text


def figure_stamp() -> str | None:
    return _stamp


def in_notebook() -> bool:
    """True inside a Jupyter (IPython kernel) session, where figures are shown inline."""
    if "ipykernel" not in sys.modules:
        return False
    try:
        from IPython import get_ipython  # noqa: PLC0415
    except ImportError:
        return False
    return getattr(get_ipython(), "kernel", None) is not None  # a kernel, not a terminal


def save(fig, path) -> Path:
    """Write ``fig`` as a PNG at ``path`` (folders created), show it inline in a notebook,
    close it, return the path."""
    path = Path(path)
    if path.suffix.lower() != ".png":
        path = path.with_suffix(".png")
    path.parent.mkdir(parents=True, exist_ok=True)
    if _stamp:
        fig.text(0.5, 1.0, _stamp, ha="center", va="bottom", color="red", fontsize=9,
                 fontweight="bold")
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    if in_notebook():
        from IPython.display import Image, display  # noqa: PLC0415

        display(Image(filename=str(path)))
    return path


def to_numpy(value) -> np.ndarray:
    """A host NumPy array from a Tensor, a CuPy/NumPy array, or a list."""
    if hasattr(value, "detach") and hasattr(value, "data"):  # a Tensor
        value = value.detach().array
    if hasattr(value, "get"):  # a CuPy array
        value = value.get()
    return np.asarray(value)


def grid_shape(count: int, max_cols: int = 8) -> tuple[int, int]:
    """Rows and columns for ``count`` small panels."""
    cols = min(count, max_cols)
    rows = -(-count // cols)
    return rows, cols


def text_colour(value: float, low: float, high: float, cmap: str = "viridis") -> str:
    """Black or white, whichever reads better on the colour ``cmap`` gives ``value``."""
    fraction = 0.5 if high <= low else (value - low) / (high - low)
    red, green, blue, _ = plt.get_cmap(cmap)(float(np.clip(fraction, 0, 1)))
    luminance = 0.299 * red + 0.587 * green + 0.114 * blue
    return "black" if luminance > 0.5 else "white"


def image_for_display(array: np.ndarray) -> tuple[np.ndarray, str | None]:
    """(C, H, W) or (H, W) -> an array imshow can draw, and the colour map to use.

    One channel is drawn in grey; three channels as RGB after min-max scaling to [0, 1].
    """
    array = np.asarray(array, dtype=np.float64)
    if array.ndim == 3 and array.shape[0] == 1:
        array = array[0]
    if array.ndim == 2:
        return array, "gray"
    if array.ndim == 3 and array.shape[0] == 3:
        rgb = array.transpose(1, 2, 0)
        low, high = rgb.min(), rgb.max()
        return (rgb - low) / (high - low + 1e-12), None
    raise ValueError(f"cannot draw an image of shape {array.shape}; expected (H, W), (1, H, W) "
                     "or (3, H, W)")
