"""minitorch_cv: a teaching engine for image recognition with deep learning.

PyTorch's vocabulary on NumPy (CPU) and CuPy (GPU) arrays, with hand-written kernels for
convolution, pooling, batch norm and dropout. ``import minitorch_cv as torch`` is the idea.
"""

from . import _early  # first: thread-pool settings, before NumPy loads OpenBLAS (see _early.py)

# isort: split
from .autograd import Function, Tensor, enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .autograd.tensor import bool_, float16, float32, float64, int32, int64, uint8
from .backend import doctor, get_array_module
from .creation import (
    arange,
    empty,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randn,
    randn_like,
    randperm,
    tensor,
    zeros,
    zeros_like,
)
from .generator import Generator
from .ops.api import (
    abs,
    add,
    argmax,
    argmin,
    cat,
    clamp,
    div,
    exp,
    flatten,
    log,
    log_softmax,
    logsumexp,
    matmul,
    max,
    maximum,
    mean,
    min,
    minimum,
    mul,
    neg,
    permute,
    pow,
    relu,
    reshape,
    sigmoid,
    softmax,
    sqrt,
    squeeze,
    stack,
    std,
    sub,
    sum,
    tanh,
    transpose,
    unsqueeze,
    var,
    where,
)
from .random import initial_seed, manual_seed
from .serialization import CheckpointError, load, save

# isort: split
# the layers on top of the core: imported after it (tensor.py needs ops.api complete first)
from . import functional, nn, optim, utils  # utils: torch.utils.data's names
from .summary import summary

float = float32  # noqa: A001  (torch.float is float32)
double = float64
long = int64
bool = bool_  # noqa: A001

__version__ = "0.1.0"

__all__ = [name for name in dir() if not name.startswith("_")]
