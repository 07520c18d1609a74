"""Inverted dropout: zero each element (or each channel) with probability ``p`` in training and
scale the survivors by ``1 / (1 - p)``, so that the expected activation is unchanged and
evaluation needs no rescaling.

The mask comes from the counter-based ``dropout_mask`` kernel with a fresh 64-bit seed from
``minitorch_cv.random.next_seed(device)``: ``manual_seed`` makes it repeatable, and every
device draws the same mask for the same seed.
"""

from __future__ import annotations

from .. import kernels
from ..autograd.function import Function
from ..random import next_seed


class Dropout(Function):
    """``y = x * keep / (1 - p)``; ``channelwise`` draws one keep bit per (n, c) plane.

    Shapes: x any shape (``channelwise``: (N, C, ...), element ``i = n*C + c``) -> y like x.
    """

    @staticmethod
    def forward(ctx, x, p=0.5, channelwise=False):
        K = kernels.for_device(ctx.device)
        if channelwise:
            mask_shape = x.shape[:2] + (1,) * (x.ndim - 2)
        else:
            mask_shape = x.shape
        count = 1
        for n in mask_shape:
            count *= n
        keep = K.dropout_mask(count, p, next_seed(ctx.device)).reshape(mask_shape)
        scale = 0.0 if p >= 1 else 1.0 / (1.0 - p)  # p = 1 drops everything: zeros, not NaN
        ctx.mask = keep.astype(x.dtype) * x.dtype.type(scale)
        return x * ctx.mask

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output * ctx.mask
