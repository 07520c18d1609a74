"""PyTorch interop: weights in and out, and a layer-by-layer comparison with a torch model.

torch is imported only inside the functions that need it, so this module imports (and
``load_torch_state_dict`` on a safetensors file works) without torch installed.

- ``load_torch_state_dict(model, source)``: copy a PyTorch state dict into one of our models
  with strict name and shape checking; ``source`` is a dict of tensors/arrays, a ``.pt``/``.pth``
  file of weights (read with ``torch.load(weights_only=True)``: no pickled code runs) or a
  ``.safetensors`` file. Every bad key is listed in one error.
- ``export_state_dict(model)`` (dict of torch tensors, ready for ``torch_model.load_state_dict``)
  and ``export_safetensors(model, path)`` (readable by ``safetensors.torch.load_file``).
- ``compare_with_torch(model, torch_model, x)``: copy the torch weights into ``model``, run both
  on ``x`` (eval or train mode), backpropagate the same random upstream gradient, and print per
  layer (matched by module name, hooks on both sides) the largest absolute and relative
  differences of the outputs and of their gradients, flagging the first layer that diverges.
"""

from __future__ import annotations

import math
import os
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np

from .autograd.tensor import Tensor
from .nn.module import Module


class StateDictError(RuntimeError):
    """Names or shapes do not match; ``missing``, ``unexpected`` and ``mismatched`` list them."""

    def __init__(self, model_name: str, missing: list[str], unexpected: list[str],
                 mismatched: list[tuple[str, tuple, tuple]]):
        self.missing, self.unexpected, self.mismatched = missing, unexpected, mismatched
        lines = [f"cannot load the state dict into {model_name}:"]
        lines += [f"  missing in the state dict: {key}" for key in missing]
        lines += [f"  not in the model (unexpected): {key}" for key in unexpected]
        lines += [f"  shape mismatch for {key}: state dict {src}, model {dst}"
                  for key, src, dst in mismatched]
        super().__init__("\n".join(lines))


def _to_numpy(value, key: str = "value") -> np.ndarray:
    """A torch tensor, our Tensor or anything array-like as a NumPy array (on the host).

    torch floating dtypes that NumPy lacks (bfloat16, the float8 types) become float32, which
    holds each of their values exactly; any other dtype NumPy lacks is an error naming ``key``.
    """
    if isinstance(value, Tensor):
        return value.detach().numpy()
    if type(value).__module__.startswith("torch"):
        value = value.detach().cpu()
        try:
            return value.numpy()
        except TypeError:
            if value.is_floating_point():
                return value.float().numpy()
            raise TypeError(f"state dict entry {key!r}: torch dtype {value.dtype} has no NumPy "
                            "equivalent; convert it before loading (e.g. "
                            "{k: v.float() for k, v in state_dict.items()})") from None
    return np.asarray(value)


def _load_safetensors(path: str) -> OrderedDict:
    """A ``.safetensors`` file as NumPy arrays; bfloat16 tensors become float32 (exactly)."""
    from safetensors.numpy import load_file  # noqa: PLC0415

    try:
        return OrderedDict(load_file(path))
    except TypeError as exc:  # "data type 'bfloat16' not understood": NumPy has no bfloat16
        try:
            from safetensors.torch import load_file as load_torch  # noqa: PLC0415
        except ImportError:
            raise TypeError(f"{path}: {exc}: a bfloat16 (or float8) tensor needs torch to be "
                            "read (pip install torch), or save the file in float32") from exc
    return OrderedDict((key, _to_numpy(value, key)) for key, value in load_torch(path).items())


def read_state_dict(source) -> OrderedDict:
    """``source`` (a mapping, a ``.pt``/``.pth`` weights file or a ``.safetensors`` file) as an
    ordered dict of NumPy arrays (bfloat16 and float8 tensors as float32)."""
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        if path.endswith(".safetensors"):
            return _load_safetensors(path)
        import torch  # noqa: PLC0415

        # weights_only: tensors and containers only; a pickled object cannot run code
        source = torch.load(path, map_location="cpu", weights_only=True)
        if not isinstance(source, dict):
            raise TypeError(f"{path} holds a {type(source).__name__}, not a state dict; save "
                            "torch_model.state_dict(), not the model")
    if not hasattr(source, "items"):
        raise TypeError(f"expected a state dict (mapping) or a file path, got "
                        f"{type(source).__name__}")
    return OrderedDict((key, _to_numpy(value, key)) for key, value in source.items())


