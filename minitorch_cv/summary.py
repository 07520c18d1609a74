"""``summary(model, input_size)``: a layer-by-layer table in the style of torchinfo, and more.

One forward pass (eval mode, no graph, a fixed random input that does not touch the global
generator) with hooks on every submodule records, per layer call:

- the output shape, and for conv and pool layers the output-size formula filled in with numbers:
  ``out = (size + 2*pad - dil*(k - 1) - 1) // stride + 1``;
- parameters (the module's own; shared modules are counted once in the totals), trainable or
  not;
- multiply-adds: ``N * C_out * out_h * out_w * (C_in / groups) * kh * kw`` for Conv2d and
  ``rows * in_features * out_features`` for Linear (bias additions and the elementwise layers
  are not counted, as usual);
- receptive field and jump (the distance in input pixels between neighbouring outputs),
  following the layers in call order: ``r_out = r_in + (k_eff - 1) * j_in``,
  ``j_out = j_in * stride`` with ``k_eff = dil*(k - 1) + 1``. For a network with branches
  (ResNet) this follows the path the calls take, which is the main path;
- the im2col buffer a Conv2d needs: ``N * C_in * kh * kw * out_h * out_w`` elements;
- the convolution algorithm the layer ran (``minitorch_cv.backends.conv``: im2col, winograd or
  direct; with ``benchmark = True`` the one the timing chose for this input size).

Totals add an estimate of the memory for one training step with Adam: parameters, gradients,
two moment buffers, the activations kept for backward (every leaf layer's output) and the
input. A conv or pool whose output would be empty is reported by name and formula before the
forward pass reaches it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from . import backend
from .autograd.function import no_grad
from .autograd.tensor import Tensor
from .backends import conv as conv_backend
from .nn.conv import Conv2d
from .nn.linear import Linear
from .nn.module import Module
from .nn.pooling import (
    AdaptiveAvgPool2d,
    AdaptiveMaxPool2d,
    AvgPool2d,
    MaxPool2d,
    pool_output_size,
)


class InputTooSmallError(ValueError):
    """A conv or pool layer whose output would have no rows or columns."""


@dataclass
class LayerInfo:
    name: str
    kind: str
    depth: int
    input_shape: tuple
    output_shape: tuple = ()
    formula: str = ""
    num_params: int = 0
    trainable: str = "-"
    mult_adds: int = 0
    receptive_field: tuple[int, int] | None = None
    jump: tuple[int, int] | None = None
    im2col_elements: int = 0
    algorithm: str = ""
    is_leaf: bool = True


@dataclass
class ModelSummary:
    """The numbers behind the table; ``str(summary)`` prints it."""

    layers: list[LayerInfo]
    input_size: tuple
    itemsize: int
    total_params: int
    trainable_params: int
    total_mult_adds: int
    input_bytes: int
    activation_bytes: int
    max_im2col_bytes: int
    extra: dict = field(default_factory=dict)

    @property
    def non_trainable_params(self) -> int:
        return self.total_params - self.trainable_params

    @property
    def param_bytes(self) -> int:
        return self.total_params * self.itemsize

    @property
    def grad_bytes(self) -> int:
        return self.trainable_params * self.itemsize

    @property
    def adam_state_bytes(self) -> int:
        return 2 * self.trainable_params * self.itemsize

    @property
    def training_step_bytes(self) -> int:
        return (self.param_bytes + self.grad_bytes + self.adam_state_bytes
                + self.activation_bytes + self.input_bytes)

    def __str__(self) -> str:
        return _render(self)

    __repr__ = __str__


def _pair(value) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else tuple(value)


def _spatial(layer: Module, height: int, width: int):
    """(kernel, stride, ((top, bottom), (left, right)), dilation, out_hw, formulas) or None."""
    if isinstance(layer, Conv2d):
        kernel, stride, dilation = layer.kernel_size, layer.stride, layer.dilation
        pads, ceil = layer.explicit_padding(), False
    elif isinstance(layer, (MaxPool2d, AvgPool2d)):
        kernel, stride = _pair(layer.kernel_size), _pair(layer.stride)
        dilation = _pair(getattr(layer, "dilation", 1))
        pads = tuple((p, p) for p in _pair(layer.padding))
        ceil = layer.ceil_mode
    else:
        return None
    outs, formulas = [], []
    for size, k, s, (lo, hi), d in zip((height, width), kernel, stride, pads, dilation):
        pad_text = f"2*{lo}" if lo == hi else f"{lo}+{hi}"
        inner = f"{size} + {pad_text} - {d}*({k}-1) - 1"
        if ceil:
            out = pool_output_size(size, k, s, lo, d, ceil_mode=True)
            formulas.append(f"ceil(({inner})/{s}) + 1 = {out}")
        else:
            out = (size + lo + hi - d * (k - 1) - 1) // s + 1
            formulas.append(f"({inner})//{s} + 1 = {out}")
        outs.append(out)
    return kernel, stride, dilation, tuple(outs), formulas


class _Recorder:
    def __init__(self, model: Module, itemsize: int):
        self.names = {id(m): n for n, m in model.named_modules() if n}
        self.rows: list[LayerInfo] = []
        self.stack: list[LayerInfo] = []
        self.field = [1, 1]  # receptive field (h, w) so far
        self.jump = [1, 1]
        self.itemsize = itemsize

    def pre_hook(self, module: Module, inputs):
        name = self.names.get(id(module), "?")
        shape = inputs[0].shape if inputs and isinstance(inputs[0], Tensor) else ()
        row = LayerInfo(name, type(module).__name__, name.count(".") + 1, shape,
                        is_leaf=not module._modules)
        own = list(module.parameters(recurse=False))
        row.num_params = sum(p.numel() for p in own)
        if own:
            flags = {p.requires_grad for p in own}
            row.trainable = "yes" if flags == {True} else ("no" if flags == {False} else "part")
        if len(shape) >= 3:
            self._spatial_checks(module, row, shape)
        self.rows.append(row)
        self.stack.append(row)

    def _spatial_checks(self, module: Module, row: LayerInfo, shape: tuple) -> None:
        height, width = shape[-2], shape[-1]
        info = _spatial(module, height, width)
        if info is not None:
            kernel, stride, dilation, outs, formulas = info
            if formulas[0] == formulas[1]:
                row.formula = f"H, W: {formulas[0]}"
            else:
                row.formula = f"H: {formulas[0]}; W: {formulas[1]}"
            if min(outs) < 1:
                raise InputTooSmallError(
                    f"input too small for layer '{row.name}' ({row.kind}): input "
                    f"{tuple(shape)} gives an empty output, {row.formula}. Use a larger input "
                    "or less downsampling before this layer")
            for axis in range(2):
                k_eff = dilation[axis] * (kernel[axis] - 1) + 1
                self.field[axis] += (k_eff - 1) * self.jump[axis]
                self.jump[axis] *= stride[axis]
            if isinstance(module, Conv2d):
                kh, kw = module.kernel_size
                batch = shape[0] if len(shape) == 4 else 1
                row.im2col_elements = batch * module.in_channels * kh * kw * outs[0] * outs[1]
        elif isinstance(module, (AdaptiveAvgPool2d, AdaptiveMaxPool2d)):
            out = module.output_size
            out = (out, out) if isinstance(out, int) or out is None else tuple(out)
            outs = tuple(size if o is None else o for o, size in zip(out, (height, width)))
            row.formula = f"adaptive {height}x{width} -> {outs[0]}x{outs[1]}"
            for axis, (size, o) in enumerate(zip((height, width), outs)):
                k = math.ceil(size / o)  # the widest window
                self.field[axis] += (k - 1) * self.jump[axis]
                self.jump[axis] *= max(size // o, 1)
        else:
            return
        row.receptive_field, row.jump = tuple(self.field), tuple(self.jump)

    def hook(self, module: Module, inputs, output):
        row = self.stack.pop()
        first = output[0] if isinstance(output, (tuple, list)) else output
        if isinstance(first, Tensor):
            row.output_shape = first.shape
        if isinstance(module, Conv2d) and len(row.output_shape) == 4:
            choice = conv_backend.last_choice()
            row.algorithm = choice[1] if choice is not None else ""
            n, c_out, out_h, out_w = row.output_shape
            kh, kw = module.kernel_size
            row.mult_adds = n * c_out * out_h * out_w * (module.in_channels // module.groups) \
                * kh * kw
        elif isinstance(module, Linear) and row.output_shape:
            rows = int(np.prod(row.output_shape[:-1], dtype=np.int64))
            row.mult_adds = rows * module.in_features * module.out_features


def summary(model: Module, input_size, dtype=np.float32, device: str = "cpu") -> ModelSummary:
    """Run ``model`` once on a random input of ``input_size`` (batch dim included, e.g.
    ``(1, 3, 32, 32)``; a list of sizes for several inputs) and tabulate every layer.

    Raises:
        InputTooSmallError: a conv/pool layer would produce an empty output (names the layer
            and shows the formula with the numbers).
        RuntimeError: any other failure inside a layer, with the layer's name and input shape.
    """
    sizes = [tuple(input_size)] if isinstance(input_size[0], int) else \
        [tuple(s) for s in input_size]
    dtype = np.dtype(dtype)
    device = backend.check_device(device)
    rng = np.random.default_rng(0)  # a private generator: the global seed stream is untouched
    inputs = [Tensor(backend.move_array(rng.standard_normal(s).astype(dtype), device),
                     device=device) for s in sizes]
    recorder = _Recorder(model, dtype.itemsize)
    handles = []
    for name, module in model.named_modules():
        if name:
            handles.append(module.register_forward_pre_hook(recorder.pre_hook))
            handles.append(module.register_forward_hook(recorder.hook))
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            model(*inputs)
    except InputTooSmallError:
        raise
    except Exception as exc:
        if not recorder.stack:
            raise
        row = recorder.stack[-1]
        raise RuntimeError(f"summary: the forward pass failed in layer '{row.name}' "
                           f"({row.kind}) with input shape {row.input_shape}: {exc}") from exc
    finally:
        for handle in handles:
            handle.remove()
        model.train(was_training)
    params = list(model.parameters())
    leaves = [r for r in recorder.rows if r.is_leaf and r.output_shape]
    return ModelSummary(
        layers=recorder.rows,
        input_size=tuple(sizes[0]) if len(sizes) == 1 else tuple(sizes),
        itemsize=dtype.itemsize,
        total_params=sum(p.numel() for p in params),
        trainable_params=sum(p.numel() for p in params if p.requires_grad),
        total_mult_adds=sum(r.mult_adds for r in recorder.rows),
        input_bytes=sum(int(np.prod(s)) for s in sizes) * dtype.itemsize,
        activation_bytes=sum(int(np.prod(r.output_shape)) for r in leaves) * dtype.itemsize,
        max_im2col_bytes=max([r.im2col_elements for r in recorder.rows] + [0]) * dtype.itemsize,
    )


# ----------------------------------------------------------------------------- rendering
def _human(nbytes: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if nbytes < 1024 or unit == "GB":
            return f"{nbytes:.0f} {unit}" if unit == "B" else f"{nbytes:.2f} {unit}"
        nbytes /= 1024
    return f"{nbytes:.2f} GB"


def _pair_text(value) -> str:
    if value is None:
        return ""
    return str(value[0]) if value[0] == value[1] else f"{value[0]}x{value[1]}"


def _render(s: ModelSummary) -> str:
    header = ("Layer (type)", "Output shape", "Param #", "Train", "Mult-adds", "RF (jump)",
              "im2col", "Algorithm")
    rows = []
    for r in s.layers:
        rf = f"{_pair_text(r.receptive_field)} ({_pair_text(r.jump)})" if r.receptive_field \
            else ""
        rows.append((("  " * (r.depth - 1)) + f"{r.name} ({r.kind})", str(list(r.output_shape)),
                     f"{r.num_params:,}" if r.num_params else "-", r.trainable,
                     f"{r.mult_adds:,}" if r.mult_adds else "-", rf,
                     _human(r.im2col_elements * s.itemsize) if r.im2col_elements else "",
                     r.algorithm))
    widths = [max(len(h), *(len(row[i]) for row in rows)) if rows else len(h)
              for i, h in enumerate(header)]
    line = "=" * (sum(widths) + 2 * (len(widths) - 1))

    def fmt(cells):
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()

    out = [line, fmt(header), line]
    for r, row in zip(s.layers, rows):
        out.append(fmt(row))
        if r.formula:
            out.append(" " * (2 * r.depth + 2) + "out = " + r.formula)
    out += [line,
            f"Input size: {list(s.input_size)}",
            f"Total params: {s.total_params:,}",
            f"Trainable params: {s.trainable_params:,}",
            f"Non-trainable params: {s.non_trainable_params:,}",
            f"Total mult-adds: {s.total_mult_adds:,}",
            f"Largest im2col buffer: {_human(s.max_im2col_bytes)}",
            line,
            "Estimated memory for one training step with Adam:",
            f"  input:       {_human(s.input_bytes)}",
            f"  activations: {_human(s.activation_bytes)}",
            f"  parameters:  {_human(s.param_bytes)}",
            f"  gradients:   {_human(s.grad_bytes)}",
            f"  Adam state:  {_human(s.adam_state_bytes)}",
            f"  total:       {_human(s.training_step_bytes)}",
            line]
    return "\n".join(out)
