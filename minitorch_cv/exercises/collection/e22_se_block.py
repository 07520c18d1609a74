"""Exercise 22: a squeeze-and-excitation block as an nn.Module."""

from __future__ import annotations

from hypothesis import strategies as st

from ...models.se import SEBlock as _EngineSE
from ..core import Example, Exercise
from . import _blocks

DOC = '''Squeeze-and-excitation: reweight the channels by a gate computed from their means.

Lecture 16 (SENet). Squeeze: the mean of each channel's map (global average pooling) gives
one number per channel. Excitation: a two-layer bottleneck MLP (C -> C/r -> C) with a
sigmoid gives a weight in (0, 1) per channel. Scale: multiply each channel's map by it.

Write `class SEBlock(nn.Module)` with `__init__(self, channels, reduction=16)` and NAMES:
    fc1  nn.Linear(channels, hidden)      hidden = max(1, channels // reduction)
    fc2  nn.Linear(hidden, channels)
forward(x):  s = x.mean((2, 3)) (N, C);  w = sigmoid(fc2(relu(fc1(s))));
             return x * w.reshape(N, C, 1, 1)

Shapes: (N, C, H, W) -> (N, C, H, W); the gate is (N, C). Parameters:
C*hidden + hidden + hidden*C + C. Worked example: SEBlock(64, 16): hidden 4, 64*4 + 4 + 4*64
+ 64 = 580 parameters. SEBlock(8, 16): hidden = max(1, 0) = 1: 8 + 1 + 8 + 8 = 25.
'''

HINTS = (
    "Squeeze with x.mean((2, 3)): the mean over the spatial axes, one value per channel.",
    "The hidden width is max(1, channels // reduction): with few channels the integer "
    "division gives 0, and a Linear with 0 outputs is useless.",
    "The gate must be a sigmoid (values in (0, 1)), reshaped to (N, C, 1, 1) so that it "
    "multiplies each whole channel map.",
)


class SEBlock(_EngineSE):
    """The engine's SEBlock (already the exercise's constructor)."""


@st.composite
def configs(draw):
    c = draw(st.integers(1, 8))
    return dict(kwargs=dict(channels=c, reduction=draw(st.sampled_from([1, 2, 4, 16]))),
                input=(draw(st.integers(1, 3)), c, draw(st.integers(1, 4)),
                       draw(st.integers(1, 4))), seed=draw(st.integers(0, 2**16)))


def examples():
    return [
        Example("parameters", dict(channels=64, reduction=16), 580,
                "SEBlock(64, 16): 64*4 + 4 + 4*64 + 64 = 580"),
        Example("parameters", dict(channels=8, reduction=16), 25,
                "SEBlock(8, 16): hidden = max(1, 8 // 16) = 1: 8 + 1 + 8 + 8 = 25"),
    ]


EXERCISE = Exercise(
    name="se_block", order=22, lecture="16 SENet", lesson="16_senet",
    title="a squeeze-and-excitation block as an nn.Module", kind="module",
    functions={"SEBlock": "channels, reduction=16"}, doc=DOC, hints=HINTS,
    solution={"SEBlock": SEBlock}, examples=examples,
    imports="import minitorch_cv.nn as nn\nimport minitorch_cv.functional as F",
    strategy=configs, property_body=_blocks.compare_block, max_examples=15,
    signature_check=lambda student, options: _blocks.signature_check(
        EXERCISE, student, dict(channels=8, reduction=2), (2, 8, 3, 3)),
    extra={"run_example": lambda student, example: _blocks.run_example(EXERCISE, student,
                                                                        example)},
)