def check_state_dict(model: Module, arrays: dict, strict: bool = True) -> None:
    """Raise ``StateDictError`` listing every missing, unexpected or mis-shaped key."""
    own = model.state_dict()
    missing = [key for key in own if key not in arrays] if strict else []
    unexpected = [key for key in arrays if key not in own] if strict else []
    mismatched = [(key, tuple(arrays[key].shape), tuple(own[key].shape)) for key in own
                  if key in arrays and tuple(arrays[key].shape) != tuple(own[key].shape)]
    if missing or unexpected or mismatched:
        raise StateDictError(type(model).__name__, missing, unexpected, mismatched)


def load_torch_state_dict(model: Module, source, strict: bool = True) -> Module:
    """Copy a PyTorch state dict into ``model`` (in place; returns ``model``).

    Values are cast to the dtype of the parameter or buffer they replace (float64 weights
    into a float32 model become float32). With ``strict=False`` missing and unexpected keys
    are ignored; shape mismatches always raise.
    """
    arrays = read_state_dict(source)
    check_state_dict(model, arrays, strict)
    own = model.state_dict()
    cast = {key: arrays[key].astype(own[key].dtype, copy=False) for key in own if key in arrays}
    model.load_state_dict(cast, strict=False)
    return model


def export_state_dict(model: Module) -> OrderedDict:
    """``model.state_dict()`` as torch tensors (copies), for ``torch_model.load_state_dict``."""
    import torch  # noqa: PLC0415

    return OrderedDict((key, torch.from_numpy(np.ascontiguousarray(value.numpy()).copy()))
                       for key, value in model.state_dict().items())


def export_safetensors(model: Module, path) -> None:
    """Write ``model.state_dict()`` to a safetensors file (``safetensors.torch.load_file``
    reads it into a torch state dict)."""
    from safetensors.numpy import save_file  # noqa: PLC0415

    save_file({key: np.ascontiguousarray(value.numpy())
               for key, value in model.state_dict().items()}, os.fspath(path))


# ---------------------------------------------------------------------- layer-by-layer compare
@dataclass
class LayerDiff:
    """Differences at one call of one module (``name#k`` for the k-th call of a reused one)."""

    name: str
    kind: str
    shape: tuple
    out_abs: float
    out_rel: float
    grad_abs: float | None = None
    grad_rel: float | None = None
    grad_bad: float | None = None  # fraction of gradient elements beyond the tolerance

    def diverges(self, atol: float, rtol: float) -> tuple[bool, bool]:
        out_bad = not (self.out_abs <= atol or self.out_rel <= rtol)
        grad_bad = self.grad_abs is not None and not (self.grad_abs <= atol
                                                       or self.grad_rel <= rtol)
        return out_bad, grad_bad


@dataclass
class ComparisonReport:
    """What ``compare_with_torch`` measured; ``str(report)`` is the printed table.

    Attributes:
        layers: one ``LayerDiff`` per module call, in our forward order.
        params: ``{name: (max abs, max rel)}`` differences of parameter gradients.
        input_grad: (max abs, max rel) of the gradient with respect to ``x``.
        first_divergence: name of the first layer (forward order) whose output differs by more
            than the tolerance, or None.
        first_grad_divergence: name of the first layer in backward order (the last in forward
            order) whose output gradient differs, or None.
        unmatched: module names found on only one side.
    """

    layers: list[LayerDiff]
    params: dict
    input_grad: tuple[float, float] | None
    atol: float
    rtol: float
    train: bool
    first_divergence: str | None = None
    first_grad_divergence: str | None = None
    unmatched: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        params_ok = all(a <= self.atol or r <= self.rtol for a, r in self.params.values())
        return self.first_divergence is None and self.first_grad_divergence is None and params_ok

    @property
    def max_output_diff(self) -> float:
        return max((layer.out_abs for layer in self.layers), default=0.0)

    def __str__(self) -> str:
        mode = "train" if self.train else "eval"
        lines = [f"layer-by-layer comparison with PyTorch ({mode} mode, atol={self.atol:g}, "
                 f"rtol={self.rtol:g})",
                 f"{'layer':40s} {'type':18s} {'shape':20s} {'out abs':>9s} {'out rel':>9s} "
                 f"{'grad abs':>9s} {'grad rel':>9s} {'bad %':>7s}"]
        for layer in self.layers:
            grad_abs = "-" if layer.grad_abs is None else f"{layer.grad_abs:9.2e}"
            grad_rel = "-" if layer.grad_rel is None else f"{layer.grad_rel:9.2e}"
            bad = "-" if layer.grad_bad is None else f"{100 * layer.grad_bad:7.3f}"
            flag = ""
            if layer.name == self.first_divergence:
                flag += "  <-- first divergence (forward)"
            if layer.name == self.first_grad_divergence:
                flag += "  <-- first divergence (backward)"
            lines.append(f"{layer.name[:40]:40s} {layer.kind[:18]:18s} "
                         f"{str(layer.shape)[:20]:20s} {layer.out_abs:9.2e} {layer.out_rel:9.2e} "
                         f"{grad_abs:>9s} {grad_rel:>9s} {bad:>7s}{flag}")
        worst = max(self.params.items(), key=lambda kv: kv[1][0], default=None)
        if worst is not None:
            lines.append(f"parameter gradients: {len(self.params)} compared, largest difference "
                         f"{worst[1][0]:.2e} (relative {worst[1][1]:.2e}) in {worst[0]}")
        if self.input_grad is not None:
            lines.append(f"input gradient: max abs {self.input_grad[0]:.2e}, "
                         f"rel {self.input_grad[1]:.2e}")
        if self.unmatched:
            lines.append(f"modules on one side only (not compared): {', '.join(self.unmatched)}")
        isolated = [layer for layer in self.layers if layer.diverges(self.atol, self.rtol)[1]
                    and layer.grad_bad is not None and layer.grad_bad < 1e-3]
        if isolated and self.first_divergence is None:
            lines.append("note: some gradients differ in fewer than 0.1% of their elements with "
                         "every forward value equal: in float32 that is usually a ReLU mask or "
                         "max-pool winner flipped by rounding; rerun with dtype=np.float64")
        lines.append("result: " + ("all layers agree" if self.ok else "DIFFERENCES FOUND"))
        return "\n".join(lines)


