"""More of ``torch.nn.functional``: activations, ``linear``, ``one_hot``, ``normalize``,
``cosine_similarity`` and the smooth L1 / Huber losses.

All are expressions of differentiable ops, so autograd gives the gradient. Where an unused
branch of ``where`` could overflow (``exp`` of a large input), its argument is clamped first:
the gradient of the branch not taken must be a finite 0, not ``0 * inf``.
"""

from __future__ import annotations

import math

from ..autograd.tensor import Tensor
from ..errors import DTypeError, SizeError
from ..ops import api, api_math
from .loss import _check_same_shape, _reduce


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``input @ weight.T + bias``.

    Shapes: input (*, in_features), weight (out_features, in_features), bias (out_features,)
    -> (*, out_features).
    """
    out = api.matmul(input, api.transpose(weight, 0, 1))
    return out if bias is None else api.add(out, bias)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    return api.clamp(input, min=0.0, max=6.0)


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0,
             inplace: bool = False) -> Tensor:
    return api.clamp(input, min=min_val, max=max_val)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """x for x > 0, ``alpha * (exp(x) - 1)`` otherwise."""
    negative = api.mul(api_math.expm1(api.clamp(input, max=0.0)), alpha)
    return api.where(input.array > 0, input, negative)


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    alpha, scale = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946
    return api.mul(elu(input, alpha), scale)


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """``x * sigmoid(x)`` (also called swish)."""
    return api.mul(input, api.sigmoid(input))


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """``log(1 + exp(beta x)) / beta``, and ``x`` itself where ``beta x > threshold``."""
    scaled = api.mul(input, beta)
    safe = api.clamp(scaled, max=threshold)
    smooth = api.div(api_math.log1p(api.exp(safe)), beta)
    return api.where(scaled.array > threshold, input, smooth)


def logsigmoid(input: Tensor) -> Tensor:
    return api.neg(softplus(api.neg(input)))


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    return api.div(api.mul(input, relu6(api.add(input, 3.0))), 6.0)


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    return api.div(relu6(api.add(input, 3.0)), 6.0)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """``x * Phi(x)``. Only torch's ``approximate="tanh"`` form is implemented (NumPy has no
    ``erf``); the exact form raises instead of silently approximating."""
    if approximate != "tanh":
        raise NotImplementedError("gelu: only approximate='tanh' is implemented in minitorch_cv "
                                  "(the exact form needs erf); pass approximate='tanh'")
    cube = api.mul(api.mul(input, input), input)
    inner = api.mul(api.add(input, api.mul(cube, 0.044715)), math.sqrt(2.0 / math.pi))
    return api.mul(api.mul(input, 0.5), api.add(api.tanh(inner), 1.0))


def softmin(input: Tensor, dim: int | None = None) -> Tensor:
    return api.softmax(api.neg(input), dim=-1 if dim is None else dim)


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """Class indices (int64) -> one-hot rows: shape (*) -> (*, num_classes), int64."""
    if tensor.dtype.kind not in "iu":
        raise DTypeError("one_hot is only applicable to index tensor of an integer dtype, got "
                         f"{tensor.dtype}")
    indices = tensor.array
    if num_classes == -1:
        num_classes = int(indices.max()) + 1 if indices.size else 0
    if indices.size and (indices.min() < 0 or indices.max() >= num_classes):
        raise SizeError(f"one_hot: class values must be in [0, {num_classes}), got "
                        f"{int(indices.min())}..{int(indices.max())}")
    xp = tensor.xp
    out = (indices[..., None] == xp.arange(num_classes)).astype("int64")
    return Tensor._wrap(out, tensor.device)


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12) -> Tensor:
    """``input / max(||input||_p, eps)`` along ``dim``."""
    length = api_math.norm(input, p=p, dim=dim, keepdim=True)
    return api.div(input, api.clamp(length, min=eps))


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """``x1 . x2 / max(||x1|| ||x2||, eps)`` along ``dim`` (torch's formula)."""
    dot = api.sum(api.mul(x1, x2), dim=dim)
    lengths = api.mul(api_math.norm(x1, dim=dim), api_math.norm(x2, dim=dim))
    return api.div(dot, api.clamp(lengths, min=eps))


def smooth_l1_loss(input: Tensor, target: Tensor, reduction: str = "mean",
                   beta: float = 1.0) -> Tensor:
    """``0.5 d^2 / beta`` where ``|d| < beta``, else ``|d| - 0.5 beta`` (d = input - target)."""
    _check_same_shape(input, target, "smooth_l1_loss")
    diff = api.abs(api.sub(input, target))
    if beta == 0:
        return _reduce(diff, reduction)
    quadratic = api.div(api.mul(api.mul(diff, diff), 0.5), beta)
    return _reduce(api.where(diff.array < beta, quadratic, api.sub(diff, 0.5 * beta)),
                   reduction)


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean",
               delta: float = 1.0) -> Tensor:
    """``0.5 d^2`` where ``|d| < delta``, ``delta (|d| - 0.5 delta)`` elsewhere."""
    _check_same_shape(input, target, "huber_loss")
    diff = api.abs(api.sub(input, target))
    quadratic = api.mul(api.mul(diff, diff), 0.5)
    linear_part = api.mul(api.sub(diff, 0.5 * delta), delta)
    return _reduce(api.where(diff.array < delta, quadratic, linear_part), reduction)


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """``x * tanh(softplus(x))``."""
    return api.mul(input, api.tanh(softplus(input)))


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """x for x > 0, ``weight * x`` otherwise; ``weight`` has one value or one per channel
    (dim 1 of the input)."""
    slope = weight
    if weight.numel() > 1:
        if input.ndim < 2 or input.shape[1] != weight.numel():
            raise SizeError(f"prelu: weight has {weight.numel()} values but the input has "
                            f"{input.shape[1] if input.ndim > 1 else 1} channels")
        slope = api.reshape(weight, weight.numel(), *([1] * (input.ndim - 2)))
    return api.where(input.array > 0, input, api.mul(input, slope))
