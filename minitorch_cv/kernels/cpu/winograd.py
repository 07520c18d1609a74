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
How the kernels run: parallel over (c, n) planes, in that order, the order of the planes in V
and M: each of the 16 slabs ``V[a, b]`` is then written front to back (in (n, c) order the 16
interleaved write streams jumped, and the input transform took twice as long). Each plane is
first copied into a zero-bordered buffer, so the tile loops read without bounds tests; the
products with B^T and A^T are written out as additions (the matrices hold only 0, 1 and -1),
first on whole rows of the plane, then on each tile's columns, for a whole row of tiles at a
time: every inner loop runs over ``tx`` (or the pixels of a row) and vectorises. One tile at a
time, with its 16 values written to 16 distant places, took about 3x as long (128x16x32x32,
one thread, rough timings on a shared machine). Like im2col, the kernels call
``keep_freed_memory()``: without it, page faults on the fresh V doubled the input transform's
time.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from .memory import keep_freed_memory


def winograd_filter_transform(weight):
    """weight (C_out, C, 3, 3) -> U (4, 4, C_out, C), ``U[:, :, co, c] = G g G^T``.

    Once per call on a small array: NumPy, no loop worth compiling.
    """
    G = np.array([[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]], dtype=weight.dtype)
    return np.ascontiguousarray(np.einsum("ai,ocij,bj->aboc", G, weight, G))


@njit(parallel=True, cache=True, nogil=True)
def _input_transform(x, ph, pw, tiles_h, tiles_w):
    N, C, H, W = x.shape
    V = np.empty((4, 4, C, N, tiles_h, tiles_w), dtype=x.dtype)
    rows, cols = 2 * tiles_h + 2, 2 * tiles_w + 2
    for plane in prange(C * N):  # in V's order (c, n): each slab V[a, b] written front to back
        c = plane // N
        n = plane % N
        d = np.zeros((rows, cols), dtype=x.dtype)  # the plane as the tiles see it
        for r in range(rows):
            h = r - ph
            if 0 <= h < H:
                for s in range(cols):
                    w = s - pw
                    if 0 <= w < W:
                        d[r, s] = x[n, c, h, w]
        t = np.empty((4, cols), dtype=x.dtype)  # B^T d for one row of tiles
        for ty in range(tiles_h):
            d0, d1, d2, d3 = d[2 * ty], d[2 * ty + 1], d[2 * ty + 2], d[2 * ty + 3]
            for s in range(cols):  # t = B^T d: rows 0-2, 1+2, 2-1, 1-3
                u = np.uintp(s)
                t[0, u] = d0[u] - d2[u]
                t[1, u] = d1[u] + d2[u]
                t[2, u] = d2[u] - d1[u]
                t[3, u] = d1[u] - d3[u]
            for a in range(4):  # V = t B: the same combinations of each tile's columns
                row = t[a]
                v0, v1, v2, v3 = V[a, 0, c, n, ty], V[a, 1, c, n, ty], V[a, 2, c, n, ty], \
                    V[a, 3, c, n, ty]
                for tx in range(tiles_w):
                    u, s = np.uintp(tx), np.uintp(2 * tx)
                    v0[u] = row[s] - row[s + 2]
                    v1[u] = row[s + 1] + row[s + 2]
                    v2[u] = row[s + 2] - row[s + 1]
                    v3[u] = row[s + 1] - row[s + 3]
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
    return _input_transform(np.ascontiguousarray(x), int(ph), int(pw), int(tiles_h),
                            int(tiles_w))