def _diff(ours: np.ndarray, theirs: np.ndarray) -> tuple[float, float]:
    ours, theirs = np.asarray(ours, np.float64), np.asarray(theirs, np.float64)
    if ours.shape != theirs.shape:
        return math.inf, math.inf
    if ours.size == 0:
        return 0.0, 0.0
    abs_diff = float(np.max(np.abs(ours - theirs)))
    scale = float(np.max(np.abs(theirs)))
    return abs_diff, abs_diff / scale if scale > 0 else (0.0 if abs_diff == 0 else math.inf)


def _bad_fraction(ours: np.ndarray, theirs: np.ndarray, atol: float, rtol: float) -> float:
    """Fraction of elements whose difference exceeds ``max(atol, rtol * max|theirs|)``."""
    ours, theirs = np.asarray(ours, np.float64), np.asarray(theirs, np.float64)
    if ours.shape != theirs.shape or ours.size == 0:
        return 1.0 if ours.shape != theirs.shape else 0.0
    limit = max(atol, rtol * float(np.max(np.abs(theirs))))
    return float(np.mean(np.abs(ours - theirs) > limit))


def _first_output(output):
    return output[0] if isinstance(output, tuple) else output


def compare_with_torch(model: Module, torch_model, x, train: bool = False,
                       atol: float = 1e-4, rtol: float = 1e-3, copy_weights: bool = True,
                       disable_dropout: bool = True, seed: int = 0, dtype=np.float32,
                       verbose: bool = True) -> ComparisonReport:
    """Run ``model`` and ``torch_model`` on the same input and compare every layer.

    Args:
        model: ours. torch_model: a ``torch.nn.Module`` with the same module names.
        x: the input (NumPy array, torch tensor or our Tensor), float32.
        train: compare in training mode (batch statistics in BN; dropout, see below).
        copy_weights: first load ``torch_model.state_dict()`` into ``model`` (strict).
        disable_dropout: in training mode, set every dropout probability to 0 on both sides
            during the comparison (their random masks cannot agree); restored afterwards.
        seed: for the random upstream gradient (a random one catches bugs that ``ones`` hides).
        dtype: both models (in place) and the input are converted to it first (float32 or
            float64). In float32 a deep network has pre-activations within rounding
            error of zero, whose ReLU mask (or max-pool winner) differs between the libraries:
            forward values still agree, but isolated gradient elements differ by the full
            upstream value. In float64 such near-ties practically vanish.
        verbose: print the table.

    A layer diverges when both its absolute and its relative difference exceed the tolerance.
    Modules called several times (a shared ReLU) are compared call by call (``name#2``...).
    """
    import torch  # noqa: PLC0415

    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise ValueError(f"dtype must be float32 or float64, got {dtype}")
    torch_model.to(torch.float64 if dtype == np.float64 else torch.float32)
    model.to(dtype)
    if copy_weights:
        load_torch_state_dict(model, torch_model.state_dict())
    x_np = np.ascontiguousarray(_to_numpy(x), dtype=dtype)
    ours_records: dict[str, list] = {}
    theirs_records: dict[str, list] = {}
    handles = []

    def ours_hook(name):
        def hook(module, inputs, output):
            first = _first_output(output)
            if not isinstance(first, Tensor):
                return None
            values = first.detach().numpy().copy()  # before any later in-place op
            if first.requires_grad and first.grad_fn is not None:
                first.retain_grad()
            ours_records.setdefault(name, []).append((type(module).__name__, values, first))
            if isinstance(output, tuple):
                return None
            # as on the torch side: in-place ops downstream change a copy, not this output
            return first.clone() if first.requires_grad else None
        return hook

    def torch_hook(name):
        def hook(module, inputs, output):
            first = _first_output(output)
            if not isinstance(first, torch.Tensor):
                return None
            values = first.detach().cpu().numpy().copy()  # before any later in-place op
            if first.requires_grad and first.grad_fn is not None:
                first.retain_grad()
            theirs_records.setdefault(name, []).append((values, first))
            if isinstance(output, tuple):
                return None
            # hand a copy downstream, so in-place ops (out += identity, ReLU(inplace=True))
            # change the copy and `first` keeps this module's own output and gradient
            return first.clone() if first.requires_grad else None
        return hook

    saved_p = []
    for name, module in model.named_modules():
        if name:
            handles.append(module.register_forward_hook(ours_hook(name)))
    for name, module in torch_model.named_modules():
        if name:
            handles.append(module.register_forward_hook(torch_hook(name)))
    model.train(train)
    torch_model.train(train)
    if train and disable_dropout:
        for net in (model, torch_model):
            for module in net.modules():
                if "Dropout" in type(module).__name__ and hasattr(module, "p"):
                    saved_p.append((module, module.p))
                    module.p = 0.0
    try:
        x_ours = Tensor(x_np.copy(), requires_grad=True)
        x_torch = torch.from_numpy(x_np.copy()).requires_grad_(True)
        out_ours = _first_output(model(x_ours))
        out_torch = _first_output(torch_model(x_torch))
        upstream = np.random.default_rng(seed).standard_normal(out_torch.shape).astype(dtype)
        out_ours.backward(Tensor(upstream))
        out_torch.backward(torch.from_numpy(upstream))
    finally:
        for handle in handles:
            handle.remove()
        for module, p in saved_p:
            module.p = p

    layers: list[LayerDiff] = []
    for name, calls in ours_records.items():
        theirs = theirs_records.get(name, [])
        for k, (kind, ours_values, ours_out) in enumerate(calls):
            if k >= len(theirs):
                break
            values, torch_out = theirs[k]
            label = name if len(calls) == 1 else f"{name}#{k + 1}"
            out_abs, out_rel = _diff(ours_values, values)
            grad_abs = grad_rel = grad_bad = None
            if ours_out.grad is not None and torch_out.grad is not None:
                grad_ours, grad_theirs = ours_out.grad.numpy(), torch_out.grad.numpy()
                grad_abs, grad_rel = _diff(grad_ours, grad_theirs)
                grad_bad = _bad_fraction(grad_ours, grad_theirs, atol, rtol)
            layers.append(LayerDiff(label, kind, tuple(ours_out.shape), out_abs, out_rel,
                                    grad_abs, grad_rel, grad_bad))
    out_abs, out_rel = _diff(out_ours.detach().numpy(), out_torch.detach().numpy())
    layers.append(LayerDiff("(output)", type(model).__name__, tuple(out_ours.shape), out_abs,
                            out_rel))
    theirs_params = dict(torch_model.named_parameters())
    params = {}
    for name, param in model.named_parameters():
        other = theirs_params.get(name)
        if other is not None and param.grad is not None and other.grad is not None:
            params[name] = _diff(param.grad.numpy(), other.grad.numpy())
    input_grad = None
    if x_ours.grad is not None and x_torch.grad is not None:
        input_grad = _diff(x_ours.grad.numpy(), x_torch.grad.numpy())
    unmatched = sorted(set(ours_records) ^ set(theirs_records))
    report = ComparisonReport(layers, params, input_grad, atol, rtol, train,
                              unmatched=unmatched)
    for layer in layers:
        if layer.diverges(atol, rtol)[0]:
            report.first_divergence = layer.name
            break
    for layer in reversed(layers):
        if layer.diverges(atol, rtol)[1]:
            report.first_grad_divergence = layer.name
            break
    if verbose:
        print(report)
    return report
