"""Exercise 21: a residual block (ResNet's BasicBlock) as an nn.Module."""

from __future__ import annotations

from hypothesis import strategies as st

from ...models.resnet import BasicBlock, projection_shortcut
from ..core import Example, Exercise
from . import _blocks

DOC = '''A residual block: out = relu(F(x) + shortcut(x)), F = two 3x3 conv + batch norm.

Lecture 15 (ResNet), "One block, two wirings": the block learns a RESIDUAL F(x) on top of
the identity, so a deep stack can always fall back to doing nothing, and the gradient has a
direct path through the additions.

Write `class ResidualBlock(nn.Module)` with `__init__(self, in_channels, planes, stride=1)`
and these layer NAMES (the checker loads the reference block's weights by name):
    conv1  nn.Conv2d(in_channels, planes, 3, stride=stride, padding=1, bias=False)
    bn1    nn.BatchNorm2d(planes)
    conv2  nn.Conv2d(planes, planes, 3, padding=1, bias=False)
    bn2    nn.BatchNorm2d(planes)
    downsample   None when stride == 1 and in_channels == planes; otherwise the projection
           nn.Sequential(nn.Conv2d(in_channels, planes, 1, stride=stride, bias=False),
                         nn.BatchNorm2d(planes))
forward(x):  identity = x (or downsample(x));  out = relu(bn1(conv1(x)));
             out = bn2(conv2(out));  return relu(out + identity)

Shapes: (N, in_channels, H, W) -> (N, planes, ceil(H / stride), ceil(W / stride)).
Parameters: 9*in*planes + 9*planes*planes + 4*planes (+ in*planes + 2*planes with the
projection). Worked example: ResidualBlock(64, 64) has 2*36,864 + 256 = 73,984 parameters;
ResidualBlock(64, 128, stride=2) has 73,728 + 147,456 + 512 + 8,192 + 256 = 230,144.
'''

HINTS = (
    "Use import minitorch_cv.nn as nn and mirror the layer list in the docstring; conv layers "
    "before batch norm have bias=False (batch norm's beta does the bias's job).",
    "The shortcut must have the output's shape: when the stride is 2 or the channels change, "
    "x goes through the 1x1 projection (with the same stride) and its batch norm.",
    "The last ReLU comes AFTER the addition: return relu(bn2(conv2(...)) + identity). A ReLU "
    "before the addition makes the residual non-negative: that is the other wiring.",
)


class ResidualBlock(BasicBlock):
    """The engine's BasicBlock with the exercise's constructor."""

    def __init__(self, in_channels, planes, stride=1):
        downsample = (projection_shortcut(in_channels, planes, stride)
                      if stride != 1 or in_channels != planes else None)
        super().__init__(in_channels, planes, stride, downsample)


@st.composite
def configs(draw):
    c_in, planes, stride = draw(st.integers(1, 4)), draw(st.integers(1, 4)), \
        draw(st.integers(1, 2))
    return dict(kwargs=dict(in_channels=c_in, planes=planes, stride=stride),
                input=(draw(st.integers(2, 3)), c_in, draw(st.integers(2, 6)),
                       draw(st.integers(2, 6))), seed=draw(st.integers(0, 2**16)))


def examples():
    return [
        Example("parameters", dict(in_channels=64, planes=64), 73_984,
                "ResidualBlock(64, 64): 2 * 9*64*64 + 4*64 = 73,984 parameters"),
        Example("parameters", dict(in_channels=64, planes=128, stride=2), 230_144,
                "ResidualBlock(64, 128, stride=2): 73,728 + 147,456 + 512 + 8,192 + 256"),
    ]


EXERCISE = Exercise(
    name="residual_block", order=21, lecture="15 ResNet", lesson="15_resnet",
    title="a residual block as an nn.Module", kind="module",
    functions={"ResidualBlock": "in_channels, planes, stride=1"}, doc=DOC, hints=HINTS,
    solution={"ResidualBlock": ResidualBlock}, examples=examples,
    imports="import minitorch_cv.nn as nn\nimport minitorch_cv.functional as F",
    strategy=configs, property_body=_blocks.compare_block, max_examples=12,
    signature_check=lambda student, options: _blocks.signature_check(
        EXERCISE, student, dict(in_channels=2, planes=4, stride=2), (1, 2, 5, 5)),
    extra={"run_example": lambda student, example: _blocks.run_example(EXERCISE, student,
                                                                        example)},
)
