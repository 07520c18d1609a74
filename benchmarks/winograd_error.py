"""The float32 error of Winograd F(2x2, 3x3) and F(4x4, 3x3) against float64, per layer shape.

Run::

    python benchmarks/winograd_error.py

For each 3x3 layer shape (He-initialised filters, standard-normal inputs, padding 1), the
forward output in float32 is compared with a float64 convolution; the error is the largest
absolute difference divided by the largest absolute output. Rows:

- ``im2col`` and ``winograd F(2x2)``: minitorch_cv's ``F.conv2d`` with that algorithm forced;
- ``numpy F(2x2)`` / ``numpy F(4x4)``: a plain NumPy Winograd written here from Lavin and Gray's
  matrices (all arithmetic in float32, the matrices rounded to float32 as a kernel would store
  them). F(4x4, 3x3) is not built in minitorch_cv; this script is how its error was judged.

The comparison with torch allows (rtol, atol) = (1e-4, 1e-4) for conv in float32
(``minitorch_cv.testing.torch_compare.TOLERANCES["conv"]``).
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import minitorch_cv as mt  # noqa: I001  (before numpy: its thread settings)
import minitorch_cv.functional as F

import numpy as np  # noqa: E402

F2 = (np.array([[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]]),
      np.array([[1, 0, 0], [1 / 2, 1 / 2, 1 / 2], [1 / 2, -1 / 2, 1 / 2], [0, 0, 1]]),
      np.array([[1, 1, 1, 0], [0, 1, -1, -1]]))
F4 = (np.array([[4, 0, -5, 0, 1, 0], [0, -4, -4, 1, 1, 0], [0, 4, -4, -1, 1, 0],
                [0, -2, -1, 2, 1, 0], [0, 2, -1, -2, 1, 0], [0, 4, 0, -5, 0, 1]]),
      np.array([[1 / 4, 0, 0], [-1 / 6, -1 / 6, -1 / 6], [-1 / 6, 1 / 6, -1 / 6],
                [1 / 24, 1 / 12, 1 / 6], [1 / 24, -1 / 12, 1 / 6], [0, 0, 1]]),
      np.array([[1, 1, 1, 1, 1, 0], [0, 1, -1, 2, -2, 0], [0, 1, 1, 4, 4, 0],
                [0, 1, -1, 8, -8, 1]]))

SHAPES = [(8, 16, 32, 16), (8, 64, 8, 64), (2, 64, 56, 64), (4, 256, 14, 256)]


def numpy_winograd(x, w, matrices, dtype):
    """Winograd F(m x m, 3x3), stride 1, padding 1, every operation in ``dtype``."""
    BT, G, AT = (np.asarray(m, dtype=dtype) for m in matrices)
    m, alpha = AT.shape
    N, C, H, W = x.shape
    tiles_h, tiles_w = -(-H // m), -(-W // m)
    padded = np.zeros((N, C, tiles_h * m + 2, tiles_w * m + 2), dtype=dtype)
    padded[:, :, 1:H + 1, 1:W + 1] = x
    # d (N, C, tiles_h, tiles_w, alpha, alpha): overlapping alpha x alpha tiles every m pixels
    d = np.lib.stride_tricks.sliding_window_view(padded, (alpha, alpha), axis=(2, 3))
    d = d[:, :, ::m, ::m][:, :, :tiles_h, :tiles_w]
    V = np.einsum("ai,nctwij,bj->abnctw", BT, d, BT)
    U = np.einsum("ai,ocij,bj->aboc", G, w.astype(dtype), G)
    M = np.einsum("aboc,abnctw->abnotw", U, V)
    Y = np.einsum("ra,abnotw,sb->notrws", AT, M, AT)  # (N, C_out, th, m, tw, m)
    return Y.reshape(N, -1, tiles_h * m, tiles_w * m)[:, :, :H, :W]


def main() -> None:
    rng = np.random.default_rng(0)
    print("float32 forward error / largest |output|, padding 1, against float64")
    print(f"{'shape (N, C, H, C_out)':24s} {'im2col':>9s} {'winograd F(2x2)':>16s} "
          f"{'numpy F(2x2)':>13s} {'numpy F(4x4)':>13s}")
    for N, C, H, C_out in SHAPES:
        x = rng.standard_normal((N, C, H, H))
        w = rng.standard_normal((C_out, C, 3, 3)) * np.sqrt(2 / (9 * C))
        exact = F.conv2d(mt.tensor(x), mt.tensor(w), padding=1).numpy()
        assert np.allclose(numpy_winograd(x, w, F2, np.float64), exact)
        assert np.allclose(numpy_winograd(x, w, F4, np.float64), exact)
        scale = np.abs(exact).max()
        errors = []
        for algorithm in ("im2col", "winograd"):
            with mt.backends.conv.flags(algorithm=algorithm):
                y = F.conv2d(mt.tensor(x.astype(np.float32)), mt.tensor(w.astype(np.float32)),
                             padding=1).numpy()
            errors.append(np.abs(y - exact).max() / scale)
        for matrices in (F2, F4):
            y = numpy_winograd(x.astype(np.float32), w, matrices, np.float32)
            errors.append(np.abs(y - exact).max() / scale)
        print(f"{str((N, C, H, C_out)):24s} {errors[0]:9.1e} {errors[1]:16.1e} "
              f"{errors[2]:13.1e} {errors[3]:13.1e}")


if __name__ == "__main__":
    main()
