"""``import minitorch_cv.functional as F``: the user API of every op, with torch's names.

One import per line (explicit exports, no side effects). Each group comes from the module
that owns it.
"""

# basic ops (ops/api.py)
from ..ops.api import (
    abs,
    add,
    cat,
    clamp,
    div,
    exp,
    flatten,
    leaky_relu,
    log,
    log_softmax,
    logsumexp,
    matmul,
    maximum,
    minimum,
    mul,
    neg,
    pad,
    pow,
    relu,
    sigmoid,
    softmax,
    sqrt,
    stack,
    sub,
    tanh,
    where,
)
from ..ops.api_math import cos, norm, sin

# composites: activations, linear, one_hot, normalize, smooth L1 / Huber (activation.py)
from .activation import (
    cosine_similarity,
    elu,
    gelu,
    hardsigmoid,
    hardswish,
    hardtanh,
    huber_loss,
    linear,
    logsigmoid,
    mish,
    normalize,
    one_hot,
    prelu,
    relu6,
    selu,
    silu,
    smooth_l1_loss,
    softmin,
    softplus,
)

# kernels-backed ops (conv, dropout, norm, pool) and losses, in ruff's import order
from .conv import conv2d
from .dropout import dropout, dropout2d
from .loss import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    l1_loss,
    mse_loss,
    nll_loss,
)
from .norm import batch_norm, local_response_norm
from .norm_more import group_norm, layer_norm
from .pool import adaptive_avg_pool2d, adaptive_max_pool2d, avg_pool2d, max_pool2d
from .resize import interpolate
from .unfold import fold, unfold
