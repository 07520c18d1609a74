"""``print(tensor)`` as torch prints it, and ``set_printoptions``.

torch's rules (``torch/_tensor_str.py``), followed step by step so that a program prints the
same digits on both libraries:

- floating tensors: if every non-zero finite value is whole, print ``1.`` style; otherwise
  ``precision`` (4) decimals; switch to scientific ``1.0000e-05`` when the largest non-zero
  magnitude is more than 1000 times the smallest, above 1e8, or (non-whole) below 1e-4;
- every element is right-aligned to the widest one; rows wrap at ``linewidth`` (80);
- more than ``threshold`` (1000) elements: ``edgeitems`` (3) at each end and ``...``;
- suffixes: ``device=``, ``dtype=`` (when not the default float, int64 or bool),
  ``grad_fn=`` / ``requires_grad=True``, on a new line when the line would pass 80 columns.

Two differences stay: dtypes print as ours (``dtype=float64``, torch ``dtype=torch.float64``)
and graph nodes by our op names (``grad_fn=<MulBackward>``, torch ``<MulBackward0>``).
"""

from __future__ import annotations

import math

import numpy as np

from .. import backend

PRINT_OPTIONS = {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80,
                 "sci_mode": None}
_PROFILES = {"default": (4, 1000, 3, 80), "short": (2, 1000, 2, 80),
             "full": (4, math.inf, 3, 80)}


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None,
                     profile=None, sci_mode=None) -> None:
    """Change how tensors print (torch's options and profiles ``default``/``short``/``full``)."""
    if profile is not None:
        values = _PROFILES[profile]
        PRINT_OPTIONS.update(zip(("precision", "threshold", "edgeitems", "linewidth"), values))
    for name, value in (("precision", precision), ("threshold", threshold),
                        ("edgeitems", edgeitems), ("linewidth", linewidth)):
        if value is not None:
            PRINT_OPTIONS[name] = value
    PRINT_OPTIONS["sci_mode"] = sci_mode


class _Formatter:
    def __init__(self, values: np.ndarray):
        precision = PRINT_OPTIONS["precision"]
        self.floating = values.dtype.kind == "f"
        self.int_mode, self.sci_mode, self.width = True, False, 1
        flat = values.reshape(-1)
        if not self.floating:
            for value in flat.tolist():
                self.width = max(self.width, len(f"{value}"))
        else:
            finite = flat[np.isfinite(flat) & (flat != 0)].astype(np.float64)
            if finite.size:
                magnitude = np.abs(finite)
                low, high = magnitude.min(), magnitude.max()
                self.int_mode = bool((finite == np.ceil(finite)).all())
                spread = high / low > 1000.0 or high > 1.0e8
                self.sci_mode = spread or (not self.int_mode and low < 1.0e-4)
                if self.sci_mode:
                    pattern = f"{{:.{precision}e}}"
                elif self.int_mode:
                    pattern = "{:.0f}."
                else:
                    pattern = f"{{:.{precision}f}}"
                self.width = max(len(pattern.format(v)) for v in finite.tolist())
        if PRINT_OPTIONS["sci_mode"] is not None:
            self.sci_mode = PRINT_OPTIONS["sci_mode"]

    def format(self, value) -> str:
        precision = PRINT_OPTIONS["precision"]
        if self.floating:
            if self.sci_mode:
                text = f"{{:{self.width}.{precision}e}}".format(value)
            elif self.int_mode:
                text = f"{value:.0f}" + ("" if math.isinf(value) or math.isnan(value) else ".")
            else:
                text = f"{{:.{precision}f}}".format(value)
        else:
            text = f"{value}"
        return (self.width - len(text)) * " " + text


def _summarized(values: np.ndarray, edge: int) -> np.ndarray:
    """Only the elements that will be shown (torch's get_summarized_data)."""
    if values.ndim == 0:
        return values
    if values.ndim == 1:
        return np.concatenate([values[:edge], values[-edge:]]) if values.shape[0] > 2 * edge \
            else values
    rows = range(values.shape[0])
    if values.shape[0] > 2 * edge:
        rows = list(range(edge)) + list(range(values.shape[0] - edge, values.shape[0]))
    return np.stack([_summarized(values[i], edge) for i in rows])


def _vector(values, indent: int, summarize: bool, formatter: _Formatter) -> str:
    edge, width = PRINT_OPTIONS["edgeitems"], PRINT_OPTIONS["linewidth"]
    per_line = max(1, int(math.floor((width - indent) / (formatter.width + 2))))
    if summarize and values.shape[0] > 2 * edge:
        data = ([formatter.format(v) for v in values[:edge].tolist()] + [" ..."]
                + [formatter.format(v) for v in values[-edge:].tolist()])
    else:
        data = [formatter.format(v) for v in values.tolist()]
    lines = [", ".join(data[i:i + per_line]) for i in range(0, len(data), per_line)]
    return "[" + ("," + "\n" + " " * (indent + 1)).join(lines) + "]"


def _nested(values, indent: int, summarize: bool, formatter: _Formatter) -> str:
    if values.ndim == 0:
        return formatter.format(values.item())
    if values.ndim == 1:
        return _vector(values, indent, summarize, formatter)
    edge = PRINT_OPTIONS["edgeitems"]
    count = values.shape[0]
    if summarize and count > 2 * edge:
        slices = ([_nested(values[i], indent + 1, summarize, formatter) for i in range(edge)]
                  + ["..."]
                  + [_nested(values[i], indent + 1, summarize, formatter)
                     for i in range(count - edge, count)])
    else:
        slices = [_nested(values[i], indent + 1, summarize, formatter) for i in range(count)]
    return "[" + ("," + "\n" * (values.ndim - 1) + " " * (indent + 1)).join(slices) + "]"


def tensor_repr(tensor) -> str:
    from ..creation import get_default_dtype  # noqa: PLC0415

    prefix, indent = "tensor(", len("tensor(")
    values = backend.to_numpy(tensor.array)
    if values.dtype == np.float16:
        values = values.astype(np.float32)
    suffixes = []
    if tensor.device.type != "cpu":
        suffixes.append(f"device='{'cuda:0' if tensor.device.type == 'cuda' else tensor.device}'")
    default = tensor.dtype in (get_default_dtype(), np.dtype("int64"), np.dtype("bool"))
    if values.size == 0:
        if values.ndim != 1:
            suffixes.append(f"size={tuple(values.shape)}")
        if tensor.dtype != get_default_dtype():
            suffixes.append(f"dtype={tensor.dtype}")
        body = "[]"
    else:
        if not default:
            suffixes.append(f"dtype={tensor.dtype}")
        summarize = values.size > PRINT_OPTIONS["threshold"]
        shown = _summarized(values, PRINT_OPTIONS["edgeitems"]) if summarize else values
        body = _nested(values, indent, summarize, _Formatter(shown))
    if tensor.grad_fn is not None:
        suffixes.append(f"grad_fn={tensor.grad_fn!r}")
    elif tensor.requires_grad:
        suffixes.append("requires_grad=True")
    text = prefix + body
    parts, last = [text], len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        if last + len(suffix) + 2 > PRINT_OPTIONS["linewidth"]:
            parts.append(",\n" + " " * indent + suffix)
            last = indent + len(suffix)
        else:
            parts.append(", " + suffix)
            last += len(suffix) + 2
    return "".join(parts) + ")"
