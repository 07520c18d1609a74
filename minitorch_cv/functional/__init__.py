"""``import minitorch_cv.functional as F``: the user API of every op, with torch's names.

One import per line (explicit exports, no side effects). Each group comes from the module
that owns it.
"""

from ..ops.api import (  # noqa: F401
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

# --- kernels-backed ops (conv, pooling, batch norm, dropout) are imported below this line ---
from .conv import conv2d  # noqa: E402,F401
from .dropout import dropout, dropout2d  # noqa: E402,F401
from .norm import batch_norm, local_response_norm  # noqa: E402,F401
from .pool import (  # noqa: E402,F401
    adaptive_avg_pool2d,
    adaptive_max_pool2d,
    avg_pool2d,
    max_pool2d,
)

# --- losses (functional/loss.py) ---
from .loss import (  # noqa: E402,F401
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    l1_loss,
    mse_loss,
    nll_loss,
)
