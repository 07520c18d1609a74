"""Winograd F(2x2, 3x3) transforms on the CPU (Numba): a 3x3 convolution with 2.25x fewer
multiplications (Lavin and Gray, 2015).

A 2x2 output tile of a 3x3, stride-1 convolution needs a 4x4 input tile ``d``. Instead of the
36 multiplications of the definition, Winograd computes::

    Y = A^T [ U * V ] A,     U = G g G^T (filter, 4x4),   V = B^T d B (input tile, 4x4)

with ``*`` elementwise: 16 multiplications per tile and channel pair. Summed over input
channels, each of the 16 positions ``(a, b)`` is a matrix product
``M[a, b] = U[a, b] (C_out, C) @ V[a, b] (C, N*tiles)``: 16 GEMMs that BLAS runs
(``ops/conv_algorithms.py``). These kernels do the three transforms around them::

    B^T = [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]]
    G   = [[1, 0, 0], [1/2, 1/2, 1/2], [1/2, -1/2, 1/2], [0, 0, 1]]
    A^T = [[1, 1, 1, 0], [0, 1, -1, -1]]

Tiles: ``tiles_h = ceil(out_h / 2)``; tile ``(ty, tx)`` reads input rows ``2*ty - ph`` to
``2*ty - ph + 3`` (zero outside the image). The padding may be negative: the input gradient of
a stride-1 3x3 convolution is again one, of the output gradient with padding ``2 - ph``.

Gradients: the input gradient of a stride-1 3x3 convolution is again one (the ops pass the
flipped filters and padding ``2 - ph``); the weight gradient uses the adjoints of the output and
filter transforms (``winograd_grad_output_transform``: ``dM = A dY A^T`` per output tile,
``winograd_grad_filter_transform``: ``G^T grad_U G``) around 16 GEMMs
``grad_U[a, b] = dM[a, b] @ V[a, b]^T``.

Memory: V holds ``16 * C * N * tiles_h * tiles_w`` elements, about 4x the input (im2col's
columns: 9x). The naive twins with the matrices written out are in ``kernels/reference.py``.

How the kernels run (each choice measured on one block of 4 samples, 16 channels, 32x32, one
thread, against the kernels before it; rough timings, an idle 2-core machine):

- The 16 slabs ``V[a, b]`` (and ``dM[a, b]``) are written side by side, and back to back their
  starts lie a power of two apart, so the 16 write streams fell into the same L1 cache sets;
  a gap of one row of tiles between slabs (``SLAB_GAP_ROWS``) staggers them. V is returned as
  a view
  of the gapped slabs with the usual shape; the GEMMs read it in place and were 1.3x faster
  on it too; ``winograd_output_transform`` reads M in place when its slabs are gapped alike.
- The input transform works on a plane's even and odd columns (``E``, ``O``), split once per
  input row: a tile's four columns are then ``E[tx], O[tx], E[tx + 1], O[tx + 1]``, and every
  inner loop runs over ``tx`` at stride 1 with one array written per loop, which the compiler
  can vectorise (reading each tile's columns at stride 2 and writing four slabs per loop, the
  loops ran scalar). The output-gradient transform splits each output-gradient row alike.
  Limit: a loop runs over one row of tiles, so narrow planes (4-8 tiles, 8-16 pixels) give
  loops too short for the compiler's vector code; the transforms then cost more per pixel
  (the chooser's rule and ``benchmarks/bench_kernels.py`` show it).
- Indices from ``range`` loops only: Numba then drops its test for negative indices, which a
  computed index keeps (and the loop then runs element by element or as gathers).
- The output transform writes a block of samples straight into the layer's output
  (``winograd_output_transform_into``), not into a new array copied there afterwards.
- Parallel over (c, n) planes, in that order, the order of the planes in V and M, so each
  slab is written front to back (in (n, c) order the input transform took twice as long);
  the input and output-gradient transforms give each thread a contiguous share of the planes
  and its buffers once. Measured: input transform 1.2-1.6x, output transform 2-2.5x,
  output-gradient transform 2.2-2.6x faster than the kernels before (per-plane rows and
  views), on the shapes of ``benchmarks/bench_kernels.py``.

Like im2col, the kernels call ``keep_freed_memory()``: without it, page faults on the fresh V
doubled the input transform's time.
"""

from __future__ import annotations

import numpy as np
from numba import get_num_threads, njit, prange

from ..reference import WINOGRAD_G
from .memory import keep_freed_memory

