"""``backends.cudnn``: the flags tutorials set (``cudnn.benchmark = True``,
``cudnn.deterministic = True``). minitorch_cv does not use cuDNN: its GPU convolution is its
own im2col + cuBLAS GEMM, which has one algorithm and is deterministic except for the
max-pool backward scatter (see docs/gpu.md). The flags are kept so that code setting and
reading them runs; they change nothing."""

from __future__ import annotations

enabled = True
benchmark = False
deterministic = False


def is_available() -> bool:
    return False


def version() -> None:
    return None
