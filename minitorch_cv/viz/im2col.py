"""The im2col picture: windows of the input -> columns of a matrix -> one GEMM -> col2im.

Convolution as the kernels compute it (see ``kernels/reference.py``): ``im2col`` copies every
``kh x kw`` window of the input into a column of ``col`` (shape ``(C*kh*kw, out_h*out_w)`` for
one image), the weights reshaped to ``(C_out, C*kh*kw)`` multiply it in one GEMM, and the
result is reshaped to ``(C_out, out_h, out_w)``. The backward pass scatters the columns back
with ``col2im``, whose ``+=`` adds up every window that covers a pixel: the overlap counts.
"""

from __future__ import annotations

import numpy as np

from ..kernels import reference
from ._figure import plt, save, text_colour


def _pair(value) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else tuple(value)


def output_size(size: int, k: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> int:
    """``out = (size + 2*pad - dil*(k - 1) - 1) // stride + 1``."""
    return (size + 2 * padding - dilation * (k - 1) - 1) // stride + 1


def im2col_matrix(x: np.ndarray, kernel_size, stride=1, padding=0) -> np.ndarray:
    """One image ``(C, H, W)`` -> the unfolded matrix ``(C*kh*kw, out_h*out_w)``."""
    (kh, kw), (sh, sw), (ph, pw) = _pair(kernel_size), _pair(stride), _pair(padding)
    C, H, W = x.shape
    out_h, out_w = output_size(H, kh, sh, ph), output_size(W, kw, sw, pw)
    col = reference.im2col(x[None], kh, kw, sh, sw, ph, pw, 1, 1, out_h, out_w)
    return col.reshape(C * kh * kw, out_h * out_w)  # (N=1, C, kh, kw, out_h, out_w) flattened


def overlap_counts(H: int, W: int, kernel_size, stride=1, padding=0) -> np.ndarray:
    """How many windows cover each input pixel: ``col2im`` of a column matrix of ones."""
    (kh, kw), (sh, sw), (ph, pw) = _pair(kernel_size), _pair(stride), _pair(padding)
    out_h, out_w = output_size(H, kh, sh, ph), output_size(W, kw, sw, pw)
    ones = np.ones((1, 1, kh, kw, out_h, out_w), dtype=np.float64)
    return reference.col2im(ones, H, W, sh, sw, ph, pw, 1, 1)[0, 0]


def _draw_matrix(ax, matrix, title, highlight_cols=(), colours=(), fmt="{:g}", cmap="Greys"):
    ax.imshow(matrix, cmap=cmap, alpha=0.35, aspect="auto")
    rows, cols = matrix.shape
    if matrix.size <= 400:
        for r in range(rows):
            for c in range(cols):
                ax.text(c, r, fmt.format(matrix[r, c]), ha="center", va="center", fontsize=7)
    for col, colour in zip(highlight_cols, colours):
        ax.add_patch(plt.Rectangle((col - 0.5, -0.5), 1, rows, fill=False, ec=colour, lw=2.5))
    ax.set_title(title, fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])


