"""``fold`` (col2im) as a Function: the adjoint of ``unfold`` (im2col).

``unfold`` needs no Function of its own: it is one index-array ``getitem`` (whose backward is
this scatter-add). ``fold`` scatters columns back into an image, adding where windows
overlap, and its backward is the gather.

Shapes: columns (N, C * kh * kw, out_h * out_w) -> image (N, C, H, W).
"""

from __future__ import annotations

from ..autograd.function import Function


def window_indices(xp, size, kernel, dilation, padding, stride):
    """Row and column index arrays of shape (kh, kw, out_h, out_w) into the padded image:
    ``row = i * sh + ki * dh``, ``col = j * sw + kj * dw``, and ``(out_h, out_w)``, with
    ``out = (size + 2 * pad - dil * (k - 1) - 1) // stride + 1``."""
    (H, W), (kh, kw), (dh, dw), (ph, pw), (sh, sw) = size, kernel, dilation, padding, stride
    out_h = (H + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    out_w = (W + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    ki = xp.arange(kh).reshape(kh, 1, 1, 1)
    kj = xp.arange(kw).reshape(1, kw, 1, 1)
    i = xp.arange(out_h).reshape(1, 1, out_h, 1)
    j = xp.arange(out_w).reshape(1, 1, 1, out_w)
    rows = xp.broadcast_to(i * sh + ki * dh, (kh, kw, out_h, out_w))
    cols = xp.broadcast_to(j * sw + kj * dw, (kh, kw, out_h, out_w))
    return rows, cols, out_h, out_w


class Fold(Function):
    @staticmethod
    def forward(ctx, columns, output_size=None, kernel=None, dilation=None, padding=None,
                stride=None):
        xp = ctx.xp
        (H, W), (kh, kw), (ph, pw) = output_size, kernel, padding
        rows, cols, out_h, out_w = window_indices(xp, (H, W), kernel, dilation, padding, stride)
        n, ckk, length = columns.shape
        channels = ckk // (kh * kw)
        image = xp.zeros((n, channels, H + 2 * ph, W + 2 * pw), dtype=columns.dtype)
        blocks = columns.reshape(n, channels, kh, kw, out_h, out_w)
        xp.add.at(image, (slice(None), slice(None), rows, cols), blocks)  # overlaps add up
        ctx.where, ctx.padding, ctx.shape = (rows, cols), (ph, pw), columns.shape
        return image[:, :, ph:ph + H, pw:pw + W]

    @staticmethod
    def backward(ctx, grad_output):
        ph, pw = ctx.padding
        padded = ctx.xp.pad(grad_output, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
        rows, cols = ctx.where
        return padded[:, :, rows, cols].reshape(ctx.shape)
