"""``layer_norm`` and ``group_norm``: normalisation over features instead of the batch.

Both are expressions of differentiable ops (mean, subtraction, ``rsqrt``), so autograd gives
the gradient; both use the biased variance, as torch.

Shapes:
    layer_norm: input (*, *normalized_shape) -> same; weight, bias: normalized_shape.
    group_norm: input (N, C, *) -> same; weight, bias: (C,); C divisible by num_groups.
"""

from __future__ import annotations

from ..autograd.tensor import Tensor
from ..errors import SizeError
from ..ops import api


def _normalise(x: Tensor, dims: tuple[int, ...], eps: float) -> Tensor:
    mean = api.mean(x, dim=dims, keepdim=True)
    centered = api.sub(x, mean)
    var = api.mean(api.mul(centered, centered), dim=dims, keepdim=True)
    return api.div(centered, api.sqrt(api.add(var, eps)))


def layer_norm(input: Tensor, normalized_shape, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    if input.shape[input.ndim - len(shape):] != shape:
        raise SizeError(f"layer_norm: expected input with shape [*, {', '.join(map(str, shape))}]"
                        f", but got input of size {list(input.shape)}")
    out = _normalise(input, tuple(range(input.ndim - len(shape), input.ndim)), eps)
    if weight is not None:
        out = api.mul(out, weight)
    if bias is not None:
        out = api.add(out, bias)
    return out


def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    if input.ndim < 2:
        raise SizeError(f"group_norm: expected at least 2 dims (N, C, *), got {input.ndim}")
    n, c = input.shape[:2]
    if c % num_groups:
        raise SizeError(f"group_norm: expected number of channels in input ({c}) to be "
                        f"divisible by num_groups ({num_groups})")
    grouped = api.reshape(input, n, num_groups, -1)  # (N, G, C/G * spatial)
    out = api.reshape(_normalise(grouped, (2,), eps), *input.shape)
    per_channel = (1, c) + (1,) * (input.ndim - 2)
    if weight is not None:
        out = api.mul(out, api.reshape(weight, *per_channel))
    if bias is not None:
        out = api.add(out, api.reshape(bias, *per_channel))
    return out
