"""``F.dropout`` and ``F.dropout2d``: inverted dropout (scale ``1/(1-p)`` in training,
identity otherwise), masks from the seedable counter-based RNG."""

from __future__ import annotations

from ..autograd.tensor import Tensor
from ..ops import api
from ..ops.dropout import Dropout


def _check_p(p, fn: str) -> float:
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{fn}: dropout probability has to be between 0 and 1, got {p}")
    return float(p)


def _maybe_inplace(input, inplace: bool, name: str, compute):
    if not inplace:
        return compute(input)
    from ..autograd.inplace import inplace as run_inplace  # noqa: PLC0415

    return run_inplace(input, name, compute)  # recorded as torch (the mask is saved, not x)


def dropout(input, p=0.5, training=True, inplace=False):  # noqa: A002
    """Zero each element with probability ``p`` and scale the rest by ``1/(1-p)``.

    Identity when ``training`` is False or ``p == 0``; zeros when ``p == 1``. ``inplace=True``
    changes ``input`` and returns it. Shapes: any -> same.
    """
    p = _check_p(p, "dropout")
    if not isinstance(input, Tensor):
        raise TypeError(f"dropout: input must be a Tensor, got {type(input).__name__}")
    if not training or p == 0.0:
        return input
    return _maybe_inplace(input, inplace, "dropout_",
                          lambda t: Dropout.apply(t, p=p, channelwise=False))


def dropout2d(input, p=0.5, training=True, inplace=False):  # noqa: A002
    """Zero whole channels (one draw per (n, c), element ``i = n*C + c``) with probability
    ``p``; scale the rest by ``1/(1-p)``.

    Shapes: (N, C, H, W), or (C, H, W) for one sample -> same.
    """
    p = _check_p(p, "dropout2d")
    if not isinstance(input, Tensor) or input.ndim not in (3, 4):
        shape = input.shape if isinstance(input, Tensor) else type(input).__name__
        raise ValueError(f"dropout2d: expected 4-D input (N, C, H, W) (or 3-D (C, H, W)), got "
                         f"shape {shape}")
    if not training or p == 0.0:
        return input
    if input.ndim == 3:
        return _maybe_inplace(input, inplace, "dropout2d_", lambda t: api.squeeze(
            Dropout.apply(api.unsqueeze(t, 0), p=p, channelwise=True), 0))
    return _maybe_inplace(input, inplace, "dropout2d_",
                          lambda t: Dropout.apply(t, p=p, channelwise=True))
