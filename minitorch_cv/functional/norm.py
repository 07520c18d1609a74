"""``F.batch_norm`` and ``F.local_response_norm`` with torch's names and conventions."""

from __future__ import annotations

from ..autograd.function import no_grad
from ..autograd.tensor import Tensor
from ..ops import api
from ..ops.norm import BatchNormEval, BatchNormTrain
from ..ops.pool import AvgPool2d


def _check_vector(t, name: str, C: int, x) -> None:
    if t is None:
        return
    if not isinstance(t, Tensor) or t.shape != (C,):
        shape = t.shape if isinstance(t, Tensor) else type(t).__name__
        raise ValueError(f"batch_norm: {name} must have shape ({C},) for input of shape "
                         f"{x.shape} (one value per channel), got {shape}")


def batch_norm(input, running_mean, running_var, weight=None, bias=None,  # noqa: A002
               training=False, momentum=0.1, eps=1e-5, num_batches_tracked=None):
    """Batch normalisation over (N, C), (N, C, L) or (N, C, H, W) inputs, per channel C.

    Training (``training=True``): normalise with the batch mean and the *biased* batch
    variance, and, when running statistics are given, update them IN PLACE (torch's
    conventions, ``M`` values per channel)::

        running_mean = (1 - momentum) * running_mean + momentum * mean
        running_var  = (1 - momentum) * running_var  + momentum * var * M / (M - 1)  # unbiased

    ``momentum=None`` means a cumulative average (factor ``1 / num_batches_tracked``): pass
    ``num_batches_tracked``, the number of batches seen INCLUDING this one (an int or a
    one-element Tensor). ``nn.BatchNorm`` layers increment their counter first and pass it, as
    torch's layers do; they may equally pass the factor as ``momentum``.

    Evaluation (``training=False``): normalise with ``running_mean`` and ``running_var``.

    Shapes: input (N, C, ...); running_mean, running_var, weight, bias (C,) -> like input.
    """
    if not isinstance(input, Tensor) or input.ndim < 2:
        shape = input.shape if isinstance(input, Tensor) else type(input).__name__
        raise ValueError(f"batch_norm: expected 2-D input (N, C) or 4-D input (N, C, H, W), "
                         f"got shape {shape}")
    x, C = input, input.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        _check_vector(t, name, C, x)
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and t.dtype != x.dtype:
            raise TypeError(f"batch_norm: input is {x.dtype} but {name} is {t.dtype}; they "
                            "must match")
    if not training:
        if running_mean is None or running_var is None:
            raise ValueError("batch_norm: running_mean and running_var are needed when "
                             "training=False (evaluation normalises with them)")
        return BatchNormEval.apply(x, weight, bias, running_mean.array, running_var.array,
                                   eps=eps)
    M = x.numel() // C
    if M <= 1:
        raise ValueError(f"batch_norm: expected more than 1 value per channel when training, "
                         f"got input of shape {x.shape}; use a batch of at least 2 or eval()")
    y, mean, var = BatchNormTrain.apply(x, weight, bias, eps=eps)
    if running_mean is not None or running_var is not None:
        if momentum is None:
            if num_batches_tracked is None:
                raise ValueError("batch_norm: momentum=None (cumulative average) needs "
                                 "num_batches_tracked, the batch count including this batch")
            factor = 1.0 / float(num_batches_tracked)
        else:
            factor = float(momentum)
        with no_grad():
            if running_mean is not None:
                running_mean.mul_(1.0 - factor).add_(mean.array * factor)
            if running_var is not None:
                running_var.mul_(1.0 - factor).add_(var.array * (factor * M / (M - 1)))
    return y


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):  # noqa: A002
    """Local response normalisation across channels (AlexNet), torch's exact formula::

        b[n, c] = a[n, c] / (k + alpha / size * sum over c' in the window of a[n, c']**2)**beta

    the window running from ``c - size//2`` to ``c + (size - 1)//2`` (zeros beyond the ends).
    A composite of existing ops: the channel sum is an average pooling over a (size, 1) window.

    Shapes: input (N, C, ...) with at least 3 dims -> like input.
    """
    if not isinstance(input, Tensor) or input.ndim < 3:
        shape = input.shape if isinstance(input, Tensor) else type(input).__name__
        raise ValueError(f"local_response_norm: expected 3-D or more input (N, C, ...), got "
                         f"shape {shape}")
    N, C = input.shape[:2]
    square = api.mul(input, input)
    # (N, 1, C, rest): channels become the pooled height, zero-padded as torch pads them
    square = api.reshape(square, N, 1, C, -1)
    square = api.pad(square, (0, 0, size // 2, (size - 1) // 2))
    L = square.shape[3]
    mean = AvgPool2d.apply(square, kernel=(size, 1), stride=(1, 1), padding=(0, 0),
                           out_size=(C, L))
    div = api.pow(api.add(api.mul(api.reshape(mean, *input.shape), alpha), k), beta)
    return api.div(input, div)