SLAB_GAP_ROWS = 1
"""Rows of tiles left empty between two slabs of V or dM. The 16 slabs are written (and read)
side by side; back to back, their starts lie a power of two apart for the usual shapes (64 KiB
for a block of 4 samples of 16 channels at 32x32), so all 16 streams fall into the same sets of
the L1 cache and evict each other. One row of tiles (a cache line at 16 tiles) staggers them:
the input transform 1.3x, the GEMMs reading V 1.3x faster."""


def winograd_filter_transform(weight):
    """weight (C_out, C, 3, 3) -> U (4, 4, C_out, C), ``U[:, :, co, c] = G g G^T``.

    Once per call on a small array: NumPy, no loop worth compiling. As two matrix products over
    all filters at once (``np.einsum("ai,ocij,bj->aboc", G, weight, G)`` is the same, and took
    3-4x as long: 0.58 ms for 64x64 filters, a step of ResNet-20 calls this 11 times).
    """
    C_out, C = weight.shape[:2]
    G = WINOGRAD_G.astype(weight.dtype)
    Y = np.ascontiguousarray(weight).reshape(-1, 3) @ G.T  # g G^T: (C_out*C*3, 4), rows (o, c, i)
    Y = Y.reshape(C_out * C, 3, 4).transpose(1, 0, 2).reshape(3, -1)  # (i, o*c*b)
    U = (G @ Y).reshape(4, C_out, C, 4)  # G (g G^T): (a, o, c, b)
    return np.ascontiguousarray(U.transpose(0, 3, 1, 2))


# The transforms, shared by the block pipeline (one sample at a time, ``g = 1``) and the fused
# kernels (a group of ``g`` samples). Within a group, the samples lie side by side: for channel
# c and tile row ty, the tiles of
# samples n0 .. n0 + g form one row of ``g * (tiles_w + 1) - 1`` tiles, sample m's tile tx at
# column ``m * (tiles_w + 1) + tx`` and one junk tile (straddling two samples) between
# samples. The transforms' loops then run along the whole group instead of one sample's row of
# tiles (4 tiles at 8x8, too short for the compiler's vector code): the input transform of 64
# channels at 8x8 took 8.2 instead of 16.5 us a sample in groups of 8. The GEMMs compute the
# junk tiles too (1 in 5 at 8x8, none for a group of one); the output transforms skip them,
# and the output-gradient transform writes 0 there, so they add nothing to the weight gradient.


@njit(cache=True, nogil=True)
def _group_input(x, n0, g, c0, c1, ph, pw, tiles_h, tiles_w, V, c_rows, i0, E, O, row, t):
    """Channels ``c0 .. c1`` of samples ``n0 .. n0 + g`` side by side into V (16, rows,
    g*half - 1): channel c's tile row ty at row ``c*c_rows + i0 + ty``. Buffers of at least
    ``g*half`` columns (``_input_buffers``): ``E``, ``O`` (2*tiles_h + 2 rows) and ``row``
    (2*g*half) zeroed by the caller (the padding stays 0), ``t`` (8 rows)."""
    H, W = x.shape[2], x.shape[3]
    half = tiles_w + 1
    tiles = g * half - 1
    for c in range(c0, c1):  # in V's order (c, then n): each slab is written front to back
        for r in range(2 * tiles_h + 2):
            h = r - ph
            if 0 <= h < H:
                for m in range(g):  # sample m's padded row at columns 2*half*m ..
                    base = 2 * half * m + pw
                    for w in range(max(0, -pw), min(W, 2 * half - pw)):
                        row[base + w] = x[n0 + m, c, h, w]
                for k in range(g * half):
                    E[r, k] = row[2 * k]
                    O[r, k] = row[2 * k + 1]
        for ty in range(tiles_h):
            r = 2 * ty
            for k in range(g * half):  # t = B^T d: rows 0-2, 1+2, 2-1, 1-3
                e0, e1, e2, e3 = E[r, k], E[r + 1, k], E[r + 2, k], E[r + 3, k]
                t[0, k] = e0 - e2
                t[1, k] = e1 + e2
                t[2, k] = e2 - e1
                t[3, k] = e1 - e3
                o0, o1, o2, o3 = O[r, k], O[r + 1, k], O[r + 2, k], O[r + 3, k]
                t[4, k] = o0 - o2
                t[5, k] = o1 + o2
                t[6, k] = o2 - o1
                t[7, k] = o1 - o3
            i = c * c_rows + i0 + ty
            for a in range(4):  # V = t B; on long rows four slabs per loop ran faster
                for tx in range(tiles):  # (1.35x at 16 tiles; slower at 4-8, hence not above)
                    e0, e1, o0, o1 = t[a, tx], t[a, tx + 1], t[4 + a, tx], t[4 + a, tx + 1]
                    V[4 * a, i, tx] = e0 - e1
                    V[4 * a + 1, i, tx] = o0 + e1
                    V[4 * a + 2, i, tx] = e1 - o0
                    V[4 * a + 3, i, tx] = o0 - o1