@njit(parallel=True, cache=True, nogil=True)
def _output_transform(m, out_h, out_w):
    _, _, C_out, N, tiles_h, tiles_w = m.shape
    y = np.empty((N, C_out, out_h, out_w), dtype=m.dtype)
    for plane in prange(C_out * N):  # in M's order (co, n): each slab read/written in order
        co = plane // N
        n = plane % N
        plane = np.empty((2 * tiles_h, 2 * tiles_w), dtype=m.dtype)  # whole tiles, then cropped
        s = np.empty((2, 4, tiles_w), dtype=m.dtype)  # A^T m for one row of tiles
        for ty in range(tiles_h):
            for b in range(4):  # s = A^T m: rows 0+1+2 and 1-2-3
                m0, m1, m2, m3 = m[0, b, co, n, ty], m[1, b, co, n, ty], m[2, b, co, n, ty], \
                    m[3, b, co, n, ty]
                for tx in range(tiles_w):
                    u = np.uintp(tx)
                    s[0, b, u] = m0[u] + m1[u] + m2[u]
                    s[1, b, u] = m1[u] - m2[u] - m3[u]
            for r in range(2):  # Y = s A: the same combinations of the columns
                dst = plane[2 * ty + r]
                s0, s1, s2, s3 = s[r, 0], s[r, 1], s[r, 2], s[r, 3]
                for tx in range(tiles_w):
                    u = np.uintp(tx)
                    dst[np.uintp(2 * tx)] = s0[u] + s1[u] + s2[u]
                    dst[np.uintp(2 * tx + 1)] = s1[u] - s2[u] - s3[u]
        for h in range(out_h):
            for w in range(out_w):
                y[n, co, h, w] = plane[h, w]
    return y


@njit(parallel=True, cache=True, nogil=True)
def _grad_output_transform(grad_y, tiles_h, tiles_w):
    N, C_out, out_h, out_w = grad_y.shape
    dM = np.empty((4, 4, C_out, N, tiles_h, tiles_w), dtype=grad_y.dtype)
    for plane in prange(C_out * N):  # in M's order (co, n): each slab read/written in order
        co = plane // N
        n = plane % N
        plane = np.zeros((2 * tiles_h, 2 * tiles_w), dtype=grad_y.dtype)  # zero past the edge
        for h in range(out_h):
            for w in range(out_w):
                plane[h, w] = grad_y[n, co, h, w]
        p = np.empty((4, 2 * tiles_w), dtype=grad_y.dtype)  # A dY for one row of tiles
        for ty in range(tiles_h):
            y0, y1 = plane[2 * ty], plane[2 * ty + 1]
            for s in range(2 * tiles_w):  # rows of A: (1, 0), (1, 1), (1, -1), (0, -1)
                u = np.uintp(s)
                p[0, u] = y0[u]
                p[1, u] = y0[u] + y1[u]
                p[2, u] = y0[u] - y1[u]
                p[3, u] = -y1[u]
            for a in range(4):  # (A dY) A^T: the same combinations of each tile's columns
                row = p[a]
                d0, d1, d2, d3 = dM[a, 0, co, n, ty], dM[a, 1, co, n, ty], dM[a, 2, co, n, ty], \
                    dM[a, 3, co, n, ty]
                for tx in range(tiles_w):
                    u, s = np.uintp(tx), np.uintp(2 * tx)
                    d0[u] = row[s]
                    d1[u] = row[s] + row[s + 1]
                    d2[u] = row[s] - row[s + 1]
                    d3[u] = -row[s + 1]
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
    return _grad_output_transform(np.ascontiguousarray(grad_y), int(tiles_h), int(tiles_w))


def winograd_grad_filter_transform(grad_U):
    """The adjoint of ``winograd_filter_transform``: grad_U (4, 4, C_out, C) -> grad_weight
    (C_out, C, 3, 3), ``G^T grad_U[:, :, co, c] G``."""
    G = np.array([[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]], dtype=grad_U.dtype)
    return np.ascontiguousarray(np.einsum("ai,aboc,bj->ocij", G, grad_U, G))


def winograd_output_transform(m, out_h, out_w):
    """m (4, 4, C_out, N, tiles_h, tiles_w) -> y (N, C_out, out_h, out_w).

    Loop::

        for n, co, ty, tx:
            y[n, co, 2*ty:2*ty + 2, 2*tx:2*tx + 2] = A^T m[:, :, co, n, ty, tx] A
            (cropped where the last tile passes the edge of the output)
    """
    keep_freed_memory()
    return _output_transform(np.ascontiguousarray(m), int(out_h), int(out_w))
