"""minitorch_cv: a teaching engine for image recognition with deep learning.

PyTorch's vocabulary on NumPy (CPU) and CuPy (GPU) arrays, with hand-written kernels for
convolution, pooling, batch norm and dropout. ``import minitorch_cv as torch`` is the idea.
"""

from . import _early  # first: thread-pool settings, before NumPy loads OpenBLAS (see _early.py)

# isort: split
import numpy as _np

from .autograd import Function, Tensor, enable_grad, is_grad_enabled, no_grad
from .autograd.grad_mode import inference_mode, set_grad_enabled
from .autograd.tensor import bool_, float16, float32, float64, int32, int64, uint8
from .autograd.tensor_repr import set_printoptions
from .backend import device, doctor, get_array_module
from .creation import (
    arange,
    as_tensor,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    get_default_dtype,
    is_tensor,
    linspace,
    logspace,
    normal,
    numel,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randint_like,
    randn,
    randn_like,
    randperm,
    set_default_dtype,
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
from .ops.api_math import (
    all,
    allclose,
    amax,
    amin,
    any,
    argsort,
    bitwise_and,
    bitwise_not,
    bitwise_or,
    bitwise_xor,
    bmm,
    ceil,
    clamp_max,
    clamp_min,
    cos,
    count_nonzero,
    cumsum,
    diag,
    dist,
    dot,
    eq,
    equal,
    expm1,
    floor,
    floor_divide,
    fmod,
    frac,
    ge,
    greater,
    gt,
    isclose,
    isfinite,
    isinf,
    isnan,
    le,
    lerp,
    less,
    log1p,
    log2,
    log10,
    logical_and,
    logical_not,
    logical_or,
    logical_xor,
    lt,
    median,
    mm,
    ne,
    norm,
    outer,
    prod,
    reciprocal,
    remainder,
    round,
    rsqrt,
    sign,
    sin,
    sort,
    square,
    std_mean,
    tan,
    topk,
    trunc,
    var_mean,
)
from .ops.api_shape import (
    argwhere,
    broadcast_to,
    chunk,
    concat,
    concatenate,
    flip,
    gather,
    index_select,
    masked_fill,
    masked_select,
    meshgrid,
    narrow,
    nonzero,
    roll,
    split,
    t,
    tile,
    tril,
    triu,
    unbind,
    unflatten,
    unique,
)
from .random import initial_seed, manual_seed, seed
from .serialization import CheckpointError, load, save

# isort: split
# the layers on top of the core: imported after it (tensor.py needs ops.api complete first)
from . import accelerator, backends, cuda, functional, nn, optim, utils  # utils: torch.utils.data
from .summary import summary

float = float32  # noqa: A001  (torch.float is float32)
double = float64
half = float16
long = int64
int = int32  # noqa: A001
bool = bool_  # noqa: A001
int16 = _np.dtype("int16")
int8 = _np.dtype("int8")
dtype = _np.dtype  # isinstance(x.dtype, minitorch_cv.dtype) holds: dtypes are NumPy's
clip = clamp
true_divide = divide = div
multiply = mul
subtract = sub
absolute = abs
negative = neg

__version__ = "0.1.0"

__all__ = [name for name in dir() if not name.startswith("_")]