@njit(cache=True, nogil=True)
def _group_output(m, n0, g, co0, co1, c_rows, i0, tiles_h, tiles_w, y, s):
    """Channels ``co0 .. co1`` of y[n0 .. n0 + g] from M (16, rows, g*half - 1) of samples side
    by side (channel co's tile row ty at row ``co*c_rows + i0 + ty``), the junk tiles skipped;
    ``s`` (8, g*half) a buffer."""
    out_h, out_w = y.shape[2], y.shape[3]
    half = tiles_w + 1
    tiles = g * half - 1
    pairs = out_w // 2  # tiles whose two columns both lie inside the output
    for co in range(co0, co1):  # in M's order: each slab read front to back
        for ty in range(tiles_h):
            i = co * c_rows + i0 + ty
            for b in range(4):
                for tx in range(tiles):  # s = A^T m: rows 0+1+2 and 1-2-3
                    m0, m1, m2, m3 = m[b, i, tx], m[4 + b, i, tx], m[8 + b, i, tx], \
                        m[12 + b, i, tx]
                    s[b, tx] = m0 + m1 + m2
                    s[4 + b, tx] = m1 - m2 - m3
            for k in range(g):
                dst = y[n0 + k, co]
                for r in range(min(2, out_h - 2 * ty)):  # Y = s A, cropped at the edge
                    h, q, c0 = 2 * ty + r, 4 * r, k * half
                    for tx in range(pairs):
                        s0, s1 = s[q, c0 + tx], s[q + 1, c0 + tx]
                        s2, s3 = s[q + 2, c0 + tx], s[q + 3, c0 + tx]
                        dst[h, 2 * tx] = s0 + s1 + s2
                        dst[h, 2 * tx + 1] = s1 - s2 - s3
                    if out_w % 2:
                        dst[h, out_w - 1] = (s[q, c0 + pairs] + s[q + 1, c0 + pairs]
                                             + s[q + 2, c0 + pairs])


@njit(cache=True, nogil=True)
def _group_grad_output(grad_y, n0, g, co0, co1, c_rows, i0, tiles_h, tiles_w, dM, E, O, p):
    """Channels ``co0 .. co1`` of samples ``n0 .. n0 + g`` side by side into dM (16, rows,
    g*half - 1), rows as in ``_group_output``, 0 on the junk tiles. Buffers: ``E``, ``O``
    (2, g*half) zeroed by the caller, ``p`` (8, g*half)."""
    out_h, out_w = grad_y.shape[2], grad_y.shape[3]
    half = tiles_w + 1
    tiles = g * half - 1
    pairs = out_w // 2
    for co in range(co0, co1):
        for ty in range(tiles_h):
            for r in range(2):  # two rows of dY: even columns to E, odd to O (0 elsewhere)
                h = 2 * ty + r
                if h < out_h:
                    for k in range(g):
                        c0 = k * half
                        for tx in range(pairs):
                            E[r, c0 + tx] = grad_y[n0 + k, co, h, 2 * tx]
                            O[r, c0 + tx] = grad_y[n0 + k, co, h, 2 * tx + 1]
                        if out_w % 2:
                            E[r, c0 + pairs] = grad_y[n0 + k, co, h, out_w - 1]
                else:
                    E[r, :] = 0
                    O[r, :] = 0
            for tx in range(tiles):  # A dY, rows of A: (1, 0), (1, 1), (1, -1), (0, -1)
                e0, e1, o0, o1 = E[0, tx], E[1, tx], O[0, tx], O[1, tx]
                p[0, tx] = e0
                p[1, tx] = e0 + e1
                p[2, tx] = e0 - e1
                p[3, tx] = -e1
                p[4, tx] = o0
                p[5, tx] = o0 + o1
                p[6, tx] = o0 - o1
                p[7, tx] = -o1
            i = co * c_rows + i0 + ty
            for a in range(4):  # (A dY) A^T, four slabs per loop as in _group_input
                for tx in range(tiles):
                    e, o = p[a, tx], p[4 + a, tx]
                    dM[4 * a, i, tx] = e
                    dM[4 * a + 1, i, tx] = e + o
                    dM[4 * a + 2, i, tx] = e - o
                    dM[4 * a + 3, i, tx] = -o