def plot_im2col(path, H: int = 5, W: int = 5, kernel_size=3, stride=1, padding=0,
                channels: int = 1, out_channels: int = 2, x=None, weight=None):
    """Draw im2col, the GEMM and col2im's overlap counts for a small example; return the path.

    Panels: (1) the input with two windows outlined; (2) the unfolded matrix, one column per
    window (the outlined windows' columns in the same colours); (3) the GEMM
    ``W (C_out, C*kh*kw) @ col = out (C_out, out_h*out_w)``; (4) the output maps; (5) the
    overlap counts ``col2im`` adds up in the backward pass.
    """
    (kh, kw), (sh, sw), (ph, pw) = _pair(kernel_size), _pair(stride), _pair(padding)
    if x is None:
        x = np.arange(channels * H * W, dtype=np.float64).reshape(channels, H, W)
    x = np.asarray(x, dtype=np.float64)
    C = x.shape[0]
    if weight is None:
        rng = np.random.default_rng(0)
        weight = rng.integers(-1, 2, size=(out_channels, C, kh, kw)).astype(np.float64)
    weight = np.asarray(weight, dtype=np.float64)
    out_h, out_w = output_size(H, kh, sh, ph), output_size(W, kw, sw, pw)
    col = im2col_matrix(x, (kh, kw), (sh, sw), (ph, pw))
    w_matrix = weight.reshape(weight.shape[0], -1)  # (C_out, C*kh*kw)
    out = w_matrix @ col  # (C_out, out_h*out_w): the whole convolution is this one GEMM
    counts = overlap_counts(H, W, (kh, kw), (sh, sw), (ph, pw))

    fig, axes = plt.subplots(1, 5, figsize=(13, 3.9),
                             gridspec_kw={"width_ratios": [1, 1.6, 1.3, 1, 1]})
    colours = ["tab:red", "tab:blue"]
    windows = [0, out_h * out_w - 1] if out_h * out_w > 1 else [0]
    ax = axes[0]
    ax.imshow(np.pad(x[0], ((ph, ph), (pw, pw))), cmap="Greys", alpha=0.3)
    for r in range(H + 2 * ph):
        for c in range(W + 2 * pw):
            inside = ph <= r < H + ph and pw <= c < W + pw
            value = x[0, r - ph, c - pw] if inside else 0
            ax.text(c, r, f"{value:g}", ha="center", va="center", fontsize=8,
                    color="black" if inside else "0.6")
    for index, colour in zip(windows, colours):
        oh, ow = divmod(index, out_w)
        ax.add_patch(plt.Rectangle((ow * sw - 0.5, oh * sh - 0.5), kw, kh, fill=False,
                                   ec=colour, lw=2.5))
    pad_note = f", padding {ph}" if ph or pw else ""
    ax.set_title(f"input {C}x{H}x{W} (channel 0){pad_note}\n{kh}x{kw} windows, stride {sh}",
                 fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])
    _draw_matrix(axes[1], col, f"im2col: col {col.shape[0]}x{col.shape[1]}\n"
                 f"(C*kh*kw rows, out_h*out_w = {out_h}*{out_w} columns)", windows, colours)
    ax = axes[2]
    ax.axis("off")
    ax.set_title(f"one GEMM: W ({w_matrix.shape[0]}x{w_matrix.shape[1]}) @ col "
                 f"({col.shape[0]}x{col.shape[1]})\n= out ({out.shape[0]}x{out.shape[1]})",
                 fontsize=9)
    inner = ax.inset_axes([0.0, 0.55, 1.0, 0.35])
    _draw_matrix(inner, w_matrix, "weights W", cmap="coolwarm")
    inner2 = ax.inset_axes([0.0, 0.05, 1.0, 0.35])
    _draw_matrix(inner2, out, "out = W @ col", windows, colours, fmt="{:.0f}", cmap="viridis")
    ax = axes[3]
    ax.imshow(out[0].reshape(out_h, out_w), cmap="viridis")
    low, high = float(out[0].min()), float(out[0].max())
    for r in range(out_h):
        for c in range(out_w):
            value = out[0, r * out_w + c]
            ax.text(c, r, f"{value:.0f}", ha="center", va="center", fontsize=8,
                    color=text_colour(value, low, high, "viridis"))
    ax.set_title(f"reshape: output channel 0\n({out_h}x{out_w})", fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])
    ax = axes[4]
    image = ax.imshow(counts, cmap="magma", vmin=0)
    for r in range(H):
        for c in range(W):
            ax.text(c, r, f"{counts[r, c]:.0f}", ha="center", va="center", fontsize=9,
                    color=text_colour(counts[r, c], 0, counts.max(), "magma"))
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    ax.set_title("col2im overlap counts\n(windows adding a gradient here)",
                 fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])
    fig.tight_layout()
    return save(fig, path)
