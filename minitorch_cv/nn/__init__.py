"""``import minitorch_cv.nn as nn``: modules, layers, losses and ``nn.init`` with torch's names."""

import sys

from .. import functional
from . import init, utils
from .activation import LeakyReLU, LogSoftmax, ReLU, Sigmoid, Softmax, Tanh
from .activation_more import (
    ELU,
    GELU,
    SELU,
    Hardsigmoid,
    Hardswish,
    Hardtanh,
    HuberLoss,
    LogSigmoid,
    Mish,
    PReLU,
    ReLU6,
    SiLU,
    SmoothL1Loss,
    Softmin,
    Softplus,
    Unflatten,
)
from .container import ModuleDict, ModuleList, Sequential
from .container_params import ParameterDict, ParameterList
from .conv import Conv2d
from .dropout import Dropout, Dropout2d
from .lazy import LazyBatchNorm1d, LazyBatchNorm2d, LazyConv2d, LazyLinear
from .linear import Flatten, Identity, Linear
from .loss import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, L1Loss, MSELoss, NLLLoss
from .module import Module
from .normalization import BatchNorm1d, BatchNorm2d, LocalResponseNorm
from .normalization_more import Fold, GroupNorm, LayerNorm, Unfold, Upsample
from .parameter import Parameter, UninitializedBuffer, UninitializedParameter
from .pooling import AdaptiveAvgPool2d, AdaptiveMaxPool2d, AvgPool2d, MaxPool2d

# ``import minitorch_cv.nn.functional as F`` works as in torch: the same module object
sys.modules[__name__ + ".functional"] = functional

__all__ = [
    "ELU", "GELU", "SELU", "Hardsigmoid", "Hardswish", "Hardtanh", "HuberLoss", "LogSigmoid",
    "ReLU6", "SiLU", "SmoothL1Loss", "Softmin", "Softplus", "Unflatten", "GroupNorm",
    "LayerNorm", "Upsample", "Fold", "Unfold", "Mish", "PReLU", "ParameterDict",
    "ParameterList",
    "AdaptiveAvgPool2d", "AdaptiveMaxPool2d", "AvgPool2d", "BCELoss", "BCEWithLogitsLoss",
    "BatchNorm1d", "BatchNorm2d", "Conv2d", "CrossEntropyLoss", "Dropout", "Dropout2d",
    "Flatten", "Identity", "L1Loss", "LazyBatchNorm1d", "LazyBatchNorm2d", "LazyConv2d",
    "LazyLinear", "LeakyReLU", "Linear", "LocalResponseNorm", "LogSoftmax",
    "MSELoss", "MaxPool2d", "Module", "ModuleDict", "ModuleList", "NLLLoss", "Parameter", "ReLU",
    "Sequential", "Sigmoid", "Softmax", "Tanh", "UninitializedBuffer", "UninitializedParameter",
    "functional", "init", "utils",
]
