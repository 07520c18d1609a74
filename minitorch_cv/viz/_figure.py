"""Matplotlib set-up shared by every figure: the Agg backend (no display needed) and saving."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg", force=False)  # headless: files only, never a window

import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)
import numpy as np  # noqa: E402


def save(fig, path) -> Path:
    """Write ``fig`` as a PNG at ``path`` (folders created), close it, return the path."""
    path = Path(path)
    if path.suffix.lower() != ".png":
        path = path.with_suffix(".png")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
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
