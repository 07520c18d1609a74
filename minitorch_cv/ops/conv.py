"""2-D convolution as im2col followed by one GEMM per group (BLAS on CPU, cuBLAS on GPU).

Forward, for a block of ``n`` samples (``K = Cg*kh*kw`` with ``Cg = C // groups``)::

    col = im2col(x)                        # (C, kh, kw, n, out_h, out_w): the GEMM layout
    col -> (groups, K, n*out_h*out_w)      # a free reshape
    out = weight(groups, C_out/groups, K) @ col     # ONE GEMM per group for the whole block
    out -> (n, C_out, out_h, out_w)        # one transposing copy of the (small) output

Backward (``g`` the output gradient, transposed the same way to (groups, C_out/groups, n*L))::

    grad_weight += g @ col^T               # GEMM, (groups, C_out/groups, K)
    grad_col = weight^T @ g                # GEMM, (groups, K, n*L)
    grad_x = col2im(grad_col)              # overlapping windows add up
    grad_bias = g summed over n, out_h, out_w

The GEMM layout puts the batch inside the column matrix: one large GEMM runs several times
faster than N tiny ones (measured with OpenBLAS, benchmarks/bench_kernels.py). CPU kernels
write it directly (``im2col_batch_inner``); for a namespace that only has the contract's
``im2col`` (N, C, kh, kw, out_h, out_w), the op transposes that (``_im2col_gemm``).

Blocks (CPU): the batch is processed ``n`` samples at a time, with ``n`` chosen so that one
block's columns (``GEMM_BLOCK_BYTES``, 1 MiB) stay in the L2 cache between the kernel that
writes them and the GEMM that reads them (im2col then GEMM, and GEMM then col2im in backward).
Building the whole batch's columns first and multiplying afterwards sends every column through
main memory twice; blocking made forward+backward 1.1-1.6x faster on the benchmark shapes.
With several CPU threads, the blocks are shared out: each thread runs the whole pipeline
(im2col, GEMMs, col2im) single-threaded on its own contiguous part of the batch
(``_split_batch``; why: ``kernels/cpu/threads.py``), and the parts' weight gradients are
added. On GPUs a batch chunk is one block.

Memory: the column buffer holds ``C*kh*kw*out_h*out_w`` elements per sample, ``kh*kw`` times
the input at stride 1. When the whole batch's columns fit ``IM2COL_BUDGET_BYTES`` (on the CPU:
``KEEP_COLUMNS_MAX_BYTES``) they are kept (one array per block) for backward, so backward does
not rebuild them; above it, or with ``SAVE_COLUMNS_FOR_BACKWARD = False``, backward rebuilds
each block's columns (and the batch is processed in chunks of at most the budget).
"""

from __future__ import annotations

from .. import kernels
from ..autograd.function import Function
from .kernel_dtype import check_kernel_dtype

IM2COL_BUDGET_BYTES = 256 * 2**20
"""Most column bytes one conv holds: up to it a batch's columns are kept for backward, above
it backward rebuilds them block by block (and no block exceeds it).

Set ``minitorch_cv.ops.conv.IM2COL_BUDGET_BYTES`` to trade memory for speed; at least one
sample is always processed, whatever the budget."""

GEMM_BLOCK_BYTES = 2**20
"""Column bytes built and multiplied at a time by one CPU thread (at least one sample): im2col
writes a block that the GEMM reads while it is still in the L2 cache. 1 MiB measured best of
1, 2 and 4 MiB on a 1 MiB-L2 core and as good as 2 MiB on a 2 MiB-L2 core; a smaller L2 may
prefer less."""

PARTS_PER_THREAD = 4
"""With several CPU threads, a convolution's batch is cut into up to this many parts per
thread, which the threads take in turn: a thread that starts late (a sleeping core can take
milliseconds to wake) then takes fewer parts instead of holding the others up."""

KEEP_COLUMNS_MAX_BYTES = 32 * 2**20
"""On the CPU, a batch's columns are kept from forward to backward only up to this size; above
it backward rebuilds each block. Columns that large have left the caches by backward, and
rebuilding a block in cache cost less than reading it back from main memory: conv2d
forward+backward 1.08-1.16x faster for 75 and 231 MB of columns, and up to 1.15x slower for
8-19 MB (measured on 1 and 2 threads, 2 MiB L2 per core)."""

