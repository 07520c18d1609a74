"""Exercise 14: col2im, the adjoint of im2col (overlapping windows add)."""

from __future__ import annotations

import numpy as np

from ...kernels import reference
from ..core import Example, Exercise
from ..gradients import GradProblem
from . import _data

DOC = '''col2im: put every column back into the image, ADDING where windows overlap.

Lecture 03 (Convolution), "How convolution is computed: im2col and one matrix product". The
backward pass of convolution computes the gradient of each column entry; a pixel that was
copied into several columns (several overlapping windows read it) receives the SUM of their
gradients. col2im is the adjoint (the transpose) of im2col: <im2col(x), c> = <x, col2im(c)>.

Shapes:
    col (N, C, kh, kw, out_h, out_w)  ->  x (N, C, H, W)

The formula (the same indices as im2col):
    for every n, c, i, j, oh, ow:   h = oh*sh - ph + i*dh,  w = ow*sw - pw + j*dw
        if 0 <= h < H and 0 <= w < W:   x[n, c, h, w] += col[n, c, i, j, oh, ow]
    (taps that read the padding have nowhere to go: they are dropped)

Worked example: a 3x3 image, 2x2 windows, stride 1 (out 2x2), col all ones: each pixel
counts the windows that read it: [[1, 2, 1], [2, 4, 2], [1, 2, 1]].
'''

HINTS = (
    "The same six loops as im2col, but the assignment goes the other way.",
    "Start from np.zeros((N, C, H, W)) and use +=, never =: the centre pixel of a 3x3 image "
    "under 2x2 windows is read by 4 windows and must collect all 4 gradients.",
    "Skip taps with h or w outside [0, H) x [0, W) (negative indices would wrap around). "
    "Vectorised: loop over i, j only and add a strided slice into a zero-padded image "
    "xp[:, :, i*dh : i*dh + sh*out_h : sh, j*dw : ...] += col[:, :, i, j]; then crop.",
)


def col2im(col, H, W, sh, sw, ph, pw, dh, dw):
    return reference.col2im(col, H, W, sh, sw, ph, pw, dh, dw)


def examples():
    col = np.ones((1, 1, 2, 2, 2, 2))
    geo = dict(H=3, W=3, sh=1, sw=1, ph=0, pw=0, dh=1, dw=1)
    return [
        Example("col2im", dict(col=col, **geo), np.array([[[[1.0, 2, 1], [2, 4, 2],
                                                            [1, 2, 1]]]]),
                "3x3 image, 2x2 windows, stride 1, col of ones: windows per pixel"),
        Example("col2im", dict(col=np.ones((1, 1, 1, 1, 2, 2)), H=2, W=2, sh=2, sw=2, ph=1,
                               pw=1, dh=1, dw=1),
                np.array([[[[0.0, 0.0], [0.0, 1.0]]]]),
                "1x1 windows, padding 1, stride 2 on a 2x2 image (out 2x2): the taps read "
                "(-1,-1), (-1,1), (1,-1), (1,1); only (1, 1) is inside, the rest is dropped"),
    ]


def cases(g):
    col = _data.layout(_data.values(g["seed"], (g["N"], g["C"], g["kh"], g["kw"], g["out_h"],
                                                g["out_w"])), g["contiguous"])
    return [("col2im", dict(col=col, H=g["H"], W=g["W"], sh=g["sh"], sw=g["sw"], ph=g["ph"],
                            pw=g["pw"], dh=g["dh"], dw=g["dw"]))]


def grad_problems(g, student):
    x = _data.values(g["seed"], (g["N"], g["C"], g["H"], g["W"]))
    geo = {k: g[k] for k in ("kh", "kw", "sh", "sw", "ph", "pw", "dh", "dw", "out_h", "out_w")}
    back = {k: g[k] for k in ("sh", "sw", "ph", "pw", "dh", "dw")}
    return [GradProblem(
        "col2im", lambda x, **geo: reference.im2col(x, **geo),
        lambda up, x, **geo: (student["col2im"](up, x.shape[2], x.shape[3], **back),),
        dict(x=x), geo, lambda up, a: dict(col=up, H=g["H"], W=g["W"], **back),
        lambda up, x, **geo: (col2im(up, x.shape[2], x.shape[3], **back),))]


EXERCISE = Exercise(
    name="col2im", order=14, lecture="03 Convolution", lesson="03_convolution",
    title="col2im: the adjoint of im2col",
    functions={"col2im": "col, H, W, sh, sw, ph, pw, dh, dw"}, doc=DOC, hints=HINTS,
    solution={"col2im": col2im}, examples=examples,
    strategy=lambda: _data.geometry(max_size=6), cases=cases,
    grad_strategy=lambda: _data.geometry(max_size=4, max_channels=2),
    grad_problems=grad_problems,
)
