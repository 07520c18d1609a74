"""Exercise 20: an Inception block (GoogLeNet) as an nn.Module."""

from __future__ import annotations

from hypothesis import strategies as st

from ...models.googlenet import Inception
from ..core import Example, Exercise
from . import _blocks

DOC = '''An Inception block: four parallel branches, concatenated along the channels.

Lecture 14 (GoogLeNet and Inception), "One Inception block (3a)": let the network choose
its filter size by running 1x1, 3x3 and "5x5" convolutions and a max pool side by side; 1x1
bottlenecks first make the big filters affordable.

Write `class InceptionBlock(nn.Module)` with `__init__(self, in_channels, ch1x1, ch3x3red,
ch3x3, ch5x5red, ch5x5, pool_proj)`. Each "conv" below is conv (bias=False) -> batch norm
(eps=0.001) -> ReLU, as a module with attributes `conv` and `bn` (GoogLeNet's BasicConv2d):
    branch1  conv 1x1 in -> ch1x1
    branch2  nn.Sequential(conv 1x1 in -> ch3x3red, conv 3x3 (padding 1) -> ch3x3)
    branch3  nn.Sequential(conv 1x1 in -> ch5x5red, conv 3x3 (padding 1) -> ch5x5)
             (3x3, not 5x5: torchvision's choice, which the pretrained weights follow)
    branch4  nn.Sequential(nn.MaxPool2d(3, stride=1, padding=1, ceil_mode=True),
                           conv 1x1 in -> pool_proj)
forward: concatenate [branch1, branch2, branch3, branch4] outputs along dim 1, IN THIS ORDER.

Shapes: (N, in, H, W) -> (N, ch1x1 + ch3x3 + ch5x5 + pool_proj, H, W).
Worked example: inception 3a, InceptionBlock(192, 64, 96, 128, 16, 32, 32): 64 + 128 + 32
+ 32 = 256 output channels; conv weights 192*64 + 192*96 + 9*96*128 + 192*16 + 9*16*32 +
192*32 = 155,136, batch-norm gammas and betas 2 * (64 + 96 + 128 + 16 + 32 + 32) = 736:
155,872 parameters.
'''

HINTS = (
    "Write a small module for 'conv -> bn -> relu' with attributes conv and bn; every branch "
    "uses it.",
    "All branches keep H and W: 1x1 convs need no padding, 3x3 need padding 1, the pool "
    "needs stride 1 and padding 1.",
    "Concatenate with minitorch_cv.cat([b1, b2, b3, b4], 1) in the order branch1..branch4: "
    "a different order gives the same shape and parameter count but wrong channels.",
)


class InceptionBlock(Inception):
    """The engine's Inception block under the exercise's name."""


@st.composite
def configs(draw):
    c = draw(st.integers(1, 3))
    widths = [draw(st.integers(1, 3)) for _ in range(6)]
    names = ("ch1x1", "ch3x3red", "ch3x3", "ch5x5red", "ch5x5", "pool_proj")
    return dict(kwargs=dict(in_channels=c, **dict(zip(names, widths))),
                input=(draw(st.integers(2, 3)), c, draw(st.integers(1, 5)),
                       draw(st.integers(1, 5))), seed=draw(st.integers(0, 2**16)))


def examples():
    return [
        Example("parameters", dict(in_channels=192, ch1x1=64, ch3x3red=96, ch3x3=128,
                                   ch5x5red=16, ch5x5=32, pool_proj=32),
                155_136 + 2 * (64 + 96 + 128 + 16 + 32 + 32),
                "inception 3a: conv weights 155,136 + batch-norm gamma and beta 736"),
    ]


EXERCISE = Exercise(
    name="inception_block", order=20, lecture="14 GoogLeNet", lesson="14_googlenet",
    title="an Inception block as an nn.Module", kind="module",
    functions={"InceptionBlock": "in_channels, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, "
               "pool_proj"}, doc=DOC, hints=HINTS,
    solution={"InceptionBlock": InceptionBlock}, examples=examples,
    imports="import minitorch_cv as mt\nimport minitorch_cv.nn as nn\n"
            "import minitorch_cv.functional as F",
    strategy=configs, property_body=_blocks.compare_block, max_examples=10,
    signature_check=lambda student, options: _blocks.signature_check(
        EXERCISE, student, dict(in_channels=3, ch1x1=2, ch3x3red=2, ch3x3=3, ch5x5red=1,
                                ch5x5=2, pool_proj=1), (1, 3, 5, 5)),
    extra={"run_example": lambda student, example: _blocks.run_example(EXERCISE, student,
                                                                        example)},
)
