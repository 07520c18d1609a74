"""2-D convolution: the textbook path (im2col, one GEMM, col2im), and the op that runs it.

Forward, for a block of ``n`` samples (``K = Cg*kh*kw`` with ``Cg = C // groups``)::

    col = im2col(x)                        # (C, kh, kw, n, out_h, out_w): the GEMM layout
    col -> (groups, K, n*out_h*out_w)      # a free reshape
    out = weight(groups, C_out/groups, K) @ col     # ONE GEMM per group for the whole block

Backward (``g`` the output gradient, in the same layout (groups, C_out/groups, n*L))::

    grad_weight = g @ col^T                # GEMM, (groups, C_out/groups, K)
    grad_col = weight^T @ g                # GEMM, (groups, K, n*L)
    grad_x = col2im(grad_col)              # overlapping windows add up

That is all of the arithmetic of ``algorithm = "im2col"``. Two things are left out of this
file on purpose:

- the tuning (``ops/conv_schedule.py``): cache-sized blocks of samples, threads, columns kept
  from forward to backward. It decides how the batch is cut up, never what is computed;
- the other algorithms (``ops/conv_algorithms.py``): Winograd F(2x2, 3x3) and direct loops,
  and the chooser (``minitorch_cv.backends.conv``) that picks one per layer shape.
"""

from __future__ import annotations

from typing import NamedTuple

from .. import kernels
from ..autograd.function import Function
from . import conv_algorithms
from .kernel_dtype import check_kernel_dtype


def conv_output_size(size: int, k: int, stride: int, pad: int, dil: int) -> int:
    """``out = (size + 2*pad - dil*(k - 1) - 1) // stride + 1``."""
    return (size + 2 * pad - dil * (k - 1) - 1) // stride + 1


class Geometry(NamedTuple):
    """Everything about a convolution's windows; ``im2col``'s ten integers, then ``groups``."""

    kh: int
    kw: int
    sh: int
    sw: int
    ph: int
    pw: int
    dh: int
    dw: int
    out_h: int
    out_w: int
    groups: int


# ----------------------------------------------------------------------------- textbook path
def im2col_forward(K, xp, x, weight, geo: Geometry):
    """x (n, C, H, W) -> out (n, C_out, out_h*out_w), and the columns (for backward)."""
    n, C_out, G, L = x.shape[0], weight.shape[0], geo.groups, geo.out_h * geo.out_w
    col = im2col_gemm(K, xp, x, geo).reshape(G, -1, n * L)  # (G, Cg*kh*kw, n*L)
    w = xp.ascontiguousarray(weight).reshape(G, C_out // G, -1)
    out = xp.matmul(w, col)  # (G, C_out/G, n*L): one GEMM per group
    return out.reshape(C_out, n, L).transpose(1, 0, 2), col


def im2col_backward(K, xp, x, weight, col, grad_out, geo: Geometry, need_x, need_w,
                    weight_t=None):
    """grad_out (n, C_out, out_h*out_w) -> (grad_x (n, C, H, W), grad_weight (G, C_out/G,
    Cg*kh*kw)), each None when not needed; ``col`` is forward's (None: rebuilt here),
    ``weight_t`` is ``transposed_weight(weight)`` (made here if not given)."""
    n, C, H, W = x.shape
    C_out, G, L = weight.shape[0], geo.groups, geo.out_h * geo.out_w
    # (n, C_out, L) -> (G, C_out/G, n*L), the layout of forward's GEMM output
    g = xp.ascontiguousarray(grad_out.transpose(1, 0, 2)).reshape(G, C_out // G, n * L)
    grad_x = grad_w = None
    if need_w:
        if col is None:
            col = im2col_gemm(K, xp, x, geo)
        col = col.reshape(G, -1, n * L)
        # (col @ g^T)^T, not g @ col^T: the same product, but OpenBLAS runs this orientation
        # (tall result, long inner dimension) 2-3x faster here
        grad_w = xp.stack([(col[group] @ g[group].T).T for group in range(G)])
    if need_x:
        w_t = transposed_weight(xp, weight, G) if weight_t is None else weight_t
        grad_col = xp.matmul(w_t, g).reshape(C, geo.kh, geo.kw, n, geo.out_h, geo.out_w)
        grad_x = col2im_gemm(K, xp, grad_col, H, W, geo)
    return grad_x, grad_w


def transposed_weight(xp, weight, groups):
    """weight^T per group, (G, Cg*kh*kw, C_out/G), as its own C-contiguous array: matmul on a
    transposed view may skip BLAS."""
    C_out = weight.shape[0]
    return xp.ascontiguousarray(weight.reshape(groups, C_out // groups, -1).transpose(0, 2, 1))


def im2col_gemm(K, xp, x, geo: Geometry):
    """Columns in the GEMM layout (C, kh, kw, n, out_h, out_w). CPU kernels write it directly;
    for a namespace with only the contract's ``im2col`` (N, C, kh, kw, ...), a transpose."""
    if hasattr(K, "im2col_batch_inner"):
        return K.im2col_batch_inner(x, *geo[:10])
    return xp.ascontiguousarray(K.im2col(x, *geo[:10]).transpose(1, 2, 3, 0, 4, 5))


def col2im_gemm(K, xp, col, H, W, geo: Geometry):
    """``col2im`` of a GEMM-layout (C, kh, kw, n, out_h, out_w) column gradient."""
    strides = (geo.sh, geo.sw, geo.ph, geo.pw, geo.dh, geo.dw)
    if hasattr(K, "col2im_batch_inner"):
        return K.col2im_batch_inner(col, H, W, *strides)
    return K.col2im(xp.ascontiguousarray(col.transpose(3, 0, 1, 2, 4, 5)), H, W, *strides)


# ----------------------------------------------------------------------------- the op
class Conv2d(Function):
    """``conv2d`` on arrays; argument checking lives in ``functional.conv2d``.

    The algorithm (``"im2col"``, ``"winograd"``, ``"direct"``) is chosen per call by
    ``minitorch_cv.backends.conv`` and remembered for backward; all give the same result up to
    rounding.

    Shapes:
        x (N, C, H, W), weight (C_out, C // groups, kh, kw), bias (C_out,) or None ->
        out (N, C_out, out_h, out_w).
    """

    @staticmethod
    def forward(ctx, x, weight, bias=None, stride=(1, 1), padding=(0, 0), dilation=(1, 1),
                groups=1):
        check_kernel_dtype(x, "conv2d")
        K, xp = kernels.for_device(ctx.device), ctx.xp
        N, C, H, W = x.shape
        kh, kw = weight.shape[2:]
        (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
        out_h = conv_output_size(H, kh, sh, ph, dh)
        out_w = conv_output_size(W, kw, sw, pw, dw)
        geo = Geometry(kh, kw, sh, sw, ph, pw, dh, dw, out_h, out_w, groups)
        algorithm = conv_algorithms.choose(K, xp, ctx.device, x, weight, geo)
        out, saved = algorithm.forward(K, xp, x, weight, geo, bias)  # bias added by it
        ctx.geometry, ctx.algorithm, ctx.has_bias = geo, algorithm, bias is not None
        ctx.save_for_backward(x, weight, saved)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        K, xp = kernels.for_device(ctx.device), ctx.xp
        x, weight, saved = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        grad_x, grad_w = ctx.algorithm.backward(K, xp, x, weight, saved, grad_output,
                                                ctx.geometry, need_x, need_w)
        grad_b = grad_output.sum(axis=(0, 2, 3)) if ctx.has_bias and need_b else None
        return grad_x, grad_w, grad_b