SAVE_COLUMNS_FOR_BACKWARD = True
"""Keep a (within-budget) column buffer from forward to backward instead of rebuilding it.

Faster (one im2col less per step), but every conv layer of a network then holds its columns
until backward: ``kh*kw`` times its input. Set to False when a deep network runs out of memory."""


def conv_output_size(size: int, k: int, stride: int, pad: int, dil: int) -> int:
    """``out = (size + 2*pad - dil*(k - 1) - 1) // stride + 1``."""
    return (size + 2 * pad - dil * (k - 1) - 1) // stride + 1


def batch_chunk(N: int, per_sample_bytes: int, budget: int | None = None) -> int:
    """How many samples fit the im2col budget (at least 1)."""
    budget = IM2COL_BUDGET_BYTES if budget is None else budget
    return max(1, min(N, budget // max(per_sample_bytes, 1)))


def _block_samples(K, N: int, per_sample: int) -> int:
    """Samples per block: ``GEMM_BLOCK_BYTES`` of columns on CPU kernels (each thread works
    through its own part of the batch block by block); the whole budget chunk on namespaces
    without ``num_threads`` (GPUs)."""
    if getattr(K, "num_threads", None) is None:
        return batch_chunk(N, per_sample)
    return batch_chunk(N, per_sample, min(IM2COL_BUDGET_BYTES, GEMM_BLOCK_BYTES))


def _keeps_columns(K, total_bytes: int) -> bool:
    """Whether forward keeps a batch's columns (``total_bytes``) for backward."""
    limit = IM2COL_BUDGET_BYTES
    if getattr(K, "num_threads", None) is not None:
        limit = min(limit, KEEP_COLUMNS_MAX_BYTES)
    return SAVE_COLUMNS_FOR_BACKWARD and total_bytes <= limit


def _split_batch(K, blocks, N: int, chunk: int) -> list:
    """Run ``blocks(lo, hi)`` over the batch; its results, one per part.

    On CPU kernels with several threads and at least two blocks, the blocks are cut into
    contiguous parts (up to ``PARTS_PER_THREAD`` per thread) and ``K.run_split`` has the threads
    take the parts in turn, each running Numba and BLAS single-threaded (why:
    ``kernels/cpu/threads.py``). Otherwise one part, the whole batch, on this thread."""
    n_blocks = -(-N // chunk)
    threads = getattr(K, "num_threads", None)
    threads = threads() if threads is not None else 1
    if threads <= 1 or n_blocks <= 1 or getattr(K, "run_split", None) is None:
        return [blocks(0, N)]
    parts = min(n_blocks, threads * PARTS_PER_THREAD)
    bounds = [min(N, (n_blocks * i // parts) * chunk) for i in range(parts + 1)]
    return K.run_split(blocks, list(zip(bounds[:-1], bounds[1:])), threads)


def _im2col_gemm(K, xp, x, geometry):
    """Columns in the GEMM layout (C, kh, kw, n, out_h, out_w)."""
    direct = getattr(K, "im2col_batch_inner", None)
    if direct is not None:
        return direct(x, *geometry)
    return xp.ascontiguousarray(K.im2col(x, *geometry).transpose(1, 2, 3, 0, 4, 5))


def _col2im_gemm(K, xp, col, H, W, strides):
    """``col2im`` of a GEMM-layout (C, kh, kw, n, out_h, out_w) column gradient."""
    direct = getattr(K, "col2im_batch_inner", None)
    if direct is not None:
        return direct(col, H, W, *strides)
    return K.col2im(xp.ascontiguousarray(col.transpose(3, 0, 1, 2, 4, 5)), H, W, *strides)


class Conv2d(Function):
    """``conv2d`` on arrays; argument checking lives in ``functional.conv2d``.

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
        C_out, Cg, kh, kw = weight.shape
        (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
        out_h = conv_output_size(H, kh, sh, ph, dh)
        out_w = conv_output_size(W, kw, sw, pw, dw)
        L, G = out_h * out_w, groups
        w = xp.ascontiguousarray(weight).reshape(G, C_out // G, Cg * kh * kw)
        per_sample = C * kh * kw * L * x.dtype.itemsize
        chunk = _block_samples(K, N, per_sample)
        keep = _keeps_columns(K, N * per_sample)
        geometry = (kh, kw, sh, sw, ph, pw, dh, dw, out_h, out_w)
        out = xp.empty((N, C_out, L), dtype=x.dtype)
        cols = [None] * -(-N // chunk)  # one per block, when kept

        def blocks(lo, hi):  # samples lo..hi, block by block
            for start in range(lo, hi, chunk):
                stop = min(hi, start + chunk)
                n = stop - start
                col = _im2col_gemm(K, xp, x[start:stop], geometry).reshape(G, Cg * kh * kw, n * L)
                y = xp.matmul(w, col)  # (G, C_out/G, n*L), while col is still in cache
                out[start:stop] = y.reshape(C_out, n, L).transpose(1, 0, 2)
                if keep:
                    cols[start // chunk] = col

        _split_batch(K, blocks, N, chunk)
        if bias is not None:
            out += bias.reshape(1, C_out, 1)
        ctx.geometry, ctx.groups, ctx.chunk = geometry, G, chunk
        ctx.save_for_backward(x, weight, cols if keep else None)
        ctx.has_bias = bias is not None
        return out.reshape(N, C_out, out_h, out_w)

    @staticmethod
    def backward(ctx, grad_output):
        K, xp = kernels.for_device(ctx.device), ctx.xp
        x, weight, saved_cols = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        kh, kw, sh, sw, ph, pw, dh, dw, out_h, out_w = ctx.geometry
        N, C, H, W = x.shape
        C_out, Cg, _, _ = weight.shape
        G, chunk, L, Kg = ctx.groups, ctx.chunk, out_h * out_w, Cg * kh * kw
        g = grad_output.reshape(N, C_out, L)
        # weight^T as its own C-contiguous array: matmul on a transposed view may skip BLAS
        w_t = xp.ascontiguousarray(weight.reshape(G, C_out // G, Kg).swapaxes(1, 2))
        grad_x = xp.empty((N, C, H, W), dtype=x.dtype) if need_x else None

        def blocks(lo, hi):  # samples lo..hi, block by block; returns their grad_w
            grad_w = xp.zeros((G, C_out // G, Kg), dtype=x.dtype) if need_w else None
            for start in range(lo, hi, chunk):
                stop = min(hi, start + chunk)
                n = stop - start
                # (n, C_out, L) -> (G, C_out/G, n*L), the GEMM layout of the output
                g_chunk = xp.ascontiguousarray(g[start:stop].transpose(1, 0, 2))
                g_chunk = g_chunk.reshape(G, C_out // G, n * L)
                if need_w:
                    if saved_cols is not None:
                        col = saved_cols[start // chunk]
                    else:
                        col = _im2col_gemm(K, xp, x[start:stop], ctx.geometry)
                    col = col.reshape(G, Kg, n * L)
                    for group in range(G):
                        # (col @ g^T)^T, not g @ col^T: the same product, but OpenBLAS runs
                        # this orientation (tall result, long inner dimension) 2-3x faster here
                        grad_w[group] += (col[group] @ g_chunk[group].T).T
                if need_x:
                    grad_col = xp.matmul(w_t, g_chunk).reshape(C, kh, kw, n, out_h, out_w)
                    grad_x[start:stop] = _col2im_gemm(K, xp, grad_col, H, W,
                                                      (sh, sw, ph, pw, dh, dw))
            return grad_w

        parts = _split_batch(K, blocks, N, chunk)
        grad_w = sum(parts[1:], parts[0]) if need_w else None
        grad_b = None
        if ctx.has_bias and need_b:
            grad_b = grad_output.sum(axis=(0, 2, 3))
        if grad_w is not None:
            grad_w = grad_w.reshape(weight.shape)
        return grad_x, grad_w, grad_b