@njit(cache=True, nogil=True)
def _input_buffers(like, tiles_h, tiles_w, g):
    """``_group_input``'s buffers for groups of up to ``g`` samples, of ``like``'s dtype: E, O
    (the padded rows' even and odd columns, 0 at the edges), row (one padded input row per
    sample) and t (B^T d for one row of tiles)."""
    rows, cols = 2 * tiles_h + 2, g * (tiles_w + 1)
    return (np.zeros((rows, cols), dtype=like.dtype), np.zeros((rows, cols), dtype=like.dtype),
            np.zeros(2 * cols, dtype=like.dtype), np.empty((8, cols), dtype=like.dtype))


@njit(parallel=True, cache=True, nogil=True)
def _input_transform(x, ph, pw, tiles_h, tiles_w, gap, parts):
    N, C = x.shape[0], x.shape[1]
    V = np.empty((16, C * N * tiles_h + gap, tiles_w), dtype=x.dtype)  # slab a*4 + b: V[a, b]
    for part in prange(parts):  # each thread: its share of the (c, n) planes, its own buffers
        E, O, row, t = _input_buffers(x, tiles_h, tiles_w, 1)
        for plane in range(part * C * N // parts, (part + 1) * C * N // parts):
            c, n = plane // N, plane % N  # in V's order (c, n): each slab written front to back
            _group_input(x, n, 1, c, c + 1, ph, pw, tiles_h, tiles_w, V, N * tiles_h,
                         n * tiles_h, E, O, row, t)
    return V


def winograd_input_transform(x, ph, pw, tiles_h, tiles_w):
    """x (N, C, H, W) -> V (4, 4, C, N, tiles_h, tiles_w), ``V[:, :, c, n, ty, tx] = B^T d B``.

    Loop::

        for n, c, ty, tx:
            d[a, b] = x[n, c, 2*ty - ph + a, 2*tx - pw + b]   (0 outside the image)
            V[:, :, c, n, ty, tx] = B^T d B

    ``V.reshape(16, C, N*tiles_h*tiles_w)`` is the right operand of the 16 GEMMs.
    """
    keep_freed_memory()  # once per process: V is large and new at every step (memory.py)
    N, C = x.shape[:2]
    slabs = _input_transform(np.ascontiguousarray(x), int(ph), int(pw), int(tiles_h),
                             int(tiles_w), SLAB_GAP_ROWS, get_num_threads())
    return slabs[:, :C * N * tiles_h].reshape(4, 4, C, N, tiles_h, tiles_w)


@njit(parallel=True, cache=True, nogil=True)
def _output_transform(m, C_out, N, tiles_h, y, parts):
    tiles_w = m.shape[2]
    for part in prange(parts):
        s = np.empty((8, tiles_w + 1), dtype=y.dtype)  # A^T m for one row of tiles
        for plane in range(part * C_out * N // parts, (part + 1) * C_out * N // parts):
            co, n = plane // N, plane % N  # in M's order (co, n): each slab read front to back
            _group_output(m, n, 1, co, co + 1, N * tiles_h, n * tiles_h, tiles_h, tiles_w, y, s)
    return y


@njit(parallel=True, cache=True, nogil=True)
def _grad_output_transform(grad_y, tiles_h, tiles_w, gap, parts):
    N, C_out = grad_y.shape[0], grad_y.shape[1]
    dM = np.empty((16, C_out * N * tiles_h + gap, tiles_w), dtype=grad_y.dtype)  # dM[a, b]
    for part in prange(parts):
        E = np.zeros((2, tiles_w + 1), dtype=grad_y.dtype)
        O = np.zeros((2, tiles_w + 1), dtype=grad_y.dtype)
        p = np.empty((8, tiles_w + 1), dtype=grad_y.dtype)  # A dY: E part, O part
        for plane in range(part * C_out * N // parts, (part + 1) * C_out * N // parts):
            co, n = plane // N, plane % N
            _group_grad_output(grad_y, n, 1, co, co + 1, N * tiles_h, n * tiles_h, tiles_h,
                               tiles_w, dM, E, O, p)
    return dM


def winograd_grad_output_transform(grad_y, tiles_h, tiles_w):
    """The adjoint of ``winograd_output_transform`` (for the weight gradient):
    grad_y (N, C_out, out_h, out_w) -> dM (4, 4, C_out, N, tiles_h, tiles_w).

    Loop::

        for n, co, ty, tx:
            dY = grad_y[n, co, 2*ty:2*ty + 2, 2*tx:2*tx + 2]   (0 past the output's edge)
            dM[:, :, co, n, ty, tx] = A dY A^T

    Then ``grad_U[a, b] = dM[a, b] (C_out, N*tiles) @ V[a, b]^T (N*tiles, C)``: 16 GEMMs.
    """
    keep_freed_memory()
    N, C_out = grad_y.shape[:2]
    slabs = _grad_output_transform(np.ascontiguousarray(grad_y), int(tiles_h), int(tiles_w),
                                   SLAB_GAP_ROWS, get_num_threads())
    return slabs[:, :C_out * N * tiles_h].reshape(4, 4, C_out, N, tiles_h, tiles_w)


def winograd_grad_filter_transform(grad_U):
    """The adjoint of ``winograd_filter_transform``: grad_U (4, 4, C_out, C) -> grad_weight
    (C_out, C, 3, 3), ``G^T grad_U[:, :, co, c] G``. Two matrix products, as the forward
    (``np.einsum("ai,aboc,bj->ocij", G, grad_U, G)``: 1.8 ms for 64x64 filters, these 0.2 ms)."""
    C_out, C = grad_U.shape[2:]
    G = WINOGRAD_G.astype(grad_U.dtype)
    Z = np.ascontiguousarray(grad_U.transpose(0, 2, 3, 1)).reshape(-1, 4) @ G  # (a*o*c, j)
    W = G.T @ Z.reshape(4, -1)  # (i, o*c*j)
    return np.ascontiguousarray(W.reshape(3, C_out, C, 3).transpose(1, 2, 0, 3))


def winograd_output_transform(m, out_h, out_w):
    """m (4, 4, C_out, N, tiles_h, tiles_w) -> y (N, C_out, out_h, out_w).

    Loop::

        for n, co, ty, tx:
            y[n, co, 2*ty:2*ty + 2, 2*tx:2*tx + 2] = A^T m[:, :, co, n, ty, tx] A
            (cropped where the last tile passes the edge of the output)
    """
    _, _, C_out, N = m.shape[:4]
    return winograd_output_transform_into(m, np.empty((N, C_out, out_h, out_w), dtype=m.dtype))


def winograd_output_transform_into(m, y):
    """``winograd_output_transform`` written into ``y`` (N, C_out, out_h, out_w), C-contiguous
    (for instance a block of samples of the whole output); returns ``y``. CPU-only extra: the
    ops write each block straight into the layer's output instead of copying it there."""
    keep_freed_memory()
    _, _, C_out, N, tiles_h, _ = m.shape
    if not y.flags.c_contiguous or y.shape[:2] != (N, C_out) or y.dtype != m.dtype:
        raise ValueError(f"winograd_output_transform_into: y must be a C-contiguous "
                         f"{m.dtype} array of shape ({N}, {C_out}, out_h, out_w), got "
                         f"{y.dtype} {y.shape}")
    return _output_transform(_slab_rows(m), C_out, N, tiles_h, y, get_num_threads())


def _slab_rows(m):
    """m (4, 4, C_out, N, tiles_h, tiles_w) -> a C-contiguous (16, rows, tiles_w) array over the
    same memory, the gaps between slabs included, when m's 16 slabs are each contiguous and
    evenly spaced by whole rows (as this module's transforms and the GEMMs on them leave
    them); a contiguous copy otherwise."""
    _, _, C_out, N, tiles_h, tiles_w = m.shape
    if m.flags.c_contiguous:  # a GEMM's result: no gaps (as_strided below costs ~25 us a call)
        return m.reshape(16, C_out * N * tiles_h, tiles_w)
    item = m.itemsize
    step = m.strides[1]
    inner = (N * tiles_h * tiles_w * item, tiles_h * tiles_w * item, tiles_w * item, item)
    if not (m.strides[0] == 4 * step and m.strides[2:] == inner
            and step % (tiles_w * item) == 0 and step >= C_out * inner[0]):
        m = np.ascontiguousarray(m)
        step = C_out * inner[0]
    return np.lib.stride_tricks.as_strided(m, (16, step // (tiles_w * item), tiles_w),
                                           (step, tiles_w * item, item))
